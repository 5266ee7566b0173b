"""Where the stage's stream goes: a real ALSA device, or stand-ins for tests and the bench.

Each output has ``format``, ``write(block)`` (blocks until the output has room: the output's
clock paces the stage), ``delay()`` (frames written and not yet heard), ``rewindable()`` and
``rewind(frames)`` (take back the newest frames written and not yet heard, to write them again:
0 where the output cannot) and ``close(drain)``.

- ``alsa:NAME`` (the default, ``alsa:default``): libasound through ctypes (``alsa.py``).
- ``aplay:NAME``: ``aplay -t raw`` fed through a pipe, the alternative measured in the bench.
  It cannot say how much is queued, so ``delay`` is its configured buffer, an estimate.
- ``null``: a card made of the clock that keeps nothing (``fake:`` without a capture): where
  there is no card to play on (``bedside run --mock-hardware``, the demo without a card).
- ``fake:...``: a sound card made of the monotonic clock, for tests and the bench on a machine
  without one: it consumes frames at its rate (optionally off by ``ppm``, as a real crystal is),
  holds ``buffer`` seconds, drops the first ``drop`` seconds after each open (as an I2S
  amplifier or a USB speaker waking up does), will not open while the file ``unplugged``
  names exists (a speaker pulled out, for the tests), rewinds unless ``rewind=no`` (as aplay's
  pipe cannot), and records what it "played", each stretch with the monotonic time of its
  first frame, to ``capture`` (float32 raw, and a JSON index beside it, written as the stream
  closes), so a test can compare what reached the card with what was meant.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from bedside.sound.alsa import LATENCY, AlsaOutput, OutputFormat, native_format

__all__ = ["AplayOutput", "FakeCard", "Output", "open_output", "output_format"]


class Output(Protocol):
    format: OutputFormat

    def write(self, block: np.ndarray) -> None: ...
    def delay(self) -> int: ...
    def rewindable(self) -> int: ...
    def rewind(self, frames: int) -> int: ...
    def close(self, drain: bool = True) -> None: ...


def _options(spec: str) -> tuple[str, dict[str, str]]:
    if spec in ("null", "null:"):
        spec = "fake:"
    kind, _, rest = spec.partition(":")
    options: dict[str, str] = {}
    for part in rest.split(",") if rest else []:
        key, eq, value = part.partition("=")
        if eq:
            options[key] = value
        else:
            options["name"] = part if "name" not in options else options["name"] + "," + part
    return kind, options


def output_format(spec: str, channels: int = 2) -> OutputFormat:
    """The format the stage will play at on ``spec``'s output (asked of ALSA for alsa/aplay)."""
    kind, options = _options(spec)
    if kind in ("alsa", "aplay"):
        return native_format(options.get("name", "default"), channels)
    if kind == "fake":
        return OutputFormat(
            int(options.get("rate", 48000)), int(options.get("channels", channels)), "FLOAT_LE"
        )
    raise ValueError(f"unknown output {spec!r}: alsa:NAME, aplay:NAME or fake:...")


def open_output(spec: str, fmt: OutputFormat, latency: float = LATENCY) -> Output:
    kind, options = _options(spec)
    if kind == "alsa":
        return AlsaOutput(options.get("name", "default"), fmt, latency)
    if kind == "aplay":
        return AplayOutput(options.get("name", "default"), fmt, latency)
    if kind == "fake":
        return FakeCard(
            fmt,
            buffer=float(options.get("buffer", latency)),
            drop=float(options.get("drop", 0.0)),
            ppm=float(options.get("ppm", 0.0)),
            capture=Path(options["capture"]) if "capture" in options else None,
            unplugged=Path(options["unplugged"]) if "unplugged" in options else None,
            rewinds=options.get("rewind", "yes") != "no",
        )
    raise ValueError(f"unknown output {spec!r}")


