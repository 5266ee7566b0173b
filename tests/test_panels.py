"""Every panel bedside drives (SSD1306, SH1106, SSD1309; 64 or 32 rows), through luma.oled's
real classes over a bus that records every byte and rebuilds each controller's RAM the way
that controller addresses it: byte for byte, against luma's own stock classes."""

from __future__ import annotations

import contextlib
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from luma.oled.device import sh1106, ssd1306, ssd1309
from PIL import Image, ImageDraw
from recording_spi import RecordingSpi

from bedside.config import core_terms
from bedside.config.core_terms import defaults
from bedside.config.load import load_config
from bedside.config.sections import DisplayConfig
from bedside.config.toml_reader import ConfigError
from bedside.core.behaviour import Behaviour
from bedside.core.gestures import Thresholds
from bedside.display.panel import (
    DRIVERS,
    PANEL_ERRORS,
    Oled,
    PartialSH1106,
    changed_runs,
    frame_bytes,
    open_panel,
    panel_serial,
    shifted,
)
from bedside.display.picture import picture
from bedside.display.recording_bus import RecordingSerial

STOCK = {"ssd1306": ssd1306, "sh1106": sh1106, "ssd1309": ssd1309}
PANELS = [(driver, height) for driver in DRIVERS for height in (64, 32)]


def lit(image: Image.Image) -> set[tuple[int, int]]:
    width, height = image.size
    return {(x, y) for y in range(height) for x in range(width) if image.getpixel((x, y))}


def shown(serial: RecordingSerial | RecordingSpi) -> set[tuple[int, int]]:
    return {(x, y) for y, row in enumerate(serial.panel.pixels()) for x, on in enumerate(row) if on}


def some_text(height: int) -> Image.Image:
    image = Image.new("1", (128, height))
    draw = ImageDraw.Draw(image)
    draw.text((3, 2), "12:34 left foot", fill=1)
    draw.rectangle((0, 0, 127, height - 1), outline=1)  # the very edges: columns 0 and 127
    return image


