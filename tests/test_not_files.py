"""Paths a person names that are not files (issue 19, item 7): a FIFO, a device or a folder as
``bedside.toml``, as a routine file, as a script, as the chart, as a gallery's listing, or in
the voice's cache. Each is told by ``stat`` before anything opens it, so nothing waits on a
FIFO that no one writes: a located problem ("expected a file") and exit 2, or, in the cache,
one warning and the FIFO left where it is. Each test drives the real command or daemon.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from faults import Daemon, quiet_config
from voicekit import small_config

ROOT = Path(__file__).resolve().parent.parent
# seconds: what a FIFO would hold forever, a regular run ends in one (under qemu-user, whose
# every instruction is emulated, in three)
PATIENCE = 60 if os.environ.get("BEDSIDE_EMULATOR") == "qemu-user" else 20


def bedside(*args: str, env: dict[str, str] | None = None, stdin=None):
    """The command; a run that hangs (on a FIFO) fails the test with TimeoutExpired."""
    return subprocess.run(
        [sys.executable, "-m", "bedside", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdin=stdin if stdin is not None else subprocess.DEVNULL,
        timeout=PATIENCE,
    )


def fifo(path: Path) -> Path:
    path.unlink(missing_ok=True)
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("where", ["bedside.toml", "a routine file", "a new routine file"])
def test_a_fifo_in_the_configuration_is_a_located_problem_at_once(tmp_path, where):
    config = quiet_config(tmp_path / "config")
    named = {
        "bedside.toml": config,
        "a routine file": config.parent / "routines" / "leg-lifts.toml",
        "a new routine file": config.parent / "routines" / "extra.toml",
    }[where]
    fifo(named)
    done = bedside("check-config", "--config", str(config))
    assert done.returncode == 2, done.stderr
    assert f"{named}: expected a file, found a FIFO (named pipe)" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert named.is_fifo()  # left as it was
    # The daemon the same: a restart never hangs before it is ready.
    run = bedside("run", "--mock-hardware", "--config", str(config), "--state-dir", str(tmp_path))
    assert run.returncode == 2 and "expected a file, found a FIFO" in run.stderr, run.stderr


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_a_device_as_bedside_toml_is_a_located_problem(device):
    done = bedside("check-config", "--config", device)
    assert done.returncode == 2
    assert f"{device}: expected a file, found a character device" in done.stderr, done.stderr


def test_a_fifo_appearing_before_a_reload_is_reported_and_sigterm_still_stops(tmp_path):
    config = quiet_config(tmp_path / "config")
    daemon = Daemon(tmp_path / "state", config, "wait 600\n")
    daemon.wait_for_log("ready:")
    fifo(config.parent / "routines" / "leg-lifts.toml")
    daemon.process.send_signal(signal.SIGHUP)
    line = daemon.wait_for_log("expected a file")
    assert "leg-lifts.toml: expected a file, found a FIFO (named pipe)" in line
    daemon.wait_for_log("reload: keeping the configuration already running")
    daemon.stop(signal.SIGTERM)
    assert daemon.finish(timeout=PATIENCE) == 0, daemon.stderr
    assert "Traceback" not in daemon.stderr


@pytest.mark.parametrize("command", ["simulate", "run"])
@pytest.mark.parametrize("script", ["/dev/zero", "/dev/urandom", "fifo", "folder"])
def test_a_script_that_is_not_a_file_is_refused_in_plain_words(tmp_path, command, script):
    named = {"fifo": str(fifo(tmp_path / "script")), "folder": str(tmp_path)}.get(script, script)
    mock = ["--mock-hardware", "--state-dir", str(tmp_path / "state")] if command == "run" else []
    done = bedside(command, *mock, "--script", named)
    assert done.returncode == 2, done.stderr
    kind = {"fifo": "a FIFO (named pipe)", "folder": "a folder"}.get(script, "a character device")
    said = f"the script {named} is {kind}: give a script file, or - for standard input"
    assert said in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and "Error" not in done.stderr


def test_a_script_on_standard_input_is_read_only_to_its_limit(tmp_path):
    with open("/dev/zero", "rb") as zeros:
        done = bedside("simulate", "--script", "-", stdin=zeros)
    assert done.returncode == 2
    said = "the script on standard input is too long: a script is at most 1024 kB"
    assert said in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr


def test_a_fifo_as_the_chart_or_the_gallery_listing_is_refused(tmp_path):
    chart = fifo(tmp_path / "chart.png")
    done = bedside("history", "--state-dir", str(tmp_path / "none"), "--chart", str(chart))
    # no history yet is said first, or the chart refused: never a wait on the FIFO
    assert done.returncode in (1, 2) and "Traceback" not in done.stderr, done.stderr
    state = tmp_path / "state"
    simulate_one_session(tmp_path, state)
    done = bedside("history", "--state-dir", str(state), "--chart", str(chart))
    assert done.returncode == 2, done.stderr
    said = f"cannot write the chart to {chart}: it is a FIFO (named pipe), not a file"
    assert said in done.stderr, done.stderr
    gallery = tmp_path / "gallery"
    gallery.mkdir()
    listing = fifo(gallery / ".bedside-gallery")
    done = bedside("screens", str(gallery))
    assert done.returncode == 2 and f"{listing} is not a file bedside wrote" in done.stderr
    assert chart.is_fifo() and listing.is_fifo()


def simulate_one_session(tmp_path: Path, state: Path) -> None:
    """One session in ``state``'s history, kept by the real daemon."""
    config = quiet_config(tmp_path / "config")
    daemon = Daemon(state, config, "press\nwait 0.5\nhold 3.5\nwait 1\n", speed=5)
    assert daemon.finish(timeout=60) == 0, daemon.stderr


