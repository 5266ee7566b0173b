"""Button edges through the interleaving the device really uses: a ``Behaviour`` told each edge
(``Behaviour.edge`` first runs everything due before it) and then the time after it
(``Behaviour.advance``), as the daemon's loop and ``simulate`` tell it. What the recogniser
gives on the way is recorded, with the time it was given at; nothing of the order is copied here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from bedside.config import core_terms
from bedside.config.core_terms import defaults
from bedside.config.load import load_config
from bedside.core.behaviour import Behaviour
from bedside.core.gestures import ButtonState, Recogniser, Signal, Thresholds

# The routine files' own lengths: the hold that grows (tests/test_hold.py) kept out of the way.
CONFIG = load_config()
SETTINGS = core_terms.settings(replace(CONFIG, hold=replace(CONFIG.hold, grow=False)))


class Recorded(Recogniser):
    """The real ``Recogniser``, keeping each signal it gives ``Behaviour`` with its time."""

    def __init__(self, thresholds: Thresholds) -> None:
        super().__init__(thresholds)
        self.signals: list[tuple[Signal, float]] = []
        self._in_edge = False  # ``edge`` runs ``tick`` first: its signals are counted once

    def edge(self, state: ButtonState, pressed: bool, at: float):
        self._in_edge = True
        try:
            state, signals = super().edge(state, pressed, at)
        finally:
            self._in_edge = False
        self.signals += [(signal, at) for signal in signals]
        return state, signals

    def tick(self, state: ButtonState, now: float):
        state, signals = super().tick(state, now)
        if not self._in_edge:
            self.signals += [(signal, now) for signal in signals]
        return state, signals


def press_through(
    edges: Iterable[tuple[bool, float]],
    until: float | None = None,
    thresholds: Thresholds | None = None,
) -> tuple[ButtonState, list[tuple[Signal, float]]]:
    """``edges`` (pressed, at) told to a fresh ``Behaviour`` in order, then the time ``until``
    (by default, the bounce time after the last edge: a release is taken once it has lasted
    that long): the button's state at the end and every signal with its time, as the device
    has them."""
    edges = list(edges)
    start = edges[0][1] if edges else (until or 0.0)
    thresholds = thresholds or defaults(Thresholds)
    if until is None and edges:
        until = edges[-1][1] + thresholds.bounce
    behaviour = Behaviour(SETTINGS, thresholds, now=start, recogniser=Recorded)
    recorded = behaviour.recogniser
    assert isinstance(recorded, Recorded)
    for pressed, at in edges:
        behaviour.edge(pressed, at)
    if until is not None:
        behaviour.advance(until)
    return behaviour.button, recorded.signals
