"""``bedside plan``: a routine laid out step by step, as a table or as the contract's JSON."""

from __future__ import annotations

from typing import Any

from bedside.routines import Routine
from bedside.screens import clock


def json_number(value: float | None) -> float | int | None:
    """Seconds for JSON: 60 rather than 60.0, as the contracts show them."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def plan_json(routine: Routine) -> dict[str, Any]:
    return {
        "routine": routine.name,
        "title": routine.title,
        "total_seconds": json_number(routine.total_seconds),
        "steps": [
            {
                "index": index,
                "title": step.title,
                "kind": step.kind.value,
                "duration": json_number(step.duration),
                "side": step.side,
                "reps": step.reps,
                "cues": [{"at": json_number(cue.at), "text": cue.text} for cue in step.cues],
            }
            for index, step in enumerate(routine.steps)
        ],
    }


def plan_table(routine: Routine) -> str:
    """The routine as a person reads it: one block a step, its cues indented under it."""
    heading = f"{routine.title} ({routine.name})"
    if routine.profile:
        heading += f", profile {routine.profile}: {routine.profile_title}"
    lines = [heading, f"{len(routine.steps)} steps, {clock(routine.total_seconds)} in all", ""]
    lines.append(f"{'#':>3}  {'start':>5}  {'length':>6}  {'kind':<5}  step")
    start = 0.0
    for index, step in enumerate(routine.steps):
        length = clock(step.duration) if step.duration is not None else "press"
        title = step.title + (f" ({step.side})" if step.side else "")
        if step.reps:
            title += f", {step.reps} x {step.seconds_per_rep:g} s"
        lines.append(
            f"{index + 1:>3}  {clock(start):>5}  {length:>6}  {step.kind.value:<5}  {title}"
        )
        for cue in step.cues:
            lines.append(
                f"{'':>3}  {'':>5}  {'+' + clock(cue.at):>6}         \u201c{cue.text}\u201d"
            )
        start += step.duration or 0.0
    return "\n".join(lines)