def test_fifos_in_the_voice_cache_are_skipped_with_a_warning_and_left_there(tmp_path):
    config = small_config(tmp_path)
    cache = tmp_path / "cache"
    env = {"CACHE_DIRECTORY": str(cache)}
    first = bedside("voice", "render", "--config", str(config), env=env)
    assert first.returncode == 0, first.stderr
    folder = cache / "voice"
    sounds = sorted(folder.glob("*.wav"))
    for sound in sounds:
        fifo(sound)  # every cue's sound a FIFO: opening any of them would wait for ever
    leftover = fifo(folder / f".sound.{dead_pid()}.tmp")  # named as a killed render's leftover
    stray = fifo(folder / "stray.wav")  # a name no cue has: what prune would remove
    # The daemon: ready, the routine runs, SIGTERM stops it; the FIFOs skipped, said once.
    # It is stopped when it has met the FIFOs, not after a fixed time: under emulation the
    # render child takes longer than a second or two to reach the first cue's sound.
    daemon = Daemon(tmp_path / "state", config, "press\nwait 600\n", env=env)
    daemon.wait_for_log("a FIFO (named pipe), not a file", timeout=PATIENCE * 6)
    daemon.stop(signal.SIGTERM)
    assert daemon.finish() == 0, daemon.stderr
    err = daemon.stderr
    warned = [line for line in err.splitlines() if "WARNING" in line]
    assert any(leftover.name in line and "skipped" in line for line in warned), err
    assert any("a FIFO (named pipe), not a file" in line for line in warned), err
    assert len(warned) == 2, err  # the leftover, and the cues that cannot be stored: once each
    # bedside voice render: every sound in a FIFO's place said, nothing waited on or removed.
    again = bedside("voice", "render", "--config", str(config), env=env)
    assert again.returncode == 1, again.stderr
    assert f"{len(sounds)} sound(s) could not be rendered" in again.stderr
    assert "a FIFO (named pipe), not a file" in again.stderr
    assert all(path.is_fifo() for path in [*sounds, leftover, stray])
    # With the cues' FIFOs gone, a render makes the sounds; the stray FIFO is skipped, kept.
    for sound in sounds:
        sound.unlink()
    last = bedside("voice", "render", "--config", str(config), env=env)
    assert last.returncode == 0, last.stderr
    assert "stray.wav" in last.stderr and "skipped" in last.stderr
    assert stray.is_fifo() and all(path.is_file() for path in sounds)


def dead_pid() -> int:
    """A process id no process has now."""
    pid = 4_000_000
    while Path(f"/proc/{pid}").exists():
        pid -= 1
    return pid
