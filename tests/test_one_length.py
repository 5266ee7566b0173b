"""One truth per figure: a routine's length is tonight's everywhere it is shown (the menu,
``bedside routines``, ``bedside plan``), minutes round as people round them, and a cue written
for the hold that grows but left out on its shorter nights is said so, by check-config and plan.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bedside.commands.simulate import simulate
from bedside.config import core_terms
from bedside.config.load import load_config
from bedside.core.durations import whole_minutes
from bedside.core.script import parse_script

ROOT = Path(__file__).resolve().parent.parent


def bedside(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bedside", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ},
        timeout=60,
    )


@pytest.mark.parametrize(("seconds", "shown"), [(41.5 * 60, 42), (46.5 * 60, 47), (90, 2)])
def test_minutes_round_half_up_as_people_round_them(seconds, shown):
    assert whole_minutes(seconds) == shown  # Python's round() gives 42, 46 and 2


def menu_lines(config_path: Path, routine: str) -> list[str]:
    config = load_config(config_path)
    out = io.StringIO()
    simulate(
        core_terms.settings(config),
        core_terms.thresholds(config.button),
        parse_script("wait 1\n"),
        out,
        routine=routine,
    )
    screens = [json.loads(line) for line in out.getvalue().splitlines()]
    return next(e["lines"] for e in screens if e["type"] == "screen")


def lengths(config_path: Path, routine: str, state: Path) -> tuple[str, str, float]:
    """The length as the menu says it, as ``routines`` says it, and ``plan``'s seconds."""
    menu = menu_lines(config_path, routine)[1].split(",")[0]
    listed = bedside("routines", "--config", str(config_path), "--state-dir", str(state))
    row = next(line for line in listed.stdout.splitlines() if line.startswith(routine + " "))
    planned = bedside(
        "plan", routine, "--json", "--config", str(config_path), "--state-dir", str(state)
    )
    return menu, row.split()[1] + " min", json.loads(planned.stdout)["total_seconds"]


@pytest.mark.parametrize("routine", ["bedtime", "legs-up-wall"])
def test_the_menu_routines_and_plan_show_tonights_length(config_copy, tmp_path, routine):
    menu, listed, planned = lengths(config_copy, routine, tmp_path / "state")
    assert menu == listed == f"{whole_minutes(planned)} min"
    # The hold written as 15 minutes in the file: still tonight's (the first night's 5) in all.
    file = config_copy.parent / "routines" / "legs-up-wall.toml"
    file.write_text(file.read_text().replace('duration = "10m"', 'duration = "15m"'))
    again = lengths(config_copy, routine, tmp_path / "state")
    assert again == (menu, listed, planned)


LATE_CUES = """
  { at = "8m", text = "Eight minutes in." },
  { at = "-7m", text = "Seven minutes to go." },"""


def test_cues_the_hold_is_too_short_for_tonight_are_said_so(config_copy, tmp_path):
    file = config_copy.parent / "routines" / "legs-up-wall.toml"
    text = file.read_text()
    anchor = '  { at = "3m", text = "Nothing to do now but breathe." },'
    file.write_text(text.replace(anchor, anchor + LATE_CUES))
    checked = bedside("check-config", "--config", str(config_copy))
    assert checked.returncode == 0, checked.stderr  # a warning, not a mistake
    warned = [line for line in checked.stdout.splitlines() if "warning:" in line]
    # (-7m of the file's 10 min is also 3m, with "Nothing to do now": heard late, said too)
    warned = [line for line in warned if "left out" in line]
    assert len(warned) == 2, checked.stdout
    assert "legs-up-wall.toml:" in warned[0] and "'Eight minutes in.'" in warned[0]
    assert "left out on nights the hold is 5 to 7 min" in warned[0]
    assert "'Seven minutes to go.'" in warned[1] and "5 to 6 min" in warned[1]
    plan = bedside(
        "plan", "legs-up-wall", "--config", str(config_copy), "--state-dir", str(tmp_path / "state")
    )
    assert "left out tonight" in plan.stdout and "'Eight minutes in.' (8 min in)" in plan.stdout
