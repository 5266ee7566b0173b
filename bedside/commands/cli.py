"""The ``bedside`` command. Every user mistake ends in a clear message and exit status 2."""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from bedside.config.load import Config, load_config
from bedside.core.errors import BedsideError, UsageError


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except BedsideError as exc:  # a UsageError exits 2, a TroubleError 1: the class says
        for line in exc.lines():
            print(f"bedside: {line}" if line[:1] != " " else line, file=sys.stderr)
        return exc.exit_status
    except BrokenPipeError:  # `bedside simulate ... | head` is fine
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bedside",
        description="A one-button bedside coach for a wind-down routine at night.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str, run) -> argparse.ArgumentParser:
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

    command("routines", "list the routines, in menu order", _routines)

    sub = command("history", "the sessions done, night by night", _history)
    where = sub.add_mutually_exclusive_group()
    where.add_argument("--state-dir", type=Path, metavar="DIR", help="where the daemon keeps them")
    where.add_argument("--demo", action="store_true", help="the demo's history (bedside demo)")
    sub.add_argument("--days", type=_days, default=30, metavar="N", help="the last N nights")
    form = sub.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="JSON, a session an element")
    form.add_argument("--csv", action="store_true", help="CSV with a header row")
    form.add_argument(
        "--chart", type=Path, metavar="FILE.png", help="draw the last N nights as a bar chart"
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

    sub = command("voice", "render every cue into the voice's cache, or say one line", _voice)
    actions = sub.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, help in [
        ("render", "render every sound the device can play into the cache"),
        ("say", "say one line through the configured engine and sound device"),
    ]:
        action = actions.add_parser(name, help=help, description=help)
        action.add_argument(
            "--config", type=Path, metavar="PATH", default=argparse.SUPPRESS, help="bedside.toml"
        )
        if name == "say":
            action.add_argument("text", metavar="TEXT")
    return parser


def _config(args: argparse.Namespace) -> Config:
    return load_config(args.config)


def _routine_name(config: Config, name: str) -> str:
    if name not in config.routines:
        names = ", ".join(config.menu + tuple(n for n in config.routines if n not in config.menu))
        raise UsageError(f"no routine named {name!r}; there are: {names}")
    return name


def _read_script(path: str):
    from bedside.core.script import parse_script

    if path == "-":
        text, name = sys.stdin.read(), "<stdin>"
    else:
        try:
            text, name = Path(path).read_text(encoding="utf-8"), path
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read the script {path}: {exc}") from None
    return parse_script(text, name)


def _run(args: argparse.Namespace) -> int:
    from bedside.app.daemon import Options, run
    from bedside.app.logs import configure_logging

    if args.script is not None and not args.mock_hardware:
        raise UsageError("--script drives a mock button: add --mock-hardware")
    if args.speed != 1.0 and not args.mock_hardware:
        raise UsageError("--speed runs a mock device fast: add --mock-hardware")
    commands = _read_script(args.script) if args.script is not None else None
    config = _config(args)  # errors here are the person's, before any device is touched
    if args.routine is not None:
        _routine_name(config, args.routine)
    configure_logging(args.verbose)
    options = Options(
        config=args.config,
        state_dir=args.state_dir,
        routine=args.routine,
        mock_hardware=args.mock_hardware,
        script=commands,
        trace=sys.stdout if args.trace else None,
        speed=args.speed,
    )
    return run(options)


def _days(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 36500:
        raise argparse.ArgumentTypeError(f"expected a number of days from 1, found {text!r}")
    return int(text)


def _history(args: argparse.Namespace) -> int:
    import csv
    import time
    from datetime import datetime

    from bedside.app.paths import state_directory
    from bedside.commands.chart import nights, sparkline, write_chart
    from bedside.core.nights import night_of, streak
    from bedside.history.report import HistoryUnavailable, Report
    from bedside.history.rows import completed_nights

    night = _config(args).night_routine  # the routine whose completion makes a night
    folder = demo_state() if args.demo else state_directory(args.state_dir)
    path = folder / "bedside.db"
    try:
        with Report(path) as report:  # read-only: a report never changes the daemon's files
            sessions = report.sessions(since=time.time() - args.days * 86400)
            done = completed_nights(report).get(night, set())
    except HistoryUnavailable as exc:
        if not path.exists() and not args.demo and args.state_dir is None:
            raise HistoryUnavailable(
                f"{exc} (the device's history is in /var/lib/bedside: --state-dir"
                " /var/lib/bedside; the demo keeps its own: --demo)"
            ) from None
        raise
    rows = []
    for s in sessions:
        started = datetime.fromtimestamp(s.started)
        rows.append(
            {
                "night": night_of(started).isoformat(),
                "routine": s.routine,
                "started": started.isoformat(timespec="seconds"),
                "ended": datetime.fromtimestamp(s.ended).isoformat(timespec="seconds"),
                "minutes": round((s.ended - s.started) / 60, 1),
                "completed": s.completed,
                "steps_done": s.steps_done,
                "steps": s.steps,
            }
        )
    shown = nights(sessions, args.days, datetime.now(), night)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if args.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else ["night"])
        writer.writeheader()
        writer.writerows({**row, "completed": "yes" if row["completed"] else "no"} for row in rows)
        return 0
    if args.chart is not None:
        title = f"bedside: minutes a night, the last {args.days} nights (filled: {night} done)"
        try:
            write_chart(shown, args.chart, title)
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot write the chart to {args.chart}: {_why(exc)}") from None
        print(f"wrote the last {args.days} nights to {args.chart}")
        return 0
    print(f"{'night':<11} {'start':>5}  {'routine':<14} {'min':>5}  steps")
    for row in rows:
        mark = "done" if row["completed"] else f"{row['steps_done']}/{row['steps']}, ended early"
        print(
            f"{row['night']:<11} {row['started'][11:16]:>5}  {row['routine']:<14}"
            f" {row['minutes']:>5}  {mark}"
        )
    nights_in_a_row = streak(done, datetime.now())
    print(
        f"\n{len(rows)} session(s) in {args.days} days; {night} streak: {nights_in_a_row} night(s)"
    )
    print(f"minutes a night, oldest first: {sparkline(shown)}")
    return 0


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return (exc.strerror or "it cannot be written").lower()
    return "use a file name ending in .png"


def demo_state() -> Path:
    """Where ``bedside demo`` keeps its state and history, apart from the device's."""
    from bedside.app.paths import state_directory

    return state_directory(None) / "demo"


def _datetime(text: str):
    from datetime import datetime

    expected = "expected a date and time from the year 1970 to 9000, like 2026-11-20T21:55"
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{expected}, found {text[:40]!r}") from None
    if not 1970 <= value.year <= 9000:  # room for nights and weeks of script on either side
        raise argparse.ArgumentTypeError(f"{expected}, found {text[:40]!r}")
    return value


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError(f"expected a number from 1 to 100, found {text!r}")
    return value


def _demo(args: argparse.Namespace) -> int:
    import logging

    from bedside.app.daemon import Options
    from bedside.commands.demo import demo

    config = _config(args)
    if args.routine is not None:
        _routine_name(config, args.routine)
    # The terminal is the panel: the log goes to a file beside the state.
    # The demo keeps its own state (a demo left mid-session comes back paused, as the device
    # does) apart from a real daemon's history.
    state = demo_state()
    state.mkdir(parents=True, exist_ok=True)
    log_file = state / "demo.log"
    logging.basicConfig(filename=log_file, level=logging.INFO, format="%(asctime)s %(message)s")
    options = Options(config=args.config, state_dir=state, routine=args.routine, speed=args.speed)
    return demo(options)


def _routines(args: argparse.Namespace) -> int:
    config = _config(args)
    from bedside.core.screens import minutes

    extra = [n for n in sorted(config.routines) if n not in config.menu]
    width = max(len(n) for n in config.routines)
    for name in (*config.menu, *extra):
        routine = config.routines[name]
        about = routine.summary + (f" ({routine.profile_title})" if routine.profile_title else "")
        shown = "" if name in config.menu else "  [not in the menu]"
        print(f"{name:<{width}}  {minutes(routine.total_seconds):>7}  {about}{shown}")
    return 0


def _plan(args: argparse.Namespace) -> int:
    from bedside.commands.plan import plan_json, plan_table

    config = _config(args)
    name = _routine_name(config, args.name)
    length = _hold_tonight(config, args)
    routine = config.routines[name]
    if length is not None:
        from bedside.core.growth import retimed

        routine = retimed(routine, length, config.cues)
    if args.json:
        print(json.dumps(plan_json(routine), ensure_ascii=False, indent=2))
        return 0
    print(plan_table(routine))
    if length is not None and any(step.grows for step in routine.steps):
        plan = config.hold
        print(
            f"\nThe hold grows with you: tonight {length / 60:g} min (from {plan.start / 60:g},"
            f" {plan.step / 60:g} more after each night it is held, at most"
            f" {plan.longest / 60:g})."
        )
    return 0


def _hold_tonight(config: Config, args: argparse.Namespace) -> float | None:
    """Tonight's length of the hold that grows, from the history (read-only) if there is one."""
    from bedside.app.paths import state_directory
    from bedside.core.growth import GrowthNight, tonight
    from bedside.history.report import HistoryUnavailable, Report

    if not config.hold.grow:
        return None
    folder = demo_state() if args.demo else state_directory(args.state_dir)
    try:
        with Report(folder / "bedside.db") as report:
            nights = [GrowthNight(h.night, h.held) for h in report.growth_rows()]
    except HistoryUnavailable:
        nights = []  # no history yet: the first night's length
    return tonight(config.hold, nights)


def _simulate(args: argparse.Namespace) -> int:
    from bedside.commands.simulate import FrameWriter, simulate
    from bedside.core.gestures import Thresholds
    from bedside.core.settings import Settings

    config = _config(args)
    commands = _read_script(args.script)
    if args.routine is not None:
        _routine_name(config, args.routine)
    settings = Settings.from_config(config).showing(args.routine)
    frames = None
    if args.frames is not None:
        frames = FrameWriter(_empty_folder(args.frames), (128, config.display.height))
    thresholds = Thresholds.from_config(config.button)
    out = io.StringIO() if args.transcript else sys.stdout
    simulate(
        settings,
        thresholds,
        commands,
        out,
        routine=args.routine,
        frames=frames,
        at=args.at,
        reminder=config.reminder,
        quiet=config.quiet,
        hold=config.hold,
        cues=config.cues,
    )
    if args.transcript:
        from bedside.commands.transcript import transcript

        events = (json.loads(line) for line in out.getvalue().splitlines())
        for line in transcript(events):
            print(line)
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


def _check_config(args: argparse.Namespace) -> int:
    if args.defaults:
        from bedside.config.docs import commented_toml

        print(commented_toml(), end="")
        return 0
    config = _config(args)
    print(f"{config.path}: ok, {len(config.routines)} routines ({', '.join(config.menu)})")
    return 0


def _selftest(args: argparse.Namespace) -> int:
    from bedside.commands.selftest import selftest

    return selftest(_config(args))


def _screens(args: argparse.Namespace) -> int:
    from bedside.commands.screens import GalleryError, drawn_size, write_gallery
    from bedside.core.settings import Settings

    config = _config(args)
    size = (128, args.height or config.display.height)
    drawn = drawn_size(args.directory) if args.directory.is_dir() else None
    if args.height is None and drawn is not None and drawn != size:
        # docs/screens-32 redrawn at the configured 64 rows would quietly lose its point.
        raise UsageError(
            f"{args.directory} holds bedside's {drawn[0]}x{drawn[1]} pictures and the panel "
            f"is configured as {size[0]}x{size[1]}: give --height {drawn[1]} to redraw them, "
            f"or --height {size[1]} to replace them"
        )
    try:
        paths = write_gallery(Settings.from_config(config), args.directory, size)
    except GalleryError as exc:
        raise UsageError(str(exc)) from None
    print(f"wrote {len(paths)} images ({size[0]}x{size[1]}) to {args.directory}")
    return 0


def _voice(args: argparse.Namespace) -> int:
    from bedside.commands import voice as voicecmd

    config = _config(args)
    if args.action == "say":
        return voicecmd.say(config, args.text)
    return voicecmd.render(config)


if __name__ == "__main__":
    sys.exit(main())
