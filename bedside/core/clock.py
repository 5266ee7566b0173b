"""Clocks: the monotonic one the daemon runs on, and a virtual one for simulate and tests.

Timers never use the wall clock: a Pi has no real-time clock, and its wall clock jumps when
NTP syncs after boot. Both clocks here only move forward.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    speed: float  # clock seconds per real second: the loop divides its waits by it

    def now(self) -> float: ...

    def real(self, at: float) -> float: ...


class MonotonicClock:
    """``time.monotonic``: seconds that never jump. ``speed`` above 1 runs it fast (the demo)."""

    def __init__(self, speed: float = 1.0) -> None:
        self.speed = speed
        self._start = time.monotonic()

    def now(self) -> float:
        return self._start + (time.monotonic() - self._start) * self.speed

    def real(self, at: float) -> float:
        """``time.monotonic()`` when this clock reads ``at``: the moment other processes can
        share, since every process on the machine reads the same monotonic clock."""
        return self._start + (at - self._start) / self.speed


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
