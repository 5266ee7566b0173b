"""The button script language of ``simulate`` (and of the daemon's ``--script``).

One command a line, ``#`` starts a comment:

    press           down for 0.1 s, then up
    hold SECONDS    down that long, then up
    wait SECONDS    let time pass

SECONDS is a number (``90``, ``2.5``) or a duration like ``"5m"``/``1m30s``. Parsing reads the
whole script first and reports every bad line, so nothing runs from a half-valid script.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from bedside.core.durations import parse_duration
from bedside.core.errors import UsageError

PRESS_SECONDS = 0.1
LONGEST = 7 * 24 * 3600  # a week: the longest hold or wait a script may ask for
USAGE = "expected 'press', 'hold SECONDS' or 'wait SECONDS'"
SHOWN = 40  # characters of a bad line quoted back: enough to find it, never a flood
MESSAGES = 20  # bad lines reported one by one; the rest are counted


@dataclass(frozen=True)
class Command:
    line: int
    action: str  # press | hold | wait
    seconds: float


@dataclass(frozen=True)
class Moment:
    """A script laid out in time: at ``at`` seconds from its start the button goes down
    (``pressed`` True) or up (False), or a wait ends (None). Simulate moves a virtual clock
    to each moment; the daemon's ``--script`` sleeps to each on the real one."""

    at: float
    pressed: bool | None


def timeline(commands: Iterable[Command]) -> Iterator[Moment]:
    """The one reading of a script's commands as moments in time."""
    at = 0.0
    for command in commands:
        if command.action == "wait":
            at += command.seconds
            yield Moment(at, None)
        else:
            yield Moment(at, True)
            at += command.seconds
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
    if len(errors) > MESSAGES:
        errors[MESSAGES:] = [f"{name}: and {len(errors) - MESSAGES} more bad line(s)"]
    if errors:
        raise ScriptError(errors)
    return commands


def _quote(text: str) -> str:
    return repr(text if len(text) <= SHOWN else text[: SHOWN - 3] + "...")


def _number(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text
