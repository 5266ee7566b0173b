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
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from gpiozero.pins.mock import MockPin

from bedside.app.assembly import Observer, Parts, Voice, mock_parts
from bedside.app.daemon import Options, run
from bedside.app.events import Events, Stop
from bedside.app.paths import demo_state
from bedside.commands.choices import routine_named
from bedside.config.load import Config, load_config
from bedside.core.screens import Screen
from bedside.display.recording_bus import RecordingSerial
from bedside.voice import sound_cards

LIT, DIM = "\x1b[96m", "\x1b[0m"
HELP = "space: press (keep holding: hold, long hold)   h: hold   e: long hold   q: quit"
HELP_FAST = "space: press   h: hold   e: long hold   q: quit"  # at --speed, keys only tap
SUBTITLE_SECONDS = 12.0  # a cue stays on the terminal this long (real time), then goes
SUBTITLES = 2  # cues said together (a step's last, the next one's first) both stay


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

    def __init__(self, serial: RecordingSerial, out: TextIO, speed: float = 1.0) -> None:
        self.serial = serial
        self.out = out
        self.help = HELP if speed == 1.0 else HELP_FAST
        self.subtitles: list[tuple[float, str]] = []  # (when it was said, what)
        self.lock = threading.Lock()

    def said(self, text: str) -> None:
        """A cue to show under the panel, for a while, beside one said just before it."""
        with self.lock:
            now = time.monotonic()
            self.subtitles = [s for s in self.subtitles if now - s[0] < SUBTITLE_SECONDS]
            self.subtitles = [*self.subtitles, (now, text)][-SUBTITLES:]
        timer = threading.Timer(SUBTITLE_SECONDS + 0.1, self.draw)  # then it goes
        timer.daemon = True
        timer.start()
        self.draw()

    def draw(self, *_: object) -> None:
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
            now = time.monotonic()
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

    def prepare(self, texts: list[str], volumes: list[float | None]) -> None:
        self.voice.prepare(texts, volumes)

    def say(self, text: str, volume: float | None = None) -> None:
        self.voice.say(text, volume)
        self.panel.said(text)

    def silence(self) -> None:
        self.voice.silence()

    def chime(self, kind: str) -> None:
        self.voice.chime(kind)


class Keys:
    """The keyboard as the button, through the MockPin (down is low: the button grounds it)."""

    def __init__(self, events: Events | None, pin: MockPin, speed: float) -> None:
        self.events, self.pin, self.speed = events, pin, speed
        self.down = False
        self.last_space = 0.0
        self.release: threading.Timer | None = None
        self.lock = threading.Lock()

    def tap(self, seconds: float) -> None:
        with self.lock:
            if self.down:
                return
            self.down = True
            self.pin.drive_low()
        self._release_after(seconds / self.speed)

    def space(self) -> None:
        # A held key repeats: the first repeat comes after the terminal's delay (about half a
        # second), then quickly. The button stays down while the repeats keep coming.
        now = time.monotonic()
        repeat = now - self.last_space < 0.7
        self.last_space = now
        if self.speed != 1.0:
            self.tap(0.1)
            return
        with self.lock:
            if not self.down:
                self.down = True
                self.pin.drive_low()
        self._release_after(0.15 if repeat else 0.6)

    def _release_after(self, seconds: float) -> None:
        if self.release is not None:
            self.release.cancel()
        self.release = threading.Timer(seconds, self._up)
        self.release.daemon = True
        self.release.start()

    def _up(self) -> None:
        with self.lock:
            if self.down:
                self.down = False
                self.pin.drive_high()

    def read(self, stream) -> None:
        while True:
            key = stream.read(1)
            if key in ("", "q", "Q", "\x04"):
                if self.events is not None:
                    self.events.put(Stop("quit"))
                return
            if key == " ":
                self.space()
            elif key in ("h", "H"):
                self.tap(1.5)
            elif key in ("e", "E"):
                self.tap(3.5)


class TerminalWatch(Observer):
    """The terminal redrawn with each frame the loop draws; the keyboard read once it is ready."""

    def __init__(self, panel: TerminalPanel, keys: Keys) -> None:
        self.panel, self.keys = panel, keys

    def ready(self) -> None:
        threading.Thread(target=self.keys.read, args=(sys.stdin,), daemon=True).start()

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
    return demo(options)


def demo(options: Options, out: TextIO = sys.stdout) -> int:
    if not sys.stdin.isatty() or not out.isatty():
        print(
            "bedside demo needs a terminal; `bedside simulate` works without one.", file=sys.stderr
        )
        return 2
    player = ["aplay", "-q", "{file}"] if sound_cards() else None
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)

    def build(config: Config, state_dir: Path, events: Events) -> Parts:
        parts, controls = mock_parts(config, state_dir, events, speed=options.speed, player=player)
        panel = TerminalPanel(controls.serial, out, options.speed)
        keys = Keys(events, controls.pin, options.speed)
        out.write("\x1b[?25l\x1b[2J")
        panel.draw()
        shown = replace(parts, voice=SubtitledVoice(parts.voice, panel))
        return shown.watched_by(TerminalWatch(panel, keys))

    tty.setcbreak(fd)
    try:
        return run(options, build)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        out.write("\x1b[?25h\n")
        out.flush()