class AplayOutput:
    """``aplay -t raw`` at the native format, fed through a pipe of one page."""

    def __init__(self, name: str, fmt: OutputFormat, latency: float = LATENCY) -> None:
        self.format = fmt
        self.latency = latency
        self.process = subprocess.Popen(
            [
                "aplay",
                "-q",
                "-D",
                name,
                "-t",
                "raw",
                "-f",
                fmt.format,
                "-r",
                str(fmt.rate),
                "-c",
                str(fmt.channels),
                "--buffer-time",
                str(int(latency * 1e6)),
                "--disable-resample",
                "-",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert self.process.stdin is not None
        self.pipe = self.process.stdin
        try:
            import fcntl

            fcntl.fcntl(self.pipe.fileno(), 1031, 4096)  # F_SETPIPE_SZ: one page
        except OSError:
            pass

    def write(self, block: np.ndarray) -> None:
        self.pipe.write(self.format.encode(block).tobytes())
        self.pipe.flush()

    def delay(self) -> int:
        return int(self.latency * self.format.rate)

    def rewindable(self) -> int:
        return 0  # what is in aplay's pipe and buffer is past taking back

    def rewind(self, frames: int) -> int:
        return 0

    def close(self, drain: bool = True) -> None:
        with contextlib.suppress(OSError):
            self.pipe.close()
        if not drain:
            self.process.kill()
        self.process.wait()


class FakeCard:
    """A sound card made of the monotonic clock (see the module's notes)."""

    def __init__(
        self,
        fmt: OutputFormat,
        buffer: float = LATENCY,
        drop: float = 0.0,
        ppm: float = 0.0,
        capture: Path | None = None,
        unplugged: Path | None = None,
        rewinds: bool = True,
    ) -> None:
        if unplugged is not None and unplugged.exists():  # a speaker pulled out, for tests
            said = unplugged.read_text().strip()
            raise OSError("the speaker is unplugged" + (f" ({said})" if said else ""))
        self.unplugged = unplugged
        self.rewinds = rewinds
        self.format = fmt
        self.rate = fmt.rate * (1.0 + ppm * 1e-6)  # the card's true rate
        self.buffer = max(1, int(buffer * fmt.rate))
        self.drop = int(drop * fmt.rate)
        self.written = 0
        self.started: float | None = None  # monotonic time its first frame was heard
        self.xruns = 0
        self.capture = capture
        # What it "played", kept in memory and written at the close: a write to a file while
        # playing can wait on the disk (writeback under another process's sync), and a card
        # that waits underruns, which a real one would not have done for that.
        self._played_frames: list[np.ndarray] | None = [] if capture is not None else None

    def _played(self, now: float) -> int:
        if self.started is None:
            return 0
        return min(self.written, int((now - self.started) * self.rate))

    def write(self, block: np.ndarray) -> None:
        if self.unplugged is not None and self.unplugged.exists():  # pulled out while playing
            raise OSError("the speaker is unplugged")
        n = len(block)
        if self.started is not None:
            # An underrun: the card ran dry and played silence meanwhile (a real card's xrun);
            # the capture gets that silence, so its frames stay on the card's clock.
            behind = int((time.monotonic() - self.started) * self.rate) - self.written
            if behind > 0:
                self.xruns += 1
                if self._played_frames is not None:
                    self._played_frames.append(
                        np.zeros((behind, self.format.channels), dtype=np.float32)
                    )
                self.written += behind
        if self.started is None and self.written + n >= self.buffer:
            # Like ALSA's start threshold: playing begins once the buffer is full.
            self.started = time.monotonic()
        while self.started is not None:
            room = self.buffer - (self.written - self._played(time.monotonic()))
            if room >= n:
                break
            time.sleep((n - room) / self.rate + 0.0005)
        if self._played_frames is not None:
            data = np.array(block, dtype=np.float32, copy=True).reshape(n, -1)
            dropped = max(0, min(n, self.drop - self.written))
            data[:dropped] = 0.0  # the card wakes up late: these frames never sound
            self._played_frames.append(data)
        self.written += n
        if self.started is None and self.written >= self.buffer:
            self.started = time.monotonic()

    def delay(self) -> int:
        return self.written - self._played(time.monotonic())

    def rewindable(self) -> int:
        if not self.rewinds:
            return 0
        return self.delay() if self.started is not None else self.written

    def rewind(self, frames: int) -> int:
        """Like ``snd_pcm_rewind``: the newest frames not yet played are taken back (and
        overwritten in the capture by what is written next)."""
        taken = max(0, min(frames, self.rewindable()))
        left = taken
        while left and self._played_frames:
            last = self._played_frames.pop()
            if len(last) > left:
                self._played_frames.append(last[: len(last) - left])
            left = max(0, left - len(last))
        self.written -= taken
        return taken

    def close(self, drain: bool = True) -> None:
        if drain and self.started is not None:
            left = self.delay()
            if left > 0:
                time.sleep(left / self.rate)
        if self._played_frames is not None and self.capture is not None:
            with open(self.capture, "ab") as file:
                offset = file.tell()
                for chunk in self._played_frames:
                    file.write(chunk.tobytes())
            self._played_frames = None
            index = Path(str(self.capture) + ".json")
            stretches = json.loads(index.read_text()) if index.exists() else []
            stretches.append(
                {
                    "start": self.started,
                    "offset": offset,
                    "frames": self.written,
                    "rate": self.format.rate,
                    "channels": self.format.channels,
                    "drop": self.drop,
                    "xruns": self.xruns,
                }
            )
            temporary = index.with_name(index.name + ".tmp")
            temporary.write_text(json.dumps(stretches))
            os.replace(temporary, index)


def read_capture(capture: Path) -> list[dict[str, Any]]:
    """The stretches a FakeCard recorded: each its index entry with ``samples`` (float32
    frames x channels) added."""
    stretches: list[dict[str, Any]] = json.loads(Path(str(capture) + ".json").read_text())
    raw = np.fromfile(capture, dtype=np.float32)
    for s in stretches:
        count = s["frames"] * s["channels"]
        start = s["offset"] // 4
        s["samples"] = raw[start : start + count].reshape(-1, s["channels"])
    return stretches
