"""The state directory's SQLite database: the session in progress, and the sessions done.

A bedside device is switched off at the wall. The session in progress is written on every
step change, pause and resume, and every few seconds while a step runs (not every tick: SD
cards wear), one transaction each, in WAL mode so a power cut leaves the last commit intact.
A restarted daemon reads it back and carries on from there, paused.

An SD card fills up, a folder is made read-only, a file is edited by hand: none of that stops
a routine. When a write fails, what it held is kept in memory, one warning is logged, and the
write is tried again later (the next change, at most every ``RETRY_EVERY`` seconds); when it
works again, everything kept is written. Only a file SQLite itself calls damaged
(``PRAGMA quick_check`` on a read-only, immutable view of it) is set aside under a timestamped
name; a full disk or a read-only file is not damage. Rows that are not what bedside wrote are
skipped with one warning, never crashed on.
"""

from __future__ import annotations

import hashlib
import logging
import math
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bedside.closing import Closing
from bedside.core.errors import TroubleError
from bedside.core.nights import Done, nights_done
from bedside.core.routines import Step
from bedside.core.state import Mode, State
from bedside.folders import set_aside

if TYPE_CHECKING:  # the core's output, named for the reader; the core imports nothing here
    from bedside.core.behaviour import GrowthRecorded

log = logging.getLogger("bedside.history")

CURRENT_COLUMNS = (
    "id",
    "routine",
    "step_index",
    "step_elapsed",
    "session_elapsed",
    "started",
    "updated",
    "step_key",
)
SESSIONS_COLUMNS = ("id", "routine", "started", "ended", "completed", "steps_done", "steps")
HOLDS_COLUMNS = ("id", "night", "held", "seconds", "length")

SCHEMA = """
CREATE TABLE IF NOT EXISTS current (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    routine TEXT NOT NULL,
    step_index INTEGER NOT NULL,
    step_elapsed REAL NOT NULL,     -- seconds of the step that ran, pauses not counted
    session_elapsed REAL NOT NULL,  -- seconds since the session began, pauses counted
    started REAL NOT NULL,          -- wall clock, for history only
    updated REAL NOT NULL,          -- wall clock of this write
    step_key TEXT NOT NULL DEFAULT ''  -- what the step was, to recognise it after an edit
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
CREATE TABLE IF NOT EXISTS holds (
    id INTEGER PRIMARY KEY,
    night TEXT,              -- the evening it belongs to, YYYY-MM-DD; NULL: clock not synced
    held INTEGER NOT NULL,   -- 1: held to its end
    seconds REAL NOT NULL,   -- how long it ran
    length REAL NOT NULL     -- how long it was to be
);
"""

# Wall-clock seconds bedside can have written: 1970 to the year 5138. Anything else in a
# time column was not written by bedside and is skipped.
WALL_MAX = 1e11
# SQLite's own words for a file that is not a usable database, as opposed to one it could
# not write (full, read-only, locked), which is not damage.
DAMAGED = {"SQLITE_CORRUPT", "SQLITE_NOTADB"}


def step_key(step: Step) -> str:
    """A short fingerprint of what a step is, so a restart can tell it is still the same."""
    # a hold that grows changes its length from night to night: it is still the same step
    length = "grows" if step.grows else step.duration
    what = f"{step.title}|{step.kind.value}|{length}|{step.side}|{step.reps}"
    return hashlib.sha256(what.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Progress:
    routine: str
    step_index: int
    step_elapsed: float
    session_elapsed: float
    started: float
    updated: float
    step_key: str = ""  # "": written before keys were kept; the index is trusted


@dataclass(frozen=True)
class Session:
    routine: str
    started: float
    ended: float
    completed: bool
    steps_done: int
    steps: int


@dataclass(frozen=True)
class Hold:
    """A night's hold, as kept: tonight's length follows from these (``core.growing_hold``)."""

    night: date | None
    held: bool
    seconds: float
    length: float


class HistoryUnavailable(TroubleError):
    """The database cannot be read; the message says why in plain words."""


def _real(value: object, lo: float, hi: float) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and lo <= value <= hi
    )


