"""Where the engine stands: its mode (menu, running, paused, awaiting, finished) and its
state, a frozen value the engine replaces and never changes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bedside.core.routines import Routine, Step


class Mode(StrEnum):
    MENU = "menu"
    RUNNING = "running"
    PAUSED = "paused"
    AWAITING = "awaiting"
    FINISHED = "finished"


# -- events ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    """Where the engine is: the menu (and which routine it shows), or a routine's step, its
    start on the monotonic clock (moved later by each pause), the next cue to say, and the
    display's state. Immutable: the engine hands back a new one for each event."""

    mode: Mode
    menu_index: int = 0
    routine: Routine | None = None
    step_index: int = 0
    step_start: float = 0.0  # when the step began, moved later by every pause
    paused_at: float | None = None
    next_cue: int = 0
    display_on: bool = True
    idle_since: float = 0.0  # the last press, or when the screen began asking for one
    holding: bool = False
    session_start: float = 0.0
    finished_at: float = 0.0
    completed: bool = False

    @property
    def step(self) -> Step | None:
        if self.routine is None or self.mode in (Mode.MENU, Mode.FINISHED):
            return None
        return self.routine.steps[self.step_index]

    def elapsed(self, now: float) -> float:
        """Seconds of the current step that have run; paused time is not counted."""
        until = self.paused_at if self.paused_at is not None else now
        return max(0.0, until - self.step_start)

    def remaining(self, now: float) -> float | None:
        step = self.step
        if step is None or step.duration is None:
            return None
        return max(0.0, step.duration - self.elapsed(now))
