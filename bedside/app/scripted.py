"""A button script (``bedside run --mock-hardware --script FILE``) played on the mock pin in
real time, at the daemon's speed: the same moments ``simulate`` steps a virtual clock through
(``bedside.core.script.timeline``), slept to here. Each is slept to from the script's start, so
the script does not drift by the time its steps take; a moment reached late (a busy machine)
moves the rest of the script with it, so a press is never cut shorter than it was written."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime

from gpiozero.pins.mock import MockPin

from bedside.core.script import Command, timeline


def drive_script(
    pin: MockPin,
    commands: Iterable[Command],
    speed: float,
    done: Callable[[], None],
    set_wall: Callable[[datetime], None] = lambda when: None,
    settle: float = 0.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Play ``commands`` on ``pin`` (down is low: the button pulls it to ground), then ``done``;
    a ``clock`` command calls ``set_wall``. ``settle``: real seconds to let the last release
    be taken (the button's bounce time) before the script is done."""
    start = clock()
    for moment in timeline(commands):
        wait = start + moment.at / speed - clock()
        if wait > 0:
            sleep(wait)
        else:
            start -= wait  # late: what follows keeps its distance from this moment
        if moment.wall is not None:
            set_wall(moment.wall)
        elif moment.pressed is True:
            pin.drive_low()
        elif moment.pressed is False:
            pin.drive_high()
    sleep(settle)
    done()
