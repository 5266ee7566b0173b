"""The SSD1306 driver through luma.oled's real ssd1306 class, over a serial interface that
records every byte and rebuilds the panel's RAM from them."""

from __future__ import annotations

import pytest
from luma.oled.device import ssd1306
from PIL import Image, ImageDraw

from bedside.display.panel import Oled, PartialSSD1306, changed_windows, frame_bytes, shift_for
from bedside.display.recording_bus import RecordingSerial


def blank() -> Image.Image:
    return Image.new("1", (128, 64))


def stock_frame(image: Image.Image) -> bytes:
    """What luma's own ssd1306 puts in the panel's RAM for an image: the reference."""
    serial = RecordingSerial()
    device = ssd1306(serial)
    device.display(image)
    return bytes(serial.panel.ram)


def test_frame_bytes_matches_lumas_own_conversion():
    image = blank()
    draw = ImageDraw.Draw(image)
    draw.text((3, 5), "12:34 left foot", fill=1)
    draw.rectangle((0, 60, 127, 63), fill=1)
    draw.point((127, 0), fill=1)
    assert frame_bytes(image) == stock_frame(image)


def test_start_up_sends_a_full_frame_and_switches_the_panel_on():
    serial = RecordingSerial()
    PartialSSD1306(serial)
    assert serial.panel.on and serial.data_bytes == 1024
    assert bytes(serial.panel.ram) == bytes(1024)


def test_a_changed_digit_sends_only_its_window():
    serial = RecordingSerial()
    device = PartialSSD1306(serial)
    image = blank()
    ImageDraw.Draw(image).text((40, 20), "12:34", fill=1)
    device.display(image)
    before = serial.bytes_sent
    image2 = blank()
    ImageDraw.Draw(image2).text((40, 20), "12:35", fill=1)
    device.display(image2)
    assert 0 < serial.bytes_sent - before < 40
    assert bytes(serial.panel.ram) == frame_bytes(image2)
    before = serial.bytes_sent
    device.display(image2)  # nothing changed: nothing sent
    assert serial.bytes_sent == before


def test_after_a_failed_send_the_next_frame_goes_whole():
    serial = RecordingSerial()
    device = PartialSSD1306(serial)
    image = blank()
    ImageDraw.Draw(image).text((0, 0), "hello", fill=1)
    device.display(image)

    def broken() -> None:
        raise OSError(121, "Remote I/O error")

    serial.fail = broken
    other = blank()
    ImageDraw.Draw(other).text((50, 40), "x", fill=1)
    with pytest.raises(OSError):
        device.display(other)
    serial.fail = None
    before = serial.data_bytes
    device.display(other)
    assert serial.data_bytes - before == 1024
    assert bytes(serial.panel.ram) == frame_bytes(other)


def test_windows_cover_exactly_the_changes_at_least_cost():
    old = bytearray(1024)
    new = bytearray(1024)
    new[0 * 128 + 10] = 1
    new[7 * 128 + 100] = 1
    windows = changed_windows(bytes(old), bytes(new))
    # Two small windows beat one spanning the whole panel.
    assert sorted((w.page_start, w.col_start, w.col_end) for w in windows) == [
        (0, 10, 10),
        (7, 100, 100),
    ]
    assert changed_windows(bytes(new), bytes(new)) == []


# Any frames on every panel, and a countdown minute against stock luma: tests/test_panels.py.


def test_oled_contrast_power_and_burn_in_shift():
    serial = RecordingSerial()
    oled = Oled(lambda: PartialSSD1306(serial), contrast=40, shift_every=180.0)
    assert serial.panel.contrast == 40 and serial.panel.on
    oled.power(False)
    assert not serial.panel.on
    oled.power(True, contrast=10)
    assert serial.panel.on and serial.panel.contrast == 10

    dot = blank()
    dot.putpixel((64, 32), 1)
    seen = set()
    for minute in range(0, 30, 3):
        oled.show(dot, now=minute * 60.0)
        lit = [
            (x, y) for y, row in enumerate(serial.panel.pixels()) for x, v in enumerate(row) if v
        ]
        assert len(lit) == 1
        x, y = lit[0]
        assert abs(x - 64) <= 1 and abs(y - 32) <= 1
        seen.add((x, y))
    assert len(seen) == 9  # every offset of the 3 x 3 square is used
    assert shift_for(0.0, 180.0) == (0, 0) and oled.next_shift(200.0) == 360.0
