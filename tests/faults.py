"""The fault harness: the real daemon (``bedside run --mock-hardware``) started, driven, killed
and started again on the same state folder, with what it must have kept checked from outside.

``Daemon`` runs one process and records its trace and its log; the daemon says (at -v) which
moment of the machine's monotonic clock its trace time 0 was, so ``virtual(at)`` is the
daemon's own trace time at a moment of ours, exactly. ``Oracle`` follows a trace and knows,
at any moment, the step and how much of it has run, pauses left out: the truth that a saved
session is held to.
``campaign`` is the seeded kill campaign that ``make test`` runs briefly and ``make soak`` long.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

from bedside.core.nights import night_of
from bedside.history.rows import Session

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config" / "bedside.toml"
LOST_AT_MOST = 5.0  # seconds of a step a power cut may lose (the README's promise)


def session(
    routine: str, started: float, ended: float, completed: bool, done: int, steps: int
) -> Session:
    """A session as the daemon keeps it with its wall clock known: placed in its night."""
    night = night_of(datetime.fromtimestamp(started))
    return Session(routine, started, ended, completed, done, steps, night)


def tonight(hour: int = 22) -> datetime:
    """``hour`` o'clock of the night bedside counts as tonight (noon to noon), so a test that
    places sessions on the nights before it means the same nights at 02:00 as at 14:00."""
    return datetime.combine(night_of(datetime.now()), clock_time(hour))


def quiet_config(folder: Path, voice: bool = False, extra: str = "") -> Path:
    """A copy of the shipped settings and routines in ``folder``; the voice off unless asked
    (synthesis is slow and says nothing about what is saved)."""
    folder.mkdir(parents=True, exist_ok=True)
    text = CONFIG.read_text()
    if not voice:
        text = text.replace("[voice]\nenabled = true", "[voice]\nenabled = false")
    (folder / "bedside.toml").write_text(text + extra)
    if not (folder / "routines").exists():
        shutil.copytree(CONFIG.parent / "routines", folder / "routines")
    return folder / "bedside.toml"


class Daemon:
    """One ``bedside run --mock-hardware --trace`` with its trace read as it comes."""

    def __init__(
        self,
        state: Path,
        config: Path,
        script: str,
        *args: str,
        speed: float = 1.0,
        env: dict[str, str] | None = None,
        work: Path | None = None,
    ) -> None:
        work = work or state.parent  # where the script and the voice cache go
        work.mkdir(parents=True, exist_ok=True)
        path = work / f"script-{time.monotonic_ns()}.txt"
        path.write_text(script)
        command = [sys.executable, "-m", "bedside", "run", "--mock-hardware", "--trace", "-v"]
        command += ["--config", str(config), "--state-dir", str(state), "--script", str(path)]
        if speed != 1.0:
            command += ["--speed", str(speed)]
        environment = {
            **os.environ,
            "XDG_CACHE_HOME": str(work / "cache"),
            "PYTHONFAULTHANDLER": "1",  # a daemon that hangs shows its stacks (finish)
            **(env or {}),
        }
        environment.pop("NOTIFY_SOCKET", None)
        self.speed = speed
        self.spawned = time.monotonic()
        self.process = subprocess.Popen(
            [*command, *args],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        self.events: list[tuple[float, dict]] = []  # (our monotonic time of arrival, event)
        self.log: list[str] = []
        self.arrived = threading.Condition()
        self.readers = [
            threading.Thread(target=self._read_trace, daemon=True),
            threading.Thread(target=self._read_log, daemon=True),
        ]
        for reader in self.readers:
            reader.start()

    def _read_trace(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            at = time.monotonic()
            with self.arrived:
                self.events.append((at, json.loads(line)))
                self.arrived.notify_all()

    def _read_log(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self.arrived:
                self.log.append(line)
                self.arrived.notify_all()

    @property
    def stderr(self) -> str:
        return "".join(self.log)

    def wait_for_log(self, text: str, timeout: float = 30.0) -> str:
        """The daemon's first log line holding ``text``, waiting for it to be written."""
        end = time.monotonic() + timeout
        with self.arrived:
            while True:
                found = next((line for line in self.log if text in line), None)
                if found is not None:
                    return found
                left = end - time.monotonic()
                if left <= 0 or not self.readers[1].is_alive():
                    raise AssertionError(f"no log line with {text!r}:\n{self.stderr[-2000:]}")
                self.arrived.wait(min(left, 0.2))

    def wait_for(self, match, timeout: float = 30.0) -> dict:
        """The first event for which ``match(event)`` is true, waiting for it to come."""
        end = time.monotonic() + timeout
        seen = 0
        with self.arrived:
            while True:
                for _, event in self.events[seen:]:
                    if match(event):
                        return event
                seen = len(self.events)
                left = end - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and not self._reading()):
                    raise AssertionError(f"no such event; stderr:\n{self.stderr[-2000:]}")
                self.arrived.wait(min(left, 0.2))

    def _reading(self) -> bool:
        return self.readers[0].is_alive()

    def virtual(self, at: float) -> float:
        """The daemon's trace time at our monotonic ``at``, from the moment it says (at -v)
        its trace time 0 was: both processes read the machine's one monotonic clock, so this
        is exact, however late a busy machine delivers the trace."""
        line = next(line for line in self.log if "trace time 0 is monotonic" in line)
        return (at - float(line.rsplit(" ", 1)[1])) * self.speed

    def stop(self, how: signal.Signals) -> float:
        """Send ``how`` now; our monotonic time of sending."""
        at = time.monotonic()
        self.process.send_signal(how)
        return at

    def finish(self, timeout: float = 60.0) -> int:
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            # what it was doing, for the report: its threads' stacks (faulthandler, SIGABRT)
            self.process.send_signal(signal.SIGABRT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
            self.process.kill()
            for reader in self.readers:
                reader.join(timeout=5)
            raise AssertionError(
                f"the daemon did not end within {timeout:g} s; its stderr:\n{self.stderr[-6000:]}"
            ) from None
        for reader in self.readers:
            reader.join(timeout=10)
        return code

    def of(self, kind: str) -> list[dict]:
        return [event for _, event in self.events if event["type"] == kind]


def saved(state: Path) -> tuple[tuple | None, list[tuple]]:
    """The saved session (routine, index, elapsed, key) and the sessions done, read-only."""
    path = state / "bedside.db"
    if not path.exists():
        return None, []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        current = db.execute(
            "SELECT routine, step_index, step_elapsed, step_key FROM current"
        ).fetchone()
        sessions = db.execute(
            "SELECT routine, started, ended, completed, steps_done, steps FROM sessions"
        ).fetchall()
    finally:
        db.close()
    return current, sessions


@dataclass
class Oracle:
    """Follows a trace: the step, its kind and how much of it has run, at any trace time."""

    elapsed_at_start: float = 0.0  # restored: what the step had run before this life
    mode: str = "menu"
    routine: str = ""
    index: int = -1
    kind: str = ""
    duration: float | None = None
    step_t: float = 0.0
    base: float = 0.0
    paused_since: float | None = None
    paused: float = 0.0
    finished: list[tuple[float, bool, float]] = field(default_factory=list)  # t, done, minutes
    first_step = True

    def follow(self, event: dict) -> None:
        t = event["t"]
        if event["type"] == "state":
            mode = event["state"]
            if mode == "paused" and self.paused_since is None:
                self.paused_since = t
            elif mode != "paused" and self.paused_since is not None:
                self.paused += t - self.paused_since
                self.paused_since = None
            self.mode, self.routine = mode, event["routine"]
        elif event["type"] == "step":
            self.index, self.kind, self.duration = event["index"], event["kind"], event["duration"]
            self.step_t, self.paused = t, 0.0
            self.base = self.elapsed_at_start if self.first_step and t == 0 else 0.0
            self.first_step = False
            self.paused_since = t if self.mode == "paused" else None
        elif event["type"] == "finished":
            self.finished.append((t, event["completed"], event["minutes"]))

    def elapsed(self, t: float) -> float:
        until = self.paused_since if self.paused_since is not None else t
        return self.base + max(0.0, until - self.step_t - self.paused)


@dataclass
class Tally:
    lives: int = 0
    kills: int = 0
    terms: int = 0
    clean: int = 0
    by_state: dict[str, int] = field(default_factory=dict)
    by_kind: dict[str, int] = field(default_factory=dict)
    routines: set[str] = field(default_factory=set)
    lost: list[float] = field(default_factory=list)
    finished: int = 0
    completed: int = 0
    jumps: int = 0  # the wall clock set by a script's clock line
    # sessions recorded by a life that set its clock, or that resumed one saved after a life set
    # it: what ran under two readings of the wall clock
    jumped_sessions: int = 0

    def line(self) -> str:
        lost = max(self.lost, default=0.0)
        return (
            f"{self.lives} lives: {self.kills} kill -9, {self.terms} SIGTERM, {self.clean} ran to"
            f" the script's end; states at the cut {dict(sorted(self.by_state.items()))};"
            f" step kinds {dict(sorted(self.by_kind.items()))}; routines {sorted(self.routines)};"
            f" most lost {lost:.2f} s; {self.finished} sessions finished"
            f" ({self.completed} completed), every one in history once;"
            f" {self.jumps} clock settings, {self.jumped_sessions} sessions recorded across one,"
            " each as long as it ran"
        )


# Where a script sets the wall clock (a ``clock`` line): the first time, as the network sets a
# clock that may not have been known (on a machine whose clock nothing set, as a Pi's before the
# network, the daemon's starts unknown and this is its sync), to the right time or one a little
# or a year on; after that, a jump forward or back of two hours, a day or a year.
SYNCS = (timedelta(0), timedelta(hours=2), timedelta(days=1), timedelta(days=365))
JUMPS = tuple(
    sign * t
    for t in (timedelta(hours=2), timedelta(days=1), timedelta(days=365))
    for sign in (1, -1)
)
# How far ahead of the machine's clock every setting is, at least a minute once put to a whole
# minute (as a clock line is written): a life lasts seconds, so its restart reads a machine's
# clock (if known) behind the last one saved, and the session comes back.
AHEAD = timedelta(minutes=2)


def random_script(
    rng: random.Random,
    seconds: float,
    now: datetime | None = None,
    clocks: random.Random | None = None,
) -> str:
    """Presses (start, pause, resume, go on), holds (skip a step) and now and then a long hold
    (end the session), between waits: every state and every step kind comes up. Now and then
    the wall clock is set or jumps (``SYNCS``, ``JUMPS``), mid-session or in the menu, never
    behind the machine's clock (``now``, when the script is made): a restart on a machine whose
    clock is known reads it, and a session last saved more than ``resume_within`` before it is
    closed instead of resumed, a rule of its own (tests/test_reliability.py). ``clocks`` draws
    the clock lines, if given, and ``rng`` all else: its scripts are then the same as without
    them (and a campaign's cuts with them, and its time)."""
    clocks = clocks or rng
    floor = ((now or datetime.now()) + AHEAD).replace(second=0, microsecond=0)
    wall: datetime | None = None  # where this script last set the clock

    def clock() -> str:
        nonlocal wall
        if wall is None:
            wall = floor + clocks.choice(SYNCS)
        else:
            wall += clocks.choice([jump for jump in JUMPS if wall + jump >= floor])
        return f"clock {wall:%Y-%m-%dT%H:%M}"

    # A clock line comes before a wait, never at once before a press: the loop takes the clock's
    # notice at the time it comes to it, and a press queued behind the notice, done before the
    # loop came to it (a loaded machine, at 40 times speed), would be lost.
    lines, total = ["press"], 0.0
    if clocks.random() < 0.2:  # set as the daemon starts, before anything is pressed
        lines[:0] = [clock(), "wait 2"]
    while total < seconds:
        if clocks.random() < 0.15:
            lines.append(clock())
        wait = rng.choice([1, 3, 8, 20, 60, 150])
        lines.append(f"wait {wait}")
        total += wait
        roll = rng.random()
        if roll < 0.4:
            lines.append("press")
        elif roll < 0.85:
            lines.append("hold 1.6")
        elif roll < 0.93:
            lines.append("hold 3.6")
    return "\n".join(lines) + "\n"


TOLERANCE = 1.0  # virtual seconds: the pipe's latency and the kill's, at the speeds used


def campaign(folder: Path, lives: int, seed: int, speed: float = 40.0) -> Tally:
    """``lives`` daemons on one state folder, each cut at a random moment (kill -9, SIGTERM,
    or the end of its script), each checked against what the one before it kept; their wall
    clocks set and jumping now and then (``random_script``), every session in the history as
    long as it ran."""
    rng = random.Random(seed)
    clocks = random.Random(f"{seed}: the wall clock")  # rng's draws as they were without jumps
    config = quiet_config(folder / "config")
    state = folder / "state"
    tally = Tally()
    menu = ["bedtime", "legs-up-wall", "foot-massage", "leg-lifts"]
    expected_sessions = 0
    began = time.monotonic()
    carried = False  # the session saved at the last cut ran under a clock a script set
    for life in range(lives):
        before, sessions_before = saved(state)
        routine = menu[life % len(menu)]
        script = random_script(rng, 400, clocks=clocks)
        daemon = Daemon(state, config, script, "--routine", routine, speed=speed)
        oracle = Oracle(elapsed_at_start=before[2] if before else 0.0)
        cut = rng.uniform(0.4, 4.0)
        how = rng.choice([signal.SIGKILL, signal.SIGKILL, signal.SIGTERM])
        daemon.wait_for(lambda e: e["type"] == "screen")  # up and drawing
        check_restored(daemon, before)
        time.sleep(cut)
        sent = daemon.stop(how) if daemon.process.poll() is None else None
        code = daemon.finish()
        gone = daemon.virtual(time.monotonic())  # it ran no later than this
        assert "Traceback" not in daemon.stderr, daemon.stderr
        for _, event in daemon.events:
            oracle.follow(event)
        tally.lives += 1
        if sent is None or (code == 0 and how is signal.SIGKILL):  # the script ended first
            assert code == 0, daemon.stderr[-2000:]
            tally.clean += 1
            t_cut = daemon.virtual(time.monotonic())
            how = signal.SIGTERM
        else:
            assert code in (0, -signal.SIGKILL), (code, daemon.stderr[-2000:])
            t_cut = daemon.virtual(sent)
            if how is signal.SIGKILL:
                tally.kills += 1
            else:
                tally.terms += 1
        after, sessions = saved(state)
        new = sessions[len(sessions_before) :]
        near_end = [f for f in oracle.finished if t_cut - f[0] <= TOLERANCE]
        tally.finished += len(oracle.finished)
        tally.completed += sum(1 for _, done, _ in oracle.finished if done)
        # Every session finished in this life is in history, once; one finished at the very
        # moment of the cut may or may not have been written yet.
        assert len(oracle.finished) - len(near_end) <= len(new) <= len(oracle.finished), (
            oracle.finished,
            new,
        )
        expected_sessions += len(new)  # one unwritten at the cut is finished in a later life
        check_recorded(recorded(state)[len(sessions_before) :], oracle.finished, speed)
        jumps = daemon.stderr.count("the wall clock was set")
        spanned = jumps > 0 or (before is not None and carried)
        tally.jumps += jumps
        tally.jumped_sessions += len(new) if spanned else 0
        carried = after is not None and spanned
        tally.by_state[oracle.mode] = tally.by_state.get(oracle.mode, 0) + 1
        if oracle.mode in ("running", "paused", "awaiting"):
            tally.by_kind[oracle.kind] = tally.by_kind.get(oracle.kind, 0) + 1
            tally.routines.add(oracle.routine)
            kept_from_running = stalled(daemon, t_cut, sent if sent is not None else None)
            lost = check_kept(oracle, after, t_cut, gone, how, kept_from_running)
            if lost is not None:
                tally.lost.append(lost)
        elif not near_end:
            assert after is None, (oracle.mode, after)
    _, sessions = saved(state)
    assert len(sessions) == expected_sessions
    # However the clock jumped, no session in the history is shorter than nothing or longer
    # than the whole campaign has taken.
    longest = time.monotonic() - began
    for started, ended, night in recorded(state):
        assert 0 <= ended - started <= longest, f"{ended - started:.1f} s recorded, {night}"
    return tally


def recorded(state: Path) -> list[tuple[float, float, str | None]]:
    """Every session in the history, in the order written: its start, end and night."""
    path = state / "bedside.db"
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute("SELECT started, ended, night FROM sessions ORDER BY id").fetchall()
    finally:
        db.close()


def check_recorded(
    rows: list[tuple[float, float, str | None]],
    finished: list[tuple[float, bool, float]],
    speed: float,
) -> None:
    """The sessions a life wrote against the ones its trace finished, in order (the last may
    not be written yet, at a cut): each as long as the daemon's monotonic clock said, however
    its wall clock jumped meanwhile (not the wall clock's difference: the history keeps real
    seconds, the trace minutes of the daemon's own, to a tenth), and in the night its start
    says, if the clock could tell one."""
    rounding = 60 * 0.05 / speed + 0.01  # the trace's tenth of a minute, halved, in real seconds
    for (started, ended, night), (_, _, minutes) in zip(rows, finished, strict=False):
        ran = minutes * 60 / speed
        kept = f"from {datetime.fromtimestamp(started)} to {datetime.fromtimestamp(ended)}"
        assert abs(ended - started - ran) <= rounding, f"{ran:.2f} s ran, {kept} recorded"
        placed = night_of(datetime.fromtimestamp(started)).isoformat()
        assert night is None or night == placed, f"{kept} recorded in the night of {night}"


def check_restored(daemon: Daemon, before: tuple | None) -> None:
    """A life that starts on a saved session comes back in it, paused or waiting."""
    states = [e for e in daemon.of("state")]
    if before is None:
        assert states[0]["state"] == "menu", states
        return
    step = daemon.of("step")[0]
    assert states[0]["state"] in ("paused", "awaiting"), states
    assert step["index"] == before[1] and step["t"] == 0.0, (step, before)
    if states[0]["state"] == "paused":
        shown = daemon.wait_for(lambda e: e["type"] == "screen")["lines"]
        assert shown[0] == "Paused", shown
        minutes, seconds = map(int, shown[2].split(":"))
        left = step["duration"] - before[2]
        assert abs(minutes * 60 + seconds - left) <= 1.0, (shown, before)


def stalled(daemon: Daemon, t_cut: float, sent: float | None) -> float:
    """How long, in its own seconds, the machine kept the daemon from running in the stretch
    before the cut that a save must fall in (``LOST_AT_MOST`` and a second), as seen from
    outside: a running step's countdown prints a line each of its seconds, so the largest gap
    between the lines' arrivals, less what their own times say, is time it could not run (at
    40 times speed, a loaded machine's 0.2 s stall is 8 s of the daemon's). On a Pi, at its own
    speed, that is a few milliseconds; here it is what the promise of 5 s is kept on top of."""
    window = LOST_AT_MOST + 1.0
    seen = [(at, e["t"]) for at, e in daemon.events if t_cut - window <= e["t"] <= t_cut]
    if sent is not None:
        seen.append((sent, t_cut))
    worst = 0.0
    for (at0, t0), (at1, t1) in itertools.pairwise(seen):
        worst = max(worst, (at1 - at0) * daemon.speed - (t1 - t0))
    return worst


def check_kept(
    oracle: Oracle,
    after: tuple | None,
    t_cut: float,
    gone: float,
    how: signal.Signals,
    kept_from_running: float = 0.0,
) -> float | None:
    """The saved session against the truth at the cut (``t_cut``, trace time; the daemon was
    seen gone at ``gone``); the time lost, for a countdown. ``kept_from_running``: how long the
    machine stalled the daemon just before (see ``stalled``), which a power cut may lose too."""
    assert after is not None, "a session in progress was not saved"
    routine, index, elapsed, _key = after
    assert routine == oracle.routine
    if index != oracle.index:
        # the step changed in the last instant before the cut, before it could be written
        assert index < oracle.index and t_cut - oracle.step_t <= TOLERANCE, (after, oracle)
        return None
    if oracle.kind == "wait":
        return None
    truth = oracle.elapsed(t_cut)
    lost = truth - elapsed
    limit = LOST_AT_MOST if how is signal.SIGKILL else 0.0
    # never time that did not run (a SIGTERM is handled a moment after it is sent: up to the
    # moment the daemon was seen gone); at most LOST_AT_MOST lost (nothing, on a clean stop)
    assert elapsed <= oracle.elapsed(gone) + TOLERANCE, (truth, elapsed, how, oracle)
    assert lost <= limit + kept_from_running + TOLERANCE, (truth, elapsed, how, oracle)
    return max(0.0, lost)
