"""When each cue is heard: speech never overlaps speech, so a cue that falls due while the one
before is still speaking is heard when that one ends (a chime never delays one: the stage mixes
it under the cue). Pure: the lengths are given (rendered, or estimated from the words).

Times run from the routine's start; a step that waits for a press is taken to end when its last
cue has been said (the press comes after), so the steps after it count from there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bedside.core.routines import Cue, Routine, Step

__all__ = ["LATE", "Heard", "heard", "late_cues", "spoken_seconds"]

LATE = 1.0  # seconds: a cue heard later than this after it fell due is worth a warning


@dataclass(frozen=True)
class Heard:
    step: int  # the step's index
    cue: Cue
    due: float  # seconds from the step's start, as written
    at: float  # ...and as heard
    seconds: float  # how long it speaks
    before: str  # the cue still speaking when it fell due ("" when none was)

    @property
    def late(self) -> float:
        return self.at - self.due


def heard(routine: Routine, length: Callable[[str], float]) -> list[Heard]:
    """Every cue of ``routine`` in order, with when it is heard; ``length(text)`` in seconds."""
    found: list[Heard] = []
    start = 0.0  # the step's start, from the routine's
    free = 0.0  # when the speech before has ended
    speaking = ""
    for index, step in enumerate(routine.steps):
        for cue in step.cues:
            due = start + cue.at
            at = max(due, free)
            seconds = length(cue.text)
            before = speaking if at > due else ""
            found.append(Heard(index, cue, cue.at, at - start, seconds, before))
            free, speaking = at + seconds, cue.text
        start = _end(step, start, free)
    return found


def _end(step: Step, start: float, free: float) -> float:
    if step.duration is None:  # a wait: the press after its last cue
        return max(start, free)
    return start + step.duration


def late_cues(routine: Routine, length: Callable[[str], float]) -> list[Heard]:
    """The cues heard more than ``LATE`` seconds after they fall due."""
    return [h for h in heard(routine, length) if h.late > LATE]


def spoken_seconds(text: str, words_a_minute: float) -> float:
    """An estimate of how long ``text`` speaks: its words at the pace, a pause at each mark,
    and the mastering's lead-in and tail."""
    words = len(text.split())
    marks = sum(text.count(mark) for mark in ".,;:!?")
    return words * 60.0 / words_a_minute + 0.15 * marks + 0.08
