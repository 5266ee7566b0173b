"""Mastering: every rendered sound trimmed, faded and levelled to one loudness, in pure Python.

Python 3.13 has no ``audioop`` and numpy is not a dependency of bedside, so this works on
16-bit mono samples (a ``Sound``, read and written by ``wav.py``) with ``array`` alone (a cue
of a few seconds takes tens of milliseconds here, a second or so on a Pi Zero, in the render
child, ahead of time). sox would do it too, but as one more runtime package for something this
small.

Loudness is measured over the voiced part only, so the pauses inside a cue and the silence
around it do not count: the RMS of the 20 ms blocks within 23 dB of that loudness (gated in the
manner of ITU-R BS.1770: an absolute gate, then a relative one).
"""

from __future__ import annotations

import array
import math
from collections.abc import Sequence

from bedside.voice.wav import FULL_SCALE, Sound

__all__ = ["loudness_db", "master", "target"]

BLOCK = 0.020  # seconds: the loudness measure's block
ABSOLUTE_GATE_DB = -60.0  # quieter blocks are silence, whatever the rest
RELATIVE_GATE_DB = -23.0  # ...and so are blocks this far under the voiced loudness
TRIM_DB = -28.0  # at the ends, blocks this far under the voiced loudness are silence
KEEP = 0.020  # seconds of silence kept at each end (at most 50 ms, the fade within it)
FADE = 0.005  # seconds of fade at each end: no click where the trim cut
PEAK_DB = -1.0  # no sample louder than this after mastering
KNEE_DB = -4.0  # a peak above this is bent softly under PEAK_DB rather than clipped


def _block_powers(samples: array.array[int], size: int) -> list[float]:
    """Mean square (full scale = 1) of each block of ``size`` samples."""
    scale = FULL_SCALE * FULL_SCALE * size
    return [
        math.fsum(x * x for x in samples[i : i + size]) / scale
        for i in range(0, len(samples) - size + 1, size)
    ]


def _db(power: float) -> float:
    return 10 * math.log10(power) if power > 0 else -math.inf


def _voiced(powers: list[float]) -> list[float]:
    """The blocks within RELATIVE_GATE_DB of the voiced loudness itself (a fixed point: the
    gate follows the mean of what passes it, a few rounds from the absolute gate)."""
    voiced = [p for p in powers if p > 10 ** (ABSOLUTE_GATE_DB / 10)]
    for _ in range(4):
        if not voiced:
            break
        gate = (math.fsum(voiced) / len(voiced)) * 10 ** (RELATIVE_GATE_DB / 10)
        voiced = [p for p in powers if p > gate]
    return voiced


def loudness_db(sound: Sound) -> float:
    """The RMS level of the voiced blocks, in dB full scale (-inf for silence)."""
    voiced = _voiced(_block_powers(sound.samples, max(1, int(sound.rate * BLOCK))))
    return _db(math.fsum(voiced) / len(voiced)) if voiced else -math.inf


def _trim(sound: Sound, level: float) -> Sound:
    """Cut the silence before and after the sound down to ``KEEP``: what is ``TRIM_DB`` under
    its voiced loudness ``level`` (a breath's tail, hiss) counts as silence."""
    size = max(1, int(sound.rate * 0.010))  # where the sound starts and ends, to 10 ms
    powers = _block_powers(sound.samples, size)
    gate = max(10 ** (ABSOLUTE_GATE_DB / 10), 10 ** ((level + TRIM_DB) / 10))
    sounding = [i for i, p in enumerate(powers) if p > gate]
    if not sounding:
        return Sound(array.array("h"), sound.rate)
    keep = int(sound.rate * KEEP)
    start = max(0, sounding[0] * size - keep)
    end = min(len(sound.samples), (sounding[-1] + 1) * size + keep)
    return Sound(sound.samples[start:end], sound.rate)


def _shape(samples: Sequence[float], rate: int, gain: float) -> array.array[int]:
    """Apply ``gain``, bend peaks under PEAK_DB, fade both ends; back to 16-bit."""
    ceiling = 10 ** (PEAK_DB / 20) * FULL_SCALE
    knee = 10 ** (KNEE_DB / 20) * FULL_SCALE
    room = ceiling - knee
    out = []
    for x in samples:
        y = x * gain
        magnitude = abs(y)
        if magnitude > knee:  # a soft knee: tanh never reaches the ceiling
            y = math.copysign(knee + room * math.tanh((magnitude - knee) / room), y)
        out.append(y)
    fade = min(len(out) // 2, int(rate * FADE))
    for i in range(fade):
        # A raised cosine: no corner at either end of the fade, so no click.
        w = 0.5 - 0.5 * math.cos(math.pi * (i + 0.5) / fade)
        out[i] *= w
        out[-1 - i] *= w
    return array.array("h", (max(-32768, min(32767, round(y))) for y in out))


def master(sound: Sound, target_db: float, trim: bool = True) -> Sound:
    """``sound`` trimmed to at most 50 ms of silence at each end, faded in and out, and levelled
    so its voiced loudness is ``target_db`` (dB full scale), no peak above -1 dBFS. Without
    ``trim`` the ends stay (a bell's ring is not silence)."""
    level = loudness_db(sound)
    if level == -math.inf:
        trimmed = Sound(array.array("h"), sound.rate)
    else:
        trimmed = _trim(sound, level) if trim else sound
    if not trimmed.samples or target_db == -math.inf:
        return Sound(array.array("h", bytes(2 * len(trimmed.samples))), sound.rate)
    samples = list(trimmed.samples)
    gain = 10 ** ((target_db - level) / 20)
    shaped = Sound(_shape(samples, sound.rate, gain), sound.rate)
    # Where the soft knee bent many peaks the cue came out quieter: one correction more.
    error = target_db - loudness_db(shaped)
    if abs(error) > 0.1:
        shaped = Sound(_shape(samples, sound.rate, gain * 10 ** (error / 20)), sound.rate)
    return shaped


def target(loudness: float, volume: float) -> float:
    """The loudness a sound is mastered to: the configured loudness, scaled by a volume."""
    return loudness + 20 * math.log10(volume) if volume > 0 else -math.inf
