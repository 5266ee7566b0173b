"""Against an adversary: the real daemon cut off in every kind of step and state, on a full
disk, with read-only and odd files, named a file for a folder, run twice, and restarted on a
routine edited since. Each test drives ``bedside run --mock-hardware`` from outside.

The disk tests mount a small tmpfs, which needs root: CI runs as root, and there a missing
privilege is a failure, not a skip.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from faults import Daemon, campaign, quiet_config, saved, session

from bedside.history.rows import Progress
from bedside.history.store import Store

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI") == "true"


def bedside(*args: str, env: dict[str, str] | None = None):
    return subprocess.run(
        [sys.executable, "-m", "bedside", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


ANOTHER_USER = 65534  # nobody: a person without the service's rights


def as_user(user: int, *command: str) -> list[str]:
    return ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *command]


AsAnotherUser = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def bedside_as_another_user(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AsAnotherUser]:
    """``bedside ARGS`` run as another user, from a bedside installed (by pip, as ``make
    install`` does) into a folder anyone can read, under an interpreter anyone can run. Not the
    checkout's: a clone in a home only its owner can read (a Debian home is 0700) leaves
    another user neither its files nor its virtual env."""
    needs_root()
    source = tmp_path_factory.mktemp("source")
    for name in ("bedside", "config"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    place = Path(tempfile.mkdtemp(prefix="bedside-for-anyone-"))  # /tmp: pytest's are 0700
    try:
        place.chmod(0o755)
        site = place / "site"
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target"]
        subprocess.run([*pip, str(site), str(source)], check=True, timeout=300)
        python = _python_for(ANOTHER_USER)

        def bedside_as_another_user(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                as_user(ANOTHER_USER, python, "-s", "-m", "bedside", *args),
                capture_output=True,
                text=True,
                cwd=site,
                env={**os.environ, "PYTHONPATH": str(site)},
                timeout=120,
            )

        yield bedside_as_another_user
    finally:
        shutil.rmtree(place, ignore_errors=True)


def _python_for(user: int) -> str:
    """The first interpreter, 3.11 or newer, that ``user`` can run: the one this virtual env
    was made from, else the system's."""
    candidates = (getattr(sys, "_base_executable", sys.executable), "/usr/bin/python3")
    check = "import sys; sys.exit(sys.version_info < (3, 11))"
    for python in candidates:
        tried = subprocess.run(as_user(user, python, "-c", check), cwd="/", capture_output=True)
        if tried.returncode == 0:
            return python
    pytest.fail(f"none of {candidates} is a Python 3.11 or newer that user {user} can run")


def needs_root() -> None:
    if os.geteuid() != 0:
        if IN_CI:
            pytest.fail("this test mounts a small filesystem and needs root, which CI has")
        pytest.skip("needs root: it mounts a small tmpfs")


@pytest.fixture
def disk(tmp_path):
    """A 2 MB tmpfs of our own, unmounted afterwards."""
    needs_root()
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(mount: Path) -> Path:
    """Take every free byte of ``mount``; the file to delete to give them back."""
    ballast = mount / "ballast"
    with ballast.open("ab", buffering=0) as out:
        for size in (65536, 4096, 512):
            try:
                while out.write(b"\0" * size):
                    pass
            except OSError:
                pass
    return ballast


def remount(mount: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(mount)], check=True)


