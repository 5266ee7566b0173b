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

import io
import logging
import os
import shutil
import signal
import sys
import termios
import textwrap
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol, TextIO

from gpiozero.pins.mock import MockPin

from bedside.app.assembly import Observer, Parts, Voice, mock_parts
from bedside.app.daemon import Options, run
from bedside.app.events import Events, Stop
from bedside.app.paths import demo_state, voice_folders
from bedside.app.reloads import Reconfiguration
from bedside.commands.choices import routine_named
from bedside.commands.terminal import (
    ENTER,
    LEAVE,
    Size,
    braille,
    cells,
    clip,
    fit,
    half_blocks,
    page,
    room,
)
from bedside.config import core_terms
from bedside.config.load import load_config
from bedside.config.sections import Config
from bedside.core.behaviour import Output
from bedside.core.effects import StateChanged
from bedside.core.errors import UsageError
from bedside.core.gestures import Thresholds
from bedside.core.screens import Screen
from bedside.core.state import Mode
from bedside.display.recording_bus import RecordingSerial
from bedside.voice import NULL_OUTPUT, VoiceSettings, sound_cards

LIT, DIM = "\x1b[96m", "\x1b[0m"
HELP = "space: press (keep holding: hold, long hold)   h: hold   e: long hold   q: quit"
HELP_FAST = "space: press   h: hold   e: long hold   q: quit"  # at --speed, keys only tap
HELP_SHORT = "space: press  h: hold  e: long hold  q: quit"  # for a narrow terminal
HELP_TINY = "space/h/e: button  q: quit"
SPEAKER = "  \U0001f50a "  # before each cue shown
SUBTITLE_SECONDS = 12.0  # a cue stays on the terminal this long (real time), then goes
SUBTITLES = 2  # cues said together (a step's last, the next one's first) both stay

log = logging.getLogger("bedside")


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


TerminalSize = Callable[[], tuple[int, int]]  # (columns, rows)


def size_of(out: TextIO) -> TerminalSize:
    """The size of the terminal ``out`` writes to, read afresh each time (it may be resized)."""

    def size() -> tuple[int, int]:
        try:
            columns, rows = os.get_terminal_size(out.fileno())
        except (OSError, ValueError, io.UnsupportedOperation):
            columns = rows = 0
        if columns > 0 and rows > 0:
            return columns, rows
        fallback = shutil.get_terminal_size((80, 24))  # $COLUMNS and $LINES, else 80x24
        return fallback.columns, fallback.lines

    return size