def _progress(row: tuple) -> Progress | None:
    routine, index, step_elapsed, session_elapsed, started, updated, key = row
    fits = (
        isinstance(routine, str)
        and routine != ""
        and isinstance(index, int)
        and 0 <= index <= 1_000_000
        and _real(step_elapsed, 0, 1e7)
        and _real(session_elapsed, 0, 1e8)
        and _real(started, 0, WALL_MAX)
        and _real(updated, 0, WALL_MAX)
        and isinstance(key, str)
    )
    if not fits:
        return None
    return Progress(
        routine, index, float(step_elapsed), float(session_elapsed), started, updated, key
    )


def _session(row: tuple) -> Session | None:
    routine, started, ended, completed, steps_done, steps = row
    fits = (
        isinstance(routine, str)
        and _real(started, 0, WALL_MAX)
        and _real(ended, 0, WALL_MAX)
        and completed in (0, 1)
        and isinstance(steps_done, int)
        and isinstance(steps, int)
        and 0 <= steps_done <= steps <= 1_000_000
    )
    if not fits:
        return None
    return Session(routine, float(started), float(ended), bool(completed), steps_done, steps)


def _hold(row: tuple) -> Hold | None:
    night, held, seconds, length = row
    try:
        day = date.fromisoformat(night) if night is not None else None
    except (TypeError, ValueError):
        return None
    if held not in (0, 1) or not _real(seconds, 0, 1e7) or not _real(length, 0, 1e7):
        return None
    return Hold(day, bool(held), float(seconds), float(length))


_CURRENT = (
    "SELECT routine, step_index, step_elapsed, session_elapsed, started, updated, step_key"
    " FROM current WHERE id = 1"
)
_SESSIONS = "SELECT routine, started, ended, completed, steps_done, steps FROM sessions"
_HOLDS = "SELECT night, held, seconds, length FROM holds ORDER BY id"


class _Reads:
    """Reading, shared by the daemon's store and the read-only report: rows are checked."""

    path: Path
    skipped_warned = False

    def _read_current(self, db: sqlite3.Connection) -> Progress | None:
        row = db.execute(_CURRENT).fetchone()
        if row is None:
            return None
        progress = _progress(row)
        if progress is None:
            log.warning("%s: the saved session is not one bedside wrote: not resumed", self.path)
        return progress

    def _read_sessions(self, db: sqlite3.Connection, since: float) -> list[Session]:
        found = [_session(row) for row in db.execute(_SESSIONS + " ORDER BY started, id")]
        sessions = [s for s in found if s is not None and s.started >= since]
        bad = sum(1 for s in found if s is None)
        if bad and not self.skipped_warned:
            self.skipped_warned = True
            log.warning("%s: %d session row(s) not as bedside writes them: skipped", self.path, bad)
        return sessions

    def _read_holds(self, db: sqlite3.Connection) -> list[Hold]:
        if not _columns(db, "holds"):  # a database from before holds were kept
            return []
        return [h for row in db.execute(_HOLDS) if (h := _hold(row)) is not None]


def _columns(db: sqlite3.Connection, table: str) -> tuple[str, ...]:
    return tuple(row[1] for row in db.execute(f"PRAGMA table_info({table})"))


def damaged(path: Path) -> bool:
    """Whether SQLite itself calls the file at ``path`` damaged.

    It looks through a read-only, immutable view, which needs no space, no lock and no
    write access: a healthy file on a full disk or in a read-only folder passes.
    """
    try:
        if not path.is_file() or path.stat().st_size == 0:
            return False
        db = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    except (OSError, sqlite3.Error):
        return False
    try:
        result = db.execute("PRAGMA quick_check").fetchall()
        return result != [("ok",)]
    except sqlite3.DatabaseError as exc:
        return getattr(exc, "sqlite_errorname", "") in DAMAGED
    finally:
        db.close()


