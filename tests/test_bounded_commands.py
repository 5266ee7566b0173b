"""Every command: bounded input, bounded memory, a plain message (issue 19, item 15).

A script of years, a wall clock set past what the calendar holds, a terminal that cannot show
"ü", a history asked for a century and drawn as a chart: each ends in a message and an exit
status, never a traceback, and in memory a Pi Zero 2 W (512 MB) has to spare. Each test runs
the real command. (Scripts that are devices or FIFOs: tests/test_not_files.py.)
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from faults import Daemon, quiet_config
from PIL import Image

from bedside.history.schema import SCHEMA

ROOT = Path(__file__).resolve().parent.parent


def bedside(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None, encoding="utf-8"
):
    return subprocess.run(
        [sys.executable, "-m", "bedside", *args],
        capture_output=True,
        encoding=encoding,
        input=stdin if stdin is not None else "",
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def plain(done: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in done.stderr and "Error" not in done.stderr, done.stderr


# -- time: a script of years, a clock past the calendar's end ----------------------------------
WEEKS = "press\n" + "wait 168h\n" * 52  # 364 days and a press


def test_a_year_of_script_runs_even_from_the_year_9000():
    done = bedside("simulate", "--script", "-", "--at", "9000-12-31T23:00", stdin=WEEKS)
    assert done.returncode == 0, done.stderr
    plain(done)


@pytest.mark.parametrize(
    "script, said",
    [
        (WEEKS + "wait 168h\n", "at most 366 days in all, found 371.0 days"),
        ("wait 168h\n" * 100_000, "at most 366 days in all, found 700,000.0 days"),
        ("clock 9999-12-31T23:00\npress\nwait 60\n", "from the year 1970 to 9000"),
        ("clock 0001-01-01T00:00\npress\nwait 60\n", "from the year 1970 to 9000"),
    ],
)
def test_a_script_past_the_calendar_is_refused_in_plain_words(script, said):
    done = bedside("simulate", "--script", "-", "--at", "9000-01-01T00:00", stdin=script)
    assert done.returncode == 2 and said in done.stderr, done.stderr
    plain(done)


# -- a terminal that cannot show every letter --------------------------------------------------
@pytest.fixture
def umlauts(tmp_path) -> Path:
    """The shipped settings, legs up the wall titled and summed up in German with a tick."""
    config = quiet_config(tmp_path / "config")
    routine = config.parent / "routines" / "legs-up-wall.toml"
    text = routine.read_text()
    for key, was in (("title", "Legs up the wall"), ("summary", "Rest with your legs up")):
        assert f'\n{key} = "{was}' in text
        text = re.sub(f'\n{key} = "[^"]*"', f'\n{key} = "Füße hoch ✓"', text, count=1)
    routine.write_text(text)
    return config


@pytest.mark.parametrize("encoding", ["latin-1", "ascii"])
@pytest.mark.parametrize(
    "command",
    [
        ("plan", "legs-up-wall"),
        ("routines",),
        ("history", "--state-dir", "NOWHERE"),
        ("simulate", "--script", "-", "--transcript", "--routine", "legs-up-wall"),
    ],
)
def test_what_the_terminal_cannot_show_is_replaced_never_a_crash(
    tmp_path, umlauts, encoding, command
):
    args = [arg.replace("NOWHERE", str(tmp_path / "none")) for arg in command]
    done = bedside(
        *args,
        "--config",
        str(umlauts),
        env={"PYTHONIOENCODING": encoding},
        stdin="press\n",
        encoding=encoding,
    )
    assert done.returncode in (0, 1), done.stderr  # history: 1, there is none yet
    plain(done)
    shown = {"ascii": "F??e hoch ?", "latin-1": "Füße hoch ?"}[encoding]
    if command[0] != "history":
        assert shown in done.stdout, done.stdout


def test_the_daemon_traces_to_an_ascii_stdout_in_json_escapes(tmp_path, umlauts):
    daemon = Daemon(
        tmp_path / "state",
        umlauts,
        "press\nwait 1\n",
        "--routine",
        "legs-up-wall",
        env={"PYTHONIOENCODING": "ascii"},
    )
    assert daemon.finish() == 0, daemon.stderr
    assert "Traceback" not in daemon.stderr
    menu = daemon.of("screen")[0]["lines"]
    assert menu[0] == "Füße hoch ✓", menu  # the trace loses nothing


# -- the history: bounded nights, a chart of bounded size --------------------------------------
def crowded_history(folder: Path, sessions: int = 200_000, years: int = 10) -> Path:
    """A history of ``sessions`` rows spread over the last ``years``: a hostile size."""
    folder.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(folder / "bedside.db")
    db.executescript(SCHEMA)
    now = time.time()
    span = years * 365 * 86400
    rows = []
    for i in range(sessions):
        started = now - 3600 - i * span / sessions
        night = (datetime.fromtimestamp(started) - timedelta(hours=12)).date().isoformat()
        rows.append(("bedtime", started, started + 1800, i % 3 == 0, 5, 17, night))
    db.executemany(
        "INSERT INTO sessions (routine, started, ended, completed, steps_done, steps, night)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    db.commit()
    db.close()
    return folder


def measured(*args: str) -> tuple[subprocess.CompletedProcess, int, float]:
    """The command, its peak memory in kB and its seconds, measured from a parent of its own."""
    code = (
        "import resource, subprocess, sys, time, json;"
        "start = time.monotonic();"
        f"done = subprocess.run([sys.executable, '-m', 'bedside', *{list(args)!r}],"
        " capture_output=True, text=True);"
        "print(json.dumps([done.returncode, done.stdout, done.stderr,"
        " resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, time.monotonic() - start]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    code_, stdout, stderr, peak, took = json.loads(out.stdout)
    return subprocess.CompletedProcess(args, code_, stdout, stderr), peak, took


def test_history_days_are_bounded_and_the_limit_said():
    done = bedside("history", "--days", "36500")
    assert done.returncode == 2
    assert "expected a number of days from 1 to 3660 (ten years), found '36500'" in done.stderr


def test_a_chart_of_more_than_a_year_is_refused_with_the_limit(tmp_path):
    state = crowded_history(tmp_path / "state", sessions=10)
    chart = str(tmp_path / "x.png")
    done = bedside("history", "--state-dir", str(state), "--days", "3660", "--chart", chart)
    assert done.returncode == 2
    assert "a chart shows at most 366 nights (a year), found --days 3660" in done.stderr
    plain(done)


def test_the_longest_chart_of_a_crowded_database_fits_in_little_memory(tmp_path):
    state = crowded_history(tmp_path / "state")  # 200,000 sessions
    chart = tmp_path / "nights.png"
    done, peak_kb, took = measured(
        "history", "--state-dir", str(state), "--days", "366", "--chart", str(chart)
    )
    assert done.returncode == 0, done.stderr
    assert peak_kb < 200_000, peak_kb  # it was 607 MB for a chart of 36,500 nights
    assert took < 30, took  # about 1 s here; generous for a loaded machine
    with Image.open(chart) as image:
        assert image.width <= 1300, image.size  # a year of nights, 3 pixels each


@pytest.mark.parametrize("form", [("--json",), ("--csv",), ()])
def test_ten_years_of_twenty_sessions_a_night_fit_in_little_memory(tmp_path, form):
    state = crowded_history(tmp_path / "state", sessions=73_000)
    done, peak_kb, took = measured("history", "--state-dir", str(state), "--days", "3660", *form)
    assert done.returncode == 0, done.stderr
    assert peak_kb < 150_000, peak_kb
    assert took < 30, took
