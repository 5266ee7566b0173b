"""The button script language of ``simulate`` (and of the daemon's ``--script``).

One command a line, ``#`` starts a comment:

    press           down for 0.1 s, then up
    hold SECONDS    down that long, then up (a press or hold straight after another
                    begins 0.1 s after it: the finger lifts between them)
    wait SECONDS    let time pass
    clock WHEN      the wall clock jumps to WHEN (``2027-01-01T22:30``) and counts as
                    known from then on, as when the network sets a Pi's clock

SECONDS is a number (``90``, ``2.5``) or a duration like ``"5m"``/``1m30s``. Parsing reads the
whole script first and reports every bad line, so nothing runs from a half-valid script. A
script spans at most a year, and its wall clock stays within the years 1970 to 9000, so that
every night it passes through is a date the calendar can hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from bedside.core.durations import parse_duration
from bedside.core.errors import UsageError

PRESS_SECONDS = 0.1
LIFT = 0.1  # seconds the button is up between two presses written one after the other
LONGEST = 7 * 24 * 3600  # a week: the longest hold or wait a script may ask for
LONGEST_SCRIPT = 366 * 24 * 3600  # a year: all of a script's holds and waits together
# The wall clock a script (or simulate's --at) may start from or set: datetime ends at the
# year 9999, and nights, weeks and a year of script on either side must fit.
YEARS = (1970, 9000)
WHEN = f"a date and time from the year {YEARS[0]} to {YEARS[1]}, like 2027-01-01T22:30"
USAGE = "expected 'press', 'hold SECONDS', 'wait SECONDS' or 'clock YYYY-MM-DDTHH:MM'"
SHOWN = 40  # characters of a bad line quoted back: enough to find it, never a flood
MESSAGES = 20  # bad lines reported one by one; the rest are counted


@dataclass(frozen=True)
class Command:
    line: int
    action: str  # press | hold | wait | clock
    seconds: float  # 0 for clock
    wall: datetime | None = None  # clock: where the wall clock jumps to


@dataclass(frozen=True)
class Moment:
    """A script laid out in time: at ``at`` seconds from its start the button goes down
    (``pressed`` True) or up (False), or a wait ends (None). Simulate moves a virtual clock
    to each moment; the daemon's ``--script`` sleeps to each on the real one."""

    at: float
    pressed: bool | None
    wall: datetime | None = None  # the wall clock set to this, at ``at``


def timeline(commands: Iterable[Command]) -> Iterator[Moment]:
    """The one reading of a script's commands as moments in time. A press or hold straight
    after another (no wait between) begins ``LIFT`` seconds after it: a finger lifts between
    two presses, and a button open for less than its bounce time has not been let go."""
    at, up = 0.0, None  # up: when the button was last let go, if nothing came since
    for command in commands:
        if command.action == "wait":
            at += command.seconds
            up = None
            yield Moment(at, None)
        elif command.action == "clock":
            yield Moment(at, None, command.wall)
        else:
            if up is not None:
                at = up + LIFT
            yield Moment(at, True)
            at += command.seconds
            up = at
            yield Moment(at, False)


class ScriptError(UsageError):
    """Every bad line of a script, each with its line number."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__("\n".join(messages))

    def lines(self) -> list[str]:
        return ["bad script line:", *(f"  {message}" for message in self.messages)]


def parse_script(text: str, name: str = "script") -> list[Command]:
    commands: list[Command] = []
    errors: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        action, args = words[0].lower(), words[1:]
        found = _quote(" ".join(words))
        if action == "press" and not args:
            commands.append(Command(number, "press", PRESS_SECONDS))
            continue
        if action == "clock" and len(args) == 1:
            wall = _datetime(args[0])
            if wall is not None:
                commands.append(Command(number, "clock", 0.0, wall))
                continue
            errors.append(f"{name}:{number}: clock: expected {WHEN}, found {_quote(args[0])}")
            continue
        if action in ("hold", "wait") and len(args) == 1:
            seconds = parse_duration(_number(args[0]))
            if seconds is not None and 0 < seconds <= LONGEST:
                commands.append(Command(number, action, seconds))
                continue
            errors.append(
                f"{name}:{number}: {action}: expected a number of seconds above 0 and at most"
                f" {LONGEST} (a week), like 2.5 or 5m, found {_quote(args[0])}"
            )
            continue
        errors.append(f"{name}:{number}: {USAGE}, found {found}")
    total = sum(command.seconds for command in commands)
    if total > LONGEST_SCRIPT:
        errors.append(
            f"{name}: expected holds and waits of at most {LONGEST_SCRIPT // 86400} days in all,"
            f" found {total / 86400:,.1f} days"
        )
    if len(errors) > MESSAGES:
        errors[MESSAGES:] = [f"{name}: and {len(errors) - MESSAGES} more bad line(s)"]
    if errors:
        raise ScriptError(errors)
    return commands


def _quote(text: str) -> str:
    return repr(text if len(text) <= SHOWN else text[: SHOWN - 3] + "...")


def _datetime(text: str) -> datetime | None:
    """A wall-clock time as the scripts write it, local and without a zone, within YEARS; None
    if not one."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    within = YEARS[0] <= moment.year <= YEARS[1]
    return moment if moment.tzinfo is None and within else None


def _number(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text
