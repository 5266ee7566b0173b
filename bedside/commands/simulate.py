"""``bedside simulate``: the daemon's behaviour on a virtual clock, reported as JSON Lines.

The same ``Behaviour`` as the daemon (gestures, engine, screens) runs through a button script;
nothing sleeps, so an hour of routine takes a fraction of a second. Every output becomes one
JSON object on a line with ``t`` (virtual seconds since start) and ``type``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from bedside.core.behaviour import Behaviour, ScreenChanged
from bedside.core.clock import VirtualClock
from bedside.core.gestures import Thresholds
from bedside.core.growth import GrowthPlan
from bedside.core.nights import Quiet, Reminder
from bedside.core.routines import CueOptions
from bedside.core.script import Command, timeline
from bedside.core.settings import Settings
from bedside.core.trace import Trace


class FrameWriter:
    """Writes each distinct display frame as a numbered PNG, at the panel's size."""

    def __init__(self, directory: Path, size: tuple[int, int] = (128, 64)) -> None:
        from bedside.display.picture import picture  # Pillow only when frames are asked for

        self.picture = picture
        self.directory = directory
        self.size = size
        self.last: bytes | None = None
        self.count = 0

    def __call__(self, t: float, screen: Any) -> None:
        image = self.picture(screen, self.size)
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
    hold: GrowthPlan | None = None,
    cues: CueOptions | None = None,
) -> Behaviour:
    """Run ``commands``; ``at`` is the virtual wall clock at start (None: not synced). The hold
    that grows starts from nothing and grows over the nights the script runs through."""
    wall = None if at is None else (lambda t: at + timedelta(seconds=t))
    behaviour = Behaviour(
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
        for t, output in behaviour.take():
            if frames is not None and isinstance(output, ScreenChanged):
                frames(t, output.screen)
            trace.write(t, output)

    clock = VirtualClock()
    flush()
    for moment in timeline(commands):
        clock.advance_to(moment.at)
        if moment.pressed is None:
            behaviour.advance(clock.now())
        else:
            behaviour.edge(moment.pressed, clock.now())
        flush()
    return behaviour
