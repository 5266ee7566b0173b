"""What a clock is to the core, and the virtual clock simulate and the tests run on.

Timers never use the wall clock: a Pi has no real-time clock, and its wall clock jumps when
NTP syncs after boot. The daemon's own clock, the monotonic one, is read in the shell
(``bedside.app.clocks``); every clock only moves forward.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    speed: float  # clock seconds per real second: the loop divides its waits by it

    def now(self) -> float: ...

    def real(self, at: float) -> float: ...


class VirtualClock:
    """Time that moves only when told to: an hour of routine in a blink, exactly repeatable."""

    speed = 1.0

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def real(self, at: float) -> float:
        """Virtual time is the only time there is."""
        return at

    def advance_to(self, when: float) -> None:
        if when < self._now:
            raise ValueError(f"a virtual clock only moves forward ({when} < {self._now})")
        self._now = when

    def advance(self, seconds: float) -> None:
        self.advance_to(self._now + seconds)


class SettableWall:
    """A wall clock that runs on with a monotonic clock from where it was last set: what
    ``simulate`` and the mock device read, and what a script's ``clock`` command moves. Not
    known (None) until it is set, as a Pi's clock before the network or a real-time clock sets
    it; once set, it is known."""

    def __init__(self, start: datetime | None = None, at: float = 0.0) -> None:
        self.start, self.at = start, at

    def read(self, t: float) -> datetime | None:
        """The wall clock at monotonic time ``t``; None while it is not known."""
        if self.start is None:
            return None
        return self.start + timedelta(seconds=t - self.at)

    def set(self, when: datetime, t: float) -> None:
        """At monotonic time ``t`` the wall clock reads ``when`` (a jump, or the first setting)."""
        self.start, self.at = when, t