def files_in(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def one_session(state: Path) -> None:
    """A healthy database, cleanly closed, holding one completed session."""
    with Store(state / "bedside.db") as store:
        store.record(session("legs-up-wall", time.time() - 3600, time.time() - 2900, True, 3, 3))


LEGS = "press\nwait 0.3\npress\n"  # start legs up the wall; settled by the wall: the hold runs


# -- 1. resume after kill -9 and SIGTERM ------------------------------------------------------
# Every kind of step against every state it can be cut in is test_resume's grid, in-process on a
# virtual clock; here the real process is cut by the real signals, in one cell each way.
GRID = {("legs-up-wall", "timed", "running"): (LEGS + "wait 30\n", 1)}


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "SIGTERM"])
@pytest.mark.parametrize("cell", list(GRID), ids=["-".join(c[1:]) for c in GRID])
def test_a_cut_in_any_step_and_state_comes_back_there(tmp_path, cell, how):
    routine, kind, mode = cell
    script, index = GRID[cell]
    config = quiet_config(tmp_path / "config")
    state = tmp_path / "state"
    first = Daemon(state, config, script, "--routine", routine, speed=10)
    first.wait_for(lambda e: e["type"] == "step" and e["index"] == index)
    first.wait_for(lambda e: e["type"] == "state" and e["state"] == mode)
    time.sleep(0.8)  # 8 s of the daemon's time: at least one periodic save
    first.stop(how)
    first.finish()
    kept, _ = saved(state)
    assert kept is not None and kept[:2] == (routine, index)

    for _ in range(3):  # again and again: a restart never crash-loops on what it kept
        again = Daemon(state, config, "wait 2\n", speed=10)
        step = again.wait_for(lambda e: e["type"] == "step")
        assert again.finish() == 0, again.stderr
        assert "Traceback" not in again.stderr
        states = again.of("state")
        assert states[0]["state"] == ("awaiting" if kind == "wait" else "paused")
        assert (step["index"], step["kind"], step["t"]) == (index, kind, 0.0)
        said = [e["text"] for e in again.of("say")]
        assert said[0].startswith("Picking up where you left off.")
        if kind == "wait":  # its instruction again: the person may not remember it
            assert said[1].startswith("Lie")
        else:
            shown = again.of("screen")[0]["lines"]
            assert shown[0] == "Paused"
        assert saved(state)[0][:2] == (routine, index)


def test_sigterm_saves_the_step_as_it_stands_at_that_moment(tmp_path):
    """A clean stop writes the progress of the moment SIGTERM came (the keeper's forced save),
    not what the last periodic save, up to 4.5 s earlier, had written."""
    config = quiet_config(tmp_path / "config")
    state = tmp_path / "state"
    daemon = Daemon(state, config, LEGS + "wait 60\n", "--routine", "legs-up-wall")
    step = daemon.wait_for(lambda e: e["type"] == "step" and e["index"] == 1)
    # Past the save at the step's start and short of the next one, 4.5 s on, whatever the load
    # (the daemon's own time is read below, not assumed).
    time.sleep(2.5)
    sent = daemon.stop(signal.SIGTERM)
    assert daemon.finish() == 0, daemon.stderr
    gone = time.monotonic()
    kept, _ = saved(state)
    assert kept is not None and kept[:2] == ("legs-up-wall", 1)
    at_signal, at_exit = daemon.virtual(sent) - step["t"], daemon.virtual(gone) - step["t"]
    assert at_signal > 1.5, at_signal  # the sleep above, as the daemon counts it
    assert at_signal - 0.05 <= kept[2] <= at_exit, (kept, at_signal, at_exit)


# -- 2. a full disk --------------------------------------------------------------------------
def test_a_disk_filling_mid_session_loses_nothing_and_saving_resumes(tmp_path, disk):
    config = quiet_config(tmp_path / "config")
    state = disk / "state"
    daemon = Daemon(
        state, config, LEGS + "wait 600\n", "--routine", "legs-up-wall", speed=20, work=tmp_path
    )
    daemon.wait_for(lambda e: e["type"] == "step" and e["index"] == 1)
    time.sleep(0.5)
    ballast = fill(disk)
    time.sleep(3)  # 60 s of routine on a full disk: a dozen saves that cannot be written
    assert daemon.process.poll() is None, daemon.stderr
    shown_while_full = len(daemon.of("screen"))
    ballast.unlink()
    daemon.wait_for_log("can be written again")  # the next retry wrote what was kept
    kept, _ = saved(state)
    daemon.stop(signal.SIGTERM)
    assert daemon.finish() == 0, daemon.stderr
    assert "Traceback" not in daemon.stderr
    assert daemon.stderr.count("cannot be written") == 1, daemon.stderr  # one warning
    assert "can be written again" in daemon.stderr
    assert shown_while_full > 30  # the countdown went on
    assert kept[1] == 1 and kept[2] > 60  # progress made while full was written once it could
    assert not list(state.glob("*.corrupt-*"))


def test_a_fresh_state_folder_on_a_full_disk_runs_without_saving(tmp_path, disk):
    config = quiet_config(tmp_path / "config")
    fill(disk)
    state = disk / "state"
    for _ in range(2):
        daemon = Daemon(
            state, config, LEGS + "wait 3\n", "--routine", "legs-up-wall", work=tmp_path
        )
        assert daemon.finish() == 0, daemon.stderr
        assert "Traceback" not in daemon.stderr
        assert daemon.stderr.count("cannot be written") == 1
        assert any(e["type"] == "step" and e["index"] == 1 for _, e in daemon.events)
    assert not [p for p in disk.rglob("*") if ".corrupt-" in p.name]


