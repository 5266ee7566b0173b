"""The person's nights: which night a moment belongs to, the streak, and the bedtime reminder.

Pure functions of the wall time they are handed (``bedside.app.wallclock`` reads it, and says
when it cannot be trusted yet: then callers hand in None, and no reminder fires at a wrong
hour). A session after midnight belongs to the evening before: a night runs from noon to noon.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NIGHT_TURNS = 12  # hours: a night runs from noon to noon


def night_of(moment: datetime) -> date:
    """The evening a moment belongs to: 01:30 on the 21st is the night of the 20th."""
    return (moment - timedelta(hours=NIGHT_TURNS)).date()


def next_turn(moment: datetime) -> datetime:
    """The next noon after ``moment``: where one night gives way to the next."""
    turn = datetime.combine(night_of(moment) + timedelta(days=1), time(NIGHT_TURNS))
    return turn if turn > moment else turn + timedelta(days=1)


@dataclass(frozen=True)
class Done:
    """A finished session, as much as the nights need of it: its routine, the night it began
    in (None: the wall clock could not tell it), and whether it was completed."""

    routine: str
    night: date | None
    completed: bool


def mark_done(done: dict[str, set[date]], session: Done) -> None:
    """The one rule of a night done: a completed session makes its routine done on the night
    it began in, when that night is known (``done``: the nights by routine, added to)."""
    if session.completed and session.night is not None:
        done.setdefault(session.routine, set()).add(session.night)


def nights_done(sessions: Iterable[Done]) -> dict[str, set[date]]:
    """The nights on which each routine was completed, by the routine's name."""
    done: dict[str, set[date]] = {}
    for session in sessions:
        mark_done(done, session)
    return done


def streak(done: set[date], now: datetime) -> int:
    """Nights in a row with the routine completed, up to tonight (or last night, while tonight
    is still to come)."""
    night = night_of(now)
    if night not in done:
        night -= timedelta(days=1)
    count = 0
    while night in done:
        count += 1
        night -= timedelta(days=1)
    return count


def week(done: set[date], now: datetime) -> tuple[bool, ...]:
    """The seven nights up to tonight, oldest first: whether each was done."""
    night = night_of(now)
    return tuple(night - timedelta(days=n) in done for n in range(6, -1, -1))


@dataclass(frozen=True)
class Streak:
    """The night's routine as the menu shows it: nights in a row, and the last seven nights."""

    nights: int = 0
    week: tuple[bool, ...] = ()  # oldest first: done or not

    @classmethod
    def of(cls, done: set[date], now: datetime) -> Streak:
        return cls(streak(done, now), week(done, now))


@dataclass(frozen=True)
class Reminder:
    """The bedtime reminder: ``[reminder]`` in bedside.toml, whose keys declare the defaults."""

    at: time
    days: tuple[str, ...]
    text: str
    contrast: int  # the display wakes gently
    within: timedelta = timedelta(hours=2)  # a device started later than this stays quiet

    def due(self, night: date) -> datetime:
        """When the reminder of a given night falls."""
        return datetime.combine(night, self.at) + (
            timedelta(days=1) if self.at.hour < NIGHT_TURNS else timedelta()
        )

    def fires(self, now: datetime, fired: set[date], done: set[date]) -> bool:
        """Whether the reminder should sound at ``now`` (once a night, on its days, not when
        tonight's routine is already done)."""
        night = night_of(now)
        if DAYS[night.weekday()] not in self.days or night in fired or night in done:
            return False
        due = self.due(night)
        return due <= now < due + self.within

    def next_after(self, now: datetime, fired: set[date], done: set[date]) -> datetime | None:
        """The next moment at or after ``now`` at which ``fires`` may turn true."""
        night = night_of(now)
        for ahead in range(8):
            candidate = night + timedelta(days=ahead)
            if DAYS[candidate.weekday()] not in self.days:
                continue
            if candidate in fired or candidate in done:
                continue
            due = self.due(candidate)
            if now < due + self.within:
                return max(due, now)
        return None


@dataclass(frozen=True)
class Quiet:
    """A quieter night: from ``start`` to ``end`` (across midnight when ``end`` is earlier),
    cues are said at ``volume`` and the display lit no brighter than ``contrast``: ``[quiet]`` in
    bedside.toml, whose keys declare the defaults."""

    start: time
    end: time
    volume: float
    contrast: int

    def applies(self, moment: datetime) -> bool:
        now = moment.time()
        if self.start <= self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end

    def next_change(self, moment: datetime) -> datetime:
        """The next moment after ``moment`` at which ``applies`` changes."""
        candidates = []
        for day in (moment.date(), moment.date() + timedelta(days=1)):
            for edge in (self.start, self.end):
                at = datetime.combine(day, edge, tzinfo=moment.tzinfo)
                if at > moment:
                    candidates.append(at)
        return min(candidates)
