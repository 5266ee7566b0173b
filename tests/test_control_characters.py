"""Titles and names that would act on a terminal (issue 19, item 17): an ESC, a BEL or a newline
in a routine's title, a step's, a summary, a cue or a file's name is a located problem at
``check-config``, and a title of spaces alone is one too. What reaches a terminal from
elsewhere (a routine's name in the history's database) is shown as its escape, ``\\x1b``,
never played. Each test runs the real command, and no output holds a raw control character.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from faults import quiet_config

from bedside.commands.plan import plan_table
from bedside.config.load import load_config
from bedside.core.printable import is_control
from bedside.history.store import Store

ROOT = Path(__file__).resolve().parent.parent


def bedside(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bedside", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ},
        timeout=60,
    )


def raw_controls(text: str) -> list[str]:
    """The control characters in ``text`` other than the newlines between lines."""
    return [c for c in text if is_control(c) and c != "\n"]


def edit(config: Path, routine: str, old: str, new: str) -> Path:
    path = config.parent / "routines" / f"{routine}.toml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    return path


CASES = {  # (routine, as shipped, as a person might break it, the key said, what is said)
    "ESC in a title": (
        "leg-lifts", 'title = "Leg lifts"', 'title = "Leg \\u001b[31mlifts"', "title", "\\x1b"
    ),
    "BEL in a step's title": (
        "leg-lifts", 'title = "Lie face up"', 'title = "Lie\\u0007 face up"', "steps[1].title",
        "\\x07",
    ),
    "a newline in a summary": (
        "leg-lifts", 'summary = "Slow', 'summary = "Two\\nlines, slow', "summary", "\\n"
    ),
    "a tab in the finish": (
        "leg-lifts", 'finish = "That', 'finish = "\\tThat', "finish", "\\t"
    ),
    "ESC in a profile's title": (
        "leg-lifts", 'title = "5 sets of 20"', 'title = "5 sets\\u001b of 20"',
        "profiles.steady.title", "\\x1b",
    ),
    "a C1 code in a cue": (
        "leg-lifts", 'text = "Lie face up', 'text = "\\u009b2J Lie face up',
        "steps[1].cues[1].text", "\\x9b",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_a_control_character_in_a_text_is_a_located_problem(tmp_path, case):
    routine, old, new, key, escape = CASES[case]
    config = quiet_config(tmp_path / "config")
    path = edit(config, routine, old, new)
    done = bedside("check-config", "--config", str(config))
    assert done.returncode == 2
    said = f"{key}: expected a text without control characters ({escape})"
    assert f"{path}:" in done.stderr and said in done.stderr, done.stderr
    assert not raw_controls(done.stderr), done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "old, new, key",
    [
        ('title = "Leg lifts"', 'title = "   "', "title"),
        ('title = "Lie face up"', 'title = " \\u3000 "', "steps[1].title"),
    ],
)
def test_a_title_of_spaces_alone_is_refused(tmp_path, old, new, key):
    config = quiet_config(tmp_path / "config")
    edit(config, "leg-lifts", old, new)
    done = bedside("check-config", "--config", str(config))
    assert done.returncode == 2
    assert f"{key}: expected a text with something in it besides spaces" in done.stderr


def test_a_routine_file_named_with_a_control_character_is_refused(tmp_path):
    config = quiet_config(tmp_path / "config")
    routines = config.parent / "routines"
    (routines / "x\x1b[2Jy.toml").write_text((routines / "leg-lifts.toml").read_text())
    done = bedside("check-config", "--config", str(config))
    assert done.returncode == 2
    assert "x\\x1b[2Jy.toml: expected a file name without control characters" in done.stderr
    assert not raw_controls(done.stderr), done.stderr


def test_a_key_named_with_a_control_character_is_quoted_not_played(tmp_path):
    config = quiet_config(tmp_path / "config", extra='\n[menu."\\u001b[2J"]\n')
    done = bedside("check-config", "--config", str(config))
    assert done.returncode == 2 and "\\x1b[2J" in done.stderr, done.stderr
    assert not raw_controls(done.stderr), done.stderr


def test_a_routine_named_with_control_characters_in_the_history_is_shown_escaped(tmp_path):
    state = tmp_path / "state"
    Store(state / "bedside.db").close()  # the daemon's tables, empty
    db = sqlite3.connect(state / "bedside.db")
    with db:
        start = time.time() - 3600
        db.execute(
            "INSERT INTO sessions (routine, started, ended, completed, steps_done, steps, night)"
            " VALUES (?, ?, ?, 1, 3, 3, date('now', 'localtime', '-1 day'))",
            ("evil\x1b[2J\x07", start, start + 600),
        )
    db.close()
    for form in ((), ("--csv",), ("--json",)):
        done = bedside("history", "--state-dir", str(state), *form)
        assert done.returncode == 0, done.stderr
        assert "evil" in done.stdout and not raw_controls(done.stdout), done.stdout


def test_the_plan_never_prints_a_control_character():
    config = load_config()
    routine = config.routines["leg-lifts"]
    step = replace(routine.steps[0], title="Lie\x1b[31m down\x07")
    broken = replace(routine, title="Leg\nlifts", steps=(step, *routine.steps[1:]))
    table = plan_table(broken)
    assert "Lie\\x1b[31m down\\x07" in table and "Leg\\nlifts" in table
    assert not raw_controls(table)
