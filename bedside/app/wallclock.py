"""The wall clock, and whether it can be trusted: the network's time (NTP), a real-time clock's
(RTC), or neither yet.

Most Pis have no real-time clock: after a power cut the wall clock counts on from an old date
until the network sets it, then jumps. A Pi 5, or a Pi with an RTC module, has the right time at
boot without any network: the kernel sets its clock from the RTC (``hctosys``). Either makes the
clock known; until one does, bedside keeps no nights (``bedside.core.nights`` are pure functions
of a wall time: this is where one is read).

``SystemWall`` is the device's; ``MockWall`` the mock device's, which a script's ``clock``
command moves. ``WallWatch`` tells the loop the moment the system clock is set, by the kernel's
own notice (a timer cancelled when the clock is set), so nothing polls.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import os
import select
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from bedside.closing import Closing
from bedside.core.clock import Clock, SettableWall

TIMESYNC_FLAG = Path("/run/systemd/timesync/synchronized")  # systemd-timesyncd's, once synced
RTC_CLASS = Path("/sys/class/rtc")  # each rtcN's hctosys is 1 if the kernel set its clock from it


class ClockSource(StrEnum):
    """Where the wall clock's time came from: what ``selftest`` shows, in these words."""

    NTP = "the network (NTP)"
    RTC = "a real-time clock (RTC)"
    NONE = "nothing yet"
    SCRIPT = "a script's clock command"  # the mock device's


class WallClock(Protocol):
    """The wall clock the daemon reads: at a time of the loop's clock, when known."""

    def read(self, at: float) -> datetime | None: ...
    def known(self) -> bool: ...
    def source(self) -> ClockSource: ...
    def timestamp(self) -> float: ...


def clock_source(
    flag: Path = TIMESYNC_FLAG,
    rtc: Path = RTC_CLASS,
    kernel_synced: Callable[[], bool] | None = None,
) -> ClockSource:
    """What set the system clock: NTP (timesyncd's flag, or the kernel's NTP state), an RTC at
    boot (its ``hctosys``), or nothing yet."""
    if flag.exists() or (kernel_synced or _kernel_synced)():
        return ClockSource.NTP
    with contextlib.suppress(OSError):
        for device in rtc.iterdir():
            with contextlib.suppress(OSError):
                if (device / "hctosys").read_text().strip() == "1":
                    return ClockSource.RTC
    return ClockSource.NONE


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
    return bool(libc.adjtimex(timex) not in (-1, 5))  # 5 is TIME_ERROR: the clock is not synced


class SystemWall:
    """The machine's wall clock, read at a time of the loop's ``clock``: the loop's clock may run
    fast (the demo), so its seconds are turned back into real ones, and the nights and hours
    are the real ones. Once known it stays known: the question is not asked again."""

    def __init__(
        self,
        clock: Clock,
        source: Callable[[], ClockSource] = clock_source,
        now: Callable[[], datetime] = datetime.now,
    ) -> None:
        self.clock, self._ask, self._now = clock, source, now
        self._source = ClockSource.NONE

    def source(self) -> ClockSource:
        if self._source is ClockSource.NONE:
            self._source = self._ask()
        return self._source

    def known(self) -> bool:
        return self.source() is not ClockSource.NONE

    def read(self, at: float) -> datetime | None:
        if not self.known():
            return None
        return self._now() - timedelta(seconds=(self.clock.now() - at) / self.clock.speed)

    def timestamp(self) -> float:
        return self._now().timestamp()


class MockWall:
    """The mock device's wall clock: the machine's at the start (when it is known), running on
    with the loop's clock, and set where a script's ``clock`` command says."""

    def __init__(self, clock: Clock, start: datetime | None) -> None:
        self.clock = clock
        self.wall = SettableWall(start, clock.now())
        self.started_known = start is not None

    @classmethod
    def from_system(cls, clock: Clock) -> MockWall:
        system = SystemWall(clock)
        return cls(clock, system.read(clock.now()))

    def set(self, when: datetime) -> None:
        """The wall clock jumps to ``when`` now, and is known from here on."""
        self.wall.set(when, self.clock.now())
        self.started_known = False

    def read(self, at: float) -> datetime | None:
        # the loop's seconds since it was set, as real ones (the loop may run fast)
        return self.wall.read(self.wall.at + (at - self.wall.at) / self.clock.speed)

    def known(self) -> bool:
        return self.wall.start is not None

    def source(self) -> ClockSource:
        if not self.known():
            return ClockSource.NONE
        return ClockSource.NTP if self.started_known else ClockSource.SCRIPT

    def timestamp(self) -> float:
        moment = self.read(self.clock.now())
        return moment.timestamp() if moment is not None else time.time()


# -- the kernel's notice that the clock was set ------------------------------------------------
CLOCK_REALTIME = 0
TFD_CLOEXEC = 0o2000000
TFD_TIMER_ABSTIME = 1
TFD_TIMER_CANCEL_ON_SET = 2
FAR = 100 * 365 * 86400  # seconds: a timer that never fires by itself, only gets cancelled


class WallWatch(Closing):
    """Calls ``moved`` (from a thread of its own) each time the system clock is set: NTP's step
    after boot, a person's ``date -s``, an RTC read late. A Linux timer on the wall clock,
    armed far ahead with "cancel on set", is cancelled by the kernel at each such moment: the
    thread sleeps until then and costs nothing meanwhile. Elsewhere (no timerfd) it does
    nothing, and the loop still looks again while the clock is not known."""

    def __init__(self, moved: Callable[[], None]) -> None:
        self.moved = moved
        self._stop_read, self._stop_write = os.pipe2(os.O_CLOEXEC)
        self._fd = _timerfd()
        self._thread: threading.Thread | None = None
        if self._fd is not None:
            self._thread = threading.Thread(target=self._watch, name="bedside-wall", daemon=True)
            self._thread.start()

    def _watch(self) -> None:
        assert self._fd is not None
        while True:
            if not _arm(self._fd):
                return
            ready, _, _ = select.select([self._fd, self._stop_read], [], [])
            if self._stop_read in ready:
                return
            try:
                os.read(self._fd, 8)
            except OSError as exc:
                if exc.errno != errno.ECANCELED:
                    return
                self.moved()

    def close(self) -> None:
        if self._stop_write < 0:
            return
        with contextlib.suppress(OSError):
            os.write(self._stop_write, b"x")
        if self._thread is not None:
            self._thread.join(timeout=2)
        for fd in (self._fd, self._stop_read, self._stop_write):
            if fd is not None and fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._stop_write = self._stop_read = -1
        self._fd = None


def _timerfd() -> int | None:
    libc = _libc()
    if libc is None or not hasattr(libc, "timerfd_create"):
        return None
    fd = int(libc.timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC))
    return fd if fd >= 0 else None


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]  # time_t is a long


class _Itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", _Timespec), ("it_value", _Timespec)]


def _arm(fd: int) -> bool:
    """The timer far ahead on the wall clock (within what a ``long`` holds on a 32-bit Pi),
    cancelled when the clock is set."""
    libc = _libc()
    assert libc is not None
    longest = (1 << (8 * ctypes.sizeof(ctypes.c_long) - 1)) - 1
    spec = _Itimerspec(_Timespec(0, 0), _Timespec(min(int(time.time()) + FAR, longest), 0))
    flags = TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET
    return int(libc.timerfd_settime(fd, flags, ctypes.byref(spec), None)) == 0