def test_a_healthy_database_on_a_full_disk_is_kept_and_its_history_shown(tmp_path, disk):
    config = quiet_config(tmp_path / "config")
    state = disk / "state"
    one_session(state)
    before = (state / "bedside.db").read_bytes()
    ballast = fill(disk)
    daemon = Daemon(state, config, LEGS + "wait 2\n", "--routine", "legs-up-wall", work=tmp_path)
    assert daemon.finish() == 0, daemon.stderr
    assert "set aside" not in daemon.stderr and "Traceback" not in daemon.stderr
    assert (state / "bedside.db").read_bytes() == before
    ballast.unlink()
    shown = bedside("history", "--state-dir", str(state))
    assert shown.returncode == 0, shown.stderr
    assert "legs-up-wall" in shown.stdout and "1 session(s)" in shown.stdout


# -- 4, 5. a configuration written to hurt ---------------------------------------------------
BOMBS = {
    "repeat": "[[steps]]\nrepeat = 10000\n[[steps.steps]]\nrepeat = 10000\n"
    '[[steps.steps.steps]]\ntitle = "x"\nkind = "timed"\nduration = 5\n',
    "format-s": '[[steps]]\ntitle = "Lift {reps:s}"\nkind = "reps"\nreps = 5\n',
    "format-d": '[[steps]]\ntitle = "Foot {side:d}"\nkind = "timed"\nduration = 5\n'
    'sides = ["left", "right"]\n',
    "conversion": '[[steps]]\nrepeat = 2\n[[steps.steps]]\ntitle = "Set {sets!x}"\n'
    'kind = "timed"\nduration = 5\n',
    "deep": "x = " + "[" * 3000 + "]" * 3000 + "\n",
}
EXPECTED = {
    "repeat": "at most 1,000 steps once expanded, found 100,000,000",
    "format-s": "placeholders written plainly",
    "format-d": "placeholders written plainly",
    "conversion": "placeholders written plainly",
    "deep": "nested at most a few levels deep",
}


def write_routine(config: Path, name: str, body: str) -> None:
    (config.parent / "routines" / f"{name}.toml").write_text(f'title = "Hurt"\n{body}')


@pytest.mark.parametrize("bomb", list(BOMBS))
def test_a_config_written_to_hurt_is_refused_at_once_in_plain_words(tmp_path, bomb):
    config = quiet_config(tmp_path / "config")
    write_routine(config, "leg-lifts", BOMBS[bomb])
    code = (
        "import resource, subprocess, sys;"
        f"done = subprocess.run([sys.executable, '-m', 'bedside', 'check-config', '--config',"
        f" {str(config)!r}], capture_output=True, text=True);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss);"
        "print(done.returncode); sys.stderr.write(done.stderr)"
    )
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    took = time.monotonic() - started
    peak_kb, returncode = map(int, done.stdout.split())
    assert returncode == 2, done.stderr
    assert "leg-lifts.toml:" in done.stderr and EXPECTED[bomb] in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and "Error" not in done.stderr
    assert peak_kb < 150_000, peak_kb  # bounded memory: nothing was expanded
    assert took < 10, took  # in well under a second here; a generous bound for a busy CI


def test_a_reload_with_a_config_written_to_hurt_keeps_the_loop_and_the_old_config(tmp_path):
    config = quiet_config(tmp_path / "config")
    state = tmp_path / "state"
    script = "press\nwait 0.3\npress\nwait 600\n"  # leg lifts: set 1, rest, set 2 ...
    daemon = Daemon(state, config, script, "--routine", "leg-lifts", speed=20)
    daemon.wait_for(lambda e: e["type"] == "step" and e["index"] == 1)
    for bomb in ("repeat", "format-s", "deep"):
        write_routine(config, "leg-lifts", BOMBS[bomb])
        daemon.process.send_signal(signal.SIGHUP)
        daemon.wait_for_log("reload: keeping the configuration already running")
        daemon.log.clear()
    # The loop never stalled: the routine steps on, as it began.
    step = daemon.wait_for(lambda e: e["type"] == "step" and e["index"] == 3, timeout=30)
    assert step["title"].startswith("Set 2 of 5")
    daemon.stop(signal.SIGTERM)
    assert daemon.finish() == 0, daemon.stderr


