"""``bedside demo`` (``make demo``): the whole device in a terminal, no hardware needed.

It is ``bedside run --mock-hardware`` with a face: the panel is drawn in the terminal from the
bytes the configured panel's driver actually sent (SSD1306, SH1106 or SSD1309, 64 or 32 rows;
two pixel rows to a character, with half blocks, redrawn in place), the keyboard works the
button through gpiozero's MockPin, and every cue is shown as a subtitle (and spoken, where
there is a sound card).

Keys: space presses (keep it held down for a hold or a long hold), h holds, e long-holds,
q quits. ``--speed N`` runs time N times fast.
"""

from __future__ import annotations

import logging
import shutil
import sys
import termios
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Protocol, TextIO

from gpiozero.pins.mock import MockPin

from bedside.app.assembly import Observer, Parts, Voice, mock_parts
from bedside.app.daemon import Options, run
from bedside.app.events import Events, Stop
from bedside.app.paths import demo_state
from bedside.commands.choices import routine_named
from bedside.config import core_terms
from bedside.config.load import load_config
from bedside.config.sections import Config
from bedside.core.gestures import Thresholds
from bedside.core.screens import Screen
from bedside.display.recording_bus import RecordingSerial
from bedside.voice import VoiceSettings, sound_cards

LIT, DIM = "\x1b[96m", "\x1b[0m"
HELP = "space: press (keep holding: hold, long hold)   h: hold   e: long hold   q: quit"
HELP_FAST = "space: press   h: hold   e: long hold   q: quit"  # at --speed, keys only tap
SUBTITLE_SECONDS = 12.0  # a cue stays on the terminal this long (real time), then goes
SUBTITLES = 2  # cues said together (a step's last, the next one's first) both stay


class Pending(Protocol):
    """An action waiting for its time; cancelled, it never runs."""

    def cancel(self) -> None: ...


class Timers(Protocol):
    """The time the keys and the subtitles keep: a clock in seconds, and actions run once a
    while has passed (from another thread: whoever is called takes its own lock)."""

    def now(self) -> float: ...

    def after(self, seconds: float, action: Callable[[], None]) -> Pending: ...


class RealTimers:
    """Real time: ``time.monotonic``, and each action on a timer thread of its own."""

    def now(self) -> float:
        return time.monotonic()

    def after(self, seconds: float, action: Callable[[], None]) -> Pending:
        timer = threading.Timer(seconds, action)
        timer.daemon = True  # a subtitle's or a key's timer never keeps the demo from quitting
        timer.start()
        return timer


def half_blocks(pixels: list[list[bool]], step: int = 1) -> list[str]:
    """Rows of pixels as text, two rows a line; ``step`` 2 halves the width for a narrow
    terminal (a column is lit if either of its pair is)."""
    lines = []
    for y in range(0, len(pixels), 2):
        top, bottom = pixels[y], pixels[y + 1]
        chars = []
        for x in range(0, len(top), step):
            t = any(top[x : x + step])
            b = any(bottom[x : x + step])
            chars.append("\u2588" if t and b else "\u2580" if t else "\u2584" if b else " ")
        lines.append("".join(chars))
    return lines