class Store(_Reads, Closing):
    """The daemon's database. Never raises for trouble with the file or the disk."""

    RETRY_EVERY = 5.0  # seconds between attempts to open the file again after a failure

    def __init__(
        self,
        path: Path,
        wall: Callable[[], float] = time.time,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self.wall = wall
        self.clock = clock
        self.db: sqlite3.Connection | None = None
        self.trouble: str | None = None  # why writing is off, while it is
        self.retry_at = 0.0
        # What could not be written yet, oldest first; written when writing works again.
        self.unsaved: list[Session | Hold] = []
        self.unsaved_progress: Progress | None = None
        self.progress_unsaved = False  # unsaved_progress (None: cleared) waits to be written
        self.closed = False
        self._connect()

    # -- opening -------------------------------------------------------------------------------
    def _connect(self) -> bool:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = self._open()
        except (OSError, sqlite3.Error) as exc:
            if isinstance(exc, sqlite3.Error) and damaged(self.path):
                set_aside(self.path, f"damaged: {exc}", ("", "-wal", "-shm"), self.wall)
                try:
                    self.db = self._open()
                except (OSError, sqlite3.Error) as again:
                    return self._failed(again)
            else:
                return self._failed(exc)
        return True

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=1)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # WAL keeps every commit but the last few ms
            self._shape(db)
            db.executescript(SCHEMA)
        except BaseException:
            db.close()
            raise
        return db

    def _shape(self, db: sqlite3.Connection) -> None:
        """Tables of another shape than bedside's: the session in progress is dropped (it is
        only a bookmark), old sessions are kept under another table name."""
        current = _columns(db, "current")
        if current == CURRENT_COLUMNS[:-1]:  # written by an earlier bedside: add the key
            db.execute("ALTER TABLE current ADD COLUMN step_key TEXT NOT NULL DEFAULT ''")
        elif current and current != CURRENT_COLUMNS:
            log.warning("%s: the saved session is not as bedside writes it: dropped", self.path)
            db.execute("DROP TABLE current")
        for table, expected in (("sessions", SESSIONS_COLUMNS), ("holds", HOLDS_COLUMNS)):
            found = _columns(db, table)
            if found and found != expected:
                stamp = time.strftime("%Y%m%d_%H%M%S", time.localtime(self.wall()))
                log.warning(
                    "%s: the %s table is not as bedside writes it: kept as %s_%s",
                    self.path,
                    table,
                    table,
                    stamp,
                )
                db.execute(f"ALTER TABLE {table} RENAME TO {table}_{stamp}")

    def _failed(self, exc: BaseException) -> bool:
        self.db = None
        self.retry_at = self.clock() + self.RETRY_EVERY
        why = _plain(exc)
        if self.trouble is None:
            log.warning(
                "%s cannot be written (%s): the routine goes on, progress kept in memory",
                self.path,
                why,
            )
        self.trouble = why
        return False

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None
        self.closed = True

    # -- writing -------------------------------------------------------------------------------
    def _writable(self) -> sqlite3.Connection | None:
        if self.db is None and not self.closed and self.clock() >= self.retry_at:
            self._connect()
        return self.db

    def _write(self) -> None:
        """Write everything waiting, oldest first; on failure keep it for later."""
        db = self._writable()
        if db is None:
            return
        try:
            while self.unsaved:
                self._insert(db, self.unsaved[0])
                self.unsaved.pop(0)
            if self.progress_unsaved:
                if self.unsaved_progress is None:
                    db.execute("DELETE FROM current")
                else:
                    self._replace(db, self.unsaved_progress)
                self.progress_unsaved = False
            if self.trouble is not None:  # said once it worked, not when a file merely opened
                log.warning("%s can be written again: everything kept is saved", self.path)
                self.trouble = None
        except sqlite3.Error as exc:
            if getattr(exc, "sqlite_errorname", "") in DAMAGED:
                db.close()
                self.db = None
                self._connect()  # sets the damaged file aside; the next write tries again
            else:
                db.close()
                self._failed(exc)

    def save(self, progress: Progress) -> None:
        self.unsaved_progress, self.progress_unsaved = progress, True
        self._write()

    def clear(self) -> None:
        self.unsaved_progress, self.progress_unsaved = None, True
        self._write()

    def record_hold(self, hold: Hold) -> None:
        self.unsaved.append(hold)
        self._write()

    def record(self, session: Session) -> None:
        """A session done; the progress it replaces goes with it."""
        self.unsaved.append(session)
        self.unsaved_progress, self.progress_unsaved = None, True
        self._write()

    def flush(self) -> bool:
        """Try now to write what waits (when stopping); whether nothing is left unwritten."""
        self.retry_at = 0.0
        self._write()
        return not self.unsaved and not self.progress_unsaved

    @staticmethod
    def _insert(db: sqlite3.Connection, session: Session | Hold) -> None:
        if isinstance(session, Hold):
            night = session.night.isoformat() if session.night is not None else None
            db.execute(
                "INSERT INTO holds (night, held, seconds, length) VALUES (?, ?, ?, ?)",
                (night, int(session.held), session.seconds, session.length),
            )
            return
        with db:
            db.execute("BEGIN")
            db.execute(
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
            db.execute("DELETE FROM current")

    @staticmethod
    def _replace(db: sqlite3.Connection, progress: Progress) -> None:
        db.execute(
            "INSERT OR REPLACE INTO current VALUES (1, ?, ?, ?, ?, ?, ?, ?)",
            (
                progress.routine,
                progress.step_index,
                progress.step_elapsed,
                progress.session_elapsed,
                progress.started,
                progress.updated,
                progress.step_key,
            ),
        )

    # -- reading -------------------------------------------------------------------------------
    def _snapshot(self) -> sqlite3.Connection | None:
        """A read-only view of the file when it cannot be opened for writing."""
        try:
            if not self.path.is_file():
                return None
            return sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True)
        except (OSError, sqlite3.Error):
            return None

    def _reading(self, read: Callable[[sqlite3.Connection], object], empty: object) -> object:
        db = self.db or self._snapshot()
        if db is None:
            return empty
        try:
            return read(db)
        except sqlite3.Error as exc:
            log.warning("%s could not be read (%s)", self.path, _plain(exc))
            return empty
        finally:
            if db is not self.db:
                db.close()

    def current(self) -> Progress | None:
        if self.progress_unsaved:
            return self.unsaved_progress
        return self._reading(self._read_current, None)  # type: ignore[return-value]

    def sessions(self, since: float = 0.0) -> list[Session]:
        saved = self._reading(lambda db: self._read_sessions(db, since), [])
        waiting = [s for s in self.unsaved if isinstance(s, Session) and s.started >= since]
        return [*saved, *waiting]  # type: ignore[misc]

    def holds(self) -> list[Hold]:
        saved = self._reading(self._read_holds, [])
        return [*saved, *(h for h in self.unsaved if isinstance(h, Hold))]  # type: ignore[misc]