# -- 6. files of the wrong kind --------------------------------------------------------------
def test_a_read_only_database_runs_the_routine_without_saving(tmp_path, disk):
    config = quiet_config(tmp_path / "config")
    state = disk / "state"
    one_session(state)
    remount(disk, "ro")
    try:
        script = LEGS + "wait 3\nhold 3.5\nwait 1\n"  # into the hold, then end the session
        daemon = Daemon(state, config, script, "--routine", "legs-up-wall", speed=5, work=tmp_path)
        assert daemon.finish() == 0, daemon.stderr
        assert "Traceback" not in daemon.stderr
        assert daemon.stderr.count("cannot be written") == 1
        assert daemon.of("finished")[0]["completed"] is False
        shown = bedside("history", "--state-dir", str(state))
        assert shown.returncode == 0 and "1 session(s)" in shown.stdout, shown.stderr
    finally:
        remount(disk, "rw")


def test_rows_and_tables_bedside_did_not_write_are_skipped_not_crashed_on(tmp_path):
    config = quiet_config(tmp_path / "config")
    state = tmp_path / "state"
    one_session(state)
    db = sqlite3.connect(state / "bedside.db")
    with db:
        for row in [
            ("abc", 1.0, 2.0, 1, 1, 1),
            ("x", 1e20, 1e20, 1, 1, 1),
            ("x", 5.0, 6.0, "yes", 1, 1),
            ("x", 5.0, 6.0, 1, "two", 1),
            (None, 5.0, 6.0, 1, 1, 1),
        ]:
            db.execute(
                "INSERT INTO sessions (routine, started, ended, completed, steps_done, steps)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (row[0] or "y", *row[1:]),
            )
        db.execute("UPDATE sessions SET started = 'abc' WHERE routine = 'abc'")
        db.execute(
            "INSERT INTO current VALUES (1, 'legs-up-wall', 1, 'lots', 5.0, 1.0, 2.0, '', NULL)"
        )
    db.close()
    daemon = Daemon(state, config, "wait 1\n")
    assert daemon.finish() == 0, daemon.stderr
    assert "Traceback" not in daemon.stderr
    assert daemon.of("state")[0]["state"] == "menu"  # the odd session is not resumed
    assert "not one bedside wrote" in daemon.stderr
    shown = bedside("history", "--state-dir", str(state), "--json")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.count('"routine"') == 1  # the one real session; the rest skipped


