"""Routines as data: plain, frozen steps the engine runs, and nothing that reads a file.

A routine is a flat tuple of ``Step``s of three kinds: ``timed`` (a countdown), ``wait`` (the
person does something and presses to go on) and ``reps`` (a calm cadence with a spoken count
every few repetitions), each with its cues at resolved seconds. ``bedside.config.routine_files``
makes them from the TOML files.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum


class StepKind(StrEnum):
    TIMED = "timed"
    WAIT = "wait"
    REPS = "reps"


@dataclass(frozen=True)
class Cue:
    at: float  # seconds from the step's start
    text: str
    # Where the file put it, so a step whose length changes (a hold that grows) can place it
    # again: "start" (``offset`` seconds after it), "end" (``offset`` seconds, <= 0, from
    # it), "share" (``offset`` of the length); "added" for the halfway and minute-left cues.
    anchor: str = "start"
    offset: float = 0.0
    where: str = field(default="", compare=False)  # "file:line" it was written at, if any

    def placed(self, duration: float) -> Cue | None:
        """This cue in a step ``duration`` long; None where it no longer fits."""
        at = {"end": duration + self.offset, "share": duration * self.offset}.get(
            self.anchor, self.offset if self.anchor == "start" else self.at
        )
        return replace(self, at=at) if 0 <= at <= duration else None


@dataclass(frozen=True)
class Step:
    """One part of a routine: timed (``duration`` seconds), counted repetitions, or a wait for
    a press (no duration); with its spoken cues, and whether it shows the breathing guide,
    grows with the person, or has the soundscape under it."""

    title: str
    kind: StepKind
    duration: float | None  # None for a wait step
    cues: tuple[Cue, ...] = ()
    side: str | None = None
    reps: int | None = None
    seconds_per_rep: float | None = None
    part: str = ""  # the title of the routine this step comes from
    pacer: bool = False  # show the breathing guide during this (timed) step
    grows: bool = False  # the hold that grows with the person ([hold] in bedside.toml)
    soundscape: bool = False  # the [soundscape] plays under this step


@dataclass(frozen=True)
class Routine:
    """A routine as its file describes it: its name (the file's), the title the panel shows,
    its steps in order, what is said at its end, and the profile chosen, if any."""

    name: str
    title: str
    steps: tuple[Step, ...]
    summary: str = ""
    finish: str = ""  # spoken when the last step is done
    profile: str | None = None
    profile_title: str = ""
    profiles: tuple[str, ...] = ()  # the profiles the routine's file defines

    @property
    def total_seconds(self) -> float:
        return sum(step.duration or 0.0 for step in self.steps)


def menu_first(menu: Sequence[str], routines: Iterable[str]) -> tuple[str, ...]:
    """Every routine's name: the menu's, in its order, then the rest by name."""
    return (*menu, *sorted(name for name in routines if name not in menu))


@dataclass(frozen=True)
class CueOptions:
    """Cues added to every long timed step, from ``[cues]`` in bedside.toml ("" turns one off),
    whose keys declare the defaults."""

    halfway: str
    minute_left: str
    long_step: float  # steps at least this long get them
    keep_clear: float = 20.0  # not within this many seconds of a cue the routine already has


def long_step_cues(options: CueOptions, duration: float, cues: list[Cue]) -> list[Cue]:
    """Halfway and a minute left, for a long timed step, where the step has no cue near."""
    if duration < options.long_step:
        return []
    wanted = [(duration / 2, options.halfway), (duration - 60, options.minute_left)]
    added: list[Cue] = []
    for at, text in wanted:
        clear = all(abs(c.at - at) >= options.keep_clear for c in [*cues, *added])
        if text and clear:
            added.append(Cue(at, text, "added"))
    return added


_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def words(n: int) -> str:
    """A count as a capitalised word, the way it should be spoken: 25 -> "Twenty-five"."""
    if n < 20:
        text = _ONES[n]
    elif n < 100:
        text = _TENS[n // 10] + ("-" + _ONES[n % 10] if n % 10 else "")
    elif n < 1000:
        rest = n % 100
        text = _ONES[n // 100] + " hundred" + (" and " + words(rest).lower() if rest else "")
    else:
        text = str(n)
    return text[:1].upper() + text[1:]
