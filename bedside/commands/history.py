"""``bedside history``: the sessions done, night by night, read from the daemon's history.

The database is opened read-only (``history.report.Report``): a report never changes the
daemon's files. The sessions of the last N nights are shown as a table, with the streak of
the night's routine and the nights at a glance (minutes a night as a sparkline), as JSON, as
CSV, or as a bar chart in a PNG. All of it is pure but for reading the database and writing
the chart.
"""

from __future__ import annotations

import csv
import json
import os
import stat
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from bedside.commands.choices import history_file
from bedside.config.sections import Config
from bedside.core.durations import session_minutes
from bedside.core.errors import UsageError
from bedside.core.nights import Done, mark_done, night_of, streak
from bedside.folders import kind_of
from bedside.history.report import HistoryUnavailable, Report
from bedside.history.rows import Session, completed_nights

if TYPE_CHECKING:
    from PIL.Image import Image


class Row(TypedDict):
    """A session as the report shows it; the keys, in order, are the JSON's and the CSV's."""

    night: str
    routine: str
    started: str
    ended: str
    minutes: float
    completed: bool
    steps_done: int
    steps: int


def main(
    config: Config,
    state_dir: Path | None = None,
    demo: bool = False,
    days: int = 30,
    as_json: bool = False,
    as_csv: bool = False,
    chart: Path | None = None,
) -> int:
    """Report the last ``days`` nights of the history in ``state_dir`` (the demo's with
    ``demo``, else the daemon's default): a table, JSON, CSV, or a chart written to ``chart``."""
    night = config.night_routine  # the routine whose completion makes a night
    path = history_file(state_dir, demo)
    try:
        with Report(path) as report:
            sessions = report.sessions(since=time.time() - days * 86400)
            done = completed_nights(report).get(night, set())
    except HistoryUnavailable as exc:
        if not path.exists() and not demo and state_dir is None:
            raise HistoryUnavailable(
                f"{exc} (the device's history is in /var/lib/bedside: --state-dir"
                " /var/lib/bedside; the demo keeps its own: --demo)"
            ) from None
        raise
    rows = [_row(s) for s in sessions]
    shown = nights(sessions, days, datetime.now(), night)
    if as_json:
        print(json.dumps(rows, indent=2))
        return 0
    if as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else ["night"])
        writer.writeheader()
        writer.writerows({**row, "completed": "yes" if row["completed"] else "no"} for row in rows)
        return 0
    if chart is not None:
        _writable_file(chart)
        title = f"bedside: minutes a night, the last {days} nights (filled: {night} done)"
        try:
            write_chart(shown, chart, title)
        except (OSError, ValueError) as exc:  # Pillow's and the file system's, in plain words
            raise UsageError(f"cannot write the chart to {chart}: {_why(exc)}") from None
        print(f"wrote the last {days} nights to {chart}")
        return 0
    print(f"{'night':<11} {'start':>5}  {'routine':<14} {'min':>5}  steps")
    for row in rows:
        mark = "done" if row["completed"] else f"{row['steps_done']}/{row['steps']}, ended early"
        print(
            f"{row['night']:<11} {row['started'][11:16]:>5}  {row['routine']:<14}"
            f" {row['minutes']:>5}  {mark}"
        )
    nights_in_a_row = streak(done, datetime.now())
    print(f"\n{len(rows)} session(s) in {days} days; {night} streak: {nights_in_a_row} night(s)")
    print(f"minutes a night, oldest first: {sparkline(shown)}")
    return 0


def _row(session: Session) -> Row:
    started = datetime.fromtimestamp(session.started)
    return Row(
        night=session.night.isoformat() if session.night is not None else "not known",
        routine=session.routine,
        started=started.isoformat(timespec="seconds"),
        ended=datetime.fromtimestamp(session.ended).isoformat(timespec="seconds"),
        minutes=session_minutes(session.seconds),
        completed=session.completed,
        steps_done=session.steps_done,
        steps=session.steps,
    )