class TerminalPanel:
    """Draws the recorded panel RAM, the last cues, a note and the keys, in place, at the
    largest size the terminal holds (``bedside.commands.terminal``), again when it is
    resized."""

    def __init__(
        self,
        serial: RecordingSerial,
        out: TextIO,
        speed: float = 1.0,
        timers: Timers | None = None,
        size: TerminalSize | None = None,
    ) -> None:
        self.serial = serial
        self.out = out
        self.timers = timers or RealTimers()
        self.size = size or size_of(out)
        helps = (HELP, HELP_FAST) if speed == 1.0 else (HELP_FAST,)
        self.helps = (*helps, HELP_SHORT, HELP_TINY)
        self.subtitles: list[tuple[float, str]] = []  # (when it was said, what)
        self.screen: Screen | None = None  # what the panel shows, for the text-only page
        self.note = ""
        self.drawn_at: tuple[int, int] | None = None  # the terminal's size at the last draw
        self.closed = False
        self.lock = threading.Lock()

    def said(self, text: str) -> None:
        """A cue to show under the panel, for a while, beside one said just before it."""
        with self.lock:
            now = self.timers.now()
            self.subtitles = [s for s in self.subtitles if now - s[0] < SUBTITLE_SECONDS]
            self.subtitles = [*self.subtitles, (now, text)][-SUBTITLES:]
        self.timers.after(SUBTITLE_SECONDS + 0.1, self.draw)  # then it goes
        self.draw()

    def show(self, screen: Screen) -> None:
        """The screen the loop just drew (its words are the page when the terminal is small)."""
        with self.lock:
            self.screen = screen
        self.draw()

    def tell(self, note: str) -> None:
        """A line under the cues, for what the panel cannot say ("" takes it away)."""
        with self.lock:
            self.note = note
        self.draw()

    def resized(self) -> None:
        """The terminal's size changed (SIGWINCH): drawn again, on another thread, since the
        signal may come while this one holds the lock."""
        self.timers.after(0.0, self.draw)

    def close(self) -> None:
        """Drawn no more: the terminal is the shell's again (a subtitle's timer may still fire)."""
        with self.lock:
            self.closed = True

    def draw(self) -> None:
        with self.lock:
            if self.closed:
                return
            columns, rows = self.size()
            fresh = (columns, rows) != self.drawn_at
            self.drawn_at = (columns, rows)
            self.out.write(page(self._lines(columns, rows), rows, fresh))
            self.out.flush()

    def _lines(self, columns: int, rows: int) -> list[str]:
        panel = self.serial.panel
        size = fit(panel.width, panel.height, columns, rows)
        status = f"contrast {panel.contrast}"
        if not panel.on:
            status += "  (display off: space wakes it)"
        if size is Size.TEXT:
            words = self.screen.lines if panel.on and self.screen is not None else []
            top = [clip(line, columns) for line in words]
            columns_needed, rows_needed = room(Size.HALF, panel.width, panel.height)
            status += f"  ({columns_needed}x{rows_needed} shows the panel)"
        else:
            pixels = panel.pixels() if panel.on else [[False] * panel.width] * panel.height
            drawn = half_blocks(pixels) if size is Size.FULL else braille(pixels)
            edge = "\u2500" * len(drawn[0])
            top = [f"\u250c{edge}\u2510"]
            top += [f"\u2502{LIT}{row}{DIM}\u2502" for row in drawn]
            top += [f"\u2514{edge}\u2518"]
        keys = next((h for h in self.helps if cells(h) <= columns), self.helps[-1])
        below = [clip(status, columns), *self._subtitles(columns), clip(self.note, columns)]
        below.append(clip(keys, columns))
        if len(top) + len(below) > rows:  # a tiny terminal: the panel's words give way first
            top = top[: max(0, rows - len(below))]
        lines = top + below
        return lines if len(lines) <= rows else [*lines[: rows - 1], lines[-1]]  # keys stay

    def _subtitles(self, columns: int) -> list[str]:
        """The cues still shown, in ``SUBTITLES`` lines: one alone may take both."""
        now = self.timers.now()
        shown = [text for at, text in self.subtitles if now - at < SUBTITLE_SECONDS]
        width = columns - cells(SPEAKER)
        wrapped = [textwrap.wrap(text, width) or [""] for text in shown] if width > 8 else []
        lines: list[str] = []
        if wrapped and sum(len(text_lines) for text_lines in wrapped) <= SUBTITLES:
            indent = " " * cells(SPEAKER)
            for first, *more in wrapped:
                lines += [SPEAKER + first, *(indent + line for line in more)]
        else:
            lines = [clip(SPEAKER + text, columns) for text in shown]
        return lines + [""] * (SUBTITLES - len(lines))  # the keys stay on the same row


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

    def say(self, text: str, volume: float | None = None, at: float | None = None) -> None:
        self.voice.say(text, volume, at)
        self.panel.said(text)  # (a second early when asked ahead: read as it begins)

    def silence(self) -> None:
        self.voice.silence()

    def withdraw(self) -> None:
        self.voice.withdraw()

    def wake(self) -> None:
        self.voice.wake()

    def chime(self, kind: str, at: float | None = None) -> None:
        self.voice.chime(kind, at)

    def soundscape(self, on: bool, fade: float = 3.0) -> None:
        self.voice.soundscape(on, fade)

    def sleep_timer(self) -> None:
        self.voice.sleep_timer()

    def listen(self, hear: Callable[[dict[str, Any]], None]) -> None:
        self.voice.listen(hear)


class Keys:
    """The keyboard as the button, through the MockPin (down is low: the button grounds it).

    h and e hold the button down a little past the configured ``[button] hold`` and
    ``long_hold``; a held space bar keeps it down for as long as the terminal repeats the key.
    At ``--speed N`` every key is a tap of its length in the device's time, N times shorter.
    """

    LIFT = 0.1  # up between a hold and a space kept for after it, as a finger lifts
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
        self.tapped = False  # down by h, e or a tap at speed, not by a space bar held down
        self.kept = False  # a space came during that: pressed once the button is up again
        self.last_space: float | None = None
        self.release: Pending | None = None
        self.lock = threading.Lock()

    def tap(self, seconds: float) -> None:
        """Down for ``seconds`` of the device's time, unless it is down already."""
        with self.lock:
            if self.down:
                return
            self.down = self.tapped = True
            self.pin.drive_low()
        self._release_after(seconds / self.speed)

    def space(self) -> None:
        # A held key repeats: the first repeat comes after the terminal's delay (about half a
        # second), then quickly. The button stays down while the repeats keep coming.
        # A space while h or e holds the button is a press meant for after it (the person
        # sees the hold's screen and goes on), not more of the hold: it is kept until then.
        now = self.timers.now()
        repeat = self.last_space is not None and now - self.last_space < self.REPEATING
        self.last_space = now
        with self.lock:
            if self.down and self.tapped:
                self.kept = True
                return
        if self.speed != 1.0:
            self.tap(self.FAST_PRESS)
            return
        with self.lock:
            if not self.down:
                self.down, self.tapped = True, False
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
            kept, self.kept = self.kept, False
        if kept:
            self.timers.after(self.LIFT, self._kept_press)

    def _kept_press(self) -> None:
        self.last_space = None  # a press of its own, never taken for a repeat
        self.space()

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
        """Every key from ``keyboard``, until one asks to quit or the terminal goes (its window
        closed: the read fails, and the demo ends rather than hold its state folder on)."""
        while True:
            try:
                key = keyboard.read(1)
            except OSError:
                key = ""
            if not self.key(key):
                return


