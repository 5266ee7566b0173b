"""The event trace: the behaviour's outputs as the contract's JSON objects.

One module says how a step, a spoken cue or a screen looks in JSON, for everything that writes
them: ``simulate`` (JSON Lines on a virtual clock), the daemon's ``--trace`` and ``plan``.
"""

from __future__ import annotations

import codecs
import json
from typing import Any, TextIO

from bedside.core.behaviour import GrowthRecorded, Output, ScreenChanged
from bedside.core.durations import session_minutes
from bedside.core.effects import Display, Finished, GestureTaken, Say, StateChanged, StepStarted
from bedside.core.routines import Step


def json_number(value: float | None) -> float | int | None:
    """Seconds for JSON: 60 rather than 60.0, as the contracts show them."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def step_fields(step: Step) -> dict[str, Any]:
    """What a step is, the same in a plan and in a trace."""
    return {
        "title": step.title,
        "kind": step.kind.value,
        "duration": json_number(step.duration),
        "side": step.side,
    }


def event(t: float, output: Output) -> dict[str, Any] | None:
    """One output as a contract event, or None for outputs the contract does not report."""
    body: dict[str, Any]
    match output:
        case StateChanged(mode=mode, routine=routine):
            body = {"type": "state", "state": mode.value, "routine": routine}
        case StepStarted(routine=routine, index=index, count=count, step=step):
            body = {
                "type": "step",
                "routine": routine,
                "index": index,
                "count": count,
                **step_fields(step),
            }
        case Say(text=text):
            body = {"type": "say", "text": text}
        case ScreenChanged(screen=screen):
            body = {"type": "screen", "lines": screen.lines}
        case Display(on=on, contrast=contrast):
            body = {"type": "display", "on": on, "contrast": contrast}
        case GestureTaken(gesture=gesture):
            body = {"type": "gesture", "gesture": gesture}
        case Finished(routine=routine, completed=completed, seconds=seconds):
            body = {
                "type": "finished",
                "routine": routine,
                "completed": completed,
                "minutes": session_minutes(seconds),
            }
        case GrowthRecorded(outcome=outcome, seconds=seconds, length=length):
            body = {
                "type": "hold",
                "held": outcome.held,
                "seconds": json_number(round(seconds, 3)),
                "length": json_number(length),
            }
        case _:
            return None
    return {"t": round(t, 3), **body}


class Trace:
    """Writes outputs as contract events, one JSON object a line. A screen whose text is the
    same as the last one (the breathing guide moved, say) is not reported again."""

    def __init__(self, out: TextIO, flush: bool = False) -> None:
        self.out = out
        self.flush = flush  # a live trace (the daemon's) is read as it is written
        self.lines: list[str] | None = None
        # "Füße hoch" as it is, where ``out`` can say it; else as JSON's escapes, which lose
        # nothing, where it cannot (an ASCII or Latin-1 stdout): never an error mid-routine.
        self.ascii = not _says_everything(getattr(out, "encoding", None) or "utf-8")

    def record(self, t: float, body: dict[str, Any]) -> None:
        """An event the shell saw for itself (a sound reaching the output), as it is."""
        self.out.write(json.dumps({"t": round(t, 3), **body}, ensure_ascii=self.ascii) + "\n")
        if self.flush:
            self.out.flush()

    def write(self, t: float, output: Output) -> None:
        body = event(t, output)
        if body is None:
            return
        if body["type"] == "screen":
            if body["lines"] == self.lines:
                return
            self.lines = body["lines"]
        self.out.write(json.dumps(body, ensure_ascii=self.ascii) + "\n")
        if self.flush:
            self.out.flush()


def _says_everything(encoding: str) -> bool:
    """``encoding`` can write any character: one of Unicode's own."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return False
    return name.startswith(("utf-8", "utf-16", "utf-32"))
