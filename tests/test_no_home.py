"""``HOME=""`` is no home (issue 19, item 16): bedside never keeps its history in
``/.local/state/bedside`` nor its voice in ``/.cache/bedside``. Where the folder is not given
another way (``--state-dir``, ``$STATE_DIRECTORY``, ``$CACHE_DIRECTORY``), it says so plainly
and exits 2; the daemon given its state folder runs, silent, with one warning.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from faults import quiet_config

from bedside.app.paths import NoHome, cache_directory, demo_state, state_directory

ROOT = Path(__file__).resolve().parent.parent
STATE = Path(".local/state/bedside")


@pytest.mark.parametrize(
    "environ, state",
    [
        ({"HOME": "/home/ann"}, Path("/home/ann") / STATE),
        ({"HOME": "", "STATE_DIRECTORY": "/var/lib/bedside"}, Path("/var/lib/bedside")),
        ({"HOME": "relative"}, None),
        ({"HOME": ""}, None),
    ],
)
def test_the_state_folder_needs_a_home_that_is_a_full_path(environ, state):
    if state is None:
        with pytest.raises(NoHome, match="give --state-dir DIR, or set \\$STATE_DIRECTORY"):
            state_directory(None, environ)
    else:
        assert state_directory(None, environ) == state
    assert state_directory(Path("/given"), environ) == Path("/given")  # --state-dir: no home


@pytest.mark.parametrize(
    "environ, cache",
    [
        ({"HOME": "/home/ann"}, Path("/home/ann/.cache/bedside")),
        ({"HOME": "", "XDG_CACHE_HOME": "/x"}, Path("/x/bedside")),
        ({"HOME": "/home/ann", "XDG_CACHE_HOME": "relative"}, Path("/home/ann/.cache/bedside")),
        ({"HOME": "", "CACHE_DIRECTORY": "/var/cache/bedside"}, Path("/var/cache/bedside")),
        ({"HOME": ""}, None),
    ],
)
def test_the_cache_folder_needs_a_home_or_a_folder_given(environ, cache):
    if cache is None:
        with pytest.raises(NoHome, match="set \\$CACHE_DIRECTORY or \\$XDG_CACHE_HOME"):
            cache_directory(environ)
        with pytest.raises(NoHome, match="the demo's history"):
            demo_state(environ)
    else:
        assert cache_directory(environ) == cache


def bedside(*args: str, home: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "HOME": home}
    return subprocess.run(
        [sys.executable, "-m", "bedside", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


@pytest.mark.parametrize(
    "args, said",
    [
        (("history",), "to keep the history in: give --state-dir DIR"),
        (("history", "--demo"), "to keep the demo's history in: set HOME"),
        (("run", "--mock-hardware", "--script", "-"), "to keep the history in"),
        (("demo",), "to keep the demo's history in"),
        (("voice", "render"), "for the voice's cache: set $CACHE_DIRECTORY"),
        (("voice", "say", "hello"), "for the voice's cache"),
    ],
)
def test_an_empty_home_is_said_plainly(args, said):
    done = bedside(*args)
    assert done.returncode == 2, done.stderr
    assert f"bedside: no home folder (HOME is empty) {said}" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and "/.local" not in done.stderr


def test_the_plan_without_a_home_is_a_first_nights(tmp_path):
    done = bedside("plan", "legs-up-wall")
    assert done.returncode == 0, done.stderr
    assert "no home folder (HOME is empty)" in done.stderr and "first night" in done.stderr
    assert "tonight 5 min" in done.stdout


def test_the_daemon_given_its_state_folder_runs_silent_without_a_home(tmp_path):
    config = quiet_config(tmp_path / "config", voice=True)
    script = tmp_path / "script.txt"
    script.write_text("press\nwait 1\n")
    state = tmp_path / "state"
    done = bedside(
        "run", "--mock-hardware", "--config", str(config), "--state-dir", str(state),
        "--script", str(script),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    warned = [line for line in done.stderr.splitlines() if "WARNING" in line]
    assert len(warned) == 1 and "no voice: no home folder (HOME is empty)" in warned[0], warned
    assert (state / "bedside.db").exists()
