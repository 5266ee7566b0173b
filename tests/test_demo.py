"""``make demo`` as a person meets it: the panel drawn in a real terminal (a pty), keys for
the button, subtitles for the cues, q to quit."""

from __future__ import annotations

import io
import os
import pty
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from bedside.commands.demo import (
    DIM,
    HELP_FAST,
    LIT,
    SUBTITLE_SECONDS,
    Keys,
    TerminalPanel,
    half_blocks,
)
from bedside.config.core_terms import defaults
from bedside.config.sections import DisplayConfig
from bedside.core.clock import VirtualClock
from bedside.core.gestures import ButtonState, Gesture, Notice, Recogniser, Thresholds
from bedside.core.screens import Screen, View
from bedside.display.panel import open_panel
from bedside.display.picture import picture
from bedside.display.recording_bus import RecordingSerial

ROOT = Path(__file__).resolve().parent.parent


def test_half_blocks_put_two_pixel_rows_in_a_character():
    pixels = [[True, False, True, False], [True, True, False, False]]
    assert half_blocks(pixels) == ["\u2588\u2584\u2580 "]
    assert half_blocks(pixels, step=2) == ["\u2588\u2580"]


class Terminal:
    def __init__(self, tmp_path: Path, *args: str) -> None:
        self.master, slave = pty.openpty()
        os.set_blocking(self.master, False)
        env = {
            **os.environ,
            "HOME": str(tmp_path),
            "XDG_CACHE_HOME": str(tmp_path / "cache"),
            "COLUMNS": "140",
            "LINES": "45",
            "TERM": "xterm-256color",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bedside", "demo", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=ROOT,
            close_fds=True,
        )
        os.close(slave)
        self.screen = ""

    def read_until(self, text: str, timeout: float = 15.0) -> str:
        end = time.monotonic() + timeout
        while text not in self.screen and time.monotonic() < end:
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    self.screen += os.read(self.master, 65536).decode("utf-8", "replace")
                except OSError:
                    break
        assert text in self.screen, f"{text!r} never appeared; last: {self.screen[-500:]!r}"
        return self.screen

    def press(self, key: str) -> None:
        os.write(self.master, key.encode())

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        os.close(self.master)


def test_the_demo_draws_the_panel_speaks_in_subtitles_and_quits_on_q(tmp_path):
    terminal = Terminal(tmp_path)
    try:
        terminal.read_until("q: quit")
        terminal.read_until("\u2588")  # the menu, drawn from the panel's RAM in half blocks
        terminal.screen = ""
        terminal.press(" ")  # start the bedtime routine
        terminal.read_until("Fill a tub with warm water")
        terminal.press("q")
        assert terminal.process.wait(timeout=10) == 0
    finally:
        terminal.close()
    assert "Traceback" not in terminal.screen


def test_without_a_terminal_the_demo_says_what_to_use_instead(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bedside", "demo"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    assert result.returncode == 2
    assert "needs a terminal" in result.stderr and "Traceback" not in result.stderr


# -- every panel -------------------------------------------------------------------------------
PANELS = [(driver, height) for driver in ("ssd1306", "sh1106", "ssd1309") for height in (64, 32)]


def pixels_from_terminal(text: str) -> list[list[bool]]:
    """The half blocks the demo wrote, back into rows of pixels."""
    rows = []
    for line in text.split("\n"):
        if LIT not in line:
            continue
        cells = line.split(LIT, 1)[1].split(DIM, 1)[0]
        rows.append([c in "\u2588\u2580" for c in cells])
        rows.append([c in "\u2588\u2584" for c in cells])
    return rows


@pytest.mark.parametrize(("driver", "height"), PANELS)
def test_the_demo_draws_each_panel_from_the_bytes_its_driver_sent(
    driver: str, height: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "140")
    config = DisplayConfig(driver=driver, height=height)
    serial = RecordingSerial(driver=driver, height=height)
    device = open_panel(config, serial)
    screen = Screen(View.RUNNING, "Soak your feet", "left foot", "12:35", 0.37, "2/17")
    image = picture(screen, (128, height))
    device.display(image)
    out = io.StringIO()
    TerminalPanel(serial, out).draw()
    expected = [[bool(image.getpixel((x, y))) for x in range(128)] for y in range(height)]
    assert pixels_from_terminal(out.getvalue()) == expected
    device.hide()
    out = io.StringIO()
    TerminalPanel(serial, out).draw()
    assert pixels_from_terminal(out.getvalue()) == [[False] * 128] * height


def test_the_demo_runs_a_128x32_sh1106(tmp_path):
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    toml = config / "bedside.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(
        text.replace("[display]\n", '[display]\ndriver = "sh1106"\nheight = 32\n', 1), "utf-8"
    )
    terminal = Terminal(tmp_path, "--config", str(toml))
    try:
        terminal.read_until("q: quit")
        screen = terminal.read_until("\u2588")
        # The last frame begun, read to its bottom edge (it may arrive in pieces).
        terminal.screen = screen[screen.rindex("\u250c") :]
        frame = terminal.read_until("\u2514").split("\u2514", 1)[0]
        assert len(pixels_from_terminal(frame)) == 32  # 16 lines of half blocks
        terminal.press("q")
        assert terminal.process.wait(timeout=10) == 0
    finally:
        terminal.close()
    assert "Traceback" not in terminal.screen


