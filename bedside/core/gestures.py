"""Button edges with their timestamps -> press, hold and long hold. Pure, like the engine.

A press is let go before ``hold`` seconds; a hold is let go between ``hold`` and
``long_hold``; a long hold fires at ``long_hold`` while the button is still down, so the
person knows without letting go. Once the button has been down for ``hold`` seconds the
recogniser says so (``HOLD_PENDING``), which lets the screen tell the person what letting go
will do. A closure shorter than ``bounce`` is contact noise and gives nothing, and so is an
opening that short: a release is only taken once it has lasted ``bounce`` (20 ms by default),
so a contact lifting for a millisecond in the middle of a hold does not split it in two.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


class Gesture(StrEnum):
    """What a person does with the button: the one vocabulary of the recogniser, the engine
    and the trace."""

    PRESS = "press"
    HOLD = "hold"
    LONG_HOLD = "long-hold"


class Notice(StrEnum):
    """What the recogniser tells that is not a gesture."""

    HOLD_PENDING = "hold-pending"  # down for `hold` seconds: letting go now would be a hold
    STUCK = "stuck"  # down far longer than any person holds a button: ignored until released


Signal = Gesture | Notice


@dataclass(frozen=True)
class Thresholds:
    """When a closure is a press, a hold, a long hold, noise or a stuck button: from
    ``[button]`` in bedside.toml, whose keys declare the defaults."""

    hold: float
    long_hold: float
    bounce: float
    stuck: float


@dataclass(frozen=True)
class ButtonState:
    down_at: float | None = None  # when the current closure began
    holding_said: bool = False
    long_fired: bool = False
    stuck: bool = False
    # When the button was let go, while that is not yet sure: an opening shorter than the
    # bounce time (a contact lifting for a millisecond mid-hold) is noise, as a closure that
    # short is, and the closure goes on as if it had not happened.
    up_at: float | None = None
    # The closure's stretches of unbroken contact: when the one now closed began, and the
    # longest that ended. Contact chatter (2 ms closures, 4 ms apart) is all noise, however
    # long it goes on: a closure counts only if some stretch of it lasted the bounce time.
    stretch_at: float | None = None
    longest: float = 0.0


class Recogniser:
    """The rules, with their thresholds; every method is a pure function of its arguments."""

    def __init__(self, thresholds: Thresholds) -> None:
        self.thresholds = thresholds

    def edge(
        self, state: ButtonState, pressed: bool, at: float
    ) -> tuple[ButtonState, list[Signal]]:
        """The button went down (``pressed``) or up at ``at``. A release is taken once it has
        lasted the bounce time (``tick`` then gives the gesture, as it was at the release)."""
        state, signals = self.tick(state, at)
        if pressed:
            if state.up_at is not None:  # open for less than the bounce time: noise
                return replace(state, up_at=None, stretch_at=at), signals
            if state.down_at is None:
                state = ButtonState(down_at=at, stretch_at=at)
            return state, signals
        if state.down_at is None or state.up_at is not None:
            return state, signals  # an up without a down: nothing to finish
        stretch = at - (state.stretch_at if state.stretch_at is not None else state.down_at)
        return replace(state, up_at=at, longest=max(state.longest, stretch)), signals

    def _released(self, state: ButtonState, at: float) -> list[Signal]:
        """The gesture a closure from ``state.down_at`` to ``at`` makes, if any."""
        assert state.down_at is not None
        # Compared as `at < down_at + threshold`, the same sum `deadline` returns, so that a
        # time handed back from `deadline` always counts as reached despite float rounding.
        if state.long_fired or state.longest < self.thresholds.bounce:
            return []  # a long hold acted already; or nothing but chatter
        return [Gesture.PRESS if at < state.down_at + self.thresholds.hold else Gesture.HOLD]

    def already_down(self, at: float) -> ButtonState:
        """The state for a button found down at start-up: stuck, ignored until released."""
        return ButtonState(
            down_at=at, holding_said=True, long_fired=True, stuck=True, stretch_at=at
        )

    def tick(self, state: ButtonState, now: float) -> tuple[ButtonState, list[Signal]]:
        """What the passing of time alone produces: the holding notice, the long hold, and the
        notice of a stuck button, and a release that has lasted the bounce time."""
        signals: list[Signal] = []
        if state.up_at is not None:
            if now < state.up_at + self.thresholds.bounce:
                return state, signals  # let go, it seems: nothing more, until it is sure
            return ButtonState(), self._released(state, state.up_at)
        if state.down_at is None or state.stuck:
            return state, signals
        down_at = state.down_at
        if state.long_fired:
            if now >= down_at + self.thresholds.stuck:
                state = replace(state, stuck=True)
                signals.append(Notice.STUCK)
            return state, signals
        if now >= down_at + self.thresholds.hold and not state.holding_said:
            state = replace(state, holding_said=True)
            signals.append(Notice.HOLD_PENDING)
        if now >= down_at + self.thresholds.long_hold:
            state = replace(state, long_fired=True)
            signals.append(Gesture.LONG_HOLD)
        return state, signals

    def deadline(self, state: ButtonState) -> float | None:
        """When ``tick`` would next produce a signal, while the button is down."""
        if state.up_at is not None:
            return state.up_at + self.thresholds.bounce
        if state.down_at is None or state.stuck:
            return None
        if state.long_fired:
            return state.down_at + self.thresholds.stuck
        if not state.holding_said:
            return state.down_at + self.thresholds.hold
        return state.down_at + self.thresholds.long_hold
