"""The history's file as a person handles it (issue 19, item 17): a fresh state folder on a
disk with little or no room left says that it cannot write, once, and nothing else (no "no such
table", no file of its own set aside as damaged); and ``bedside.db`` copied alone while the
daemon runs (a backup) holds every session done, not an empty file. The real daemon each time.
"""

from __future__ import annotations

import shutil
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from faults import Daemon, quiet_config
from voicekit import mount_tmpfs, need_root, unmount

LEGS = "press\nwait 0.3\npress\nwait 3\n"  # legs up the wall: into the hold
ENDED = "hold 3.5\nwait 1\n"  # a long hold: the session ends, and is kept


@pytest.fixture
def disk(tmp_path):
    """A 1 MB tmpfs of our own, unmounted afterwards."""
    need_root("it mounts a small tmpfs to fill")
    mount = tmp_path / "disk"
    mount_tmpfs(mount, "size=1m")
    yield mount
    unmount(mount)


def leave_free(mount: Path, kilobytes: int) -> None:
    """Fill ``mount`` but for ``kilobytes``: a ballast file taking every byte, then cut back."""
    ballast = mount / "ballast"
    ballast.unlink(missing_ok=True)
    with ballast.open("ab", buffering=0) as out:
        for size in (65536, 4096, 512):
            try:
                while out.write(b"\0" * size):
                    pass
            except OSError:
                pass
        out.truncate(max(0, out.tell() - kilobytes * 1024))


def test_a_fresh_state_folder_on_a_nearly_full_disk_says_one_thing_once(tmp_path, disk):
    config = quiet_config(tmp_path / "config")
    # Room for nothing, for the file and part of its log, for the file and its log but not
    # the tables: each fresh folder meets the disk's end at another point of making it.
    for free in range(0, 129, 8):
        state = disk / f"state-{free}"
        leave_free(disk, free)
        daemon = Daemon(
            state, config, LEGS + ENDED, "--routine", "legs-up-wall", speed=5, work=tmp_path
        )
        assert daemon.finish() == 0, daemon.stderr
        warned = [line for line in daemon.log if "WARNING" in line]
        said = [
            line
            for line in warned
            if "cannot be written" not in line and "stopping with progress unsaved" not in line
        ]
        assert not said, (free, said)
        assert sum("cannot be written" in line for line in warned) <= 1, (free, warned)
        assert "no such table" not in daemon.stderr and "Traceback" not in daemon.stderr
        assert not list(state.glob("*.corrupt-*")), (free, sorted(state.iterdir()))
        shutil.rmtree(state, ignore_errors=True)


def test_bedside_db_copied_alone_while_the_daemon_runs_holds_the_sessions(tmp_path):
    config = quiet_config(tmp_path / "config")
    state = tmp_path / "state"
    daemon = Daemon(
        state, config, LEGS + ENDED + "wait 600\n", "--routine", "legs-up-wall", speed=5
    )
    daemon.wait_for(lambda e: e["type"] == "finished")
    backup = tmp_path / "backup.db"
    deadline = time.monotonic() + 20
    while sessions_in(backup, state / "bedside.db") < 1:  # kept a moment after it finished
        assert time.monotonic() < deadline, "the main file never held the session"
        time.sleep(0.2)
    assert daemon.process.poll() is None  # the daemon still running, the file still open
    daemon.stop(signal.SIGTERM)
    assert daemon.finish() == 0, daemon.stderr


def sessions_in(backup: Path, database: Path) -> int:
    """The sessions in a copy of ``database`` made now, the file alone (no -wal beside it)."""
    shutil.copyfile(database, backup)
    db = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        return db.execute("SELECT count(*) FROM sessions").fetchone()[0]
    except sqlite3.OperationalError:  # no tables yet: they too are still in the log
        return 0
    finally:
        db.close()
