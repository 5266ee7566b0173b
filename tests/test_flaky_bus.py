"""A flaky I2C bus (issue 19, item 17): every 37th write fails, all night. The panel is
reopened and redrawn each time, as for any outage, but the log says it a few times an hour,
with how many outages it did not say one by one, never two lines an outage (2,700 an hour).
"""

from __future__ import annotations

import itertools
import logging
import time

from faults import quiet_config
from PIL import Image, ImageDraw

from bedside.app.assembly import Driver, MockControls, Parts, mock_parts
from bedside.app.daemon import Options, run
from bedside.app.events import Stop
from bedside.display.panel import Oled, PartialSSD1306
from bedside.display.recording_bus import RecordingSerial

SPEED = 100.0  # the daemon's clock: 600 s of routine in 6 real seconds


def every(n: int):
    """A bus fault for ``RecordingSerial.fail``: every ``n``-th write raises OSError 121."""
    writes = itertools.count(1)

    def flaky() -> None:
        if next(writes) % n == 0:
            raise OSError(121, "Remote I/O error")

    return flaky


def said(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bedside.display"]


def test_the_daemon_on_a_flaky_bus_logs_a_few_lines_not_one_an_outage(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    config = quiet_config(tmp_path / "config")
    seen: dict[str, int] = {}

    def drive(parts: Parts, controls: MockControls) -> None:
        pin, serial = controls.pin, controls.serial

        def press() -> None:
            pin.drive_low()
            time.sleep(0.2 / SPEED)
            pin.drive_high()
            time.sleep(1.0 / SPEED)

        time.sleep(0.2)
        serial.fail = every(37)
        press()  # start legs up the wall
        press()  # on from lying down: the hold counts down, a frame a second
        time.sleep(600 / SPEED)
        seen["writes"] = serial.data_bytes
        parts.events.put(Stop("done"))

    def build(config, state_dir, events) -> Parts:
        parts, controls = mock_parts(config, state_dir, events, speed=SPEED)
        return parts.watched_by(Driver(drive, parts, controls, name="flaky-driver"))

    options = Options(config=config, state_dir=tmp_path / "state", routine="legs-up-wall")
    assert run(options, build) == 0
    lines = said(caplog)
    outages = caplog.text.count("not answering")
    assert outages >= 1, caplog.text  # the bus did fail
    # A frame a second for ten minutes, a write in 37 failing: scores of outages, each one
    # reopened; logged as the first one, its end, and at most one line of the count.
    assert len(lines) <= 3, lines


def test_an_hour_on_a_flaky_bus_is_a_line_every_ten_minutes_with_the_count(caplog):
    caplog.set_level(logging.WARNING, logger="bedside.display")
    serial = RecordingSerial()
    oled = Oled(lambda: PartialSSD1306(serial), contrast=40, shift_every=0)
    serial.fail = every(37)
    for second in range(3600):  # the countdown's frame, every second for an hour
        image = Image.new("1", (128, 64))
        ImageDraw.Draw(image).text((0, 0), f"{second // 60:02d}:{second % 60:02d}", fill=1)
        oled.retry(float(second))
        oled.show(image, float(second))
    lines = said(caplog)
    assert oled.outages > 100  # it was two lines for each of these
    assert len(lines) <= 2 * (3600 / Oled.QUIET + 1), lines
    counted = [line for line in lines if "more short outage(s) in the last 10 min" in line]
    assert counted and "a loose wire or a flaky bus?" in counted[0]
    assert oled.device is not None  # and it is drawing
