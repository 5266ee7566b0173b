"""Driving a real stage process (``python -I -m bedside.sound.stage``) against a fake card."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bedside.sound.outputs import read_capture
from bedside.sound.wavfile import write_wav

R = 48000


class StageProcess:
    def __init__(self, tmp: Path, *args: str, drop: float = 0.0, output: str | None = None):
        self.capture = tmp / "capture.raw"
        spec = output or f"fake:capture={self.capture},drop={drop}"
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-m", "bedside.sound.stage", "--output", spec, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
            cwd=tmp,
        )
        self.lines: list[dict] = []
        self._pending = b""
        assert self.process.stdout is not None
        self._fd = self.process.stdout.fileno()
        self.ready = self.wait_for(lambda m: m["type"] == "ready", 10)

    def send(self, **line: object) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(line) + "\n")
        self.process.stdin.flush()

    def read(self, timeout: float) -> dict | None:
        """The next line, read straight from the pipe (a TextIOWrapper's own buffer would hide
        lines from select)."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._pending:
            ready, _, _ = select.select([self._fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                return None
            data = os.read(self._fd, 65536)
            if not data:
                return None
            self._pending += data
        line, self._pending = self._pending.split(b"\n", 1)
        message = json.loads(line)
        self.lines.append(message)
        return message

    def wait_for(self, match, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        for message in self.lines:
            if match(message):
                return message
        while time.monotonic() < deadline:
            message = self.read(deadline - time.monotonic())
            if message is not None and match(message):
                return message
        raise TimeoutError(f"no such line within {timeout} s; got {self.lines[-5:]}")

    def quit(self, timeout: float = 10) -> int:
        self.send(type="quit")
        while self.read(timeout) is not None:
            pass
        _, err = self.process.communicate(timeout=timeout)
        self.stderr = err
        return self.process.returncode

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def wakeups(self) -> int:
        """The times the stage's threads have gone to sleep (so woken since): voluntary context
        switches. Preemptions (nonvoluntary ones) are not wake-ups but the machine's other
        load taking the CPU from work the stage was doing; one run beside stress-ng counted 18
        of them while the stage read one line."""
        total = 0
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            for line in (task / "status").read_text().splitlines():
                if line.startswith("voluntary_ctxt_switches"):
                    total += int(line.split()[1])
        return total

    def capture_stretches(self) -> list[dict]:
        return read_capture(self.capture)


def burst(path: Path, freq: float = 3000.0, seconds: float = 0.6, level: float = 0.3) -> Path:
    """A stand-in cue: a tone burst no chime or soundscape has, with 5 ms raised-cosine ends."""
    t = np.arange(int(seconds * R)) / R
    x = level * np.sin(2 * np.pi * freq * t)
    ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(240) + 0.5) / 240)
    x[:240] *= ramp
    x[-240:] *= ramp[::-1]
    write_wav(path, x, R)
    return path


def onsets(x: np.ndarray, freq: float = 3000.0, threshold: float = 0.05) -> np.ndarray:
    """Frames where a ``freq`` burst starts (a 5 ms matched filter crossing ``threshold``,
    corrected to the burst's first frame: the detector's delay on the ramp is measured once on
    a clean burst and the same here)."""
    n = 240
    reference = np.exp(-2j * np.pi * freq * np.arange(n) / R)
    envelope = np.abs(np.convolve(x, reference[::-1], mode="valid")) * 2 / n
    rising = np.flatnonzero((envelope[1:] > threshold) & (envelope[:-1] <= threshold)) + 1
    return rising


def detector_delay(freq: float = 3000.0) -> int:
    """Frames from a clean burst's first frame to where ``onsets`` finds it."""
    t = np.arange(int(0.3 * R)) / R
    x = 0.3 * np.sin(2 * np.pi * freq * t)
    ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(240) + 0.5) / 240)
    x[:240] *= ramp
    padded = np.concatenate([np.zeros(R // 10), x])
    return int(onsets(padded, freq)[0] - R // 10)
