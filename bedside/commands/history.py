"""``bedside history``: the sessions done, night by night, read from the daemon's history.

The database is opened read-only (``history.report.Report``): a report never changes the
daemon's files. The sessions of the last N nights are shown as a table, with the streak of
the night's routine and the nights at a glance (minutes a night as a sparkline), as JSON, as
CSV, or as a bar chart in the image format its file's name asks for. All of it is pure but for
reading the database and writing the chart; what it reads is bounded (ten years of nights, a
chart of one year), and it writes a session at a time.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from bedside.commands.choices import history_file
from bedside.config.sections import Config
from bedside.core.durations import session_minutes
from bedside.core.errors import UsageError
from bedside.core.nights import Done, mark_done, night_of, streak
from bedside.core.printable import printable
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
            ever = bool(sessions) or report.any_sessions()
    except HistoryUnavailable as exc:
        if not path.exists() and not demo and state_dir is None:
            raise HistoryUnavailable(
                f"{exc} (the device's history is in /var/lib/bedside: --state-dir"
                " /var/lib/bedside; the demo keeps its own: --demo)"
            ) from None
        raise
    # Each session becomes a row as it is written, never all of them at once: ten years of a
    # crowded history stay in the memory of a Pi Zero.
    rows = (_row(s) for s in sessions)
    if as_json:
        sys.stdout.writelines(json_array(rows))
        return 0
    if as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(Row.__annotations__))
        writer.writeheader()
        writer.writerows(
            {**row, "routine": printable(row["routine"]), "completed": _yes(row["completed"])}
            for row in rows
        )
        return 0
    shown = nights(sessions, days, datetime.now(), night)
    none = None if sessions else _nothing(ever, days)
    if chart is not None:
        if days > CHART_NIGHTS:
            raise UsageError(
                f"a chart shows at most {CHART_NIGHTS} nights (a year), found --days {days};"
                " for more, --csv"
            )
        _writable_file(chart)
        image_format = chart_format(chart)
        title = f"bedside: minutes a night, {_last(days)} (filled: {night} completed)"
        try:
            write_chart(shown, chart, title, image_format, note=none)
        except (OSError, ValueError) as exc:  # Pillow's and the file system's, in plain words
            raise UsageError(f"cannot write the chart to {chart}: {_why(exc)}") from None
        print(f"wrote {_last(days)} to {chart}" + (f" ({none})" if none else ""))
        return 0
    if none:
        print(none)
    for line in table(sessions):
        print(line)
    nights_in_a_row = streak(done, datetime.now())
    print(
        f"\n{len(sessions)} session(s) in {_last(days)}; {night} streak: {nights_in_a_row} night(s)"
    )
    print(f"minutes a night, oldest first: {sparkline(shown)}")
    return 0


def table(sessions: list[Session]) -> Iterator[str]:
    """The sessions as lines of a table, its header first (none without sessions), a line
    made as it is printed. Each column is as wide as its widest entry (a session of 1,000
    minutes included), so that the columns stay under their names."""
    if not sessions:
        return
    width = max([len("min"), *(len(str(session_minutes(s.seconds))) for s in sessions)])
    name = max([len("routine"), *(len(s.routine) for s in sessions)])
    yield f"{'night':<11} {'start':>5}  {'routine':<{name}}  {'min':>{width}}  steps"
    for row in map(_row, sessions):
        mark = "done" if row["completed"] else f"{row['steps_done']}/{row['steps']}, ended early"
        yield printable(  # a routine's name as the database has it: shown, never played
            f"{row['night']:<11} {row['started'][11:16]:>5}  {row['routine']:<{name}}"
            f"  {row['minutes']:>{width}}  {mark}"
        )


def json_array(rows: Iterable[Row]) -> Iterator[str]:
    """``json.dumps(list(rows), indent=2)`` and a newline, a row at a time."""
    first = True
    for row in rows:
        yield ("[\n  " if first else ",\n  ") + json.dumps(row, indent=2).replace("\n", "\n  ")
        first = False
    yield "[]\n" if first else "\n]\n"


def _yes(completed: bool) -> str:
    return "yes" if completed else "no"


def _last(days: int) -> str:
    return "the last night" if days == 1 else f"the last {days} nights"


def _nothing(ever: bool, days: int) -> str:
    """What an empty report says: nothing ever, or nothing in these nights."""
    return f"no sessions in {_last(days)}" if ever else "no sessions yet"


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
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or "it cannot be written"


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


CHART_NIGHTS = 366  # the most nights a chart shows: a year, at most about 1,100 pixels wide
LONGEST_REPORT = 3660  # days: ten years of sessions, the most a report reads


def chart_format(path: Path) -> str:
    """The image format Pillow writes for ``path``'s ending (".png": "PNG", ".jpg": "JPEG");
    a UsageError naming the endings it can write a chart in when it cannot for this one."""
    from PIL import Image  # Pillow only when a chart is asked for

    formats = Image.registered_extensions()
    image_format = formats.get(path.suffix.lower())
    if image_format is None or not _writes(image_format):
        writable = sorted(ending for ending, name in formats.items() if _writes(name))
        found = f'"{path.suffix}"' if path.suffix else "no ending"
        raise UsageError(
            f"cannot write the chart to {path}: expected a name ending in an image format"
            f" Pillow writes ({', '.join(writable)}), found {found}"
        )
    return image_format


def _writes(image_format: str) -> bool:
    """Pillow writes a colour picture in ``image_format``: tried on one pixel, in memory (a
    format may be known without its encoder, or take only black and white)."""
    from PIL import Image

    if image_format not in Image.SAVE:
        return False
    try:
        Image.new("RGB", (1, 1)).save(io.BytesIO(), format=image_format)
    except Exception:  # whatever an encoder raises, it cannot write this chart
        return False
    return True


def draw(shown: list[Night], title: str, note: str | None = None) -> Image:
    """A bar a night, minutes up the side: filled where the night's routine was completed,
    outlined where it was not, nothing where there was no session; ``note`` written across
    the middle (an empty history's "no sessions yet"). Up to 60 nights a bar is 14 pixels
    wide; more nights, narrower bars, so that a year stays about 1,100 pixels wide."""
    from PIL import ImageDraw, ImageFont  # Pillow only when a chart is asked for
    from PIL.Image import new

    big = ImageFont.load_default(size=12)  # Pillow's own font, spaced as it should be at 12
    small = ImageFont.load_default(size=11)
    per = 18 if len(shown) <= 60 else max(3, 1100 // max(1, len(shown)))  # pixels a night
    bar = per - 4 if per >= 8 else per - 1
    top, bottom, right, height = 28, 30, 12, 160
    most = max([n.minutes for n in shown] + [10.0]) * 1.1  # headroom under the title
    scale = height / most
    ticks = list(range(0, int(most) + 1, max(10, int(most // 40) * 10 or 10)))
    left = max(44, 10 + max(int(small.getlength(f"{t} min")) for t in ticks))
    width = max(left + len(shown) * per + right, 16 + int(big.getlength(title)), 240)
    image = new("RGB", (width, top + height + bottom), "white")
    pen = ImageDraw.Draw(image)
    pen.text((8, 6), title, fill="black", font=big)
    for step in ticks:
        y = top + height - step * scale
        pen.line([(left - 4, y), (width - right, y)], fill="#dddddd")
        pen.text((left - 6, y), f"{step} min", fill="#666666", font=small, anchor="rm")
    label = max(1, -(-(int(small.getlength("30.12")) + 6) // per))  # nights a date spans
    for i, n in enumerate(shown):
        x = left + i * per
        if n.minutes > 0:
            y = top + height - n.minutes * scale
            box = [x, y, x + bar, top + height]
            if n.completed:
                pen.rectangle(box, fill="#3b5b92")
            else:
                pen.rectangle(box, outline="#3b5b92", width=2 if bar >= 6 else 1)
        if (len(shown) - 1 - i) % label == 0:  # tonight dated, and every few nights before
            middle = x + bar / 2
            pen.text((middle, top + height + 6), n.night.strftime("%d.%m"), fill="#444444",
                     font=small, anchor="ma")  # fmt: skip
    if note:
        centre = ((left + width - right) / 2, top + height / 2)
        pen.text(centre, note, fill="#444444", font=big, anchor="mm")
    return image


def write_chart(
    shown: list[Night], path: Path, title: str, image_format: str = "PNG", note: str | None = None
) -> None:
    """The chart written to ``path`` in ``image_format`` (Pillow's name), whole or not at all:
    made in memory first, so a format that fails leaves no half-written file."""
    buffer = io.BytesIO()
    draw(shown, title, note).save(buffer, format=image_format)
    path.write_bytes(buffer.getvalue())
