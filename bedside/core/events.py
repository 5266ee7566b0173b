"""What the engine is told: a gesture, a hold about to be, time passing, bedtime."""

from __future__ import annotations

from dataclasses import dataclass

from bedside.core.gestures import Gesture


@dataclass(frozen=True)
class Gestured:
    gesture: Gesture


@dataclass(frozen=True)
class HoldPending:
    """The button has been down long enough that letting go will be a hold."""


@dataclass(frozen=True)
class Tick:
    """Time has passed; do whatever fell due."""


@dataclass(frozen=True)
class Remind:
    """Bedtime: wake the display and invite the person to start the night's routine
    (``Settings.night_routine``), saying ``text``."""

    text: str


Event = Gestured | HoldPending | Tick | Remind
