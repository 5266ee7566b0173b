"""The clocks the daemon reads: the monotonic clock (and its speed-up for the demo), the wall
clock at a moment of the loop's, and whether the wall clock can be trusted yet."""

from __future__ import annotations

import ctypes
import time
from datetime import datetime, timedelta

import pytest

import bedside.app.wallclock as wallclock
from bedside.app.clocks import MonotonicClock
from bedside.app.wallclock import ClockSource, SystemWall
from bedside.core.clock import VirtualClock


def test_the_monotonic_clock_runs_at_its_speed():
    for speed in (1.0, 20.0):
        clock = MonotonicClock(speed)
        real, start = time.monotonic(), clock.now()
        time.sleep(0.2)
        ran = clock.now() - start
        took = time.monotonic() - real
        assert speed * took * 0.9 <= ran <= speed * took * 1.1 + 0.01, (speed, ran, took)


def test_the_wall_clock_at_a_loop_time_in_real_seconds_and_only_when_synced():
    clock = VirtualClock(1000.0)
    clock.speed = 20.0  # the demo's loop: twenty of its seconds to a real one
    noon = datetime(2026, 11, 21, 12, 0)
    source = [ClockSource.NONE]
    wall = SystemWall(clock, source=lambda: source[0], now=lambda: noon)
    assert wall.read(800.0) is None  # no real-time clock, not synced: no wall time at all
    source[0] = ClockSource.NTP
    assert wall.read(1000.0) == noon
    assert wall.read(800.0) == noon - timedelta(seconds=10)  # 200 loop seconds, 10 real ones
    source[0] = ClockSource.NONE
    assert wall.known()  # once known, it stays known: the question is not asked again


def test_the_clock_is_known_from_the_network_or_a_real_time_clock(tmp_path):
    """timesyncd's flag or the kernel's NTP state: NTP. A clock the kernel set from an RTC at
    boot (a Pi 5, an RTC module, offline): RTC. Neither: not known."""
    flag, rtc = tmp_path / "synchronized", tmp_path / "rtc"
    (rtc / "rtc0").mkdir(parents=True)
    (rtc / "rtc0" / "hctosys").write_text("0\n")

    def source(kernel: bool = False) -> wallclock.ClockSource:
        return wallclock.clock_source(flag, rtc, kernel_synced=lambda: kernel)

    assert source() is ClockSource.NONE
    assert source(kernel=True) is ClockSource.NTP
    (rtc / "rtc1").mkdir()
    (rtc / "rtc1" / "hctosys").write_text("1\n")
    assert source() is ClockSource.RTC
    flag.touch()
    assert source() is ClockSource.NTP


def test_the_kernel_is_asked_what_adjtimex_says(monkeypatch):
    libc = ctypes.CDLL(None, use_errno=True)
    state = libc.adjtimex(ctypes.create_string_buffer(512))
    if state == -1:
        pytest.fail("adjtimex should answer a read for anyone")
    assert wallclock._kernel_synced() is (state != 5)  # 5: TIME_ERROR, not synced
