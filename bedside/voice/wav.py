"""WAV files: reading one into samples, writing samples out, and measuring one by its header.

Every sound bedside makes is a mono 16-bit WAV (``Sound``). What reads a WAV, whatever for (the
render child reading an engine's output, the player's time limit, the null player's sleep, the
cache's check for a whole file, espeak-ng's silent utterance), reads it here, with the errors
a damaged or foreign file raises named once in ``UNREADABLE``.
"""

from __future__ import annotations

import array
import sys
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from bedside.folders import NotAFile, is_regular, kind_of

__all__ = [
    "FULL_SCALE",
    "UNREADABLE",
    "Sound",
    "is_playable",
    "read_wav",
    "wav_seconds",
    "write_wav",
]

FULL_SCALE = 32768.0  # a 16-bit sample's full scale: 0 dBFS
# What reading a file that is not a whole WAV raises: missing, cut short, or not a WAV at all.
UNREADABLE = (OSError, EOFError, wave.Error)


@dataclass
class Sound:
    """Mono 16-bit samples at a rate: what every engine's WAV is read into."""

    samples: array.array[int]  # typecode "h"
    rate: int

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate


def read_wav(path: Path) -> Sound:
    """A 16-bit WAV as a Sound (stereo is mixed down); ValueError for anything else."""
    with wave.open(str(path), "rb") as wav:
        width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
        frames = wav.readframes(wav.getnframes())
    if width != 2:
        raise ValueError(f"{path}: {8 * width}-bit samples, expected 16-bit")
    samples = array.array("h")
    samples.frombytes(frames[: len(frames) // 2 * 2])
    if sys.byteorder == "big":
        samples.byteswap()
    if channels > 1:
        samples = array.array(
            "h",
            (
                sum(samples[i : i + channels]) // channels
                for i in range(0, len(samples) - channels + 1, channels)
            ),
        )
    return Sound(samples, rate)


def write_wav(sound: Sound, out: BinaryIO) -> None:
    """``sound`` as a mono 16-bit WAV into ``out``."""
    samples = sound.samples
    if sys.byteorder == "big":
        samples = array.array("h", samples)
        samples.byteswap()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sound.rate)
        wav.writeframes(samples.tobytes())


def wav_seconds(path: Path | str) -> float:
    """Seconds of sound in the WAV at ``path``, from its header; one of ``UNREADABLE`` for a
    file that is not a WAV (a sample rate of 0 included)."""
    _regular(Path(path))
    with wave.open(str(path), "rb") as wav:
        rate = wav.getframerate()
        if rate <= 0:
            raise wave.Error(f"bad sample rate {rate}")
        return wav.getnframes() / rate


def is_playable(path: Path) -> bool:
    """A WAV whose header reads, with some frames, and every byte its header promises; never
    a FIFO or a device in the cache, told by ``stat`` (opening one would wait for a writer)."""
    if not is_regular(path):
        return False
    try:
        with wave.open(str(path), "rb") as wav:
            size = wav.getnframes() * wav.getsampwidth() * wav.getnchannels()
        return size > 0 and path.stat().st_size >= size
    except UNREADABLE:
        return False


def _regular(path: Path) -> None:
    """Nothing, unless ``path`` is there and is not a regular file: then NotAFile (an OSError,
    one of UNREADABLE), before anything waits on opening a FIFO."""
    if path.exists() and not is_regular(path):
        raise NotAFile(path, kind_of(path.stat().st_mode))
