"""A WAV measured by its header alone: rate, channels, seconds. Without numpy, so the daemon's
side (the cache's checks, the cue lengths) reads WAVs the stage's way and starts no faster or
slower for it."""

from __future__ import annotations

import os
import wave

__all__ = ["wav_info"]


def wav_info(path: str | os.PathLike[str]) -> tuple[int, int, float]:
    """(rate, channels, seconds) from the header alone; ValueError unless 16-bit PCM, and
    ``wave.Error`` for a rate of 0 (a header no player could play)."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: {8 * w.getsampwidth()}-bit samples, expected 16-bit")
        rate = w.getframerate()
        if rate <= 0:
            raise wave.Error(f"{path}: a sample rate of {rate}")
        return rate, w.getnchannels(), w.getnframes() / rate
