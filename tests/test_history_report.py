"""``bedside history`` as a person reads it: the chart's title whole and spaced as written, in
the format its file name asks for, a note on an empty one, and a table whose columns stay
under their names (issue 19 item 17, issue 20 item 13). Each test runs the real command.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from faults import session, tonight
from PIL import Image

from bedside.history.store import Store

ROOT = Path(__file__).resolve().parent.parent
TITLE_BAND = 22  # pixel rows from the top: the title's, above every bar, line and label


def bedside(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bedside", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ},
        timeout=120,
    )


def history(folder: Path, minutes: list[float]) -> Path:
    """A state folder whose history has a bedtime session of each length, one a night."""
    now = tonight()
    with Store(folder / "bedside.db") as store:
        for days, length in enumerate(reversed(minutes), start=1):
            start = (now - timedelta(days=days)).timestamp()
            store.record(session("bedtime", start, start + length * 60, True, 17, 17))
    return folder


def gaps(image: Image.Image, rows: range) -> list[int]:
    """The widths of the white runs between the first and the last ink of ``rows``."""
    grey = image.convert("L")
    ink = [any(grey.getpixel((x, y)) < 128 for y in rows) for x in range(image.width)]
    inked = [x for x, dark in enumerate(ink) if dark]
    runs, run = [], 0
    for x in range(inked[0], inked[-1] + 1):
        if ink[x]:
            if run:
                runs.append(run)
            run = 0
        else:
            run += 1
    return runs


@pytest.mark.parametrize("days", [1, 3, 30])
def test_the_charts_title_is_whole_and_spaced_as_written(tmp_path, days):
    state = history(tmp_path / "state", [40, 20, 30])
    chart = tmp_path / "nights.png"
    done = bedside("history", "--state-dir", str(state), "--days", str(days), "--chart", str(chart))
    assert done.returncode == 0, done.stderr
    last = "the last night" if days == 1 else f"the last {days} nights"
    title = f"bedside: minutes a night, {last} (filled: bedtime completed)"
    assert f"wrote {last} to {chart}" in done.stdout
    with Image.open(chart) as image:
        band = range(TITLE_BAND)
        grey = image.convert("L")
        inked = [x for x in range(image.width) if any(grey.getpixel((x, y)) < 128 for y in band)]
        assert inked[-1] < image.width - 8, (inked[-1], image.width)  # not cut off at the edge
        # Each space is a gap of 3 pixels or more; letters are at most 2 apart. Pillow's
        # 10-pixel default font lost two of them: "minutesa night, the last30 nights".
        assert sum(1 for run in gaps(image, band) if run >= 3) == title.count(" ")


@pytest.mark.parametrize(
    "name, magic",
    [("x.png", b"\x89PNG"), ("x.jpg", b"\xff\xd8\xff"), ("x.JPEG", b"\xff\xd8\xff"),
     ("x.gif", b"GIF8"), ("x.webp", b"RIFF")],
)  # fmt: skip
def test_the_chart_is_written_in_the_format_its_name_asks_for(tmp_path, name, magic):
    state = history(tmp_path / "state", [30])
    chart = tmp_path / name
    done = bedside("history", "--state-dir", str(state), "--chart", str(chart))
    assert done.returncode == 0, done.stderr
    assert chart.read_bytes().startswith(magic)


@pytest.mark.parametrize("name", ["x.txt", "x", "x.xbm"])
def test_a_chart_format_pillow_cannot_write_is_refused_with_those_it_can(tmp_path, name):
    state = history(tmp_path / "state", [30])
    chart = tmp_path / name
    done = bedside("history", "--state-dir", str(state), "--chart", str(chart))
    assert done.returncode == 2
    assert f"cannot write the chart to {chart}: expected a name ending in an image format" in (
        done.stderr
    )
    assert ".png" in done.stderr and ".jpg" in done.stderr and "Traceback" not in done.stderr
    assert not chart.exists()


def test_an_empty_history_says_no_sessions_yet_in_the_table_and_on_the_chart(tmp_path):
    state = tmp_path / "state"
    Store(state / "bedside.db").close()  # a history with no session in it
    done = bedside("history", "--state-dir", str(state))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "no sessions yet", done.stdout
    chart = tmp_path / "nights.png"
    done = bedside("history", "--state-dir", str(state), "--chart", str(chart))
    assert done.returncode == 0 and "(no sessions yet)" in done.stdout, done.stdout
    with Image.open(chart) as image:
        # the middle of the plot, between the 0 and the 10 minute lines: the note, in ink
        middle = gaps(image, range(image.height // 2 - 4, image.height // 2 + 4))
        assert len(middle) >= 8, middle  # letters: "no sessions yet"


def test_sessions_long_ago_but_none_in_the_nights_shown_say_so(tmp_path):
    state = tmp_path / "state"
    with Store(state / "bedside.db") as store:
        start = (datetime.now() - timedelta(days=100)).timestamp()
        store.record(session("bedtime", start, start + 600, True, 1, 1))
    done = bedside("history", "--state-dir", str(state), "--days", "7")
    assert done.stdout.splitlines()[0] == "no sessions in the last 7 nights", done.stdout


def test_the_min_column_stays_under_its_name_for_a_long_session(tmp_path):
    state = history(tmp_path / "state", [1234.5, 12])
    done = bedside("history", "--state-dir", str(state))
    assert done.returncode == 0, done.stderr
    header, *lines = done.stdout.split("\n\n")[0].splitlines()
    end = header.index("min") + len("min")
    for line, minutes in zip(lines, ["1234.5", "12.0"], strict=True):
        assert line.index(minutes) + len(minutes) == end, (header, line)