# -- the controllers, set up by luma ---------------------------------------------------------
@pytest.mark.parametrize(("driver", "height"), PANELS)
def test_start_up_clears_the_whole_panel_and_switches_it_on(driver: str, height: int) -> None:
    serial = RecordingSerial(driver=driver, height=height)
    assert serial.panel.visible() != bytes(128 * height // 8)  # RAM starts as noise
    DRIVERS[driver](serial, height=height)
    assert serial.panel.on
    assert serial.panel.visible() == bytes(128 * height // 8)
    assert not shown(serial)


@pytest.mark.parametrize("driver", ["ssd1306", "ssd1309"])
def test_a_128x32_ssd1306_is_set_up_for_32_rows(driver: str) -> None:
    # The two settings a 0.91" panel needs: 32 multiplexed rows, sequential COM pins.
    serial = RecordingSerial(driver=driver, height=32)
    DRIVERS[driver](serial, height=32)
    assert serial.panel.multiplex == 0x1F and serial.panel.com_pins == 0x02
    tall = RecordingSerial(driver=driver, height=64)
    DRIVERS[driver](tall, height=64)
    assert tall.panel.multiplex == 0x3F and tall.panel.com_pins == 0x12


@pytest.mark.parametrize(("driver", "height"), PANELS)
def test_a_frame_lands_where_lumas_stock_class_puts_it(driver: str, height: int) -> None:
    image = some_text(height)
    ours, stock = (
        RecordingSerial(driver=driver, height=height),
        RecordingSerial(driver=driver, height=height),
    )
    DRIVERS[driver](ours, height=height).display(image)
    STOCK[driver](stock, height=height).display(image)
    assert ours.panel.visible() == stock.panel.visible() == frame_bytes(image)
    assert shown(ours) == lit(image)


# -- the model tells a wrong driver from a right one ----------------------------------------
def test_an_sh1106_driven_without_its_column_offset_shifts_2_px_with_noise_at_the_right() -> None:
    image = some_text(64)
    serial = RecordingSerial(driver="sh1106")
    sh1106(serial, page_address_offset=0).display(image)  # as if its RAM were 128 wide
    rows = serial.panel.pixels()
    expected = [[bool(image.getpixel((x, y))) for x in range(128)] for y in range(64)]
    assert rows != expected
    # Shifted left by two...
    assert all(rows[y][x] == expected[y][x + 2] for y in range(64) for x in range(126))
    # ...and the last two columns are RAM nothing wrote: the noise it powered up with.
    right_edge = {(x, y) for y in range(64) for x in (126, 127) if rows[y][x]}
    assert len(right_edge) > 20


def test_an_sh1106_driven_as_an_ssd1306_shows_a_broken_picture() -> None:
    image = some_text(64)
    serial = RecordingSerial(driver="sh1106")
    device = ssd1306(serial)
    device.display(image)
    assert serial.panel.visible() != frame_bytes(image)


def test_the_sh1106_is_sent_page_addressing_only() -> None:
    commands: list[bytes] = []
    serial = RecordingSerial(
        lambda kind, data: kind == "command" and commands.append(data), driver="sh1106"
    )
    device = PartialSH1106(serial)
    commands.clear()  # luma's own set-up: what is checked is how frames are addressed
    image = some_text(64)
    device.display(image)
    image2 = image.copy()
    ImageDraw.Draw(image2).text((60, 40), "9", fill=1)
    device.display(image2)
    assert commands
    for command in commands:  # 0xB0 + page, low nibble, high nibble: nothing else
        assert len(command) == 3
        assert 0xB0 <= command[0] <= 0xB7
        assert command[1] < 0x10 and 0x10 <= command[2] < 0x20
        assert not {0x20, 0x21, 0x22} & set(command)
    assert serial.panel.visible() == frame_bytes(image2)


def test_sh1106_runs_join_when_the_gap_is_cheaper_than_addressing_again() -> None:
    old = bytes(1024)
    new = bytearray(1024)
    new[10] = new[14] = 1  # three unchanged bytes between: cheaper than 3 command bytes
    new[2 * 128 + 10] = new[2 * 128 + 15] = 1  # four between: two runs
    runs = changed_runs(old, bytes(new))
    assert [(r.page, r.start, r.end) for r in runs] == [(0, 10, 14), (2, 10, 10), (2, 15, 15)]
    assert changed_runs(bytes(new), bytes(new)) == []
    assert len(changed_runs(None, bytes(new))) == 8  # unknown panel RAM: every page, whole


# -- any frames, every panel -----------------------------------------------------------------
rectangles = st.lists(
    st.tuples(
        st.integers(0, 127),
        st.integers(0, 63),
        st.integers(0, 127),
        st.integers(0, 63),
        st.booleans(),
    ),
    max_size=6,
)


@settings(max_examples=150, deadline=None)
@given(
    panel=st.sampled_from(PANELS),
    rotate=st.sampled_from([0, 2]),
    frames=st.lists(rectangles, min_size=1, max_size=6),
    failing=st.integers(-1, 5),
)
def test_after_any_frames_every_panel_shows_the_last_image(panel, rotate, frames, failing):
    driver, height = panel
    ours = RecordingSerial(driver=driver, height=height)
    stock = RecordingSerial(driver=driver, height=height)
    device = DRIVERS[driver](ours, height=height, rotate=rotate)
    reference = STOCK[driver](stock, height=height, rotate=rotate)
    image = Image.new("1", (128, height))
    for index, shapes in enumerate(frames):
        image = image.copy()
        draw = ImageDraw.Draw(image)
        for x0, y0, x1, y1, on in shapes:
            box = (min(x0, x1), min(y0, y1) % height, max(x0, x1), max(y0, y1) % height)
            draw.rectangle((box[0], min(box[1], box[3]), box[2], max(box[1], box[3])), fill=on)
        if index == failing:  # the bus fails part way through a frame: the next goes whole
            sent = []

            def fail_on_second(sent=sent) -> None:
                sent.append(1)
                if len(sent) > 1:
                    raise OSError(121, "Remote I/O error")

            ours.fail = fail_on_second
            with contextlib.suppress(OSError):
                device.display(image)
            ours.fail = None
            continue
        device.display(image)
        reference.display(image)
        assert ours.panel.visible() == stock.panel.visible()
        assert ours.panel.visible() == frame_bytes(device.preprocess(image))
        upright = image.rotate(180) if rotate == 2 else image
        assert shown(ours) == lit(upright)


@pytest.mark.parametrize("driver", list(DRIVERS))
def test_a_countdown_minute_costs_a_small_fraction_of_stock_luma(driver: str) -> None:
    config = load_config()
    fixed = replace(config, hold=replace(config.hold, grow=False))  # the file's ten minutes
    settings_ = replace(core_terms.settings(fixed), pacer=False)
    behaviour = Behaviour(settings_, defaults(Thresholds), now=0.0, routine="legs-up-wall")
    for t in (0.0, 1.0):
        behaviour.edge(True, t)
        behaviour.edge(False, t + 0.1)
        behaviour.settle()  # taken once let go for the bounce time
    ours = RecordingSerial(driver=driver)
    stock = RecordingSerial(driver=driver)
    partial, full = DRIVERS[driver](ours), STOCK[driver](stock)
    partial.display(picture(behaviour.screen))
    start_ours, start_stock = ours.bytes_sent, stock.bytes_sent
    for second in range(60):
        behaviour.advance(1.12 + second + 1)
        image = picture(behaviour.screen)
        partial.display(image)
        full.display(image)
    assert behaviour.screen.clock == "09:00"  # ten minutes less the one just drawn
    sent, reference = ours.bytes_sent - start_ours, stock.bytes_sent - start_stock
    assert reference >= 60 * 1024
    assert sent / reference < 0.15, (sent, reference)
    assert ours.panel.visible() == stock.panel.visible()


# -- SPI: luma.core's own spi interface over a recording bus and GPIO ----------------------
@pytest.mark.parametrize(("driver", "height"), PANELS)
def test_a_panel_opens_and_draws_over_spi(driver: str, height: int) -> None:
    config = DisplayConfig(
        driver=driver, height=height, interface="spi", spi_port=1, spi_device=1, spi_dc=23
    )
    bus = RecordingSpi(driver, height, dc=23, reset=config.spi_reset)
    device = open_panel(config, panel_serial(config, spi_bus=bus.bus, gpio=bus.gpio))
    assert isinstance(device, DRIVERS[driver])
    assert bus.opened == (1, 1) and bus.max_speed_hz == 8_000_000
    assert set(bus.outputs) == {23, config.spi_reset} and bus.resets == 1
    assert bus.panel.on and bus.panel.visible() == bytes(128 * height // 8)
    image = some_text(height)
    device.display(image)
    assert shown(bus) == lit(image)
    before = bus.bytes_sent
    image2 = image.copy()
    ImageDraw.Draw(image2).point((64, height // 2), fill=1)
    device.display(image2)
    assert 0 < bus.bytes_sent - before < 16  # one changed byte, and its address
    assert shown(bus) == lit(image2)
    device.cleanup()
    assert bus.closed  # the GPIO it was handed stays the caller's to clean up


def test_the_daemons_oled_redraws_an_spi_panel_that_comes_back() -> None:
    config = DisplayConfig(driver="sh1106", height=32, interface="spi")
    buses: list[RecordingSpi] = []

    def reopen():
        bus = RecordingSpi("sh1106", 32)
        buses.append(bus)
        if len(buses) == 2:
            raise OSError(5, "Input/output error")
        return open_panel(config, panel_serial(config, spi_bus=bus.bus, gpio=bus.gpio))

    oled = Oled(reopen, contrast=40, shift_every=0)
    image = some_text(32)
    oled.show(image, now=1.0)
    assert shown(buses[0]) == lit(image) and buses[0].panel.contrast == 40
    buses[0].fail = unplugged  # the ribbon knocked loose as the next frame goes
    image = image.copy()
    ImageDraw.Draw(image).rectangle((0, 0, 5, 5), fill=1)
    oled.show(image, now=2.0)
    assert oled.device is None
    oled.retry(3.0)  # fails: tried again after 2 s
    oled.retry(5.0)
    assert len(buses) == 3 and shown(buses[-1]) == lit(image)


def unplugged() -> None:
    raise OSError(121, "Remote I/O error")


# -- configuration ---------------------------------------------------------------------------
def write_config(config_copy: Path, lines: str) -> Path:
    text = config_copy.read_text(encoding="utf-8")
    config_copy.write_text(text.replace("[display]\n", "[display]\n" + lines, 1), "utf-8")
    return config_copy


@pytest.mark.parametrize(("driver", "height"), PANELS)
def test_driver_and_height_are_read(config_copy: Path, driver: str, height: int) -> None:
    write_config(config_copy, f'driver = "{driver}"\nheight = {height}\n')
    display = load_config(config_copy).display
    assert (display.driver, display.height) == (driver, height)


def test_the_defaults_are_a_128x64_ssd1306(config_copy: Path) -> None:
    display = load_config(config_copy).display
    assert (display.driver, display.height) == ("ssd1306", 64)


@pytest.mark.parametrize(
    ("lines", "key", "expected", "found"),
    [
        ('driver = "ssd1315"\n', "display.driver", '"ssd1306", "sh1106", "ssd1309"', '"ssd1315"'),
        ("driver = 1106\n", "display.driver", '"sh1106"', "1106"),
        ("height = 48\n", "display.height", "64 or 32", "48"),
        ('height = "32"\n', "display.height", "64 or 32", '"32"'),
        ("height = 64.0\n", "display.height", "64 or 32", "64.0"),
        ("height = true\n", "display.height", "64 or 32", "true"),
    ],
)
def test_a_wrong_driver_or_height_is_named_with_its_line(
    config_copy: Path, lines: str, key: str, expected: str, found: str
) -> None:
    write_config(config_copy, lines)
    with pytest.raises(ConfigError) as caught:
        load_config(config_copy)
    [problem] = [p for p in caught.value.problems if p.key == key]
    written = config_copy.read_text(encoding="utf-8").splitlines()
    assert problem.line == written.index(lines.strip()) + 1  # the line it is on
    assert expected in problem.expected and problem.found == found


def test_an_spi_panel_without_spidev_is_a_panel_error_that_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "spidev", None)  # as on a Pi without the package
    config = DisplayConfig(interface="spi")
    with pytest.raises(PANEL_ERRORS) as caught:
        panel_serial(config, gpio=RecordingSpi().gpio)
    assert "'spidev'" in str(caught.value) and "pip install spidev" in str(caught.value)
    # The daemon carries on without the panel, as with any panel that does not answer.
    oled = Oled(lambda: open_panel(config), contrast=40)
    assert oled.device is None and oled.deadline() == 1.0


def test_a_quarter_turn_is_refused_since_screens_are_landscape(config_copy: Path) -> None:
    text = config_copy.read_text(encoding="utf-8")
    config_copy.write_text(text.replace("rotate = 0", "rotate = 1"), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(config_copy)
    [problem] = [p for p in caught.value.problems if p.key == "display.rotate"]
    assert "0, or 2 for a panel mounted upside down" in problem.expected
    assert problem.found == "1"


@pytest.mark.parametrize(("driver", "height"), PANELS)
def test_the_daemons_oled_shifts_against_burn_in_and_redraws_after_a_reopen(
    driver: str, height: int
) -> None:
    serials: list[RecordingSerial] = []

    def reopen():
        serials.append(RecordingSerial(driver=driver, height=height))
        return DRIVERS[driver](serials[-1], height=height)

    oled = Oled(reopen, contrast=40, shift_every=180.0)
    dot = Image.new("1", (128, height))
    dot.putpixel((64, height // 2), 1)
    seen = set()
    for minute in range(0, 30, 3):
        oled.show(dot, now=minute * 60.0)
        [(x, y)] = shown(serials[-1])
        assert abs(x - 64) <= 1 and abs(y - height // 2) <= 1
        seen.add((x, y))
    assert len(seen) == 9

    # The bus fails mid-frame: the panel is opened again later and redrawn whole.
    serials[-1].fail = unplugged
    oled.show(some_text(height), now=1800.0)
    assert oled.device is None
    oled.retry(1801.0)
    assert len(serials) == 2 and oled.device is not None
    assert serials[-1].panel.visible() == frame_bytes(
        shifted(some_text(height), 1801.0, oled.shift_every)
    )
