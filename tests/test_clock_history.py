"""What the history keeps when the wall clock jumps during a session, as the real daemon writes
it: ``bedside run --mock-hardware`` driven from outside on its clock at a speed, a script's
``clock`` line jumping the wall clock mid-session, then ``bedside history --json`` read in a
process of its own, and the menu of a daemon started again on the same history.

The rule guarded: a session's length is what the monotonic clock measured, never the wall
clock's difference; its night is the wall clock's, once it is known, corrected when the clock is
set during the session; a session restored after a restart keeps the start its earlier life
found, whatever the clock reads then. The trace's own times (the loop's monotonic clock) say
what really ran.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from faults import ROOT, Daemon, quiet_config, tonight

SPEED = 20.0
# The night's routine made short: a press to settle by the wall, a hold of 40 s, a minute to
# come down; the length the routine file gives, not one grown from the nights.
# A press held half a second: still a press (the button's hold is 10 s here, see
# night_routine), and at 20 times speed 25 ms long, which an edge taken late on a loaded machine
# cannot squeeze under the bounce time (1 ms): a press written "press" lasts 5 ms.
PRESS = "hold 0.5\n"
SETTLED = PRESS + "wait 2\n" + PRESS  # the routine started, and the person settled by the wall
BEFORE_THE_JUMP = 20  # seconds of the hold run when the clock jumps: it is mid-session
# The rest of the script: longer than the session, which the test stops once it has finished,
# so that a loaded machine never ends the script first.
TO_THE_END = "wait 600\n"
WEEK_WITH_TONIGHT = "1 night ○○○○○○●"  # the menu's streak and marks: tonight done
# The history rounds minutes to a tenth (half of it either way) and its times to a second.
MINUTES_SLACK = 0.05 + 1 / 60
SECONDS_SLACK = 1.5


def night_routine(folder: Path) -> Path:
    """The shipped settings with legs-up-wall as the night's routine, and made short. The
    button's hold is as long as it may be: a loaded machine that stalls the script between a
    press's two edges (half a second of the daemon's is 25 ms) must not turn it into a hold."""
    config = quiet_config(folder)
    text = config.read_text().replace('routine = "bedtime"', 'routine = "legs-up-wall"')
    text = text.replace("grow = true", "grow = false")
    text = text.replace("hold = 1.0 ", "hold = 10 ").replace("long_hold = 3.0 ", "long_hold = 30 ")
    config.write_text(text.replace('stuck = "30s"', 'stuck = "60s"'))
    routine = folder / "routines" / "legs-up-wall.toml"
    steps = routine.read_text().replace('duration = "10m"', 'duration = "40s"')
    routine.write_text(steps.replace('at = "3m"', 'at = "30s"'))
    return config


def clock(when: datetime) -> str:
    """The wall clock set to ``when``, and a moment for the daemon to take it in: the loop takes
    the clock's notice at the time it comes to it, and a press queued behind the notice, done
    before the loop came to it (a loaded machine, at 20 times speed), would be lost."""
    return f"clock {when:%Y-%m-%dT%H:%M}\nwait 5\n"


def session_to_its_end(state: Path, config: Path, script: str, **options) -> Daemon:
    """A daemon on ``state`` running ``script`` (legs-up-wall chosen in the menu), stopped by
    SIGTERM once its session has finished; it must have stopped cleanly."""
    daemon = Daemon(state, config, script, "--routine", "legs-up-wall", speed=SPEED, **options)
    try:
        daemon.wait_for(lambda e: e["type"] == "finished", timeout=60)
    finally:  # stopped even when it never finished: its script would keep it for 30 s more
        daemon.stop(signal.SIGTERM)
    assert daemon.finish() == 0, daemon.stderr[-3000:]
    assert "Traceback" not in daemon.stderr, daemon.stderr
    return daemon


def ran(daemon: Daemon) -> float:
    """Real seconds the session ran, by the trace: from the press that began it to its end, on
    the daemon's monotonic clock."""
    began = next(e["t"] for e in daemon.of("state") if e["state"] == "awaiting")
    (finished,) = daemon.of("finished")
    return (finished["t"] - began) / SPEED


