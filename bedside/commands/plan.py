"""``bedside plan``: a routine laid out step by step, as a table or as the contract's JSON.

The plan is tonight's: a hold that grows is shown at tonight's length, from the history
(``bedside.commands.tonight``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bedside.commands.check_config import when
from bedside.commands.choices import routine_named
from bedside.commands.cue_lengths import CueLengths
from bedside.commands.tonight import hold_for
from bedside.config.sections import Config
from bedside.core.growth import retimed
from bedside.core.hearing import Heard, heard
from bedside.core.printable import printable
from bedside.core.routines import Routine, StepKind
from bedside.core.screens import clock
from bedside.core.trace import json_number, step_fields


def main(
    config: Config,
    name: str,
    state_dir: Path | None = None,
    demo: bool = False,
    as_json: bool = False,
) -> int:
    """Print routine ``name`` as tonight's plan, its hold as the history in ``state_dir``
    (the demo's with ``demo``, else the daemon's default) makes it tonight."""
    written = config.routines[routine_named(config, name)]
    length = hold_for(config, state_dir, demo)
    routine = retimed(written, length, config.cues) if length is not None else written
    if as_json:  # the contract's plan (DESIGN.md): when each cue is heard is the table's
        print(json.dumps(plan_json(routine), ensure_ascii=False, indent=2))
        return 0
    lengths = CueLengths(config)
    hearing = heard(routine, lengths)
    print(plan_table(routine, hearing))
    if length is not None and any(step.grows for step in routine.steps):
        plan = config.hold
        print(
            f"\nThe hold grows with you: tonight {length / 60:g} min (from {plan.start / 60:g},"
            f" {plan.step / 60:g} more after each night it is held, at most"
            f" {plan.longest / 60:g})."
        )
        left = [
            f"  {cue.text!r} ({when(cue)})"
            for step in written.steps
            if step.grows
            for cue in step.cues
            if cue.anchor != "added" and cue.placed(length) is None
        ]
        if left:
            print("Tonight's hold is too short for these cues, left out tonight:", *left, sep="\n")
    print(f"\nheard: a cue due while another speaks is heard after it ({lengths.said})")
    return 0


def plan_json(routine: Routine) -> dict[str, Any]:
    return {
        "routine": routine.name,
        "title": routine.title,
        "total_seconds": json_number(routine.total_seconds),
        "steps": [
            {
                "index": index,
                **step_fields(step),
                "reps": step.reps,
                "cues": [{"at": json_number(cue.at), "text": cue.text} for cue in step.cues],
            }
            for index, step in enumerate(routine.steps)
        ],
    }


def plan_table(routine: Routine, hearing: list[Heard] | None = None) -> str:
    """The routine as a person reads it: one block a step, its cues indented under it."""
    heading = f"{routine.title} ({routine.name})"
    if routine.profile:
        heading += f", profile {routine.profile}: {routine.profile_title}"
    lines = [heading, f"{len(routine.steps)} steps, {clock(routine.total_seconds)} in all", ""]
    lines.append(f"{'#':>3}  {'start':>6}  {'length':>6}  {'kind':<5}  step")
    when_heard = {(h.step, id(h.cue)): h for h in hearing or []}
    start = 0.0
    waited = False  # after a step that waits for a press, start times count from that press
    for index, step in enumerate(routine.steps):
        length = clock(step.duration) if step.duration is not None else "-"
        title = step.title + (f" ({step.side})" if step.side else "")
        if step.kind is StepKind.WAIT:
            title += ": waits for a press"
        if step.reps:
            title += f", {step.reps} x {step.seconds_per_rep:g} s"
        when = ("+" if waited else "") + clock(start)
        lines.append(f"{index + 1:>3}  {when:>6}  {length:>6}  {step.kind.value:<5}  {title}")
        for cue in step.cues:
            said = f"\u201c{cue.text}\u201d"
            h = when_heard.get((index, id(cue)))
            if h is not None and h.late >= 0.1:
                said += f"  (heard +{clock(h.at)}, {h.late:.1f} s late)"
            lines.append(f"{'':>3}  {'':>6}  {'+' + clock(cue.at):>6}         {said}")
        start += step.duration or 0.0
        waited = waited or step.kind is StepKind.WAIT
    if waited:
        lines += ["", "+ : after the presses that steps waiting for one take"]
    return "\n".join(map(printable, lines))  # a name or a title is shown, never played
