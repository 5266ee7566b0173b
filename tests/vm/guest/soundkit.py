"""What the sound group's tests share (make test-vm; as root inside the VM): the installed
bedside's sound stage run as the daemon runs it (its venv's python, ``-I -m
bedside.sound.stage``), the kernel's loopback card recorded by ``arecord`` with the monotonic
time of its first frame, and the comparisons of what reached the card with what was meant.

The card is snd-aloop's, card 0 (tests/vm/image/etc/modprobe.d): what is played on
``hw:Loopback,0,N`` comes back on ``hw:Loopback,1,N`` in the same jiffy (the driver moves both
sides on the kernel's timer, HZ=250 in Debian's kernel: 4 ms steps). ``default`` on this card is
alsa-lib's own ``cards/Loopback.conf``: plug, softvol, dmix on ``hw:Loopback,0`` (the first free
substream). The kernel stamps a stream's start (``trigger_time`` in /proc/asound) on the clock
alsa-lib asks for at open, CLOCK_MONOTONIC: the same clock as the stage's ``at``.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import time
import wave
from pathlib import Path

import numpy as np

INSTALLED_PYTHON = "/opt/bedside/venv/bin/python"  # make install's venv (PREFIX=/opt/bedside)
CARD = Path("/proc/asound/Loopback")  # card 0
LSB = 1 / 32768  # one step of the card's 16 bits, at full scale 1.0


# -- sounds ------------------------------------------------------------------------------------
def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    """16-bit PCM, mono (1-D) or frames x channels, full scale 1.0."""
    x = samples if samples.ndim == 2 else samples[:, None]
    data = np.clip(np.rint(x * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(x.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(data.tobytes())
    return path


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """frames x channels, float64 at full scale 1.0 (as the stage reads it: samples / 32768)."""
    with wave.open(str(path), "rb") as w:
        assert w.getsampwidth() == 2, path
        raw = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        return raw.reshape(-1, w.getnchannels()) / 32768.0, w.getframerate()


def chirp_cue(path: Path, rate: int, seconds: float = 0.5, level: float = 0.3) -> np.ndarray:
    """A stand-in cue whose autocorrelation has one sharp peak (a sweep from 400 Hz to 4 kHz;
    a steady tone would correlate almost as well one period off), 5 ms raised-cosine ends.
    Written as 16-bit mono; returns what the file holds."""
    t = np.arange(int(seconds * rate)) / rate
    f0, f1 = 400.0, 4000.0
    x = level * np.sin(2 * np.pi * (f0 * t + (f1 - f0) / (2 * seconds) * t**2))
    ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(rate // 200) + 0.5) / (rate // 200))
    x[: len(ramp)] *= ramp
    x[-len(ramp) :] *= ramp[::-1]
    write_wav(path, x, rate)
    return read_wav(path)[0][:, 0]


def bedside_renders(path: Path, expression: str, rate: int) -> np.ndarray:
    """A sound made by the installed bedside (``expression`` over ``rate``, with chimes and
    soundscapes imported), written with its own write_wav; returns what the file holds."""
    code = (
        "import sys\n"
        "from bedside.sound import chimes, soundscapes\n"
        "from bedside.sound.wavfile import write_wav\n"
        f"rate = {rate}\n"
        f"write_wav(sys.argv[1], {expression}, rate)\n"
    )
    subprocess.run([INSTALLED_PYTHON, "-I", "-c", code, str(path)], check=True, timeout=300)
    samples, file_rate = read_wav(path)
    assert file_rate == rate
    return samples


# -- the stage -----------------------------------------------------------------------------------
def stage_format(device: str) -> dict:
    """``--format``: what the stage will play at on ``device`` (its native format)."""
    run = subprocess.run(
        [INSTALLED_PYTHON, "-I", "-m", "bedside.sound.stage", "--format", "--output",
         f"alsa:{device}"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, (run.stdout, run.stderr)
    return json.loads(run.stdout)


class Stage:
    """``python -I -m bedside.sound.stage --output alsa:DEVICE`` from the installed venv, its
    lines read as they come (straight from the pipe, so select sees them)."""

    def __init__(self, device: str, *args: str, cwd: Path) -> None:
        self.process = subprocess.Popen(
            [INSTALLED_PYTHON, "-I", "-m", "bedside.sound.stage", "--output", f"alsa:{device}",
             "--preroll", "0.5", *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd,
        )  # fmt: skip
        assert self.process.stdout is not None
        self._fd = self.process.stdout.fileno()
        self._pending = b""
        self.lines: list[dict] = []
        self.ready = self.wait_for(lambda m: m["type"] == "ready", 120)  # numpy's import, TCG

    def send(self, **line: object) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps(line) + "\n").encode())
        self.process.stdin.flush()

    def read(self, timeout: float) -> dict | None:
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
            if message is None and self.process.poll() is not None:
                break
        raise AssertionError(f"no such line within {timeout} s; the last: {self.lines[-5:]}")

    def closed(self, timeout: float = 30) -> dict:
        return self.wait_for(lambda m: m["type"] == "output" and not m["open"], timeout)

    def opened(self) -> dict:
        return next(m for m in self.lines if m["type"] == "output" and m["open"])

    def sound(self, what: str) -> dict:
        return next(m for m in self.lines if m["type"] == "sound" and m.get("what") == what)

    def errors(self) -> list[dict]:
        return [m for m in self.lines if m["type"] == "error"]

    def quit(self, timeout: float = 30) -> int:
        self.send(type="quit")
        while self.read(timeout) is not None:
            pass
        _, err = self.process.communicate(timeout=timeout)
        self.stderr = err.decode("utf-8", "replace")
        return self.process.returncode


# -- the card ------------------------------------------------------------------------------------
def substream_status(direction: str, sub: int) -> dict[str, str]:
    """/proc/asound/Loopback/pcm{0p,1c}/subN/status as a dict ({"state": "closed"} when no
    one has it open)."""
    pcm = "pcm0p" if direction == "p" else "pcm1c"
    text = (CARD / pcm / f"sub{sub}" / "status").read_text()
    if text.strip() == "closed":
        return {"state": "closed"}
    fields = {}
    for line in text.splitlines():
        key, colon, value = line.partition(":")
        if colon:
            fields[key.strip()] = value.strip()
    return fields


def playback_params(sub: int) -> dict[str, str]:
    """The hw_params the playback substream runs with ({} while it is closed, or open but not
    yet set up: the file then says "no setup")."""
    text = (CARD / "pcm0p" / f"sub{sub}" / "hw_params").read_text()
    params = {
        k.strip(): v.strip() for k, _, v in (line.partition(":") for line in text.splitlines())
    }
    return params if "rate" in params else {}


# The capture end's ring: longer than any recording a test makes. snd-aloop, as a playback
# stream drains, copies the last frames written to the capture ring and then zeroes what lies
# past them, but from the start of that copy, not its end (sound/drivers/aloop.c,
# copy_play_buf: clear_capture_buf writes from capt->buf_pos, which the copy has not moved):
# up to a jiffy's frames past the playback's end keep what the capture ring held one ring
# earlier. With a 1 s ring this was seen as "old sound at the close": 142 frames bit-identical
# to the recording 48000 frames (the ring) before them, the cue heard again. A ring longer
# than the recording holds only the zeros the kernel wrote at prepare, so every frame the
# tests judge is the stage's. (The driver's ring is at most 2 MiB: 10.9 s at 48 kHz.)
CAPTURE_RING_S = 10.0


class Recording:
    """arecord on ``hw:Loopback,1,SUB`` (raw S16_LE), and the monotonic time of its first frame:
    the kernel's trigger_time for the capture stream (frame 0 is that jiffy's: up to 4 ms
    before it). Its ring is CAPTURE_RING_S long, and a recording must be shorter."""

    def __init__(self, sub: int, rate: int, path: Path, channels: int = 2) -> None:
        self.sub, self.rate, self.path, self.channels = sub, rate, path, channels
        ring_us, period_us = int(CAPTURE_RING_S * 1e6), 50_000
        self.process = subprocess.Popen(
            ["arecord", "-q", "-D", f"hw:Loopback,1,{sub}", "-t", "raw", "-f", "S16_LE",
             "-r", str(rate), "-c", str(channels), f"--buffer-time={ring_us}",
             f"--period-time={period_us}", str(path)],
            stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            status = substream_status("c", sub)
            if status["state"] == "RUNNING":
                break
            assert time.monotonic() < deadline, f"arecord never started: {status}"
            assert self.process.poll() is None, self.process.stderr.read()  # type: ignore[union-attr]
            time.sleep(0.02)
        self.start = float(status["trigger_time"])
        params = (CARD / "pcm1c" / f"sub{sub}" / "hw_params").read_text()
        self.ring = int(params.split("buffer_size:")[1].split()[0])
        # The stamp is on CLOCK_MONOTONIC (alsa-lib asks for it at open), so it is moments ago.
        assert 0 <= time.monotonic() - self.start < 30, (status, time.monotonic())

    def stop(self) -> np.ndarray:
        """Stops arecord (SIGINT: it closes the file); frames x channels at full scale 1.0."""
        self.process.send_signal(signal.SIGINT)
        _, err = self.process.communicate(timeout=60)
        err_text = err.decode("utf-8", "replace")
        assert "overrun" not in err_text, f"arecord lost frames, so its times are off: {err_text}"
        raw = np.fromfile(self.path, dtype="<i2")
        self.samples = raw[: len(raw) // self.channels * self.channels].reshape(-1, self.channels)
        assert len(self.samples) < self.ring, (
            f"the recording ({len(self.samples)} frames) outgrew the capture ring ({self.ring}"
            " frames): frames past a drained playback could be the ring's old ones (CAPTURE_RING_S)"
        )
        self.samples = self.samples / 32768.0
        return self.samples

    def time_of(self, frame: int) -> float:
        return self.start + frame / self.rate

    def frame_of(self, t: float) -> int:
        return round((t - self.start) * self.rate)

    @property
    def end(self) -> float:
        return self.time_of(len(self.samples))


def wait_while_closed(sub: int, seconds: float) -> int:
    """Polls the playback substream for ``seconds``; the number of looks that found it open
    (0: nothing was written to the card)."""
    found_open = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found_open += substream_status("p", sub)["state"] != "closed"
        time.sleep(0.02)
    return found_open


def wait_for_open_params(sub: int, timeout: float) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        params = playback_params(sub)
        if params:
            return params
        time.sleep(0.01)
    raise AssertionError(f"the playback substream {sub} never opened within {timeout} s")


# -- comparing -----------------------------------------------------------------------------------
def find(recording: np.ndarray, sound: np.ndarray) -> tuple[int, float]:
    """Where ``sound`` best matches ``recording`` (1-D both) and the normalised
    cross-correlation there (1.0: the very samples, at any gain)."""
    n = len(sound)
    size = 1 << int(np.ceil(np.log2(len(recording) + n)))
    corr = np.fft.irfft(np.fft.rfft(recording, size) * np.conj(np.fft.rfft(sound, size)), size)
    corr = corr[: len(recording) - n + 1]
    energy = np.concatenate(([0.0], np.cumsum(recording**2)))
    window = np.sqrt(np.maximum(energy[n:] - energy[:-n], 0.0))
    score = corr / (window * np.sqrt(np.sum(sound**2)) + 1e-12)
    score[window < 1e-6] = 0.0
    lag = int(np.argmax(score))
    return lag, float(score[lag])


def gain(recording: np.ndarray, sound: np.ndarray) -> float:
    """The least-squares gain of ``sound`` in ``recording`` (same shape)."""
    return float(np.sum(recording * sound) / np.sum(sound * sound))


def db(ratio: float) -> float:
    return 20 * float(np.log10(ratio))