def test_a_current_table_of_another_shape_is_dropped_and_old_sessions_kept(tmp_path):
    config = quiet_config(tmp_path / "config")
    state = tmp_path / "state"
    one_session(state)
    db = sqlite3.connect(state / "bedside.db")
    with db:
        db.execute("DROP TABLE current")
        db.execute("CREATE TABLE current (x TEXT, y TEXT)")
        db.execute("INSERT INTO current VALUES ('a', 'b')")
        db.execute("ALTER TABLE sessions ADD COLUMN mood TEXT")
    db.close()
    daemon = Daemon(state, config, LEGS + "wait 2\n", "--routine", "legs-up-wall")
    assert daemon.finish() == 0, daemon.stderr
    assert "Traceback" not in daemon.stderr
    kept = sqlite3.connect(state / "bedside.db")
    tables = {r[0] for r in kept.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    old = next(t for t in tables if t.startswith("sessions_"))
    assert kept.execute(f"SELECT count(*) FROM {old}").fetchone() == (1,)  # nothing lost
    assert kept.execute("SELECT routine, step_index FROM current").fetchone()[0] == "legs-up-wall"
    kept.close()


def test_a_session_saved_by_the_earlier_schema_is_resumed(tmp_path):
    config = quiet_config(tmp_path / "config")
    state = tmp_path / "state"
    state.mkdir()
    db = sqlite3.connect(state / "bedside.db")
    db.executescript(
        "CREATE TABLE current (id INTEGER PRIMARY KEY CHECK (id = 1), routine TEXT NOT NULL,"
        " step_index INTEGER NOT NULL, step_elapsed REAL NOT NULL, session_elapsed REAL NOT NULL,"
        " started REAL NOT NULL, updated REAL NOT NULL);"
        f"INSERT INTO current VALUES (1, 'legs-up-wall', 1, 100.0, 130.0, {time.time() - 200},"
        f" {time.time() - 60});"
    )
    db.close()
    daemon = Daemon(state, config, "wait 1\n")
    assert daemon.finish() == 0, daemon.stderr
    step = daemon.of("step")[0]
    # 100 s into the hold, which is tonight's first length: 5 minutes
    assert step["index"] == 1 and daemon.of("screen")[0]["lines"][2] == "03:20"


def test_folders_that_cannot_be_written_leave_a_routine_that_runs(tmp_path, disk):
    config = quiet_config(tmp_path / "config")
    remount(disk, "ro")
    try:
        env = {"XDG_CACHE_HOME": str(disk / "cache")}
        daemon = Daemon(
            disk / "state",
            config,
            LEGS + "wait 2\n",
            "--routine",
            "legs-up-wall",
            env=env,
            work=tmp_path,
        )
        assert daemon.finish() == 0, daemon.stderr
        assert "Traceback" not in daemon.stderr
        assert any(e["type"] == "step" and e["index"] == 1 for _, e in daemon.events)
    finally:
        remount(disk, "rw")


# -- 7. a file named as a folder is refused, never moved -------------------------------------
@pytest.mark.parametrize("where", ["--state-dir", "STATE_DIRECTORY", "CACHE_DIRECTORY", "under"])
def test_a_file_named_as_a_folder_is_refused_and_left_alone(tmp_path, where):
    config = quiet_config(tmp_path / "config")
    mine = tmp_path / "notes.txt"
    mine.write_text("the person's own notes")
    before = files_in(tmp_path)
    args = ["run", "--mock-hardware", "--config", str(config)]
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "HOME": str(tmp_path / "home")}
    if where == "--state-dir":
        args += ["--state-dir", str(mine)]
    elif where == "under":
        args += ["--state-dir", str(mine / "sub")]
    else:
        env[where] = str(mine)
        if where == "CACHE_DIRECTORY":
            args += ["--state-dir", str(tmp_path / "state")]
    done = bedside(*args, env=env)
    assert done.returncode == 2, done.stderr
    assert "a file, not a folder" in done.stderr and "Traceback" not in done.stderr
    assert mine.read_text() == "the person's own notes"
    after = files_in(tmp_path)
    assert {k: v for k, v in after.items() if k in before} == before
    assert not [k for k in after if "corrupt" in k]


def test_a_state_folder_in_proc_runs_without_saving(tmp_path):
    config = quiet_config(tmp_path / "config")
    daemon = Daemon(
        Path("/proc/1"), config, LEGS + "wait 1\n", "--routine", "legs-up-wall", work=tmp_path
    )
    assert daemon.finish() == 0, daemon.stderr
    assert "Traceback" not in daemon.stderr and "cannot be written" in daemon.stderr