def _writable_file(path: Path) -> None:
    """Nothing, if ``path`` is free or a file; a UsageError if it is something else: a FIFO
    (which would hold the command until something read it), a device, a folder."""
    try:
        mode = os.stat(path).st_mode
    except OSError:  # nothing there yet, or not ours to look at: writing will tell
        return
    if not stat.S_ISREG(mode):
        raise UsageError(f"cannot write the chart to {path}: it is {kind_of(mode)}, not a file")


def _why(exc: OSError | ValueError) -> str:
    if isinstance(exc, OSError):
        return (exc.strerror or "it cannot be written").lower()
    return "use a file name ending in .png"


# -- the nights at a glance: a sparkline and a chart ----------------------------------------
BLOCKS = "▁▂▃▄▅▆▇█"
NONE = "·"  # a night with no session at all


@dataclass(frozen=True)
class Night:
    """One night of the report, as the sparkline and the chart show it."""

    night: date
    minutes: float  # every session that night, completed or not
    completed: bool  # the night's routine (``[nights] routine``) was completed


def nights(sessions: Iterable[Session], days: int, now: datetime, routine: str) -> list[Night]:
    """The last ``days`` nights up to tonight, oldest first, empty nights included; a night is
    completed when ``routine`` was."""
    last = night_of(now)
    minutes: dict[date, float] = {}
    done: dict[str, set[date]] = {}
    for s in sessions:
        if s.night is not None:  # a night the clock could not tell is no night of the chart
            minutes[s.night] = minutes.get(s.night, 0.0) + s.seconds / 60
        mark_done(done, Done(s.routine, s.night, s.completed))
    completed = done.get(routine, set())
    span = [last - timedelta(days=n) for n in range(days - 1, -1, -1)]
    return [Night(d, minutes.get(d, 0.0), d in completed) for d in span]


def sparkline(shown: list[Night]) -> str:
    """One character a night: its minutes against the longest night shown."""
    most = max((n.minutes for n in shown), default=0.0)
    out: list[str] = []
    for n in shown:
        if n.minutes <= 0 or most <= 0:
            out.append(NONE)
        else:
            out.append(BLOCKS[min(len(BLOCKS) - 1, int(n.minutes / most * (len(BLOCKS) - 1)))])
    return "".join(out)


def draw(shown: list[Night], title: str) -> Image:
    """A bar a night, minutes up the side: filled where the night's routine was completed,
    outlined where it was not, nothing where there was no session."""
    from PIL import ImageDraw, ImageFont  # Pillow only when a chart is asked for
    from PIL.Image import new

    font = ImageFont.load_default()
    bar, gap, left, top, bottom, right = 14, 4, 44, 28, 30, 12
    height = 160
    width = left + right + len(shown) * (bar + gap)
    image = new("RGB", (max(width, 240), top + height + bottom), "white")
    pen = ImageDraw.Draw(image)
    most = max([n.minutes for n in shown] + [10.0]) * 1.1  # headroom under the title
    scale = height / most
    pen.text((left, 8), title, fill="black", font=font)
    for step in range(0, int(most) + 1, max(10, int(most // 40) * 10 or 10)):
        y = top + height - step * scale
        pen.line([(left - 4, y), (width - right, y)], fill="#dddddd")
        pen.text((4, y - 6), f"{step:>3} min", fill="#666666", font=font)
    for i, n in enumerate(shown):
        x = left + i * (bar + gap)
        if n.minutes > 0:
            y = top + height - n.minutes * scale
            box = [x, y, x + bar, top + height]
            if n.completed:
                pen.rectangle(box, fill="#3b5b92")
            else:
                pen.rectangle(box, outline="#3b5b92", width=2)
        if i % 7 == len(shown) % 7 or len(shown) <= 7:  # a date now and then, not a crowd
            pen.text((x - 2, top + height + 6), n.night.strftime("%d.%m"), fill="#444444")
    return image


def write_chart(shown: list[Night], path: Path, title: str) -> None:
    draw(shown, title).save(path, format="PNG")
