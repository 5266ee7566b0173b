"""WAV files on the daemon's side: writing a ``Sound`` out, measuring one by its header, and
telling a whole one from a damaged or foreign file.

Every sound bedside makes is a mono 16-bit WAV (``Sound``). Samples are read where they are
used, by ``bedside.sound.wavfile`` (the render child, the stage); a length is read from the
header by ``bedside.sound.wavheader``, here as everywhere; the errors a damaged or foreign
file raises are named once, in ``UNREADABLE``.
"""

from __future__ import annotations

import array
import sys
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from bedside.folders import NotAFile, is_regular, kind_of
from bedside.sound.wavheader import wav_info

__all__ = [
    "FULL_SCALE",
    "UNREADABLE",
    "Sound",
    "is_playable",
    "wav_seconds",
    "write_wav",
]

FULL_SCALE = 32768.0  # a 16-bit sample's full scale: 0 dBFS
# What reading a file that is not a whole WAV raises: missing, cut short, not a WAV at all,
# or not 16-bit (ValueError: what bedside makes and plays is 16-bit, nothing else).
UNREADABLE = (OSError, EOFError, wave.Error, ValueError)


@dataclass
class Sound:
    """Mono 16-bit samples at a rate: what every engine's WAV is read into."""

    samples: array.array[int]  # typecode "h"
    rate: int

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate


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
    """Seconds of sound in the WAV at ``path``, from its header (the stage's reader); one of
    ``UNREADABLE`` for a file that is not a 16-bit WAV (a sample rate of 0 included)."""
    _regular(Path(path))
    return wav_info(path)[2]


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
