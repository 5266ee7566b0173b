"""The ``bedside`` command: its arguments, and which command module does the work.

Each command lives in a module of its own, named for it (``bedside plan`` in
``commands/plan.py``); this one only reads the arguments and hands them on. Every error for a
person is a ``BedsideError``, and its class says the exit status: a user's mistake ends in a
clear message and exit status 2, trouble on the machine in 1. A command module is imported
only when its command runs, so that ``bedside routines`` does not wait for Pillow or the
daemon.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from bedside.app.paths import voice_folders
from bedside.config.load import load_config
from bedside.config.sections import Config
from bedside.core.errors import BedsideError

# Each command's handler below: its arguments in, the exit status out.
Handler = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        _forgiving(stream)
    parser = _parser()
    args = parser.parse_args(argv)
    run: Handler = args.run
    try:
        return run(args)
    except BedsideError as exc:  # a UsageError exits 2, a TroubleError 1: the class says
        for line in exc.lines():
            print(f"bedside: {line}" if line[:1] != " " else line, file=sys.stderr)
        return exc.exit_status
    except BrokenPipeError:  # `bedside simulate ... | head` is fine
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130


def _forgiving(stream: object) -> None:
    """What the terminal's encoding cannot show (a title's "ü" under PYTHONIOENCODING=ascii or
    a Latin-1 locale) is written as "?", never an error; the JSON trace escapes it instead."""
    if isinstance(stream, io.TextIOWrapper):
        with contextlib.suppress(ValueError, OSError):  # a closed stream: nothing to say
            stream.reconfigure(errors="replace")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bedside",
        description="A one-button bedside coach for a wind-down routine at night.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str, run: Handler) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.add_argument(
            "--config", type=Path, metavar="PATH", help="bedside.toml to use (default: see README)"
        )
        sub.set_defaults(run=run)
        return sub

    sub = command("run", "run the device: the daemon systemd starts at boot", _run)
    sub.add_argument("--state-dir", type=Path, metavar="DIR", help="where progress is kept")
    sub.add_argument("--routine", metavar="NAME", help="the routine shown first in the menu")
    sub.add_argument(
        "--mock-hardware",
        action="store_true",
        help="run on any machine: a mock button pin, a recording panel, a null sound sink",
    )
    sub.add_argument(
        "--script", metavar="FILE", help="with --mock-hardware: drive the button from a script"
    )
    sub.add_argument("--trace", action="store_true", help="JSON Lines events on stdout")
    sub.add_argument(
        "--speed",
        type=_speed,
        default=1.0,
        metavar="N",
        help="with --mock-hardware: run time N times fast (1 to 100), for tests",
    )
    sub.add_argument("-v", "--verbose", action="store_true", help="log gestures too")

    sub = command("demo", "the device in this terminal: keys for the button, no hardware", _demo)
    sub.add_argument("--routine", metavar="NAME", help="the routine shown first in the menu")
    sub.add_argument(
        "--speed", type=_speed, default=1.0, metavar="N", help="run time N times fast (1 to 100)"
    )

    sub = command("routines", "list the routines, in menu order, at tonight's lengths", _routines)
    where = sub.add_mutually_exclusive_group()
    where.add_argument(
        "--state-dir", type=Path, metavar="DIR", help="the history tonight's hold follows"
    )
    where.add_argument("--demo", action="store_true", help="the demo's history (bedside demo)")

    sub = command("history", "the sessions done, night by night", _history)
    where = sub.add_mutually_exclusive_group()
    where.add_argument("--state-dir", type=Path, metavar="DIR", help="where the daemon keeps them")
    where.add_argument("--demo", action="store_true", help="the demo's history (bedside demo)")
    sub.add_argument(
        "--days", type=_days, default=30, metavar="N", help="the last N nights (at most 3660)"
    )
    form = sub.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="JSON, a session an element")
    form.add_argument("--csv", action="store_true", help="CSV with a header row")
    form.add_argument(
        "--chart",
        type=Path,
        metavar="FILE.png",
        help="draw the last N nights (at most 366) as a bar chart, in the format the name's"
        " ending asks for (.png, .jpg, ...)",
    )

    sub = command("plan", "show a routine step by step", _plan)
    sub.add_argument("name", metavar="NAME", help="the routine, as `bedside routines` lists it")
    sub.add_argument("--json", action="store_true", help="print the plan as JSON")
    where = sub.add_mutually_exclusive_group()
    where.add_argument(
        "--state-dir", type=Path, metavar="DIR", help="the history tonight's hold follows"
    )
    where.add_argument("--demo", action="store_true", help="the demo's history (bedside demo)")

    sub = command("simulate", "run the device on a virtual clock from a button script", _simulate)
    sub.add_argument(
        "--script",
        required=True,
        metavar="FILE",
        help="button script: press | hold SECONDS | wait SECONDS, one a line ('-' for stdin)",
    )
    sub.add_argument("--routine", metavar="NAME", help="the routine shown in the menu at start")
    sub.add_argument("--frames", type=Path, metavar="DIR", help="write each frame as a PNG")
    sub.add_argument(
        "--at",
        type=_datetime,
        metavar="ISO_DATETIME",
        help="the wall clock at start, like 2026-11-20T21:55 (default: not synced)",
    )
    sub.add_argument(
        "--transcript", action="store_true", help="a transcript for a person, not JSON Lines"
    )
    sub.add_argument(
        "--audio",
        type=Path,
        metavar="WAV",
        help="also write the session's sound as the device would play it (cues, chimes, "
        "soundscape, ducking, fades), in seconds",
    )

    sub = command("check-config", "check bedside.toml and the routine files", _check_config)
    sub.add_argument(
        "--defaults",
        action="store_true",
        help="print a bedside.toml with every key at its default, each said what it does",
    )

    command("selftest", "check the wiring, the panel, the voice and the button", _selftest)

    sub = command("screens", "write every kind of screen as a PNG", _screens)
    sub.add_argument("directory", type=Path, metavar="DIR")
    sub.add_argument(
        "--height",
        type=int,
        choices=(64, 32),
        help="the panel's rows of pixels (default: [display] height)",
    )

    sub = command(
        "voice", "render every cue into the voice's cache, say one line, or list voices", _voice
    )
    actions = sub.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, help in [
        ("render", "render every sound the device can play into the cache"),
        ("say", "say one line through the configured engine and sound device"),
        ("list", "list the sounds the cache holds: text, file, seconds, loudness"),
        ("list-models", "list the Piper voices installed, where they are, and which is used"),
    ]:
        action = actions.add_parser(name, help=help, description=help)
        action.add_argument(
            "--config", type=Path, metavar="PATH", default=argparse.SUPPRESS, help="bedside.toml"
        )
        if name == "say":
            action.add_argument("text", metavar="TEXT")
        if name == "list":
            action.add_argument("--json", action="store_true", help="one JSON array")
        if name == "list-models":
            action.add_argument("--json", action="store_true", help="one JSON object")
    return parser


def _config(args: argparse.Namespace) -> Config:
    return load_config(args.config, voice_folders(getattr(args, "state_dir", None)))


# -- the argument types ----------------------------------------------------------------------
def _days(text: str) -> int:
    from bedside.commands.history import LONGEST_REPORT  # the most a report reads

    if not text.isdigit() or not 1 <= int(text) <= LONGEST_REPORT:
        raise argparse.ArgumentTypeError(
            f"expected a number of days from 1 to {LONGEST_REPORT} (ten years), found {text[:20]!r}"
        )
    return int(text)


def _datetime(text: str) -> datetime:
    from bedside.core.script import WHEN, YEARS  # the years a script's clock may be set to

    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {WHEN}, found {text[:40]!r}") from None
    if not YEARS[0] <= value.year <= YEARS[1]:  # a year of script on either side must fit
        raise argparse.ArgumentTypeError(f"expected {WHEN}, found {text[:40]!r}")
    return value


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError(f"expected a number from 1 to 100, found {text!r}")
    return value


# -- each command, handed to its module ------------------------------------------------------
def _run(args: argparse.Namespace) -> int:
    from bedside.commands import run

    return run.main(
        args.config,
        state_dir=args.state_dir,
        routine=args.routine,
        mock_hardware=args.mock_hardware,
        script=args.script,
        trace=args.trace,
        speed=args.speed,
        verbose=args.verbose,
    )


def _demo(args: argparse.Namespace) -> int:
    from bedside.commands import demo

    return demo.main(args.config, routine=args.routine, speed=args.speed)


def _routines(args: argparse.Namespace) -> int:
    from bedside.commands import routines

    return routines.main(_config(args), state_dir=args.state_dir, demo=args.demo)


def _history(args: argparse.Namespace) -> int:
    from bedside.commands import history

    return history.main(
        _config(args),
        state_dir=args.state_dir,
        demo=args.demo,
        days=args.days,
        as_json=args.json,
        as_csv=args.csv,
        chart=args.chart,
    )


def _plan(args: argparse.Namespace) -> int:
    from bedside.commands import plan

    return plan.main(
        _config(args), args.name, state_dir=args.state_dir, demo=args.demo, as_json=args.json
    )


def _simulate(args: argparse.Namespace) -> int:
    from bedside.commands import simulate

    return simulate.main(
        _config(args),
        args.script,
        routine=args.routine,
        frames=args.frames,
        at=args.at,
        transcribed=args.transcript,
        audio=args.audio,
    )


def _check_config(args: argparse.Namespace) -> int:
    from bedside.commands import check_config

    return check_config.main(args.config, defaults=args.defaults)


def _selftest(args: argparse.Namespace) -> int:
    from bedside.commands.selftest import selftest

    return selftest(_config(args))


def _screens(args: argparse.Namespace) -> int:
    from bedside.commands import screens

    return screens.main(_config(args), args.directory, height=args.height)


def _voice(args: argparse.Namespace) -> int:
    if args.action == "list-models":  # says what it can of a configuration with problems too
        from bedside.commands import voice_models

        return voice_models.main(args.config, as_json=args.json)
    from bedside.commands import voice

    config = _config(args)
    if args.action == "say":
        return voice.say(config, args.text)
    if args.action == "list":
        return voice.listing(config, as_json=args.json)
    return voice.render(config)


if __name__ == "__main__":
    sys.exit(main())
