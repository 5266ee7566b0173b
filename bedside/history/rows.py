"""The rows bedside keeps, each checked when it is read back.

Three kinds: the session in progress (``Progress``, one row, which a restart resumes from),
each session done (``Session``), and each night's growing hold (``GrowthRow``, in the table
``holds``). ``step_key`` is a step's fingerprint, kept with the progress so that a restart can
tell the step is still the same one after the routine was edited.

A file may be edited by hand or written by something else: a row that is not what bedside
writes is skipped (with one warning), never crashed on and never resumed from. The daemon's
``Store`` and the read-only ``Report`` read through the same ``RowReader``.
"""

from __future__ import annotations

import hashlib
import logging
import math
import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol, TypeGuard

from bedside.core.growth import GrowthNight
from bedside.core.nights import Done, nights_done
from bedside.core.routines import Step
from bedside.history.schema import columns

log = logging.getLogger("bedside.history")

# Wall-clock seconds bedside can have written: 1970 to the year 5138. Anything else in a
# time column was not written by bedside and is skipped.
WALL_MAX = 1e11


def step_key(step: Step) -> str:
    """A short fingerprint of what a step is, so a restart can tell it is still the same."""
    # a hold that grows changes its length from night to night: it is still the same step
    length = "grows" if step.grows else step.duration
    what = f"{step.title}|{step.kind.value}|{length}|{step.side}|{step.reps}"
    return hashlib.sha256(what.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Progress:
    """The session in progress, as a restart needs it: where it was, and since when."""

    routine: str
    step_index: int
    step_elapsed: float  # seconds of the step that ran, pauses not counted
    session_elapsed: float  # seconds since the session began, pauses counted
    started: float  # wall clock
    updated: float  # wall clock of this write
    step_key: str = ""  # "": written before keys were kept; the index is trusted
    night: date | None = None  # the night it began in, once the wall clock was known


@dataclass(frozen=True)
class Session:
    """A session done, completed or not: what ``bedside history`` lists."""

    routine: str
    started: float  # wall clock
    ended: float  # wall clock
    completed: bool
    steps_done: int
    steps: int
    night: date | None = None  # the night it began in; None: the wall clock could not tell

    @property
    def seconds(self) -> float:
        """How long it ran, by the monotonic clock (``ended`` is ``started`` plus this)."""
        return max(0.0, self.ended - self.started)


@dataclass(frozen=True)
class GrowthRow:
    """A night's growing hold, as kept: tonight's length follows from these
    (``bedside.core.growth``)."""

    night: date | None  # the evening it belongs to; None: the clock was not synced
    held: bool  # held to its end
    seconds: float  # how long it ran
    length: float  # how long it was to be


class SessionsKept(Protocol):
    """Whatever reads the sessions done: the daemon's ``Store``, the ``Report``."""

    def sessions(self, since: float = 0.0) -> list[Session]: ...


class GrowthKept(Protocol):
    def growth_rows(self) -> list[GrowthRow]: ...


def growth_nights(history: GrowthKept) -> list[GrowthNight]:
    """Each night's growing hold as the core folds them (``bedside.core.growth.tonight``)."""
    return [GrowthNight(row.night, row.held) for row in history.growth_rows()]


def completed_nights(history: SessionsKept) -> dict[str, set[date]]:
    """The nights (see ``bedside.core.nights``) on which each routine was completed, by name."""
    return nights_done(Done(s.routine, s.night, s.completed) for s in history.sessions())


# -- checked when read ---------------------------------------------------------------------------
def _real(value: object, lo: float, hi: float) -> TypeGuard[float]:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and lo <= value <= hi
    )


_NOT_A_NIGHT = date.min  # what a night column that is not a date reads as: the row is skipped


def _night(value: object) -> date | None:
    """A night column: its date, None (NULL: not known), or ``_NOT_A_NIGHT``."""
    if value is None:
        return None
    if not isinstance(value, str):
        return _NOT_A_NIGHT
    try:
        return date.fromisoformat(value)
    except ValueError:
        return _NOT_A_NIGHT


def _progress(row: tuple[object, ...]) -> Progress | None:
    routine, index, step_elapsed, session_elapsed, started, updated, key, night = row
    day = _night(night)
    if (
        isinstance(routine, str)
        and routine != ""
        and isinstance(index, int)
        and 0 <= index <= 1_000_000
        and _real(step_elapsed, 0, 1e7)
        and _real(session_elapsed, 0, 1e8)
        and _real(started, 0, WALL_MAX)
        and _real(updated, 0, WALL_MAX)
        and isinstance(key, str)
        and day is not _NOT_A_NIGHT
    ):
        return Progress(
            routine,
            index,
            float(step_elapsed),
            float(session_elapsed),
            started,
            updated,
            key,
            day,
        )
    return None


def _session(row: tuple[object, ...]) -> Session | None:
    routine, started, ended, completed, steps_done, steps, night = row
    day = _night(night)
    if (
        isinstance(routine, str)
        and _real(started, 0, WALL_MAX)
        and _real(ended, 0, WALL_MAX)
        and completed in (0, 1)
        and isinstance(steps_done, int)
        and isinstance(steps, int)
        and 0 <= steps_done <= steps <= 1_000_000
        and day is not _NOT_A_NIGHT
    ):
        return Session(
            routine,
            float(started),
            float(ended),
            bool(completed),
            steps_done,
            steps,
            day,
        )
    return None


def _growth_row(row: tuple[object, ...]) -> GrowthRow | None:
    night, held, seconds, length = row
    day = _night(night)
    if day is _NOT_A_NIGHT:
        return None
    if held not in (0, 1) or not _real(seconds, 0, 1e7) or not _real(length, 0, 1e7):
        return None
    return GrowthRow(day, bool(held), float(seconds), float(length))


_CURRENT = (
    "SELECT routine, step_index, step_elapsed, session_elapsed, started, updated, step_key, night"
    " FROM current WHERE id = 1"
)
_SESSIONS = "SELECT routine, started, ended, completed, steps_done, steps, night FROM sessions"
_GROWTH = "SELECT night, held, seconds, length FROM holds ORDER BY id"


class RowReader:
    """Reads the rows of the database at ``path`` (named in warnings), each checked.

    Rows not as bedside writes them are skipped; skipped sessions are said once a reader.
    An SQLite error is left to the caller, who knows whether it may raise.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.skipped_warned = False

    def current(self, db: sqlite3.Connection) -> Progress | None:
        row = db.execute(_CURRENT).fetchone()
        if row is None:
            return None
        progress = _progress(row)
        if progress is None:
            log.warning("%s: the saved session is not one bedside wrote: not resumed", self.path)
        return progress

    def sessions(self, db: sqlite3.Connection, since: float) -> list[Session]:
        found = [_session(row) for row in db.execute(_SESSIONS + " ORDER BY started, id")]
        sessions = [s for s in found if s is not None and s.started >= since]
        bad = sum(1 for s in found if s is None)
        if bad and not self.skipped_warned:
            self.skipped_warned = True
            log.warning("%s: %d session row(s) not as bedside writes them: skipped", self.path, bad)
        return sessions

    def growth_rows(self, db: sqlite3.Connection) -> list[GrowthRow]:
        if not columns(db, "holds"):  # a database from before holds were kept
            return []
        return [g for row in db.execute(_GROWTH) if (g := _growth_row(row)) is not None]