def _past(threshold: float, next_one: float) -> float:
    """A little past ``threshold``: half a second, but never as far as the next threshold
    (the configured thresholds may be closer than that: a hold must not become a long hold)."""
    return threshold + min(0.5, (next_one - threshold) / 2)


class TerminalWatch(Observer):
    """The terminal redrawn with each frame the loop draws; the keyboard read once it is
    ready. A session the daemon brings back paused at start (the demo was left mid-session)
    comes before the menu, and before the routine ``asked`` for: a note says so, and how to
    end it, until it ends."""

    def __init__(
        self, panel: TerminalPanel, keys: Keys, keyboard: TextIO, asked: str | None = None
    ) -> None:
        self.panel, self.keys, self.keyboard, self.asked = panel, keys, keyboard, asked
        self.started = False

    def ready(self) -> None:
        self.started = True
        threading.Thread(target=self.keys.read, args=(self.keyboard,), daemon=True).start()

    def output(self, t: float, output: Output) -> None:
        if not isinstance(output, StateChanged):
            return
        if output.mode in (Mode.MENU, Mode.FINISHED):
            if self.panel.note:
                self.panel.tell("")
        elif not self.started:  # brought back by the restart, before any key
            note = resumed_note(output.routine, self.asked)
            log.info("%s", note)
            self.panel.tell(note)

    def frame(self, screen: Screen) -> None:
        self.panel.show(screen)


def resumed_note(resumed: str, asked: str | None) -> str:
    """What the terminal says of a session brought back paused: it comes first, and how to end
    it (the routine asked for with ``--routine`` waits in the menu after it)."""
    if asked is not None and asked != resumed:
        return f"Your paused {resumed} comes first: e (a long hold) ends it, then {asked}."
    return f"Your {resumed}, paused where you left it: space carries on, e (a long hold) ends it."


def waits_in_real_time(speed: float) -> Callable[[Config], Reconfiguration]:
    """The configuration in the behaviour's terms, with what waits for a person counted in
    real seconds at ``speed``: the routine runs N times fast, but the menu and the finished
    screen stay lit ``off_after`` real seconds ("All done" shows that long), a pause
    ``off_after_paused``, as a person reads and reaches for a key at their own pace."""

    def terms(config: Config) -> Reconfiguration:
        made = Reconfiguration.from_config(config)
        settings = replace(
            made.settings,
            off_after=made.settings.off_after * speed,
            off_after_paused=made.settings.off_after_paused * speed,
        )
        return replace(made, settings=settings)

    return terms


def main(config_path: Path | None, routine: str | None = None, speed: float = 1.0) -> int:
    """The demo of the configuration at ``config_path``, its menu showing ``routine``."""
    # its errors are the person's, before the terminal's
    config = load_config(config_path, voice_folders())
    if routine is not None:
        routine_named(config, routine)
    # The terminal is the panel: the log goes to a file beside the state.
    # The demo keeps its own state (a demo left mid-session comes back paused, as the device
    # does) apart from a real daemon's history.
    state = demo_state()
    state.mkdir(parents=True, exist_ok=True)
    log_file = state / "demo.log"
    logging.basicConfig(filename=log_file, level=logging.INFO, format="%(asctime)s %(message)s")
    options = Options(
        config=config_path,
        state_dir=state,
        routine=routine,
        speed=speed,
        terms=waits_in_real_time(speed),
    )
    return demo(options, sys.stdout, sys.stdin)


def demo(options: Options, out: TextIO, keyboard: TextIO) -> int:
    """The daemon with the demo's parts: the terminal ``out`` its panel, ``keyboard`` its
    button."""
    if not keyboard.isatty() or not out.isatty():
        raise UsageError("the demo needs a terminal; `bedside simulate` works without one")
    # The stage plays on the configured device where there is a card; else on the clock.
    output = None if sound_cards() else NULL_OUTPUT
    fd = keyboard.fileno()
    saved = termios.tcgetattr(fd)
    panels: list[TerminalPanel] = []  # the one build makes, followed when the terminal resizes

    def build(config: Config, state_dir: Path, events: Events) -> Parts:
        where = f"alsa:{config.voice.device}" if output is None else output
        parts, controls = mock_parts(config, state_dir, events, speed=options.speed, output=where)
        panel = TerminalPanel(controls.serial, out, options.speed)
        panels.append(panel)
        thresholds = core_terms.thresholds(config.button)
        keys = Keys(controls.pin, thresholds, options.speed, quit=lambda: events.put(Stop("quit")))
        out.write(ENTER)
        panel.draw()
        shown = replace(parts, voice=SubtitledVoice(parts.voice, panel))
        watch = TerminalWatch(panel, keys, keyboard, asked=options.routine)
        return shown.watched_by(watch)

    def resized(signum: int, frame: object) -> None:
        for panel in panels:
            panel.resized()

    tty.setcbreak(fd)
    following = signal.signal(signal.SIGWINCH, resized)
    try:
        return run(options, build)
    finally:
        signal.signal(signal.SIGWINCH, following)
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        for panel in panels:
            panel.close()
        if panels:
            out.write(LEAVE)
        out.flush()
