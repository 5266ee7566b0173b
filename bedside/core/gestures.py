"""Button edges with their timestamps -> press, hold and long hold. Pure, like the engine.

A press is let go before ``hold`` seconds; a hold is let go between ``hold`` and
``long_hold``; a long hold fires at ``long_hold`` while the button is still down, so the
person knows without letting go. Once the button has been down for ``hold`` seconds the
recogniser says so (``HOLDING``), which lets the screen tell the person what letting go will
do. A closure shorter than ``bounce`` is contact noise and gives nothing.
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


class Recogniser:
    """The rules, with their thresholds; every method is a pure function of its arguments."""

    def __init__(self, thresholds: Thresholds) -> None:
        self.thresholds = thresholds

    def edge(
        self, state: ButtonState, pressed: bool, at: float
    ) -> tuple[ButtonState, list[Signal]]:
        """The button went down (``pressed``) or up at ``at``."""
        state, signals = self.tick(state, at)
        if pressed:
            if state.down_at is None:
                state = ButtonState(down_at=at)
            return state, signals
        if state.down_at is None:
            return state, signals  # an up without a down: nothing to finish
        down_at, fired = state.down_at, state.long_fired
        state = ButtonState()
        # Compared as `at < down_at + threshold`, the same sum `deadline` returns, so that a
        # time handed back from `deadline` always counts as reached despite float rounding.
        if fired or at < down_at + self.thresholds.bounce:
            return state, signals
        signals.append(Gesture.PRESS if at < down_at + self.thresholds.hold else Gesture.HOLD)
        return state, signals

    def already_down(self, at: float) -> ButtonState:
        """The state for a button found down at start-up: stuck, ignored until released."""
        return ButtonState(down_at=at, holding_said=True, long_fired=True, stuck=True)

    def tick(self, state: ButtonState, now: float) -> tuple[ButtonState, list[Signal]]:
        """What the passing of time alone produces: the holding notice, the long hold, and the
        notice of a stuck button."""
        signals: list[Signal] = []
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
        if state.down_at is None or state.stuck:
            return None
        if state.long_fired:
            return state.down_at + self.thresholds.stuck
        if not state.holding_said:
            return state.down_at + self.thresholds.hold
        return state.down_at + self.thresholds.long_hold