class TerminalPanel:
    """Draws the recorded panel RAM, the last cue and the keys, in place."""

    def __init__(
        self,
        serial: RecordingSerial,
        out: TextIO,
        speed: float = 1.0,
        timers: Timers | None = None,
    ) -> None:
        self.serial = serial
        self.out = out
        self.timers = timers or RealTimers()
        self.help = HELP if speed == 1.0 else HELP_FAST
        self.subtitles: list[tuple[float, str]] = []  # (when it was said, what)
        self.lock = threading.Lock()

    def said(self, text: str) -> None:
        """A cue to show under the panel, for a while, beside one said just before it."""
        with self.lock:
            now = self.timers.now()
            self.subtitles = [s for s in self.subtitles if now - s[0] < SUBTITLE_SECONDS]
            self.subtitles = [*self.subtitles, (now, text)][-SUBTITLES:]
        self.timers.after(SUBTITLE_SECONDS + 0.1, self.draw)  # then it goes
        self.draw()

    def draw(self) -> None:
        with self.lock:
            panel = self.serial.panel
            width = shutil.get_terminal_size((132, 40)).columns
            step = 1 if width >= 132 else 2
            pixels = panel.pixels() if panel.on else [[False] * panel.width] * panel.height
            rows = half_blocks(pixels, step)
            edge = "\u2500" * len(rows[0])
            body = [f"\u250c{edge}\u2510"]
            body += [f"\u2502{LIT}{row}{DIM}\u2502" for row in rows]
            body += [f"\u2514{edge}\u2518"]
            state = "" if panel.on else "  (display off: space wakes it)"
            now = self.timers.now()
            shown = [text for at, text in self.subtitles if now - at < SUBTITLE_SECONDS]
            lines = [f"  \U0001f50a {text}" for text in shown]
            lines += [""] * (SUBTITLES - len(lines))  # the keys stay on the same row
            body += [f"contrast {panel.contrast}{state}", "", *lines, ""]
            body.append(self.help)
            self.out.write("\x1b[H" + "\n".join(line + "\x1b[K" for line in body) + "\x1b[J")
            self.out.flush()


class SubtitledVoice:
    """The voice, with each cue also shown on the terminal."""

    def __init__(self, voice: Voice, panel: TerminalPanel) -> None:
        self.voice = voice
        self.panel = panel

    def prepare(
        self,
        texts: list[str],
        volumes: list[float | None],
        settings: VoiceSettings | None = None,
    ) -> None:
        self.voice.prepare(texts, volumes, settings)

    def reconfigure(self, settings: VoiceSettings) -> None:
        self.voice.reconfigure(settings)

    def say(self, text: str, volume: float | None = None) -> None:
        self.voice.say(text, volume)
        self.panel.said(text)

    def silence(self) -> None:
        self.voice.silence()

    def chime(self, kind: str) -> None:
        self.voice.chime(kind)


class Keys:
    """The keyboard as the button, through the MockPin (down is low: the button grounds it).

    h and e hold the button down a little past the configured ``[button] hold`` and
    ``long_hold``; a held space bar keeps it down for as long as the terminal repeats the key.
    At ``--speed N`` every key is a tap of its length in the device's time, N times shorter.
    """

    REPEATING = 0.7  # a space this soon after the last is the terminal repeating a held key
    FIRST_RELEASE = 0.6  # up this long after a lone space, unless its repeats come first
    REPEAT_RELEASE = 0.15  # up this long after a repeat: the repeats come every 30 ms or so
    FAST_PRESS = 0.1  # a space at --speed: a plain press, in the device's time

    def __init__(
        self,
        pin: MockPin,
        thresholds: Thresholds,
        speed: float = 1.0,
        quit: Callable[[], object] | None = None,
        timers: Timers | None = None,
    ) -> None:
        self.pin, self.speed, self.quit = pin, speed, quit
        self.timers = timers or RealTimers()
        self.hold = _past(thresholds.hold, thresholds.long_hold)
        self.long_hold = _past(thresholds.long_hold, thresholds.stuck)
        self.down = False
        self.last_space: float | None = None
        self.release: Pending | None = None
        self.lock = threading.Lock()

    def tap(self, seconds: float) -> None:
        """Down for ``seconds`` of the device's time, unless it is down already."""
        with self.lock:
            if self.down:
                return
            self.down = True
            self.pin.drive_low()
        self._release_after(seconds / self.speed)

    def space(self) -> None:
        # A held key repeats: the first repeat comes after the terminal's delay (about half a
        # second), then quickly. The button stays down while the repeats keep coming.
        now = self.timers.now()
        repeat = self.last_space is not None and now - self.last_space < self.REPEATING
        self.last_space = now
        if self.speed != 1.0:
            self.tap(self.FAST_PRESS)
            return
        with self.lock:
            if not self.down:
                self.down = True
                self.pin.drive_low()
        self._release_after(self.REPEAT_RELEASE if repeat else self.FIRST_RELEASE)

    def _release_after(self, seconds: float) -> None:
        if self.release is not None:
            self.release.cancel()
        self.release = self.timers.after(seconds, self._up)

    def _up(self) -> None:
        with self.lock:
            if self.down:
                self.down = False
                self.pin.drive_high()

    def key(self, key: str) -> bool:
        """One key from the keyboard; False when it asks to quit (q, or the end of input)."""
        if key in ("", "q", "Q", "\x04"):
            if self.quit is not None:
                self.quit()
            return False
        if key == " ":
            self.space()
        elif key in ("h", "H"):
            self.tap(self.hold)
        elif key in ("e", "E"):
            self.tap(self.long_hold)
        return True

    def read(self, keyboard: TextIO) -> None:
        """Every key from ``keyboard``, until one asks to quit."""
        while self.key(keyboard.read(1)):
            pass


