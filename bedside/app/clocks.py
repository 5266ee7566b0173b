"""The clock the daemon runs on: ``time.monotonic``, which never jumps, at a speed.

(The core only knows ``bedside.core.clock.Clock``; this is where a real one is read.)
"""

from __future__ import annotations

import time


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