class Report(_Reads, Closing):
    """``bedside history``: the database opened read-only; nothing is created or changed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.exists():
            raise HistoryUnavailable(f"no history yet: {path} does not exist")
        if not path.is_file():
            raise HistoryUnavailable(f"{path} is not a history database (it is not a file)")
        try:
            with path.open("rb"):
                pass
        except OSError as exc:
            raise HistoryUnavailable(
                f"cannot read {path}: {_plain(exc)} (the service's history is readable by root:"
                " try sudo)"
            ) from None
        self.db = self._connect()

    def _connect(self) -> sqlite3.Connection:
        last: BaseException | None = None
        # mode=ro sees the latest commits but needs the -shm file; a folder we may not write
        # leaves only the immutable view of the main file (commits not yet checkpointed aside).
        for query in ("mode=ro", "mode=ro&immutable=1"):
            db = None
            try:
                db = sqlite3.connect(f"file:{self.path}?{query}", uri=True)
                db.execute("SELECT count(*) FROM sessions").fetchone()
                return db
            except sqlite3.Error as exc:
                last = exc
                if db is not None:
                    db.close()
        name = getattr(last, "sqlite_errorname", "")
        if name in DAMAGED or damaged(self.path):
            raise HistoryUnavailable(f"{self.path} is damaged and cannot be read as history")
        if "no such table" in str(last):
            raise HistoryUnavailable(f"{self.path} holds no bedside history")
        raise HistoryUnavailable(f"cannot read {self.path}: {_plain(last)}")

    def close(self) -> None:
        self.db.close()

    def sessions(self, since: float = 0.0) -> list[Session]:
        try:
            return self._read_sessions(self.db, since)
        except sqlite3.Error as exc:
            raise HistoryUnavailable(f"cannot read {self.path}: {_plain(exc)}") from None

    def current(self) -> Progress | None:
        try:
            return self._read_current(self.db)
        except sqlite3.Error:
            return None

    def holds(self) -> list[Hold]:
        try:
            return self._read_holds(self.db)
        except sqlite3.Error:
            return []


def _plain(exc: BaseException | None) -> str:
    """An OS or SQLite error in a person's words."""
    if isinstance(exc, OSError):
        return (exc.strerror or "cannot be used").lower()
    name = getattr(exc, "sqlite_errorname", "")
    words = {
        "SQLITE_FULL": "the disk is full",
        "SQLITE_READONLY": "it is read-only",
        "SQLITE_CANTOPEN": "it cannot be opened here",
        "SQLITE_PERM": "no permission",
        "SQLITE_BUSY": "another program holds it",
        "SQLITE_CORRUPT": "it is damaged",
        "SQLITE_NOTADB": "it is not a database",
    }
    if name in words:
        return words[name]
    if name.startswith("SQLITE_IOERR"):
        return "the disk would not take the write (full, or failing)"
    if name.startswith("SQLITE_READONLY"):
        return "it is read-only"
    if name.startswith("SQLITE_CANTOPEN"):
        return "it cannot be opened here"
    return str(exc) if exc is not None else "unknown trouble"