class VirtualTimers:
    """The demo's timers on a virtual clock: an action runs when ``advance`` passes its time,
    in the order they fall due, on the test's own thread."""

    def __init__(self) -> None:
        self.clock = VirtualClock()
        self.pending: list[VirtualTimers.Pending] = []

    class Pending:
        def __init__(self, at: float, action: Callable[[], None]) -> None:
            self.at, self.action, self.cancelled = at, action, False

        def cancel(self) -> None:
            self.cancelled = True

    def now(self) -> float:
        return self.clock.now()

    def after(self, seconds: float, action: Callable[[], None]) -> Pending:
        pending = self.Pending(self.now() + seconds, action)
        self.pending.append(pending)
        return pending

    def advance(self, seconds: float) -> None:
        end = self.now() + seconds
        while True:
            due = [p for p in self.pending if not p.cancelled and p.at <= end]
            if not due:
                break
            first = min(due, key=lambda p: p.at)
            self.pending.remove(first)
            self.clock.advance_to(max(self.now(), first.at))
            first.action()
        self.clock.advance_to(end)


def test_subtitles_two_at_a_time_then_gone_and_no_lone_speaker():
    serial = RecordingSerial()
    open_panel(DisplayConfig(), serial).display(picture(Screen(View.MENU, "Bedtime")))
    out = io.StringIO()
    timers = VirtualTimers()
    panel = TerminalPanel(serial, out, 10, timers=timers)
    panel.draw()
    assert "\U0001f50a" not in out.getvalue()  # nothing said yet: no speaker on its own
    assert HELP_FAST in out.getvalue() and "keep holding" not in out.getvalue()
    panel.said("That's the set. Lower your legs.")
    panel.said("Well done. Now move close to a wall.")  # at the same moment: both stay
    last = out.getvalue().rsplit("\x1b[H", 1)[1]
    assert "Lower your legs" in last and "move close to a wall" in last
    timers.advance(SUBTITLE_SECONDS - 1)
    last = out.getvalue().rsplit("\x1b[H", 1)[1]
    assert "Lower your legs" in last and "move close to a wall" in last  # still there
    timers.advance(1.2)  # no draw of the loop's needed: the subtitles' own timer redraws
    last = out.getvalue().rsplit("\x1b[H", 1)[1]
    assert "\U0001f50a" not in last  # gone under the menu, not there for minutes


def test_a_third_subtitle_pushes_out_the_first():
    serial = RecordingSerial()
    out = io.StringIO()
    timers = VirtualTimers()
    panel = TerminalPanel(serial, out, timers=timers)
    for text in ("one", "two", "three"):
        panel.said(text)
        timers.advance(1.0)
    last = out.getvalue().rsplit("\x1b[H", 1)[1]
    assert "\U0001f50a one" not in last and "two" in last and "three" in last


def test_a_dark_panel_says_which_key_wakes_it():
    serial = RecordingSerial()
    device = open_panel(DisplayConfig(), serial)
    device.hide()
    out = io.StringIO()
    TerminalPanel(serial, out).draw()
    assert "display off: space wakes it" in out.getvalue()


