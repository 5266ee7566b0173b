"""The database's three tables, and what becomes of tables of an earlier or another shape.

``current`` holds the session in progress (one row, a bookmark a restart resumes from),
``sessions`` the sessions done, ``holds`` each night's growing hold. A file written by an
earlier bedside, or edited by hand, is brought to this shape when the daemon opens it: the
bookmark is only a bookmark and may be dropped; the sessions and holds are the person's
history and are never dropped, only kept aside under another table name.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

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
    "night",
)
SESSIONS_COLUMNS = (
    "id",
    "routine",
    "started",
    "ended",
    "completed",
    "steps_done",
    "steps",
    "night",
)
# A row's night from its start time, as bedside placed every session before it kept the night.
NIGHT_OF_STARTED = "date(started, 'unixepoch', 'localtime', '-12 hours')"
GROWTH_COLUMNS = ("id", "night", "held", "seconds", "length")  # the table named "holds"

SCHEMA = """
CREATE TABLE IF NOT EXISTS current (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    routine TEXT NOT NULL,
    step_index INTEGER NOT NULL,
    step_elapsed REAL NOT NULL,     -- seconds of the step that ran, pauses not counted
    session_elapsed REAL NOT NULL,  -- seconds since the session began, pauses counted
    started REAL NOT NULL,          -- wall clock, for history only
    updated REAL NOT NULL,          -- wall clock of this write
    step_key TEXT NOT NULL DEFAULT '',  -- what the step was, to recognise it after an edit
    night TEXT                  -- YYYY-MM-DD, once the wall clock is known; NULL until then
);
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY,
    routine TEXT NOT NULL,
    started REAL NOT NULL,
    ended REAL NOT NULL,
    completed INTEGER NOT NULL,
    steps_done INTEGER NOT NULL,
    steps INTEGER NOT NULL,
    night TEXT  -- the evening it belongs to, YYYY-MM-DD; NULL: the wall clock could not tell
);
CREATE TABLE IF NOT EXISTS holds (
    id INTEGER PRIMARY KEY,
    night TEXT,              -- the evening it belongs to, YYYY-MM-DD; NULL: clock not synced
    held INTEGER NOT NULL,   -- 1: held to its end
    seconds REAL NOT NULL,   -- how long it ran
    length REAL NOT NULL     -- how long it was to be
);
"""


def columns(db: sqlite3.Connection, table: str) -> tuple[str, ...]:
    """The column names of ``table``, in order; () when there is no such table."""
    return tuple(row[1] for row in db.execute(f"PRAGMA table_info({table})"))


def migrate(db: sqlite3.Connection, path: Path, wall: Callable[[], float]) -> None:
    """Bring the tables of ``db`` (the file at ``path``, named in warnings) to bedside's
    shape, then make those missing. ``wall`` stamps the name a table is kept aside under."""
    current = columns(db, "current")
    if current == CURRENT_COLUMNS[:-2]:  # written by an earlier bedside: add the key
        db.execute("ALTER TABLE current ADD COLUMN step_key TEXT NOT NULL DEFAULT ''")
        current = columns(db, "current")
    if current == CURRENT_COLUMNS[:-1]:  # ...and the night, from its start as then
        db.execute("ALTER TABLE current ADD COLUMN night TEXT")
        db.execute(f"UPDATE current SET night = {NIGHT_OF_STARTED}")
    elif current and current != CURRENT_COLUMNS:
        log.warning("%s: the saved session is not as bedside writes it: dropped", path)
        db.execute("DROP TABLE current")
    if columns(db, "sessions") == SESSIONS_COLUMNS[:-1]:  # before the night was kept
        with db:
            db.execute("BEGIN")
            db.execute("ALTER TABLE sessions ADD COLUMN night TEXT")
            db.execute(f"UPDATE sessions SET night = {NIGHT_OF_STARTED}")
    for table, expected in (("sessions", SESSIONS_COLUMNS), ("holds", GROWTH_COLUMNS)):
        found = columns(db, table)
        if found and found != expected:
            stamp = time.strftime("%Y%m%d_%H%M%S", time.localtime(wall()))
            log.warning(
                "%s: the %s table is not as bedside writes it: kept as %s_%s",
                path,
                table,
                table,
                stamp,
            )
            db.execute(f"ALTER TABLE {table} RENAME TO {table}_{stamp}")
    db.executescript(SCHEMA)
