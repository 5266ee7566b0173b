"""The tests that place sessions on nights, run at two times of day.

bedside's night runs from noon to noon, so a test that puts a session at "yesterday, 22:00"
means last night at 14:00 but tonight at 02:00. CI once ran at 02:06 and three such tests
failed that pass in the afternoon. Here they run under libfaketime (Debian's faketime, which
``make system-deps`` installs) at 02:06 and at 14:06, in a pytest of their own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NIGHTS = [
    "tests/test_history_report.py",
    "tests/test_new_user.py::test_history_ends_with_a_sparkline_of_the_nights",
    "tests/test_new_user.py::test_the_chart_draws_completed_nights_filled_and_others_outlined",
    "tests/test_new_user.py::test_history_and_the_chart_follow_the_configured_night_routine",
]


@pytest.mark.parametrize("moment", ["2026-12-03 02:06:00", "2026-12-03 14:06:00"])
def test_the_night_tests_hold_at_any_time_of_day(moment: str, tmp_path: Path) -> None:
    faketime = shutil.which("faketime")
    assert faketime, "faketime is missing: make system-deps installs it"
    # the monotonic clock is faked along with the wall clock: left alone (FAKETIME_DONT_FAKE_
    # MONOTONIC), libfaketime turns Python's sleeps on it into EINVAL
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTEST_XDIST_WORKER", None)
    done = subprocess.run(
        [
            faketime,
            moment,
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "--basetemp",
            str(tmp_path / "t"),
            *NIGHTS,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert " passed" in done.stdout and "failed" not in done.stdout
