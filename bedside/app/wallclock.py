"""The wall clock, and whether it can be trusted yet: a Pi has no real-time clock, so after a
power cut it counts from an old date until the network sets it.

The nights (``bedside.core.nights``) are pure functions of a wall time; this is where one is read.
"""

from __future__ import annotations

import ctypes
import functools
import os
from collections.abc import Callable
from datetime import datetime, timedelta

from bedside.core.clock import Clock

_synced = False


TIMESYNC_FLAG = "/run/systemd/timesync/synchronized"  # systemd-timesyncd's, once synced


def clock_synced(flag: str = TIMESYNC_FLAG) -> bool:
    """Whether the system clock has been set from the network since boot (systemd-timesyncd
    left its flag, or adjtimex says so). Once synced, it stays so: no more asking."""
    global _synced
    if not _synced:
        _synced = os.path.exists(flag) or _kernel_synced()
    return _synced


@functools.cache
def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def _kernel_synced() -> bool:
    libc = _libc()
    if libc is None or not hasattr(libc, "adjtimex"):
        return False
    timex = ctypes.create_string_buffer(512)  # struct timex with modes = 0: only read
    return libc.adjtimex(timex) not in (-1, 5)  # 5 is TIME_ERROR: the clock is not synced


def wall_reader(
    clock: Clock,
    synced: Callable[[], bool] = clock_synced,
    now: Callable[[], datetime] = datetime.now,
) -> Callable[[float], datetime | None]:
    """The wall clock at the loop clock's time ``at``, or None while it cannot be trusted (no
    real-time clock, not synced yet). The loop's clock may run fast (the demo): its seconds
    are turned back into real ones, so the nights and the hours are the real ones."""

    def wall(at: float) -> datetime | None:
        if not synced():
            return None
        return now() - timedelta(seconds=(clock.now() - at) / clock.speed)

    return wall
