"""What a clock is to the core, and the virtual clock simulate and the tests run on.

Timers never use the wall clock: a Pi has no real-time clock, and its wall clock jumps when
NTP syncs after boot. The daemon's own clock, the monotonic one, is read in the shell
(``bedside.app.clocks``); every clock only moves forward.
"""

from __future__ import annotations

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
