"""The daemon's database: it writes the session in progress and the sessions and holds done.

A bedside device is switched off at the wall. The session in progress is written on every
step change, pause and resume, and every few seconds while a step runs (``Keeper`` says when:
not every tick, SD cards wear), one transaction each, in WAL mode so a power cut leaves the
last commit intact. A restarted daemon reads it back and carries on from there, paused. After
each session the log is checkpointed into the main file, so that ``bedside.db`` copied alone
while the daemon runs holds the history.

An SD card fills up, a folder is made read-only, a file is edited by hand: none of that stops
a routine. When a write fails, what it held is kept in memory, one warning is logged, and the
write is tried again later (the next change, at most every ``RETRY_EVERY`` seconds); when it
works again, everything kept is written. Only a file SQLite itself calls damaged
(``PRAGMA quick_check`` on a read-only, immutable view of it) is set aside under a timestamped
name; a full disk or a read-only file is not damage. Rows that are not what bedside wrote are
skipped with one warning, never crashed on.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TypeVar

from bedside.closing import Closing
from bedside.folders import set_aside
from bedside.history.rows import GrowthRow, Progress, RowReader, Session
from bedside.history.schema import migrate
from bedside.history.trouble import damaged, in_plain_words, means_damage, passes

log = logging.getLogger("bedside.history")

T = TypeVar("T")


class Store(Closing):
    """The daemon's database at ``path``. Never raises for trouble with the file or the disk.

    ``wall`` is the wall clock the times kept are in (the ``Keeper``'s too: it reads this one);
    ``clock``, a monotonic one, spaces the attempts to open the file again.
    """

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
        self.rows = RowReader(path)
        self.db: sqlite3.Connection | None = None
        self.trouble: str | None = None  # why writing is off, while it is
        self.retry_at = 0.0
        # What could not be written yet, oldest first; written when writing works again.
        self.unsaved: list[Session | GrowthRow] = []
        self.unsaved_progress: Progress | None = None
        self.progress_unsaved = False  # unsaved_progress (None: cleared) waits to be written
        self.closed = False
        # Whether what was read may lack rows: read while the file was locked (through a view
        # that cannot see the write-ahead log) or not read at all. ``catch_up`` reads again.
        self.stale = False
        self._connect()

    # -- opening -------------------------------------------------------------------------------
    def _connect(self) -> bool:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = self._open()
        except (OSError, sqlite3.Error) as exc:
            # A file this very attempt began on a full disk looks damaged, and is not.
            if isinstance(exc, sqlite3.Error) and not passes(exc) and damaged(self.path):
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
            # Each commit synced to the card: with NORMAL, a commit waits in the kernel's cache
            # for its writeback (up to 30 s), which kill -9 never shows and a power cut does
            # (seen in make test-vm: a step change 15 s before the cut came back as the step
            # before it). A progress write comes every 4 s at most, while a step runs.
            db.execute("PRAGMA synchronous=FULL")
            migrate(db, self.path, self.wall)
        except BaseException:
            db.close()
            raise
        return db

    def _failed(self, exc: BaseException) -> bool:
        self.db = None
        self.retry_at = self.clock() + self.RETRY_EVERY
        why = in_plain_words(exc)
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
        sessions = 0
        try:
            while self.unsaved:
                self._insert(db, self.unsaved[0])
                sessions += isinstance(self.unsaved.pop(0), Session)
            if self.progress_unsaved:
                if self.unsaved_progress is None:
                    db.execute("DELETE FROM current")
                else:
                    self._replace(db, self.unsaved_progress)
                self.progress_unsaved = False
            if self.trouble is not None:  # said once it worked, not when a file merely opened
                log.warning("%s can be written again: everything kept is saved", self.path)
                self.trouble = None
            if sessions:
                _checkpoint(db)
        except sqlite3.Error as exc:
            if means_damage(exc):
                db.close()
                self.db = None
                self._connect()  # sets the damaged file aside; the next write tries again
            else:
                db.close()
                self._failed(exc)

    def save(self, progress: Progress) -> None:
        self.unsaved_progress, self.progress_unsaved = progress, True
        self._write()

    def record_growth(self, row: GrowthRow) -> None:
        self.unsaved.append(row)
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
    def _insert(db: sqlite3.Connection, row: Session | GrowthRow) -> None:
        if isinstance(row, GrowthRow):
            db.execute(
                "INSERT INTO holds (night, held, seconds, length) VALUES (?, ?, ?, ?)",
                (_day(row.night), int(row.held), row.seconds, row.length),
            )
            return
        with db:
            db.execute("BEGIN")
            db.execute(
                "INSERT INTO sessions"
                " (routine, started, ended, completed, steps_done, steps, night)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    row.routine,
                    row.started,
                    row.ended,
                    int(row.completed),
                    row.steps_done,
                    row.steps,
                    _day(row.night),
                ),
            )
            db.execute("DELETE FROM current")

    @staticmethod
    def _replace(db: sqlite3.Connection, progress: Progress) -> None:
        db.execute(
            "INSERT OR REPLACE INTO current VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                progress.routine,
                progress.step_index,
                progress.step_elapsed,
                progress.session_elapsed,
                progress.started,
                progress.updated,
                progress.step_key,
                _day(progress.night),
            ),
        )

    # -- reading: what is on disk, and after it what waits to be written ---------------------
    def _reading(self, read: Callable[[sqlite3.Connection], T], empty: T) -> T:
        """``read`` through SQLite: the daemon's connection, else a read-only one (which sees
        the write-ahead log); when even that cannot read (the file locked by another program),
        through a view of the main file alone, which may lack the last rows: ``stale``."""
        if self.db is not None:
            try:
                return read(self.db)
            except sqlite3.Error as exc:
                log.warning("%s could not be read (%s)", self.path, in_plain_words(exc))
                self._went_stale()
                return empty
        if not self.path.is_file():
            return empty
        for view in ("mode=ro", "mode=ro&immutable=1"):
            try:
                db = sqlite3.connect(f"file:{self.path}?{view}", uri=True, timeout=0.5)
            except (OSError, sqlite3.Error):
                continue
            try:
                found = read(db)
            except sqlite3.Error:
                continue
            finally:
                db.close()
            if "immutable" in view:
                self._went_stale()
            return found
        self._went_stale()
        return empty

    def _went_stale(self) -> None:
        if not self.stale:
            self.stale = True
            self.retry_at = max(self.retry_at, self.clock() + self.RETRY_EVERY)

    def catch_up(self) -> bool:
        """While what was read may lack rows: try the file again (at most every
        ``RETRY_EVERY``); True once it can be read whole, for the reader to read again."""
        if not self.stale or self.closed or self.clock() < self.retry_at:
            return False
        if self.db is None and not self._connect():
            return False
        self.stale = False
        log.info("%s can be read whole again: the nights and the hold follow it", self.path)
        return True

    def deadline(self) -> float | None:
        """When ``catch_up`` is worth calling again; None while nothing is stale."""
        return self.retry_at if self.stale and not self.closed else None

    def current(self) -> Progress | None:
        if self.progress_unsaved:
            return self.unsaved_progress
        return self._reading(self.rows.current, None)

    def sessions(self, since: float = 0.0) -> list[Session]:
        saved: list[Session] = self._reading(lambda db: self.rows.sessions(db, since), [])
        waiting = [s for s in self.unsaved if isinstance(s, Session) and s.started >= since]
        return [*saved, *waiting]

    def growth_rows(self) -> list[GrowthRow]:
        saved: list[GrowthRow] = self._reading(self.rows.growth_rows, [])
        return [*saved, *(g for g in self.unsaved if isinstance(g, GrowthRow))]


def _checkpoint(db: sqlite3.Connection) -> None:
    """The write-ahead log copied into the main file, as far as no reader holds it back: after
    each session, so that a copy of ``bedside.db`` alone (a backup made while the daemon runs)
    holds the history. What is committed is safe in the log meanwhile: a checkpoint that
    cannot run now (a reader, a full disk) runs after a later session, or when the daemon
    closes the file."""
    try:
        db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    except sqlite3.Error as exc:
        log.debug("no checkpoint now (%s)", in_plain_words(exc))


def _day(night: date | None) -> str | None:
    """A night as the database keeps it: YYYY-MM-DD, or NULL when the clock could not tell."""
    return night.isoformat() if night is not None else None
