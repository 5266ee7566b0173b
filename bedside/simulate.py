"""``bedside simulate``: the daemon's core on a virtual clock, reported as JSON Lines.

The same ``Core`` as the daemon (gestures, engine, screens) runs through a button script;
nothing sleeps, so an hour of routine takes a fraction of a second. Every output becomes one
JSON object on a line with ``t`` (virtual seconds since start) and ``type``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from bedside.clock import VirtualClock
from bedside.core import Core, HoldRecorded, Output, ScreenChanged
from bedside.engine import (
    Display,
    Finished,
    GestureTaken,
    Say,
    Settings,
    StateChanged,
    StepStarted,
)
from bedside.gestures import Thresholds
from bedside.hold import HoldPlan
from bedside.nights import Quiet, Reminder
from bedside.plan import json_number
from bedside.routines import CueOptions
from bedside.script import Command


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
                "title": step.title,
                "kind": step.kind.value,
                "duration": json_number(step.duration),
                "side": step.side,
            }
        case Say(text=text):
            body = {"type": "say", "text": text}
        case ScreenChanged(screen=screen):
            body = {"type": "screen", "lines": screen.lines}
        case Display(on=on, contrast=contrast):
            body = {"type": "display", "on": on, "contrast": contrast}
        case GestureTaken(gesture=gesture):
            body = {"type": "gesture", "gesture": gesture}
        case Finished(routine=routine, completed=completed):
            body = {"type": "finished", "routine": routine, "completed": completed}
        case HoldRecorded(outcome=outcome, seconds=seconds, length=length):
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

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.lines: list[str] | None = None

    def write(self, t: float, output: Output) -> None:
        body = event(t, output)
        if body is None:
            return
        if body["type"] == "screen":
            if body["lines"] == self.lines:
                return
            self.lines = body["lines"]
        self.out.write(json.dumps(body, ensure_ascii=False) + "\n")


class FrameWriter:
    """Writes each distinct display frame as a numbered PNG, at the panel's size."""

    def __init__(self, directory: Path, size: tuple[int, int] = (128, 64)) -> None:
        from bedside import drawing  # Pillow only when frames are asked for

        self.drawing = drawing
        self.directory = directory
        self.size = size
        self.last: bytes | None = None
        self.count = 0

    def __call__(self, t: float, screen: Any) -> None:
        image = self.drawing.render(screen, self.size)
        data = image.tobytes()
        if data == self.last:
            return
        self.last = data
        self.count += 1
        image.save(self.directory / f"frame-{self.count:05d}-t{t:09.2f}.png")


def simulate(
    settings: Settings,
    thresholds: Thresholds,
    commands: Iterable[Command],
    out: TextIO,
    routine: str | None = None,
    frames: Callable[[float, Any], None] | None = None,
    at: datetime | None = None,
    reminder: Reminder | None = None,
    quiet: Quiet | None = None,
    hold: HoldPlan | None = None,
    cues: CueOptions | None = None,
) -> Core:
    """Run ``commands``; ``at`` is the virtual wall clock at start (None: not synced). The hold
    that grows starts from nothing and grows over the nights the script runs through."""
    wall = None if at is None else (lambda t: at + timedelta(seconds=t))
    core = Core(
        settings,
        thresholds,
        now=0.0,
        routine=routine,
        wall=wall,
        reminder=reminder,
        quiet=quiet,
        hold=hold,
        cues=cues,
    )

    trace = Trace(out)

    def flush() -> None:
        for t, output in core.take():
            if frames is not None and isinstance(output, ScreenChanged):
                frames(t, output.screen)
            trace.write(t, output)

    clock = VirtualClock()
    flush()
    for command in commands:
        if command.action == "wait":
            clock.advance(command.seconds)
            core.advance(clock.now())
        else:
            core.edge(True, clock.now())
            flush()
            clock.advance(command.seconds)
            core.edge(False, clock.now())
        flush()
    return core