def history(state: Path, config: Path, *options: str) -> list[dict]:
    """``bedside history --json``, as a person reads it: the last 30 nights, unless asked."""
    command = ["history", "--json", "--config", str(config), "--state-dir", str(state)]
    done = subprocess.run(
        [sys.executable, "-m", "bedside", *command, *options],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def the_session(state: Path, config: Path) -> dict:
    """The one session of the last 30 nights' history; if it is not there, what ten years of
    history hold says where it went."""
    rows = history(state, config)
    if len(rows) != 1:
        kept = history(state, config, "--days", "3660")
        raise AssertionError(f"not one session in the last 30 nights: {rows}; kept: {kept}")
    return rows[0]


def length(row: dict) -> float:
    """The seconds between a row's start and end, as history shows them."""
    started, ended = (datetime.fromisoformat(row[key]) for key in ("started", "ended"))
    return (ended - started).total_seconds()


def assert_recorded(row: dict, seconds: float) -> None:
    """The row holds the session as it ran: its minutes, and its start to its end."""
    assert row["completed"] and row["steps_done"] == row["steps"] == 3, row
    assert row["minutes"] > 0 and row["minutes"] == pytest.approx(
        seconds / 60, abs=MINUTES_SLACK
    ), (row, seconds)
    assert length(row) == pytest.approx(seconds, abs=SECONDS_SLACK), (row, seconds)


def streak_after_a_restart(state: Path, config: Path, at: datetime) -> str:
    """What the menu of a daemon started again on the history says of the streak (the night
    routine's line) once its clock reads ``at``: the nights as the history holds them."""
    daemon = Daemon(state, config, clock(at), "--routine", "legs-up-wall", speed=SPEED)
    assert daemon.finish() == 0, daemon.stderr[-3000:]
    menus = [e["lines"] for e in daemon.of("screen") if "press to start" in e["lines"]]
    # the last menu drawn: after the clock was set, which redraws it for the new night
    return next((line for line in menus[-1] if " night" in line), "")


UNSYNCED = "test: this machine's clock reads as set by nothing yet"


def an_unsynced_machine(folder: Path) -> dict[str, str]:
    """The environment of a daemon on a machine whose clock nothing has set (no network yet, no
    real-time clock), whatever this machine's clock is: the daemon asks the machine (systemd's
    flag, the kernel, an RTC), and a test machine is often synced. A ``sitecustomize`` on its
    path answers "not known", and says so on stderr once it has (``UNSYNCED``); the mock wall
    clock then counts on unknown until a ``clock`` line sets it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(
        "import sys\n"
        "from bedside.app.wallclock import SystemWall\n"
        "SystemWall.known = lambda self: False\n"
        f"print({UNSYNCED!r}, file=sys.stderr)\n"
    )
    path = os.pathsep.join(p for p in (str(folder), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path}


@pytest.mark.parametrize("start", ["a year behind", "unsynced"])
def test_a_sync_a_year_forward_mid_session_keeps_what_ran_in_the_night_it_says(tmp_path, start):
    """The clock is set a year forward during the session, from a reading a year behind or from
    a machine whose clock was not known: history records the minutes that ran (not a year's
    525,600), begun a moment before the synced time, in the synced night; a daemon started
    again shows that night done in its streak (it once dropped out after a restart). Unsynced,
    the session is placed once the clock is known; a year behind, the clock was known already
    and its setting moves the session as it moves the menu's streak."""
    config = night_routine(tmp_path / "config")
    state = tmp_path / "state"
    if start == "unsynced":
        synced = tonight(22) + timedelta(days=365)  # a year on from the machine's own reading
        before, env = "", an_unsynced_machine(tmp_path / "unsynced")
    else:
        synced = tonight(22)
        before, env = clock(synced - timedelta(days=365)), {}
    script = before + SETTLED + f"wait {BEFORE_THE_JUMP}\n" + clock(synced) + TO_THE_END
    daemon = session_to_its_end(state, config, script, env=env)
    assert (UNSYNCED in daemon.stderr) is (start == "unsynced"), daemon.stderr[:2000]
    row = the_session(state, config)
    assert_recorded(row, ran(daemon))
    assert row["night"] == synced.date().isoformat(), row
    began = datetime.fromisoformat(row["started"])
    # what it had run before the clock was set (the press to settle, 20 s of the hold)
    assert synced - timedelta(seconds=5) <= began <= synced, row
    assert streak_after_a_restart(state, config, synced + timedelta(minutes=30)) == (
        WEEK_WITH_TONIGHT
    )


def test_the_clock_going_back_two_hours_mid_session_keeps_what_ran_and_the_night(tmp_path):
    """The clock goes back two hours during the session: history records the minutes that ran
    (not 119.7 less, nor none at all), its end after its start, in tonight's night, completed;
    a daemon started again counts tonight in its streak and marks."""
    config = night_routine(tmp_path / "config")
    state = tmp_path / "state"
    evening = tonight(22)
    back = clock(evening - timedelta(hours=2))
    script = clock(evening) + SETTLED + f"wait {BEFORE_THE_JUMP}\n" + back + TO_THE_END
    daemon = session_to_its_end(state, config, script)
    row = the_session(state, config)
    assert_recorded(row, ran(daemon))
    assert row["night"] == evening.date().isoformat(), row
    assert streak_after_a_restart(state, config, evening + timedelta(minutes=30)) == (
        WEEK_WITH_TONIGHT
    )


def test_a_restart_with_the_clock_in_1973_records_no_negative_minutes(tmp_path):
    """A session begun tonight is cut by a stop (its script's end); the daemon comes back with
    its clock in 1973 (as the kernel sets it from a real-time clock that lost its time in a
    power cut) and the session runs to its end there: history records the minutes both lives
    ran (not -28 million), its end after its start, still in tonight's night, where it began
    while the clock was known."""
    config = night_routine(tmp_path / "config")
    state = tmp_path / "state"
    evening = tonight(21)
    first = Daemon(
        state,
        config,
        clock(evening) + SETTLED + "wait 10\n",
        "--routine",
        "legs-up-wall",
        speed=SPEED,
    )
    assert first.finish() == 0, first.stderr[-3000:]  # the script's end stops it, saving
    script = clock(datetime(1973, 3, 2, 21, 0)) + PRESS + TO_THE_END
    second = session_to_its_end(state, config, script)
    assert "resumed legs-up-wall at step 2" in second.stderr
    # the session's length by the monotonic clock, the earlier life's included, as the trace
    # of the life that ended it says it (a tenth of a minute of the daemon's own)
    (finished,) = second.of("finished")
    assert finished["completed"] and finished["minutes"] > 0
    seconds = finished["minutes"] * 60 / SPEED
    row = the_session(state, config)
    assert row["minutes"] > 0 and length(row) > 0, row
    assert_recorded(row, seconds)
    assert row["night"] == evening.date().isoformat(), row
