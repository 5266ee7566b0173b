"""The sound stage: a child process that owns the audio output.

    python -I -m bedside.sound.stage [--output alsa:default] [--preroll 0.5] ...

(``-I``: the working folder never shadows the package, no user site, no PYTHON* variables.)

It reads a schedule on stdin, one JSON object a line, and answers on stdout, one JSON object a
line. Times are ``time.monotonic()`` seconds, the same clock in every process of the machine.

Asked (stdin); ``at`` is optional everywhere (now), ``id`` optional on sounds:

    {"type": "cue", "file": "/cache/x.wav", "at": T, "text": "One minute left.", "id": "c7"}
    {"type": "chime", "file": "/cache/step.wav", "at": T, "text": "step"}
    {"type": "soundscape", "file": "/cache/rain.wav", "at": T, "fade": 3, "name": "rain"}
    {"type": "soundscape", "off": true, "at": T, "fade": 120}      (the sleep timer's fade-out)
    {"type": "level", "db": -18, "ramp": 1}       the soundscape's level under the voice
    {"type": "duck", "db": 12}                    how far the soundscape dips under speech
    {"type": "volume", "db": -6, "ramp": 1}       master volume (quiet hours)
    {"type": "stop", "fade": 0.3}                 fade out everything asked before it
    {"type": "stop", "fade": 0.1, "soundscape": false}   ...but the soundscape plays on
    {"type": "cancel", "id": "c7"}                drop a sound not yet begun (no id: all)
    {"type": "ping", "id": 1}                     answered with a pong (tests sync on it)
    {"type": "wake"}              a sound may come soon (the button went down): the output
                                  opens now, its pre-roll running, and stays open ``hold`` s
    {"type": "quit"}                              fade out, close the output, exit 0
    {"type": "quit", "drain": true}               play what is asked, then close and exit
    (the end of stdin is a quit: a parent that goes away takes the sound with it)

Told (stdout):

    {"type": "ready", "rate": 48000, "channels": 2, "format": "S16_LE", "output": ...}
    {"type": "output", "open": true | false, "t": T}
    {"type": "sound", "what": "cue" | "chime" | "soundscape", "text": ..., "id": ...,
     "start": T, "end": T | null, "due": T}      when its first frame is written; start is when
                                                 it is heard (ALSA's delay), end when known
    {"type": "sound", "what": ..., "text": ..., "end": T, "cut": true}   a stop cut it short
    {"type": "duck", "state": "down" | "up", "start": T, "end": T, "db": 12}
    {"type": "pong", "id": 1, "t": T}
    {"type": "error", "message": ..., "line": ...}

How it behaves:

- **Pre-roll.** The output is opened ``preroll`` seconds before the first sound is due and fed
  silence, so an output that wakes late (an I2S amplifier, a USB speaker) loses only silence;
  a sound asked for sooner than that starts ``preroll`` after the output opened. It is closed
  ``linger`` seconds after the last sound has ended (silence again, so the stream starts and
  ends at zero), unless another sound is due within ``hold`` seconds.
- **Nothing due, nothing awake.** With the output closed the stage blocks in ``select`` until
  the next sound's opening time or a new line: no timer, no wake-up.
- **What is asked late is not behind the buffer.** A cue or chime asked for a time whose frames
  are already written (a press made it due at once), and a stop or a cancel (a pause), take
  those frames back from the output (``snd_pcm_rewind``, keeping ``LATE_MARGIN`` queued) and
  write them again with the change, so it is heard ``LATE_MARGIN`` to a block after it was
  asked, not the buffer's 200 ms later; on an output that cannot rewind, after the buffer.
- **Sample-accurate.** Sounds are handed to the mixer ``horizon`` seconds before they are due
  and placed on the stream where the monotonic time they are due is heard (the frames queued
  before the speaker, ``snd_pcm_delay``, are counted), so a cue asked ahead starts on its frame.
- **Bounded.** At most ``MAX_PENDING`` lines wait; sounds are read from disk only when handed to
  the mixer; a soundscape is one loop in memory.
- **Ahead of the rest.** It asks for nice -10 (granted to root or with CAP_SYS_NICE), so a
  Piper render beside it does not starve the output; without it, the 200 ms buffer copes.
- **Never orphaned.** It dies with its parent (``PR_SET_PDEATHSIG``: SIGTERM, on which it fades
  out and closes the output), and an end of its stdin is a quit. The kernel closes the device
  of a process that is killed outright.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import heapq
import itertools
import json
import math
import os
import select
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bedside.sound.alsa import LATENCY, AlsaError, OutputFormat
from bedside.sound.mixer import Event, Mixer
from bedside.sound.outputs import Output, open_output, output_format
from bedside.sound.resample import resample, resample_loop
from bedside.sound.wavfile import read_wav, read_wav_int16
from bedside.sound.wavheader import wav_info

__all__ = ["Stage", "apply_line", "main"]

MAX_PENDING = 1000
BLOCK = 2048  # frames mixed and written at a time: 43 ms at 48 kHz
# What stays queued before the card when frames are taken back for a sound asked late: the
# rewind, the mix and the write again take well under a millisecond here, so 25 ms is ample
# room for a busy moment, and is what such a sound waits (with up to a block, until it is read).
LATE_MARGIN = 0.025
PRIORITY = -10  # the nice value the stage asks for (a plain user may not: then it stays at 0)
SOUND_TYPES = ("cue", "chime")
CONTROL_TYPES = ("soundscape", "level", "duck", "volume", "stop", "cancel")


def apply_line(
    mixer: Mixer, line: dict[str, Any], frame: int, load: Callable[[str, bool], np.ndarray]
) -> None:
    """One line of the schedule, given to the mixer at stream frame ``frame``; ``load(path,
    loop)`` reads a sound. The stage and the offline render share it."""
    kind = line["type"]
    if kind == "cue":
        mixer.cue(load(line["file"], False), frame, str(line.get("text", "")), line.get("id"))
    elif kind == "chime":
        mixer.chime(load(line["file"], False), frame, str(line.get("text", "")), line.get("id"))
    elif kind == "soundscape" and line.get("off"):
        mixer.command(frame, "soundscape_off", fade=line.get("fade", 3.0))
    elif kind == "soundscape":
        loop = load(line["file"], True)
        mixer.command(frame, "soundscape", loop=loop, name=line.get("name", ""),
                      fade=line.get("fade", 3.0))  # fmt: skip
        if "level" in line:
            mixer.command(frame, "level", db=line["level"], ramp=0)
    elif kind in ("level", "duck", "volume"):
        mixer.command(frame, kind, db=line["db"], ramp=line.get("ramp", 0.5))
    elif kind in ("stop", "cancel"):
        mixer.command(frame, kind, **_taking(line))
    else:
        raise ValueError(f"unknown type {kind!r}")


def _taking(line: dict[str, Any]) -> dict[str, Any]:
    """What a stop or a cancel line asks of the mixer."""
    if line["type"] == "stop":
        return {"fade": line.get("fade", 0.3), "soundscape": line.get("soundscape", True)}
    return {"id": line.get("id")}


def _named(line: dict[str, Any], ident: object) -> bool:
    """Whether a cancel of ``ident`` (None: every one) drops the sound ``line``."""
    return line["type"] in SOUND_TYPES and (ident is None or line.get("id") == ident)


def load_sound(path: str, rate: int, loop: bool = False) -> np.ndarray:
    """A cached sound at ``rate``: float32 for a cue or chime, int16 for a soundscape's loop
    (half the memory). One at another rate is resampled here (band-limited), but the cache
    should hold sounds at the card's rate: resampling is render-time work."""
    if loop:
        samples, file_rate = read_wav_int16(path)
        if file_rate != rate:
            resampled = resample_loop(samples / 32768.0, file_rate, rate)
            samples = np.rint(np.clip(resampled * 32767, -32768, 32767)).astype(np.int16)
        return samples
    sound, file_rate = read_wav(path)
    if file_rate != rate:
        sound = resample(sound, file_rate, rate).astype(np.float32)
    return sound


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, sig)  # PR_SET_PDEATHSIG


