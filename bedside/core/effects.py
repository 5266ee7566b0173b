"""What the engine asks for, for the shell to carry out: say, hush, light the display, and
what happened (a new mode, a step begun, a session over, a growing step ended)."""

from __future__ import annotations

from dataclasses import dataclass

from bedside.core.routines import Step
from bedside.core.state import Mode


# -- effects -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Say:
    text: str
    volume: float | None = None  # None: the configured volume; set for a quieter night


@dataclass(frozen=True)
class Silence:
    """Stop whatever is being said: the person moved on."""


@dataclass(frozen=True)
class Display:
    """The display on or off. The engine always asks for the configured contrast; what the
    panel really gets (gentler for the reminder, capped in the quiet hours) is decided in one
    place, ``bedside.core.behaviour.Behaviour._contrast``."""

    on: bool
    contrast: int


@dataclass(frozen=True)
class StateChanged:
    """The engine is in another mode, or its menu shows another routine."""

    mode: Mode
    routine: str


@dataclass(frozen=True)
class StepStarted:
    """Step ``index`` (from 0) of the ``count`` in ``routine`` has begun."""

    routine: str
    index: int
    count: int
    step: Step


@dataclass(frozen=True)
class Finished:
    """A session is over: run to its end (``completed``), or ended early. ``seconds``: how
    long it ran, by the monotonic clock (pauses in), which is what the history keeps; the wall
    clock, which may jump, only says which night it was."""

    routine: str
    completed: bool
    seconds: float


@dataclass(frozen=True)
class GestureTaken:
    """How a gesture was taken: as itself, or (on a dark display) only as ``wake``."""

    gesture: str


@dataclass(frozen=True)
class GrowingStepEnded:
    """The hold that grows (a step with ``grows``) is over: held to its end, or not."""

    routine: str
    held: bool
    seconds: float  # how long it ran
    length: float  # how long it was to be


Effect = (
    Say
    | Silence
    | Display
    | StateChanged
    | StepStarted
    | Finished
    | GestureTaken
    | GrowingStepEnded
)
