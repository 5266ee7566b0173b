"""``bedside selftest``: the checks for what people get wrong when wiring a Pi, each with its fix.

It looks at the I2C bus, the panel at its address, GPIO access, the pin factory gpiozero uses
(and its gpiochip), espeak-ng and an audio device.
When all of them answer it shows a test pattern, speaks a test phrase (the way the daemon
speaks: the configured engine, on ``[voice] device``) and waits for a press.
On a machine without the hardware it says so plainly and exits 1.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TextIO

from PIL import Image

from bedside.app.wallclock import ClockSource, clock_source
from bedside.config.sections import Config, DisplayConfig
from bedside.display.geometry import WIDTH

SELFTEST_PHRASE = "This is bedside. Press the button."


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    hardware: bool = True  # a Pi-only part: missing on a laptop is expected
    note: bool = False  # worth knowing, not a fault: the device works without it


def _i2c(config: Config, dev: Path) -> Check:
    bus = dev / f"i2c-{config.display.i2c_bus}"
    name = f"I2C bus {config.display.i2c_bus}"
    if config.display.interface != "i2c":
        return Check(name, True, "not used: the panel is on SPI", hardware=False)
    if not bus.exists():
        return Check(
            name,
            False,
            f"{bus} does not exist",
            "enable I2C: `sudo raspi-config nonint do_i2c 0`, then reboot",
        )
    if not os.access(bus, os.R_OK | os.W_OK):
        return Check(name, False, f"{bus} is not readable", "add the user to the i2c group")
    return Check(name, True, str(bus))


def _panel(config: Config) -> Check:
    display = config.display
    if display.interface == "spi":
        where = f"on SPI {display.spi_port}.{display.spi_device}"
        fix = (
            "enable SPI (`sudo raspi-config nonint do_spi 0`, then reboot); check VCC to 3.3 V, "
            "GND, D0/CLK to BCM 11 (pin 23), D1/MOSI to BCM 10 (pin 19), CS to BCM 8 (pin 24), "
            f"DC to BCM {display.spi_dc}, RES to BCM {display.spi_reset}"
        )
    else:
        where = f"at 0x{display.i2c_address:02X}"
        fix = (
            "check VCC to 3.3 V, GND, SDA to BCM 2 (pin 3), SCL to BCM 3 (pin 5); "
            f"`i2cdetect -y {display.i2c_bus}` shows the address (0x3C or 0x3D)"
        )
    name = f"panel ({display.driver.upper()}, {WIDTH}x{display.height}) {where}"
    try:
        from bedside.display.panel import open_panel

        panel = open_panel(config.display)
    except Exception as exc:  # luma raises its own error types, and OSError from the bus
        return Check(name, False, f"{type(exc).__name__}: {exc}", fix)
    panel.cleanup()
    return Check(name, True, "answers")


def _gpio(dev: Path) -> Check:
    chips = sorted(dev.glob("gpiochip*"))
    if not chips:
        return Check(
            "GPIO",
            False,
            "no /dev/gpiochip*",
            "this is not a Raspberry Pi, or its kernel is too old",
        )
    usable = [c for c in chips if os.access(c, os.R_OK | os.W_OK)]
    if not usable:
        return Check(
            "GPIO", False, f"{chips[0]} is not accessible", "add the user to the gpio group"
        )
    return Check("GPIO", True, ", ".join(c.name for c in usable))


def _pin_factory(config: Config) -> Check:
    """The pin factory the button will use: [button] pin_factory, or gpiozero's own choice."""
    from bedside.button import (
        PinFactoryUnavailable,
        describe_pin_factory,
        open_pin_factory,
    )

    try:
        factory = open_pin_factory(config.button.pin_factory)
    except PinFactoryUnavailable as exc:
        detail, _, fix = str(exc).partition("; fix: ")
        return Check("pin factory", False, detail, fix)
    chosen = "" if config.button.pin_factory else " (chosen by gpiozero)"
    # Left open: the live part's button uses it (gpiozero keeps its own choice for the process).
    return Check("pin factory", True, describe_pin_factory(factory) + chosen)


def _espeak() -> Check:
    path = shutil.which("espeak-ng")
    if path is None:
        return Check(
            "espeak-ng", False, "not installed", "sudo apt-get install espeak-ng", hardware=False
        )
    return Check("espeak-ng", True, path, hardware=False)


def _audio(dev: Path) -> Check:
    if shutil.which("aplay") is None:
        return Check("audio", False, "aplay is missing", "sudo apt-get install alsa-utils")
    from bedside.voice import sound_cards

    cards = sound_cards()
    if not cards or not (dev / "snd").exists():
        return Check(
            "audio",
            False,
            "no sound card found",
            "plug in the speaker (USB or HAT) and check `aplay -l`",
        )
    return Check("audio", True, cards[0])


def _wall_clock(source: Callable[[], ClockSource] = clock_source) -> Check:
    """Where the wall clock's time came from: the nights need it, the timers do not."""
    found = source()
    if found is ClockSource.NONE:
        return Check(
            "wall clock",
            True,
            "not set yet, by the network or a real-time clock: the streak, the week's marks"
            " and the reminder wait for it",
            "connect the Pi to a network (systemd-timesyncd sets the clock), or fit a real-time"
            " clock module; a Pi 5 has one",
            hardware=False,
            note=True,
        )
    return Check("wall clock", True, f"set by {found.value}", hardware=False)


def run_checks(config: Config, dev: Path = Path("/dev")) -> list[Check]:
    checks = [_i2c(config, dev)]
    if checks[0].ok:  # (on SPI the I2C bus is "not used", which passes)
        checks.append(_panel(config))
    checks += [_gpio(dev), _pin_factory(config), _espeak(), _audio(dev), _wall_clock()]
    return checks