@dataclass(order=True)
class _Item:
    at: float
    seq: int
    line: dict[str, Any] = field(compare=False)


class Stage:
    def __init__(
        self,
        output: str = "alsa:default",
        *,
        preroll: float = 0.5,
        linger: float = 0.3,
        hold: float = 3.0,
        horizon: float = 1.5,
        latency: float = LATENCY,
        block: int = BLOCK,
        duck_db: float = 12.0,
        level_db: float = -18.0,
        out: Any = None,
        fmt: OutputFormat | None = None,
    ) -> None:
        self.spec = output
        self.preroll, self.linger, self.hold = preroll, linger, hold
        self.horizon = max(horizon, 0.5)
        self.latency = latency
        self.block = block
        self.answer = out or sys.stdout
        self.deaf = False
        self.quitting = False
        self.draining = False
        try:
            self.format = fmt or output_format(output)
        except AlsaError as e:
            # Busy or missing now: the common rate, asked again when the output opens.
            self.format = OutputFormat(48000, 2, "S16_LE")
            self.tell("error", message=f"cannot ask the output its format ({e}): 48 kHz")
        self.mixer = Mixer(self.format.rate, self.format.channels, duck_db=duck_db)
        self.mixer.level.set(0, level_db, 0)
        self.duck_db = duck_db
        self.output: Output | None = None
        self.pending: list[_Item] = []
        self.seq = itertools.count()
        self.guard = 0  # no sound starts before this frame (the pre-roll)
        self.started = 0  # sounds are placed once the stream runs past this frame
        # The stream's clock: frame `anchor_frame` is heard at monotonic `anchor_time`.
        self.anchor_frame = 0
        self.anchor_time = 0.0
        self._buffer = b""
        self._loops: dict[str, np.ndarray] = {}
        # The newest frames written, as mixed: what a rewind takes back is written again from it.
        self._tail = np.zeros((0, self.format.channels), dtype=np.float32)
        self._tail_size = round(latency * self.format.rate) + block
        self.awake_until = 0.0  # a wake holds the output open until then

    # -- talking -------------------------------------------------------------------------------
    def tell(self, kind: str, **fields: Any) -> None:
        if self.deaf:
            return
        try:
            self.answer.write(json.dumps({"type": kind, **fields}) + "\n")
            self.answer.flush()
        except (BrokenPipeError, OSError, ValueError):
            # Nobody listens any more (the parent is gone): finish quietly, output closed.
            self.deaf = True
            self.quitting = True

    # -- the clock -----------------------------------------------------------------------------
    def heard(self, frame: int) -> float:
        return self.anchor_time + (frame - self.anchor_frame) / self.format.rate

    def frame_of(self, t: float) -> int:
        return self.anchor_frame + round((t - self.anchor_time) * self.format.rate)

    def _reanchor(self) -> None:
        """After a write: the frame being heard now is the last written less the queue."""
        assert self.output is not None
        queued = self.output.delay()
        self.anchor_time = time.monotonic()
        self.anchor_frame = self.mixer.position - queued

    # -- reading the schedule ------------------------------------------------------------------
    def take(self, line: str) -> None:
        try:
            asked = json.loads(line)
            if not isinstance(asked, dict):
                raise ValueError("not a JSON object")
            kind = asked.get("type")
            if kind == "ping":
                self.tell("pong", id=asked.get("id"), t=time.monotonic())
                return
            if kind == "wake":
                self.awake_until = time.monotonic() + self.hold
                return
            if kind == "quit":
                if asked.get("drain"):
                    self.draining = True  # play what is asked, then exit
                else:
                    self.quitting = True
                return
            if kind not in SOUND_TYPES + CONTROL_TYPES:
                raise ValueError(f"unknown type {kind!r}")
            if kind in SOUND_TYPES or (kind == "soundscape" and not asked.get("off")):
                self._check_file(asked)
            if len(self.pending) >= MAX_PENDING:
                raise OverflowError(f"more than {MAX_PENDING} lines waiting")
            at = float(asked.get("at", time.monotonic()))
            if not math.isfinite(at):
                raise ValueError("at must be a finite number")
            item = _Item(at, next(self.seq), asked)
            if kind == "stop":
                # What was asked before a stop and has not begun never will.
                self.pending = [p for p in self.pending if p.line["type"] not in SOUND_TYPES]
                heapq.heapify(self.pending)
            elif kind == "cancel":
                # Not handed to the mixer yet (due past the horizon): dropped here; the mixer
                # drops it if it has it.
                ident = asked.get("id")
                self.pending = [p for p in self.pending if not _named(p.line, ident)]
                heapq.heapify(self.pending)
            heapq.heappush(self.pending, item)
        except (ValueError, TypeError, KeyError, OSError, OverflowError) as e:
            self.tell("error", message=str(e), line=line.strip()[:500])

    def _check_file(self, asked: dict[str, Any]) -> None:
        rate, _, _ = wav_info(asked["file"])  # the header now; the samples when due
        if rate != self.format.rate:
            self.tell(
                "error",
                message=f"{asked['file']}: {rate} Hz, resampled to "
                f"{self.format.rate} Hz at play time (render at the card's rate)",
            )

    def _read_lines(self, fd: int) -> bool:
        """Read what is there; False at end of input."""
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return True
        if not data:
            return False
        self._buffer += data
        *lines, self._buffer = self._buffer.split(b"\n")
        if len(self._buffer) > 1 << 20:
            self._buffer = b""
            self.tell("error", message="a line over 1 MB was dropped")
        for line in lines:
            if line.strip():
                self.take(line.decode("utf-8", "replace"))
        return True

    # -- handing sounds to the mixer -------------------------------------------------------------
    def _load(self, path: str, loop: bool = False) -> np.ndarray:
        return load_sound(path, self.format.rate, loop)

    def _hand_over(self, now: float) -> None:
        """Give the mixer every line due within the horizon, placed on the stream's frames."""
        while self.pending and self.pending[0].at <= now + self.horizon:
            item = heapq.heappop(self.pending)
            line = item.line
            frame = max(self.frame_of(item.at), self.guard)
            try:
                late = frame < self.mixer.position
                if late and line["type"] in SOUND_TYPES and self._reach_back(line, frame):
                    continue
                if late and line["type"] in ("stop", "cancel") and self._take_back(line, frame):
                    continue
                apply_line(self.mixer, line, frame, self._load)
                if line["type"] == "duck":
                    self.duck_db = float(line["db"])
            except (OSError, ValueError, KeyError, EOFError, OverflowError) as e:
                self.tell("error", message=f"{line['type']}: {e}", line=json.dumps(line)[:500])

    def _reach_back(self, line: dict[str, Any], frame: int) -> bool:
        """A cue or chime due at ``frame``, already written: the frames from where it may start
        are taken back from the output and written again with it. False when none can be (the
        output cannot rewind, or speech is before it): it is then placed as usual, after what
        is written."""
        wanted = self._room(max(self.mixer.earliest(line["type"], frame), self.guard))
        if wanted <= 0:
            return False  # read once, by apply_line, not here as well
        samples = self._load(line["file"])
        text, ident = str(line.get("text", "")), line.get("id")
        return self._rewrite(
            wanted,
            lambda first: self.mixer.reach_back(line["type"], samples, frame, first, text, ident),
        )

    def _take_back(self, line: dict[str, Any], frame: int) -> bool:
        """A stop or a cancel asked for ``frame``, already written: the frames from there are
        taken back and written again without what it stops (a pause silences speech within a
        block and ``LATE_MARGIN``, not the buffer's 200 ms later). False when the output
        cannot rewind: it then takes effect after what is written."""
        return self._rewrite(
            self._room(frame),
            lambda first: self.mixer.take_back(first, line["type"], **_taking(line)),
        )

    def _room(self, start: int) -> int:
        """How many of the frames written from ``start`` on can be taken back: all but
        ``LATE_MARGIN`` of those queued, at most (0 or less: none)."""
        assert self.output is not None
        margin = round(LATE_MARGIN * self.format.rate)
        room = min(self.output.rewindable() - margin, len(self._tail))
        return min(self.mixer.position - start, room)

    def _rewrite(self, wanted: int, change: Callable[[int], np.ndarray]) -> bool:
        """Take back the newest ``wanted`` frames written and write them again with
        ``change(first)`` added, ``first`` being the first frame taken back. False when none
        could be taken back."""
        assert self.output is not None
        if wanted <= 0:
            return False
        taken = self.output.rewind(wanted)
        if taken <= 0:
            return False
        first = self.mixer.position - taken
        again = self._tail[-taken:]
        self._tail = self._tail[:-taken]
        try:
            again = again + change(first)
        finally:
            # Written again whatever happens: a change that fails (the mixer full) leaves the
            # stream as it was, not short of what was taken back.
            self._send(again)
        return True

    # -- reporting ---------------------------------------------------------------------------
    def _report(self, events: list[Event]) -> None:
        for e in events:
            if e.kind == "sound":
                end = None if e.end is None else round(self.heard(e.end), 4)
                self.tell(
                    "sound",
                    what=e.what,
                    text=e.text,
                    id=e.id,
                    start=round(self.heard(e.frame), 4),
                    end=end,
                )
            elif e.kind == "cut":
                self.tell(
                    "sound",
                    what=e.what,
                    text=e.text,
                    id=e.id,
                    end=round(self.heard(e.end or e.frame), 4),
                    cut=True,
                )
            elif e.kind == "duck" and self.mixer.soundscape_playing:
                self.tell(
                    "duck",
                    state=e.what,
                    start=round(self.heard(e.frame), 4),
                    end=round(self.heard(e.end or e.frame), 4),
                    db=self.duck_db,
                )
        events.clear()

    # -- the output --------------------------------------------------------------------------------
    def _open(self) -> bool:
        try:
            self.output = open_output(self.spec, self.format, self.latency)
        except (AlsaError, OSError, ValueError) as e:
            self.tell("error", message=f"cannot open the output: {e}")
            return False
        now = time.monotonic()
        self._tail = self._tail[:0]
        self.anchor_frame, self.anchor_time = self.mixer.position, now + self.latency
        self.guard = self.mixer.position + round(self.preroll * self.format.rate)
        # Until the output has taken a buffer's worth, its delay says nothing yet.
        self.started = self.mixer.position + round(self.latency * self.format.rate) + self.block
        self.tell("output", open=True, t=round(now, 4))
        return True

    def _close(self) -> None:
        assert self.output is not None
        with contextlib.suppress(AlsaError, OSError):
            self.output.close(drain=True)
        self.output = None
        self.tell("output", open=False, t=round(time.monotonic(), 4))

    def _idle(self, now: float, hold: bool = True) -> bool:
        """True when the output may close: nothing sounds, the linger is over, nothing soon."""
        if now < self.awake_until:
            return False
        idle_from = self.mixer.idle_from()
        if idle_from is None:
            return False
        if self.mixer.position < idle_from + round(self.linger * self.format.rate):
            return False
        soon = self.hold if hold else 0.0
        return not (self.pending and self.pending[0].at - self.preroll < now + soon)

    def _write_block(self) -> None:
        self._send(self.mixer.mix(self.block))

    def _send(self, block: np.ndarray) -> None:
        """Write mixed frames to the output (and keep the newest, for a rewind)."""
        assert self.output is not None
        try:
            self.output.write(block)
        except (AlsaError, OSError) as e:
            self.tell("error", message=f"the output failed: {e}")
            with contextlib.suppress(Exception):
                self.output.close(drain=False)
            self.output = None
            self.tell("output", open=False, t=round(time.monotonic(), 4))
            return
        self._tail = np.concatenate([self._tail, block])[-self._tail_size :]
        self._reanchor()
        self._report(self.mixer.events)

    # -- the loop ----------------------------------------------------------------------------
    def run(self, fd: int, wake_fd: int | None = None) -> int:
        os.set_blocking(fd, False)
        watch = [fd] + ([wake_fd] if wake_fd is not None else [])
        self.tell(
            "ready",
            rate=self.format.rate,
            channels=self.format.channels,
            format=self.format.format,
            output=self.spec,
            preroll=self.preroll,
        )
        open_input = True
        while True:
            if self.output is None:
                gone = not open_input and not self.draining
                if self.quitting or gone or (self.draining and not self.pending):
                    return 0
                # Closed: sleep until a line comes or the next sound's opening time.
                timeout = None
                if self.pending:
                    timeout = max(
                        0.0, self.pending[0].at - self.preroll - self.latency - time.monotonic()
                    )
                ready, _, _ = select.select(watch if open_input else watch[1:], [], [], timeout)
                if wake_fd is not None and wake_fd in ready:
                    with contextlib.suppress(OSError):
                        os.read(wake_fd, 512)
                if fd in ready:
                    open_input = self._read_lines(fd)
                now = time.monotonic()
                due = self.pending and self.pending[0].at - self.preroll - self.latency <= now
                awake = now < self.awake_until
                if (due or awake) and not self.quitting and not self._open():
                    self.awake_until = 0.0  # not tried again until asked again
                    # The output cannot open: drop what is due now (no sound is better than a
                    # loop of retries), keep the rest for later.
                    while self.pending and self.pending[0].at <= now + self.horizon:
                        heapq.heappop(self.pending)
                continue
            # Open: mix and write one block (the write waits for the card), then read.
            ready, _, _ = select.select(watch if open_input else watch[1:], [], [], 0)
            if fd in ready and open_input:
                open_input = self._read_lines(fd)
            if self.quitting or (not open_input and not self.draining):
                self._finish()
                return 0
            now = time.monotonic()
            if self.mixer.position >= self.started:
                self._hand_over(now)
            self._write_block()
            drained = self.draining and not self.pending
            if self.output is not None and self._idle(now, hold=not drained):
                self._close()

    def _finish(self) -> None:
        """A quick fade of whatever sounds, a little silence, and the output closed."""
        if self.output is None:
            return
        self.mixer.command(self.mixer.position, "stop", fade=0.05)
        end = self.mixer.position + round(0.1 * self.format.rate)
        while self.output is not None and self.mixer.position < end:
            self._write_block()
        if self.output is not None:
            self._close()


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -I -m bedside.sound.stage", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--output",
        default="alsa:default",
        help="alsa:NAME (any ALSA device name), aplay:NAME, or fake:...",
    )
    parser.add_argument("--preroll", type=float, default=0.5)
    parser.add_argument("--linger", type=float, default=0.3)
    parser.add_argument("--hold", type=float, default=3.0)
    parser.add_argument("--latency", type=float, default=LATENCY)
    parser.add_argument("--block", type=int, default=BLOCK)
    parser.add_argument("--duck", type=float, default=12.0)
    parser.add_argument("--level", type=float, default=-18.0)
    parser.add_argument(
        "--format", action="store_true", help="print the output's native format as JSON and exit"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.format:
        try:
            fmt = output_format(args.output)
        except (AlsaError, ValueError) as e:
            print(json.dumps({"error": str(e)}))
            return 1
        print(json.dumps({"rate": fmt.rate, "channels": fmt.channels, "format": fmt.format}))
        return 0
    die_with_parent(signal.SIGTERM)
    # Ahead of the render child and whatever else runs, where it may (root, or CAP_SYS_NICE):
    # an output that underruns clicks. Without the right, the 200 ms buffer has to do.
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, 0, PRIORITY)
    # stdout is the answer; anything else writing to fd 1 (a library) goes to stderr.
    answer = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    stage = Stage(
        args.output,
        preroll=args.preroll,
        linger=args.linger,
        hold=args.hold,
        latency=args.latency,
        block=args.block,
        duck_db=args.duck,
        level_db=args.level,
        out=answer,
    )

    def on_signal(signum: int, frame: object) -> None:
        stage.quitting = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    return stage.run(sys.stdin.fileno(), wake_r)


if __name__ == "__main__":
    sys.exit(main())
