"""Nights at a glance, for ``bedside history``: minutes a night as a sparkline in the terminal
and as a bar chart in a PNG. Pure but for the one function that writes the file."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from bedside.core.nights import night_of
from bedside.history.rows import Session

BLOCKS = "▁▂▃▄▅▆▇█"
NONE = "·"  # a night with no session at all


@dataclass(frozen=True)
class Night:
    night: date
    minutes: float  # every session that night, completed or not
    completed: bool  # the night's routine (``[nights] routine``) was completed


def nights(sessions: Iterable[Session], days: int, now: datetime, routine: str) -> list[Night]:
    """The last ``days`` nights up to tonight, oldest first, empty nights included; a night is
    completed when ``routine`` was."""
    last = night_of(now)
    minutes: dict[date, float] = {}
    done: set[date] = set()
    for s in sessions:
        night = night_of(datetime.fromtimestamp(s.started))
        minutes[night] = minutes.get(night, 0.0) + max(0.0, s.ended - s.started) / 60
        if s.completed and s.routine == routine:
            done.add(night)
    span = [last - timedelta(days=n) for n in range(days - 1, -1, -1)]
    return [Night(d, minutes.get(d, 0.0), d in done) for d in span]


def sparkline(shown: list[Night]) -> str:
    """One character a night: its minutes against the longest night shown."""
    most = max((n.minutes for n in shown), default=0.0)
    out = []
    for n in shown:
        if n.minutes <= 0 or most <= 0:
            out.append(NONE)
        else:
            out.append(BLOCKS[min(len(BLOCKS) - 1, int(n.minutes / most * (len(BLOCKS) - 1)))])
    return "".join(out)


def draw(shown: list[Night], title: str):
    """A bar a night, minutes up the side: filled where the night's routine was completed,
    outlined where it was not, nothing where there was no session."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default()
    bar, gap, left, top, bottom, right = 14, 4, 44, 28, 30, 12
    height = 160
    width = left + right + len(shown) * (bar + gap)
    image = Image.new("RGB", (max(width, 240), top + height + bottom), "white")
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
