"""``bedside simulate``: the daemon's behaviour on a virtual clock, reported as JSON Lines.

The same ``Behaviour`` as the daemon (gestures, engine, screens) runs through a button script;
nothing sleeps, so an hour of routine takes a fraction of a second. Every output becomes one
JSON object on a line with ``t`` (virtual seconds since start) and ``type``; ``--frames``
writes each distinct frame as a PNG, and ``--transcript`` tells the events as a person
follows them instead.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from bedside.commands.choices import read_script, routine_named
from bedside.config import core_terms
from bedside.config.sections import Config
from bedside.core.behaviour import Behaviour, Output, ScreenChanged
from bedside.core.clock import SettableWall, VirtualClock
from bedside.core.errors import UsageError
from bedside.core.gestures import Thresholds
from bedside.core.nights import Quiet, Reminder
from bedside.core.printable import printable
from bedside.core.screens import Screen
from bedside.core.script import Command, timeline
from bedside.core.settings import Settings
from bedside.core.trace import Trace
from bedside.display.geometry import WIDTH


def main(
    config: Config,
    script: str,
    routine: str | None = None,
    frames: Path | None = None,
    at: datetime | None = None,
    transcribed: bool = False,
    audio: Path | None = None,
) -> int:
    """Run the button script in the file ``script`` (``-``: standard input) on the
    configured device, from the menu showing ``routine``; the wall clock starts at ``at``.
    ``audio``: also write the session's sound there, as the device would play it."""
    commands = read_script(script)
    if routine is not None:
        routine_named(config, routine)
    settings = core_terms.settings(config).showing(routine)
    writer = None
    if frames is not None:
        writer = FrameWriter(_empty_folder(frames), (WIDTH, config.display.height))
    kept = io.StringIO() if transcribed else None  # the events, for the transcript
    night = None
    if audio is not None:
        from bedside.commands.night_audio import NightAudio

        night = NightAudio(config, audio)
    simulate(
        settings,
        core_terms.thresholds(config.button),
        commands,
        sys.stdout if kept is None else kept,
        routine=routine,
        frames=writer,
        at=at,
        reminder=config.reminder,
        quiet=config.quiet,
        heard=None if night is None else night.take,
    )
    if night is not None:
        night.write()
    if kept is not None:
        for line in transcript(json.loads(line) for line in kept.getvalue().splitlines()):
            print(printable(line))
    return 0


def _empty_folder(path: Path) -> Path:
    """A folder to write into that holds nothing of the person's we could overwrite."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"{path} is a file; --frames needs a folder")
    if path.is_dir() and any(path.iterdir()):
        raise UsageError(f"{path} is not empty; give --frames a new or empty folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot make the folder {path}: {exc.strerror}") from None
    return path


class FrameWriter:
    """Writes each distinct display frame as a numbered PNG, at the panel's size."""

    def __init__(self, directory: Path, size: tuple[int, int]) -> None:
        from bedside.display.picture import picture  # Pillow only when frames are asked for

        self.picture = picture
        self.directory = directory
        self.size = size
        self.last: bytes | None = None
        self.count = 0

    def __call__(self, t: float, screen: Screen) -> None:
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
    frames: Callable[[float, Screen], None] | None = None,
    at: datetime | None = None,
    reminder: Reminder | None = None,
    quiet: Quiet | None = None,
    heard: Callable[[float, Output], None] | None = None,
) -> Behaviour:
    """Run ``commands``; ``at`` is the virtual wall clock at start (None: not synced). The hold
    that grows starts from nothing and grows over the nights the script runs through."""
    wall = SettableWall(at, 0.0)
    behaviour = Behaviour(
        settings,
        thresholds,
        now=0.0,
        routine=routine,
        wall=wall.read,
        reminder=reminder,
        quiet=quiet,
    )

    trace = Trace(out)

    def flush() -> None:
        for t, output in behaviour.take():
            if frames is not None and isinstance(output, ScreenChanged):
                frames(t, output.screen)
            trace.write(t, output)
            if heard is not None:
                heard(t, output)

    clock = VirtualClock()
    flush()
    for moment in timeline(commands):
        clock.advance_to(moment.at)
        if moment.wall is not None:  # the clock command: the wall clock jumps, and is known
            wall.set(moment.wall, clock.now())
            behaviour.wall_moved(clock.now())
        elif moment.pressed is None:
            behaviour.advance(clock.now())
        else:
            behaviour.edge(moment.pressed, clock.now())
        flush()
    behaviour.settle()  # the script's last press, taken once let go for the bounce time
    flush()
    return behaviour


# -- --transcript: the events as a person follows them -----------------------------------------
def transcript(events: Iterable[dict[str, Any]]) -> Iterator[str]:
    """Spoken cues, steps and state changes, each with its time; of the countdown's screen
    events only the first of each step."""
    show_screen = True
    for event in events:
        t = event["t"]
        stamp = f"{int(t // 3600)}:{int(t % 3600 // 60):02d}:{t % 60:05.2f}"
        kind = event["type"]
        if kind == "step":
            side = f" ({event['side']} foot)" if event["side"] else ""
            length = f"{event['duration']:g} s" if event["duration"] else "until a press"
            show_screen = True
            yield (
                f"{stamp}  step {event['index'] + 1}/{event['count']}: "
                f"{event['title']}{side}, {length}"
            )
        elif kind == "say":
            yield f"{stamp}    \U0001f50a {event['text']}"
        elif kind == "state":
            show_screen = True
            yield f"{stamp}  [{event['state']}: {event['routine']}]"
        elif kind == "gesture":
            yield f"{stamp}  button: {event['gesture']}"
        elif kind == "display":
            yield f"{stamp}  display {'on' if event['on'] else 'off'}"
        elif kind == "finished":
            yield f"{stamp}  finished: {'completed' if event['completed'] else 'ended early'}"
        elif kind == "hold":
            how = "held to the end" if event["held"] else "ended early"
            yield f"{stamp}  the hold: {how}, {event['seconds']:g} of {event['length']:g} s"
        elif kind == "screen" and show_screen:
            show_screen = False
            yield f"{stamp}    \u2590 {' | '.join(event['lines'])}"