def button(thresholds: Thresholds | None = None, speed: float = 1.0):
    """Keys on a mock pin, on a virtual clock: the pin's state is the button's (0: down)."""
    pin = MockFactory().pin(17)
    pin.drive_high()
    timers = VirtualTimers()
    return Keys(pin, thresholds or defaults(Thresholds), speed, timers=timers), pin, timers


def test_a_held_space_bar_keeps_the_button_down_through_the_key_repeats():
    """A terminal sends a held key as a press, a pause (about half a second), then quick
    repeats: the button stays down through them and comes up when they stop."""
    keys, pin, timers = button()
    keys.space()
    assert pin.state == 0  # down at once
    timers.advance(0.45)  # the terminal's delay before it repeats
    assert pin.state == 0
    for _ in range(10):  # repeats, 30 a second
        keys.space()
        timers.advance(0.033)
        assert pin.state == 0
    timers.advance(0.3)  # let go: up within the repeat gap allowed
    assert pin.state == 1
    keys, pin, timers = button(speed=10.0)
    keys.space()  # at --speed a key is a plain press: down for a tenth of a second of its time
    assert pin.state == 0
    timers.advance(0.1 / 10)
    assert pin.state == 1


def test_a_lone_space_is_a_press_and_the_next_one_later_is_not_a_repeat():
    keys, pin, timers = button()
    keys.space()
    timers.advance(0.59)
    assert pin.state == 0
    timers.advance(0.02)  # up after 0.6 s: under the hold's second
    assert pin.state == 1
    timers.advance(0.2)  # a second tap, 0.81 s after the first: a press of its own
    keys.space()
    timers.advance(0.59)
    assert pin.state == 0
    timers.advance(0.02)
    assert pin.state == 1


@pytest.mark.parametrize(
    ("thresholds", "hold", "long_hold"),
    [
        (defaults(Thresholds), 1.5, 3.5),  # the shipped 1 s and 3 s: half a second past each
        (defaults(Thresholds, hold=2.0, long_hold=6.0, stuck=40.0), 2.5, 6.5),
        (defaults(Thresholds, hold=1.0, long_hold=1.4, stuck=5.0), 1.2, 1.9),  # closer: half way
    ],
)
def test_h_and_e_hold_a_little_past_the_configured_thresholds(thresholds, hold, long_hold):
    for key, seconds in (("h", hold), ("e", long_hold)):
        keys, pin, timers = button(thresholds)
        assert keys.key(key)
        assert pin.state == 0
        timers.advance(seconds - 0.01)
        assert pin.state == 0, key
        timers.advance(0.02)
        assert pin.state == 1, key
        # As the recogniser reads it: a hold for h, a long hold for e, never the next one up.
        recogniser = Recogniser(thresholds)
        state, _ = recogniser.edge(ButtonState(), True, 0.0)
        _, signals = recogniser.edge(state, False, seconds)
        gesture, too_far = (
            (Gesture.HOLD, Gesture.LONG_HOLD) if key == "h" else (Gesture.LONG_HOLD, Notice.STUCK)
        )
        assert gesture in signals and too_far not in signals, key


def test_h_and_e_at_speed_are_as_long_in_the_devices_time():
    keys, pin, timers = button(defaults(Thresholds), speed=10.0)
    keys.key("e")
    timers.advance(0.34)
    assert pin.state == 0
    timers.advance(0.02)
    assert pin.state == 1


def test_a_key_while_the_button_is_down_is_not_a_second_press():
    keys, pin, timers = button()
    keys.key("e")
    timers.advance(1.0)
    keys.key("h")  # ignored: the long hold goes on to its end
    timers.advance(2.4)
    assert pin.state == 0
    timers.advance(0.2)
    assert pin.state == 1


def test_q_or_the_end_of_input_quits():
    def quits(typed: str) -> int:
        asked: list[str] = []
        pin = MockFactory().pin(17)
        keys = Keys(
            pin, defaults(Thresholds), quit=lambda: asked.append("quit"), timers=VirtualTimers()
        )
        keys.read(io.StringIO(typed))
        return len(asked)

    for typed in ("h q h", "  ", "\x04", "Q"):
        assert quits(typed) == 1, typed
