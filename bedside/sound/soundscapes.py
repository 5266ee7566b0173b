"""Soundscapes, synthesised ahead into seamless loops (no recorded assets), or a person's own.

Noises are made in the frequency domain over the loop's whole length: a random phase for every
bin, a magnitude shaped to the colour, and one inverse transform. What comes out is periodic by
construction: its last sample runs into its first exactly as any two neighbours do, so a loop
has no seam to hide (tests measure the level and spectral flux across the loop point).

- ``brown``: power falling 6 dB an octave (a deep, soft roar), high-passed at 40 Hz (below that a
  small speaker only wastes power) and rolled off above 4 kHz.
- ``pink``: power falling 3 dB an octave (even energy per octave: a steady "shh"), high-passed
  at 40 Hz and softened above 8 kHz.
- ``rain``: a pink-ish bed (a band from 400 Hz to 8 kHz) slowly swelling (a whole number of
  swells per loop, so the swell is periodic too) and sparse droplets: short decaying tones from
  1.5 to 5 kHz at random moments, each placed on the loop circularly (one that runs past the
  end finishes at the start).

Two independent channels for a stereo output. Every loop is levelled by BS.1770 to the loudness
it is asked for *per channel* (``_level``): a cue is mono, played alike on both speakers, and
is mastered as one channel; the bed is measured the same way, so ``level`` dB under the voice is
what comes out of each speaker (measured as stereo, BS.1770 adds the channels: both read 3 LU
higher, and the difference stays). The stage sets its level under the voice at play time.

A person's own loop (``[soundscape] sound = "/path/to/loop.flac"``) is decoded by the ``sox``
command (which bedside already installs for its tests and which reads WAV, FLAC and Ogg at any
depth; soundfile would add a Python dependency whose 32-bit ARM wheels need the system's
libsndfile anyway), resampled circularly to the output's rate, and made seamless by an
equal-power crossfade of its last ``CROSSFADE`` seconds into its first.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path

import numpy as np

from bedside.sound.kinds import KINDS
from bedside.sound.mastering import master_sound
from bedside.sound.resample import resample_loop

__all__ = ["KINDS", "crossfade_loop", "decode", "load_loop", "synthesise"]

CROSSFADE = 2.0  # s
HIGH_PASS = 40.0  # Hz
MAX_FILE_SECONDS = 300.0  # a longer file is cut: a loop is held whole in the stage's memory


def _shaped_noise(n: int, rate: int, rng: np.random.Generator, gain: np.ndarray) -> np.ndarray:
    bins = n // 2 + 1
    phases = np.exp(2j * np.pi * rng.random(bins))
    magnitude = gain * rng.rayleigh(1.0, bins)  # a Gaussian noise's spectrum, shaped
    spectrum = magnitude * phases
    spectrum[0] = 0.0
    if n % 2 == 0:
        spectrum[-1] = spectrum[-1].real
    return np.fft.irfft(spectrum, n)


def _colour(kind: str, freqs: np.ndarray) -> np.ndarray:
    f = np.maximum(freqs, 1.0)
    high_pass = 1.0 / np.sqrt(1.0 + (HIGH_PASS / f) ** 8)  # 4th-order Butterworth-like
    if kind == "brown":
        brown: np.ndarray = high_pass / f * (1.0 / np.sqrt(1.0 + (f / 4000.0) ** 4))
        return brown
    if kind == "pink":
        pink: np.ndarray = high_pass / np.sqrt(f) * (1.0 / np.sqrt(1.0 + (f / 8000.0) ** 2))
        return pink
    if kind == "rain":
        band = 1.0 / np.sqrt(1.0 + (400.0 / f) ** 4) / np.sqrt(1.0 + (f / 8000.0) ** 4)
        rain: np.ndarray = band / np.sqrt(f)
        return rain
    raise ValueError(f"unknown soundscape {kind!r}: one of {', '.join(KINDS)}")


def _droplets(n: int, rate: int, rng: np.random.Generator, per_second: float) -> np.ndarray:
    out = np.zeros(n)
    count = rng.poisson(per_second * n / rate)
    length = int(0.04 * rate)
    t = np.arange(length) / rate
    for _ in range(count):  # at render time only: a few hundred droplets a loop
        at = int(rng.integers(0, n))
        frequency = rng.uniform(1500.0, 5000.0)
        decay = rng.uniform(80.0, 200.0)  # 1/s
        amplitude = rng.uniform(0.2, 1.0) ** 2
        drop = amplitude * np.exp(-decay * t) * np.sin(2 * np.pi * frequency * t)
        drop[: int(0.001 * rate)] *= np.linspace(0.0, 1.0, int(0.001 * rate))
        index = (at + np.arange(length)) % n  # circular: seamless
        out[index] += drop
    return out


def synthesise(
    kind: str,
    rate: int,
    channels: int = 2,
    seconds: float = 40.0,
    target: float = -20.0,
    seed: int = 7,
) -> np.ndarray:
    """A seamless loop of ``kind`` (frames x channels, float64) levelled to ``target`` LUFS."""
    n = int(seconds * rate)
    rng = np.random.default_rng(seed)
    freqs = np.fft.rfftfreq(n, 1.0 / rate)
    gain = _colour(kind, freqs)
    columns = []
    for _ in range(channels):
        x = _shaped_noise(n, rate, rng, gain)
        x /= np.sqrt(np.mean(x**2))
        if kind == "rain":
            swells = max(1, round(seconds / 8.0))  # whole swells per loop
            phase = rng.uniform(0, 2 * np.pi)
            swell = 1.0 + 0.25 * np.sin(2 * np.pi * swells * np.arange(n) / n + phase)
            drops = _droplets(n, rate, rng, per_second=12.0)
            x = x * swell + 2.5 * drops
        columns.append(x)
    return _level(np.stack(columns, axis=1), rate, target)


def crossfade_loop(x: np.ndarray, rate: int, seconds: float = CROSSFADE) -> np.ndarray:
    """``x`` (frames x channels) made into a seamless loop: its last ``seconds`` are faded
    (equal power) into its first, and the loop is that much shorter."""
    x = np.asarray(x, dtype=np.float64)
    fade = min(int(seconds * rate), len(x) // 3)
    if fade < 2:
        return x.copy()
    loop = x[: len(x) - fade].copy()
    theta = (np.arange(fade) + 0.5) / fade * (np.pi / 2)
    shape = (-1,) + (1,) * (x.ndim - 1)
    loop[:fade] = x[:fade] * np.sin(theta).reshape(shape) + x[len(x) - fade :] * np.cos(
        theta
    ).reshape(shape)
    return loop


def decode(path: Path, channels: int) -> tuple[np.ndarray, int]:
    """A sound file as (float32 frames x channels, its rate), through the ``sox`` command."""
    sox = shutil.which("sox")
    if sox is None:
        raise OSError("the sox command is needed to read a soundscape file (apt install sox)")
    probe = subprocess.run(
        [sox, "--i", "-r", str(path)], capture_output=True, text=True, timeout=30, check=False
    )
    if probe.returncode != 0:
        raise ValueError(f"{path}: not a sound file sox can read: {probe.stderr.strip()}")
    rate = int(float(probe.stdout.strip()))
    raw = subprocess.run(
        [
            sox,
            "-V1",
            str(path),
            "-t",
            "raw",
            "-e",
            "floating-point",
            "-b",
            "32",
            "-c",
            str(channels),
            "-",
            "trim",
            "0",
            str(MAX_FILE_SECONDS),
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    if raw.returncode != 0:
        raise ValueError(f"{path}: sox could not decode it: {raw.stderr.decode().strip()}")
    samples = np.frombuffer(raw.stdout, dtype="<f4").reshape(-1, channels)
    return samples, rate


def load_loop(path: Path, rate: int, channels: int = 2, target: float = -20.0) -> np.ndarray:
    """A person's own loop file, at ``rate``, seamless, levelled to ``target`` LUFS."""
    samples, file_rate = decode(path, channels)
    if len(samples) < file_rate:  # under a second: no loop worth the name
        raise ValueError(f"{path}: {len(samples) / file_rate:.2f} s, too short for a loop")
    loop = crossfade_loop(samples, file_rate)
    loop = resample_loop(loop, file_rate, rate)
    if not np.any(loop):
        raise ValueError(f"{path}: silent")
    return _level(loop, rate, target)


def _level(loop: np.ndarray, rate: int, target: float) -> np.ndarray:
    """``loop`` levelled so that each channel is, on average, ``target`` LUFS as a mono cue is
    measured (BS.1770 over all channels less 10 log10 of their number), peaks under -1 dBFS."""
    channels = loop.shape[1] if loop.ndim == 2 else 1
    levelled, loudness, _ = master_sound(loop, rate, target + 10 * math.log10(channels))
    if loudness == -math.inf:
        raise ValueError("a silent loop")
    return levelled