def _past(threshold: float, next_one: float) -> float:
    """A little past ``threshold``: half a second, but never as far as the next threshold
    (the configured thresholds may be closer than that: a hold must not become a long hold)."""
    return threshold + min(0.5, (next_one - threshold) / 2)


class TerminalWatch(Observer):
    """The terminal redrawn with each frame the loop draws; the keyboard read once it is ready."""

    def __init__(self, panel: TerminalPanel, keys: Keys, keyboard: TextIO) -> None:
        self.panel, self.keys, self.keyboard = panel, keys, keyboard

    def ready(self) -> None:
        threading.Thread(target=self.keys.read, args=(self.keyboard,), daemon=True).start()

    def frame(self, screen: Screen) -> None:
        self.panel.draw()


def main(config_path: Path | None, routine: str | None = None, speed: float = 1.0) -> int:
    """The demo of the configuration at ``config_path``, its menu showing ``routine``."""
    config = load_config(config_path)  # its errors are the person's, before the terminal's
    if routine is not None:
        routine_named(config, routine)
    # The terminal is the panel: the log goes to a file beside the state.
    # The demo keeps its own state (a demo left mid-session comes back paused, as the device
    # does) apart from a real daemon's history.
    state = demo_state()
    state.mkdir(parents=True, exist_ok=True)
    log_file = state / "demo.log"
    logging.basicConfig(filename=log_file, level=logging.INFO, format="%(asctime)s %(message)s")
    options = Options(config=config_path, state_dir=state, routine=routine, speed=speed)
    return demo(options, sys.stdout, sys.stdin)


def demo(options: Options, out: TextIO, keyboard: TextIO) -> int:
    """The daemon with the demo's parts: the terminal ``out`` its panel, ``keyboard`` its
    button."""
    if not keyboard.isatty() or not out.isatty():
        print(
            "bedside demo needs a terminal; `bedside simulate` works without one.", file=sys.stderr
        )
        return 2
    player = ["aplay", "-q", "{file}"] if sound_cards() else None
    fd = keyboard.fileno()
    saved = termios.tcgetattr(fd)

    def build(config: Config, state_dir: Path, events: Events) -> Parts:
        parts, controls = mock_parts(config, state_dir, events, speed=options.speed, player=player)
        panel = TerminalPanel(controls.serial, out, options.speed)
        thresholds = core_terms.thresholds(config.button)
        keys = Keys(controls.pin, thresholds, options.speed, quit=lambda: events.put(Stop("quit")))
        out.write("\x1b[?25l\x1b[2J")
        panel.draw()
        shown = replace(parts, voice=SubtitledVoice(parts.voice, panel))
        return shown.watched_by(TerminalWatch(panel, keys, keyboard))

    tty.setcbreak(fd)
    try:
        return run(options, build)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        out.write("\x1b[?25h\n")
        out.flush()
