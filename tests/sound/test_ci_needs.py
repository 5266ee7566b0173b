"""The sound tests are where make test can see them: the stage's real-time tests keep to a lane,
and a tool they need that is missing under CI=true fails the test instead of skipping it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import lane_of

REPO = Path(__file__).resolve().parents[2]
A_SOX_TEST = "tests/sound/test_mixer.py::test_a_users_file_is_made_seamless"


def test_the_stage_tests_keep_to_a_lane() -> None:
    lane = lane_of("tests/sound/test_stage.py::test_cues_start_on_time_over_a_chime_and_a_sound")
    assert lane is not None and lane.startswith("real time")


def run_without_sox(ci: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_XDIST_WORKER")}
    env.update(PATH=str(REPO / "no-such-folder"), CI=ci)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         A_SOX_TEST],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_a_missing_tool_fails_under_ci_and_skips_elsewhere() -> None:
    under_ci = run_without_sox("true")
    assert under_ci.returncode == 1 and "1 failed" in under_ci.stdout, under_ci.stdout
    assert "sox is not installed" in under_ci.stdout
    here = run_without_sox("")
    assert here.returncode == 0 and "1 skipped" in here.stdout, here.stdout
