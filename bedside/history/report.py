"""``bedside history``'s view of the database: opened read-only, nothing created or changed.

The daemon's ``Store`` never raises; a report does, with ``HistoryUnavailable``, whose message
says in plain words why there is nothing to show (no file yet, not readable by this user,
damaged, not bedside's), so that the command can say it and stop.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bedside.closing import Closing
from bedside.core.errors import TroubleError
from bedside.history.rows import GrowthRow, RowReader, Session
from bedside.history.trouble import damaged, in_plain_words, means_damage


class HistoryUnavailable(TroubleError):
    """The database cannot be read; the message says why in plain words."""


class Report(Closing):
    """The database at ``path``, read-only, for ``bedside history``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows = RowReader(path)
        if not path.exists():
            raise HistoryUnavailable(f"no history yet: {path} does not exist")
        if not path.is_file():
            raise HistoryUnavailable(f"{path} is not a history database (it is not a file)")
        try:
            with path.open("rb"):
                pass
        except OSError as exc:
            raise HistoryUnavailable(
                f"cannot read {path}: {in_plain_words(exc)} (the service's history is readable"
                " by root: try sudo)"
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
        if means_damage(last) or damaged(self.path):
            raise HistoryUnavailable(f"{self.path} is damaged and cannot be read as history")
        if "no such table" in str(last):
            raise HistoryUnavailable(f"{self.path} holds no bedside history")
        raise HistoryUnavailable(f"cannot read {self.path}: {in_plain_words(last)}")

    def close(self) -> None:
        self.db.close()

    def sessions(self, since: float = 0.0) -> list[Session]:
        try:
            return self.rows.sessions(self.db, since)
        except sqlite3.Error as exc:
            raise HistoryUnavailable(f"cannot read {self.path}: {in_plain_words(exc)}") from None

    def any_sessions(self) -> bool:
        """Whether the history holds any session at all, of any night."""
        try:
            return self.db.execute("SELECT 1 FROM sessions LIMIT 1").fetchone() is not None
        except sqlite3.Error:
            return False

    def growth_rows(self) -> list[GrowthRow]:
        try:
            return self.rows.growth_rows(self.db)
        except sqlite3.Error:
            return []
