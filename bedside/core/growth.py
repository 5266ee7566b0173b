"""The hold that grows with the person: tonight's length of the legs-up-the-wall hold.

Pure. The hold (a step with ``grows = true``) starts at ``start``, grows by ``step`` after
each night it is held to the end, never past ``longest``, and steps back by ``step`` (never
below ``start``) when it is ended or skipped early two nights running. Tonight's length is a
fold over the nights so far, oldest first, so it follows from the history alone and the same
history always gives the same length, across power cuts and reloads.

Tonight's length is fixed for the night: only the nights before tonight count, so a second
session the same night gets the same hold as the first. A night the wall clock could not tell
(no network yet, no real-time clock) counts for nothing: it neither grows the hold nor shrinks it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from bedside.core.routines import Cue, CueOptions, Routine, Step, long_step_cues


@dataclass(frozen=True)
class GrowthPlan:
    """How the hold grows: ``[hold]`` in bedside.toml, whose keys declare the defaults."""

    grow: bool  # False: the routine file's own length, every night
    start: float
    step: float
    longest: float


@dataclass(frozen=True)
class GrowthNight:
    """One night's hold: held to the end, or not. ``night`` None: the clock was not synced."""

    night: date | None
    held: bool


def nightly(outcomes: Iterable[GrowthNight], before: date | None = None) -> list[bool]:
    """One outcome a night, oldest first, for the nights before ``before`` (None: every night
    told): a night held to the end once counts as held; a night not told counts not at all."""
    held: dict[date, bool] = {}
    for outcome in outcomes:
        if outcome.night is None or (before is not None and outcome.night >= before):
            continue
        held[outcome.night] = held.get(outcome.night, False) or outcome.held
    return [held[night] for night in sorted(held)]


def tonight(plan: GrowthPlan, outcomes: Iterable[GrowthNight], night: date | None) -> float:
    """Tonight's length, in seconds, on the night ``night`` (None: the clock cannot tell it;
    the length then follows the nights told so far)."""
    length, short = plan.start, 0
    for held in nightly(outcomes, before=night):
        if held:
            length, short = _longer(plan, length), 0
        else:
            short += 1
            if short == 2:
                length, short = max(plan.start, length - plan.step), 0
    return length


# Seconds: lengths nearer than this are said and placed alike (whole minutes, cues to the
# second), so a hold growing by less a night is enumerated one length a second.
FINEST_STEP = 1.0


def every_length(plan: GrowthPlan) -> list[float]:
    """Every length tonight's hold can have, shortest first; none when it does not grow. A
    step of a fraction of a second (a millisecond: millions of nights) is taken a second at a
    time: the same phrases, the same cues, a few thousand lengths at most."""
    if not plan.grow:
        return []
    if 0 < plan.step < FINEST_STEP:
        plan = replace(plan, step=FINEST_STEP)
    lengths, length = [plan.start], plan.start
    while plan.step > 0 and length < plan.longest:
        length = _longer(plan, length)
        lengths.append(length)
    return lengths


def cues_left_out(step: Step, plan: GrowthPlan) -> list[tuple[Cue, list[float]]]:
    """Each cue written for a growing ``step`` that some night's length leaves out (a cue at
    "8m" on a night the hold is 5 minutes), with those lengths: what check-config warns of."""
    if not step.grows or not plan.grow:
        return []
    lengths = every_length(plan)
    own = [cue for cue in step.cues if cue.anchor != "added"]
    return [(cue, out) for cue in own if (out := [n for n in lengths if cue.placed(n) is None])]


def _longer(plan: GrowthPlan, length: float) -> float:
    """The next night's length after a night held to the end: the one rule for growing."""
    return min(plan.longest, length + plan.step)


def retimed(routine: Routine, seconds: float, cues: CueOptions) -> Routine:
    """``routine`` with each growing step ``seconds`` long and its cues placed again."""
    if not any(step.grows for step in routine.steps):
        return routine
    return replace(routine, steps=tuple(_step(s, seconds, cues) for s in routine.steps))


def _step(step: Step, seconds: float, options: CueOptions) -> Step:
    if not step.grows or step.duration == seconds:
        return step
    own = [placed for cue in step.cues if cue.anchor != "added" if (placed := cue.placed(seconds))]
    added = long_step_cues(options, seconds, own)
    return replace(step, duration=seconds, cues=tuple(sorted(own + added, key=lambda c: c.at)))


def growing_length(routine: Routine) -> float | None:
    """How long the routine's growing step (its step with ``grows``) runs; None: it has none."""
    return next((s.duration for s in routine.steps if s.grows and s.duration), None)