# -- 8. history only reads -------------------------------------------------------------------
def test_history_of_a_damaged_database_says_so_and_changes_nothing(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    # The header's read and write versions (bytes 18 and 19) say rollback mode, not WAL: with
    # random bytes there, one run in 256 read a WAL database, and SQLite made its -wal and -shm
    # beside it, as it does for any reader of one.
    garbage = bytearray(b"SQLite format 3\0" + os.urandom(4000))
    garbage[18:20] = b"\x01\x01"
    (state / "bedside.db").write_bytes(bytes(garbage))
    before = files_in(tmp_path)
    shown = bedside("history", "--state-dir", str(state))
    assert shown.returncode == 1
    assert shown.stderr.startswith("bedside: ") and "damaged" in shown.stderr
    assert "Traceback" not in shown.stderr
    assert files_in(tmp_path) == before


@pytest.mark.parametrize("folder_mode", [0o755, 0o777], ids=["folder-read-only", "writable"])
def test_history_as_a_user_who_cannot_read_the_database(folder_mode, bedside_as_another_user):
    needs_root()
    base = Path("/tmp") / f"bedside-history-{os.getpid()}-{folder_mode:o}"
    state = base / "state"
    try:
        state.mkdir(parents=True)
        base.chmod(0o755)
        one_session(state)
        (state / "bedside.db").chmod(0o600)
        state.chmod(folder_mode)
        before = files_in(state)
        shown = bedside_as_another_user("history", "--state-dir", str(state))
        assert shown.returncode == 1, shown.stderr
        assert "cannot read" in shown.stderr and "sudo" in shown.stderr
        assert "Traceback" not in shown.stderr
        assert files_in(state) == before  # nothing replaced, nothing made
    finally:
        subprocess.run(["rm", "-rf", str(base)], check=False)


# -- 9. two daemons on one folder ------------------------------------------------------------
def test_a_second_daemon_on_the_same_folder_says_who_holds_it_and_leaves(tmp_path):
    config = quiet_config(tmp_path / "config")
    state = tmp_path / "state"
    # The first runs until it is stopped: on a loaded machine the second took longer to start
    # than a script of a second and a half, and found the first gone.
    first = Daemon(state, config, LEGS + "wait 60\n", "--routine", "legs-up-wall")
    first.wait_for(lambda e: e["type"] == "step" and e["index"] == 1)
    second = Daemon(state, config, LEGS + "wait 1\n", "--routine", "legs-up-wall")
    assert second.finish() == 1
    assert f"process {first.process.pid}" in second.stderr and "already running" in second.stderr
    assert not second.events  # it touched nothing
    assert first.process.poll() is None
    first.process.send_signal(signal.SIGTERM)
    assert first.finish() == 0, first.stderr
    kept, sessions = saved(state)
    assert kept[:2] == ("legs-up-wall", 1) and sessions == []


# -- 10. a routine edited between a cut and the restart --------------------------------------
def test_a_step_moved_by_an_edit_is_found_and_a_step_removed_closes_the_session(tmp_path):
    config = quiet_config(tmp_path / "config")
    routine = config.parent / "routines" / "legs-up-wall.toml"
    state = tmp_path / "state"
    first = Daemon(state, config, LEGS + "wait 30\n", "--routine", "legs-up-wall", speed=10)
    first.wait_for(lambda e: e["type"] == "step" and e["index"] == 1)
    time.sleep(0.6)
    first.stop(signal.SIGKILL)
    first.finish()

    text = routine.read_text()
    extra = '[[steps]]\ntitle = "A sip of water"\nkind = "timed"\nduration = 30\n\n'
    routine.write_text(text.replace("[[steps]]", extra + "[[steps]]", 1))
    moved = Daemon(state, config, "wait 0.5\n")
    assert moved.finish() == 0, moved.stderr
    step = moved.of("step")[0]
    assert (step["index"], step["title"]) == (2, "Legs up the wall")  # found where it went

    routine.write_text(
        re.sub(
            r'\[\[steps\]\]\ntitle = "Legs up the wall".*?(?=\[\[steps\]\])', "", text, flags=re.S
        )
    )
    gone = Daemon(state, config, "wait 0.5\n")
    assert gone.finish() == 0, gone.stderr
    assert gone.of("state")[0]["state"] == "menu"
    assert "the routine was changed and its step 3 is gone" in gone.stderr
    kept, sessions = saved(state)
    assert kept is None and len(sessions) == 1 and sessions[0][3] == 0


# -- 11. signals in the first instants -------------------------------------------------------
def test_signals_while_the_devices_open_wait_for_the_loop(tmp_path):
    """SIGHUP and SIGTERM arrive while the devices are being opened: the reload is taken and
    the stop is clean, instead of the default action killing the daemon half-made."""
    config = quiet_config(tmp_path / "config")
    code = f"""
import os, signal, sys
from pathlib import Path
from bedside.app.assembly import mock_parts
from bedside.app.daemon import Options, run
from bedside.app.logs import configure_logging
def opening(config, state_dir, events):  # the devices opening, as the signals arrive
    os.kill(os.getpid(), signal.SIGHUP)
    os.kill(os.getpid(), signal.SIGTERM)
    return mock_parts(config, state_dir, events, cache=Path({str(tmp_path / "c")!r}))[0]
configure_logging()
sys.exit(run(Options(config=Path({str(config)!r}), state_dir=Path({str(tmp_path)!r}),
                     mock_hardware=True), build=opening))
"""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    taken, stopped = (done.stderr.find(t) for t in ("configuration reloaded", "stopping: SIGTERM"))
    assert 0 <= taken < stopped, done.stderr  # the reload taken, then the stop


# -- 12, 13. plain words ---------------------------------------------------------------------
def test_simulate_at_the_edge_of_time_is_refused_in_plain_words():
    done = bedside("simulate", "--script", "-", "--at", "0001-01-01T00:00")
    assert done.returncode == 2 and "from the year 1970 to 9000" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_huge_script_line_is_not_echoed_whole(tmp_path):
    script = tmp_path / "huge.txt"
    script.write_text("press\n" + "x" * 1_000_000 + "\n" + "wait 1e12\n" * 50)
    done = bedside("simulate", "--script", str(script))
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 22 and max(len(line) for line in lines) < 300, lines
    assert "huge.txt:2:" in done.stderr and "at most 604800" in done.stderr
    assert "and 31 more bad line(s)" in done.stderr


def test_run_without_gpio_says_what_is_missing(tmp_path):
    config = quiet_config(tmp_path / "config")
    done = bedside("run", "--config", str(config), "--state-dir", str(tmp_path / "s"))
    assert done.returncode == 1
    assert "no pin factory could open the GPIO pins" in done.stderr
    assert "lgpio: not installed" in done.stderr and "--mock-hardware" in done.stderr
    assert "Traceback" not in done.stderr and "warn" not in done.stderr.lower()
    assert "No module named" not in done.stderr  # Python's own words stay out of it


# -- the campaign ----------------------------------------------------------------------------
def test_kill_campaign_across_routines_steps_and_states(tmp_path):
    """Seeded random cuts (kill -9, SIGTERM, a clean end) of the real daemon on one folder,
    each restart checked against the truth the trace gives; ``make soak`` runs 200 and more."""
    lives = int(os.environ.get("BEDSIDE_KILLS", "8"))
    seed = int(os.environ.get("BEDSIDE_SEED", "20261121"))
    tally = campaign(tmp_path, lives, seed)
    print(tally.line())
    assert tally.lives == lives
    assert tally.kills + tally.terms >= lives // 2
    assert max(tally.lost, default=0.0) <= 5.0
    if lives >= 100:  # a long campaign reaches everything; the grid above does so always
        assert {"running", "paused", "awaiting"} <= set(tally.by_state), tally.line()
        assert {"timed", "wait", "reps"} <= set(tally.by_kind), tally.line()


def test_progress_of_the_right_shape_round_trips(tmp_path):
    with Store(tmp_path / "bedside.db") as store:
        store.save(Progress("leg-lifts", 3, 50.0, 400.0, 99_000.0, 100_000.0, "k"))
        assert store.current() == Progress("leg-lifts", 3, 50.0, 400.0, 99_000.0, 100_000.0, "k")


LOCKER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA wal_autocheckpoint=0")  # last night's rows stay in the write-ahead log
db.execute("PRAGMA locking_mode=EXCLUSIVE")
db.execute("BEGIN EXCLUSIVE")
db.execute(
    "INSERT INTO sessions (routine, started, ended, completed, steps_done, steps, night)"
    " VALUES ('bedtime', ?, ?, 1, 17, 17, ?)",
    (float(sys.argv[2]), float(sys.argv[2]) + 2400, sys.argv[3]),
)
db.execute("COMMIT")
db.execute("BEGIN EXCLUSIVE")  # and held: nobody else may read the file meanwhile
print("locked", flush=True)
sys.stdin.read()  # until the test lets go
"""


def test_a_database_locked_at_start_up_is_read_again_and_the_menu_corrected(tmp_path):
    """Another program holds the database, last night's completed bedtime still in its
    write-ahead log: the menu starts without it, and shows the streak once it can read."""
    config = quiet_config(tmp_path / "config")
    state = tmp_path / "state"
    one_session(state)  # a healthy database, in write-ahead-log mode
    tonight = datetime(2026, 3, 10, 21, 0)
    last_night = tonight - timedelta(days=1)
    locker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            LOCKER,
            str(state / "bedside.db"),
            str(last_night.timestamp()),
            last_night.date().isoformat(),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
    daemon = Daemon(state, config, f"clock {tonight:%Y-%m-%dT%H:%M}\nwait 30\n")
    daemon.wait_for(lambda e: e["type"] == "screen" and "press to start" in e["lines"])
    time.sleep(1.0)
    shown = [e["lines"] for e in daemon.of("screen") if "press to start" in e["lines"]]
    assert not any("1 night" in " ".join(lines) for lines in shown), shown  # not read yet
    locker.stdin.close()  # let go
    locker.wait(10)
    menu = daemon.wait_for(
        lambda e: e["type"] == "screen" and any("1 night" in line for line in e["lines"]),
        timeout=20,
    )
    assert menu["lines"][0] == "Bedtime"
    daemon.stop(signal.SIGTERM)
    assert daemon.finish() == 0, daemon.stderr
    assert "can be read whole again" in daemon.stderr
