"""The state directory's SQLite database: the session in progress, and the sessions done.

A bedside device is switched off at the wall. The session in progress is written on every
step change, pause and resume, and every few seconds while a step runs (not every tick: SD
cards wear), one transaction each, in WAL mode so a power cut leaves the last commit intact.
A restarted daemon reads it back and carries on from there, paused.

A database that SQLite cannot read is set aside under a timestamped name and a fresh one made:
the daemon never crash-loops on its own files.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from bedside.engine import Mode, State
from bedside.files import set_aside
from bedside.nights import Done, nights_done

log = logging.getLogger("bedside.history")

SCHEMA = """
CREATE TABLE IF NOT EXISTS current (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    routine TEXT NOT NULL,
    step_index INTEGER NOT NULL,
    step_elapsed REAL NOT NULL,     -- seconds of the step that ran, pauses not counted
    session_elapsed REAL NOT NULL,  -- seconds since the session began, pauses counted
    started REAL NOT NULL,          -- wall clock, for history only
    updated REAL NOT NULL           -- wall clock of this write
);
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY,
    routine TEXT NOT NULL,
    started REAL NOT NULL,
    ended REAL NOT NULL,
    completed INTEGER NOT NULL,
    steps_done INTEGER NOT NULL,
    steps INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class Progress:
    routine: str
    step_index: int
    step_elapsed: float
    session_elapsed: float
    started: float
    updated: float


@dataclass(frozen=True)
class Session:
    routine: str
    started: float
    ended: float
    completed: bool
    steps_done: int
    steps: int


class Store:
    """One SQLite file; every method is one short transaction."""

    def __init__(self, path: Path, wall: Callable[[], float] = time.time) -> None:
        self.path = path
        self.wall = wall
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = self._open()
        except sqlite3.DatabaseError as exc:
            set_aside(path, f"the state database: {exc}", ("", "-wal", "-shm"), wall)
            self.db = self._open()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # WAL keeps every commit but the last few ms
            db.executescript(SCHEMA)
            db.execute("SELECT count(*) FROM current").fetchone()
            db.execute("SELECT count(*) FROM sessions").fetchone()
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def close(self) -> None:
        self.db.close()

    # -- the session in progress -----------------------------------------------------------
    def save(self, progress: Progress) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO current VALUES (1, ?, ?, ?, ?, ?, ?)",
            (
                progress.routine,
                progress.step_index,
                progress.step_elapsed,
                progress.session_elapsed,
                progress.started,
                progress.updated,
            ),
        )

    def current(self) -> Progress | None:
        row = self.db.execute(
            "SELECT routine, step_index, step_elapsed, session_elapsed, started, updated"
            " FROM current WHERE id = 1"
        ).fetchone()
        return Progress(*row) if row else None

    def clear(self) -> None:
        self.db.execute("DELETE FROM current")

    # -- sessions done ---------------------------------------------------------------------
    def record(self, session: Session) -> None:
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute(
                "INSERT INTO sessions (routine, started, ended, completed, steps_done, steps)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    session.routine,
                    session.started,
                    session.ended,
                    int(session.completed),
                    session.steps_done,
                    session.steps,
                ),
            )
            self.db.execute("DELETE FROM current")

    def sessions(self, since: float = 0.0) -> list[Session]:
        rows = self.db.execute(
            "SELECT routine, started, ended, completed, steps_done, steps FROM sessions"
            " WHERE started >= ? ORDER BY started",
            (since,),
        ).fetchall()
        return [Session(r[0], r[1], r[2], bool(r[3]), r[4], r[5]) for r in rows]


def completed_nights(store: Store, routine: str = "bedtime") -> set[date]:
    """The nights (see ``bedside.nights``) on which ``routine`` was completed."""
    return nights_done(
        Done(s.routine, datetime.fromtimestamp(s.started), s.completed) for s in store.sessions()
    )


class Keeper:
    """Watches the engine's state from the loop and writes what a power cut must not lose."""

    SAVE_EVERY = 5.0  # seconds of a running step between writes: at most this much is lost

    def __init__(self, store: Store) -> None:
        self.store = store
        self.last: tuple | None = None  # (routine, step, mode) at the last write
        self.saved_at = 0.0
        self.started_wall = 0.0

    def resumed(self, progress: Progress, state: State) -> None:
        """The loop starts on a session restored from ``progress``: keep its start time."""
        self.started_wall = progress.started
        self.last = (progress.routine, state.step_index, state.mode, state.session_start)

    def deadline(self, state: State) -> float | None:
        if state.mode is Mode.RUNNING:
            return self.saved_at + self.SAVE_EVERY
        return None

    def after(self, state: State, now: float, force: bool = False) -> None:
        """Called by the loop after each turn, with the monotonic time; ``force`` writes the
        progress even if little has changed (when stopping)."""
        if state.routine is None or state.mode is Mode.MENU:
            self.last = None
            return
        key = (state.routine.name, state.step_index, state.mode, state.session_start)
        if state.mode is Mode.FINISHED:
            if self.last is not None and self.last[2] is not Mode.FINISHED:
                self._record(state)
            self.last = key
            return
        if self.last is None or self.last[3] != state.session_start:
            self.started_wall = self.store.wall() - (now - state.session_start)
        changed = force or key != self.last
        due = state.mode is Mode.RUNNING and now - self.saved_at >= self.SAVE_EVERY
        if changed or due:
            self.store.save(
                Progress(
                    routine=state.routine.name,
                    step_index=state.step_index,
                    step_elapsed=state.elapsed(now),
                    session_elapsed=now - state.session_start,
                    started=self.started_wall,
                    updated=self.store.wall(),
                )
            )
            self.saved_at = now
            self.last = key

    def _record(self, state: State) -> None:
        routine = state.routine
        assert routine is not None
        done = len(routine.steps) if state.completed else state.step_index
        ended = self.started_wall + (state.finished_at - state.session_start)
        self.store.record(
            Session(
                routine.name, self.started_wall, ended, state.completed, done, len(routine.steps)
            )
        )
