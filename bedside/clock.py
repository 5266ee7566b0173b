"""Clocks: the monotonic one the daemon runs on, and a virtual one for simulate and tests.

Timers never use the wall clock: a Pi has no real-time clock, and its wall clock jumps when
NTP syncs after boot. Both clocks here only move forward.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float: ...


class MonotonicClock:
    """Seconds from an arbitrary start that never jump: ``time.monotonic``."""

    def now(self) -> float:
        return time.monotonic()


class VirtualClock:
    """Time that moves only when told to: an hour of routine in a blink, exactly repeatable."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance_to(self, when: float) -> None:
        if when < self._now:
            raise ValueError(f"a virtual clock only moves forward ({when} < {self._now})")
        self._now = when

    def advance(self, seconds: float) -> None:
        self.advance_to(self._now + seconds)
