"""WAV files in and out as numpy arrays: 16-bit PCM, what the cache holds (the standard
library's ``wave`` reads it; nothing more is needed at play time)."""

from __future__ import annotations

import os
import wave
from pathlib import Path

import numpy as np

__all__ = ["read_wav", "read_wav_int16", "write_wav"]


def read_wav(path: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
    """(float32 frames x channels at full scale 1.0, rate); ValueError unless 16-bit PCM."""
    with wave.open(str(path), "rb") as w:
        width, channels, rate = w.getsampwidth(), w.getnchannels(), w.getframerate()
        if width != 2:
            raise ValueError(f"{path}: {8 * width}-bit samples, expected 16-bit")
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    frames = data[: len(data) // channels * channels].reshape(-1, channels)
    return frames.astype(np.float32) / 32768.0, rate


def read_wav_int16(path: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
    """(int16 frames x channels, rate): half the memory, for a soundscape's long loop."""
    with wave.open(str(path), "rb") as w:
        width, channels, rate = w.getsampwidth(), w.getnchannels(), w.getframerate()
        if width != 2:
            raise ValueError(f"{path}: {8 * width}-bit samples, expected 16-bit")
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return data[: len(data) // channels * channels].reshape(-1, channels).astype(np.int16), rate


def write_wav(path: str | os.PathLike[str], samples: np.ndarray, rate: int) -> None:
    """``samples`` (float, full scale 1.0; frames or frames x channels) as 16-bit PCM, written
    whole or not at all (a temporary name in the same folder, then a rename)."""
    x = np.asarray(samples, dtype=np.float64)
    frames = x.reshape(len(x), -1)
    pcm = np.rint(np.clip(frames * 32767.0, -32768, 32767)).astype("<i2")
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with wave.open(str(temporary), "wb") as w:
            w.setnchannels(frames.shape[1])
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(pcm.tobytes())
        os.replace(temporary, target)
    finally:
        if temporary.exists():
            temporary.unlink()
