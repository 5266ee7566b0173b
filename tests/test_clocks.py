"""The clocks the daemon reads: the monotonic clock (and its speed-up for the demo), the wall
clock at a moment of the loop's, and whether the wall clock can be trusted yet."""

from __future__ import annotations

import ctypes
import time
from datetime import datetime, timedelta

import pytest

import bedside.app.wallclock as wallclock
from bedside.app.clocks import MonotonicClock
from bedside.app.wallclock import wall_reader
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
    synced = [False]
    wall = wall_reader(clock, synced=lambda: synced[0], now=lambda: noon)
    assert wall(800.0) is None  # no real-time clock, not synced: no wall time at all
    synced[0] = True
    assert wall(1000.0) == noon
    assert wall(800.0) == noon - timedelta(seconds=10)  # 200 loop seconds, 10 real ones


def test_clock_synced_takes_timesyncd_s_flag_and_then_stays_synced(tmp_path, monkeypatch):
    monkeypatch.setattr(wallclock, "_synced", False)
    monkeypatch.setattr(wallclock, "_kernel_synced", lambda: False)
    flag = tmp_path / "synchronized"
    assert wallclock.clock_synced(str(flag)) is False
    flag.touch()
    assert wallclock.clock_synced(str(flag)) is True
    flag.unlink()
    assert wallclock.clock_synced(str(flag)) is True  # once synced, no more asking


def test_the_kernel_is_asked_what_adjtimex_says(monkeypatch):
    libc = ctypes.CDLL(None, use_errno=True)
    state = libc.adjtimex(ctypes.create_string_buffer(512))
    if state == -1:
        pytest.fail("adjtimex should answer a read for anyone")
    assert wallclock._kernel_synced() is (state != 5)  # 5: TIME_ERROR, not synced
