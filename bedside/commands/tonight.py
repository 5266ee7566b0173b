"""Tonight's length of the hold that grows, as the commands show it.

The daemon folds the nights it has kept (``core.growth.tonight``); a command does the same
from the history database, opened read-only, so what it shows is what the device will do
tonight. No history yet is the first night.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bedside.app.clocks import MonotonicClock
from bedside.app.paths import NoHome
from bedside.app.wallclock import SystemWall
from bedside.commands.choices import history_file
from bedside.config.sections import Config
from bedside.core.growth import GrowthNight, tonight
from bedside.core.nights import night_of
from bedside.history.report import HistoryUnavailable, Report
from bedside.history.rows import growth_nights


def hold_tonight(config: Config, history: Path | None) -> float | None:
    """Tonight's length, in seconds, of the hold that grows, from the history database at
    ``history`` (None: there is none to read); None when the hold does not grow
    (``[hold] grow = false``)."""
    if not config.hold.grow:
        return None
    nights: list[GrowthNight] = []  # no history yet: the first night's length
    if history is not None:
        try:
            with Report(history) as report:  # read-only: never changes the daemon's files
                nights = growth_nights(report)
        except HistoryUnavailable:
            pass
    clock = MonotonicClock()
    now = SystemWall(clock).read(clock.now())  # None while the clock is not known
    night = night_of(now) if now is not None else None
    return tonight(config.hold, nights, night)


def hold_for(config: Config, state_dir: Path | None, demo: bool) -> float | None:
    """Tonight's hold from the history the options name (``--state-dir``, ``--demo``, else the
    daemon's); a first night's, said so, when there is no home to find that history in."""
    try:
        history: Path | None = history_file(state_dir, demo)
    except NoHome as exc:
        print(f"bedside: {exc}; showing a first night's", file=sys.stderr)
        history = None
    return hold_tonight(config, history)