def completed_nights(store: Store | Report) -> dict[str, set[date]]:
    """The nights (see ``bedside.core.nights``) on which each routine was completed, by name."""
    return nights_done(
        Done(s.routine, datetime.fromtimestamp(s.started), s.completed) for s in store.sessions()
    )


class Keeper:
    """Watches the engine's state from the loop and writes what a power cut must not lose."""

    # Seconds of a running step between writes. A power cut loses at most 5 s: the writes
    # come a second more often, so a loop that wakes late on a busy Pi still keeps to it.
    SAVE_EVERY = 4.0

    def __init__(self, store: Store, speed: float = 1.0) -> None:
        self.store = store
        # The loop's clock may run fast (the demo, tests); history keeps wall-clock times that
        # really happened, so its seconds are turned back into real ones.
        self.speed = speed
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
                self._record(state, now)
            self.last = key
            return
        if self.last is None or self.last[3] != state.session_start:
            self.started_wall = self.store.wall() - (now - state.session_start) / self.speed
        changed = force or key != self.last
        # The very sum deadline() gives: now - saved_at may round below SAVE_EVERY at it,
        # and a write that never falls due at its own deadline spins the loop.
        due = state.mode is Mode.RUNNING and now >= self.saved_at + self.SAVE_EVERY
        if changed or due:
            self.store.save(
                Progress(
                    routine=state.routine.name,
                    step_index=state.step_index,
                    step_elapsed=state.elapsed(now),
                    session_elapsed=now - state.session_start,
                    started=self.started_wall,
                    updated=self.store.wall(),
                    step_key=step_key(state.routine.steps[state.step_index]),
                )
            )
            self.saved_at = now
            self.last = key

    def hold(self, recorded: GrowthRecorded) -> None:
        outcome = recorded.outcome
        self.store.record_hold(Hold(outcome.night, outcome.held, recorded.seconds, recorded.length))

    def _record(self, state: State, now: float) -> None:
        routine = state.routine
        assert routine is not None
        done = len(routine.steps) if state.completed else state.step_index
        ended = self.store.wall() - (now - state.finished_at) / self.speed
        self.store.record(
            Session(
                routine.name, self.started_wall, ended, state.completed, done, len(routine.steps)
            )
        )