def selftest(
    config: Config,
    out: TextIO | None = None,
    dev: Path = Path("/dev"),
    live: Callable[[Config, TextIO], bool] | None = None,
    checker: Callable[[Config, Path], list[Check]] = run_checks,
) -> int:
    """Run the checks, each with its fix; when every one passes, the live part (``live``,
    for a person at the device). 0 when all is well, else 1."""
    out = out or sys.stdout
    checks = checker(config, dev)
    for check in checks:
        mark = "note" if check.note else "ok  " if check.ok else "FAIL"
        print(f"[{mark}] {check.name}: {check.detail}", file=out)
        if (check.note or not check.ok) and check.fix:
            print(f"       fix: {check.fix}", file=out)
    hardware = [c for c in checks if c.hardware]
    if hardware and not any(c.ok for c in hardware):
        print(
            "\nNone of the device's hardware is here: this machine is not a wired-up bedside.\n"
            "On a laptop, try `make demo` or `bedside run --mock-hardware` instead.",
            file=out,
        )
        return 1
    if not all(c.ok for c in checks):
        print("\nFix what failed above, then run `bedside selftest` again.", file=out)
        return 1
    return 0 if (live or _live)(config, out) else 1


def _live(config: Config, out: TextIO) -> bool:
    """Everything answered: now a test pattern, a test phrase and a press, for a person."""
    import queue

    from bedside.app.paths import cache_directory, voice_cache
    from bedside.button import ButtonEdges, Edge, open_pin_factory
    from bedside.display.panel import open_panel

    panel = open_panel(config.display)
    panel.contrast(config.display.contrast)
    show_test_pattern(panel, config.display, out)

    heard = _speak(config, voice_cache(cache_directory()), out) if config.voice.enabled else True
    edges: queue.SimpleQueue[Edge] = queue.SimpleQueue()
    factory = open_pin_factory(config.button.pin_factory)
    button = ButtonEdges(config.button, edges.put, pin_factory=factory)
    print(f"Press the button (BCM {config.button.pin}) within 30 seconds...", file=out)
    try:
        edge = edges.get(timeout=30)
        print(f"[ok  ] button: {'pressed' if edge.pressed else 'released'}", file=out)
        return heard
    except queue.Empty:
        print(
            f"[FAIL] button: no press seen; fix: wire it between BCM {config.button.pin} "
            "(pin 11 for BCM 17) and ground",
            file=out,
        )
        return False
    finally:
        button.close()
        panel.cleanup()


def _speak(config: Config, cache: Path, out: TextIO) -> bool:
    """The test phrase, through the configured engine on ``[voice] device``, as the daemon
    would say it (``bedside voice say`` says its line the same way), cached in ``cache``."""
    from bedside.voice import say_now

    phrase = SELFTEST_PHRASE
    if say_now(config.voice, phrase, cache):
        print(f"You should have heard: '{phrase}'", file=out)
        return True
    print(
        f"[FAIL] speech: could not say it (see above); fix: check [voice] device "
        f"({config.voice.device!r}) against `aplay -L`, then try `bedside voice say Hello`",
        file=out,
    )
    return False


# -- the panel's test pattern --------------------------------------------------------------------
def selftest_pattern(size: tuple[int, int]) -> Image.Image:
    """A frame on the panel's outermost pixels, with words and ticks inside: on the right
    driver and height the whole frame shows, sharp; on the wrong one it visibly does not."""
    from PIL import ImageDraw

    from bedside.display.text import draw_text, metrics

    image = Image.new("1", size)
    width, height = size
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width - 1, height - 1), outline=1)
    # Ticks every 8 px along the bottom: a shifted or stretched picture puts them out of step
    # with the frame.
    for x in range(8, width - 7, 8):
        draw.line((x, height - 5, x, height - 2), fill=1)
    lines = ["bedside selftest", "press the button"] if height > 32 else ["bedside selftest"]
    for i, line in enumerate(lines):
        draw_text(draw, 5 + metrics(11).ascent + i * 14, line, 11)
    return image


def panel_advice(display: DisplayConfig) -> list[str]:
    """What the person may see on the panel, and what each picture means."""
    if display.driver == "sh1106":
        wrong_driver = (
            "  - a scrambled picture, or the frame shifted right with noise at the left edge: "
            'the panel is not an SH1106: set [display] driver = "ssd1306" in bedside.toml '
            '("ssd1309" for a 2.42" panel).'
        )
    else:
        wrong_driver = (
            "  - the frame shifted by 2 pixels (its left edge missing) with a stripe of noise at "
            'the right edge, or a scrambled picture: the panel is an SH1106, as most 1.3" '
            'panels are: set [display] driver = "sh1106" in bedside.toml.'
        )
    rows = "32" if display.height == 64 else "64"
    return [
        f"The panel should show a frame around its very edge ({display.driver}, "
        f"{WIDTH}x{display.height}):",
        "  - the whole frame, sharp, the words in it upright: the driver and height are right.",
        wrong_driver,
        "  - only half the picture, every other line, or the picture stretched to twice its "
        f"height: set [display] height = {rows}.",
        "  - upside down: set [display] rotate = 2.",
        "  - nothing at all: check the wiring, and that [display] contrast is not 0.",
    ]


class _Panel(Protocol):
    """What the test pattern needs of a panel: luma.oled's device, or bedside's partial one."""

    size: tuple[int, int]

    def display(self, image: Image.Image) -> None: ...


def show_test_pattern(panel: _Panel, display: DisplayConfig, out: TextIO) -> None:
    """Draws the test pattern on ``panel`` and says how to read it."""
    panel.display(selftest_pattern(panel.size))
    for line in panel_advice(display):
        print(line, file=out)
