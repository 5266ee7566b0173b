"""Mastering, version 2: pure functions over numpy arrays, run once per sound at render time.

``master_cue`` takes an engine's raw render, already at the output's rate (``resample`` first,
so the limiter sees the peaks the card will get), and returns the cue as it is cached:

1. **Trim** the silence around it, but never anything within ``TRIM_RANGE_DB`` (45 dB) of the
   cue's voiced level: Piper's word-final fricatives and stop releases sit 28-40 dB under it,
   and the old trim at 28 dB cut them ("left off" heard as "left of").
   The voiced level is the mean power of the 5 ms frames that pass BS.1770-style gates (-70
   dBFS, then 10 dB under the mean of the rest): the speech, not the pauses.
2. Keep ``LEAD`` (20 ms) before the first sounding frame (zeros are added if the render starts
   sooner) and ``TAIL`` (60 ms) after the last, and fade both with raised cosines that lie
   wholly outside the sounding part: the first and last samples are exactly zero, no click,
   and the fades never touch a consonant.
3. **Level** it to ``target`` LUFS by BS.1770-4 (``loudness.cue_loudness``: gated integrated
   loudness over the sounding span, one block for a cue shorter than 400 ms).
4. **Limit** peaks under ``CEILING_DB`` (-1 dBFS) with a soft, look-ahead gain: the gain needed
   at each sample, its running minimum over 2 ms either side, smoothed by two 1 ms moving
   averages (so it bends smoothly, never steps, and is always at or under what is needed).
   Because the limiter takes a little loudness off the loudest cues, the gain is corrected and
   the limiter run again (twice at most) until the cue is within 0.05 LU of its target.

``master_sound`` does steps 3 and 4 only (a chime's ring is not silence to trim).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bedside.sound.loudness import cue_loudness

__all__ = [
    "CEILING_DB",
    "Mastered",
    "fade_ends",
    "limit",
    "master_cue",
    "master_sound",
    "trim_points",
    "voiced_level_db",
]

TRIM_RANGE_DB = 45.0
FRAME = 0.005  # s
LEAD = 0.020  # s of (near-)silence kept before the first sounding frame
TAIL = 0.060  # s kept after the last
CEILING_DB = -1.0  # dBFS: no sample above
LOOKAHEAD = 0.002  # s: the limiter's running-minimum radius
SMOOTH = 0.001  # s: each of its two moving averages
TOLERANCE_LU = 0.05


@dataclass(frozen=True)
class Mastered:
    samples: np.ndarray  # float64, mono (or frames x channels)
    rate: int
    loudness: float  # LUFS, measured after mastering
    gain_db: float  # the gain applied before the limiter
    trimmed_head: int  # samples of the raw render cut from the start (negative: zeros added)
    trimmed_tail: int  # ...and from the end

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate


def _frame_powers(x: np.ndarray, size: int) -> np.ndarray:
    frames = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    count = -(-len(frames) // size)
    padded = np.zeros((count * size, frames.shape[1]))
    padded[: len(frames)] = frames
    power: np.ndarray = (padded**2).reshape(count, size, -1).mean(axis=(1, 2))
    return power


def voiced_level_db(x: np.ndarray, rate: int) -> float:
    """The mean power, in dBFS, of the 5 ms frames above -70 dBFS and within 10 dB of the
    mean of those (the speech, not its pauses); -inf for silence."""
    power = _frame_powers(x, max(1, round(FRAME * rate)))
    kept = power[power > 1e-7]
    if kept.size == 0:
        return -math.inf
    kept = kept[kept > kept.mean() * 0.1]
    return 10 * math.log10(kept.mean())


def trim_points(x: np.ndarray, rate: int, range_db: float = TRIM_RANGE_DB) -> tuple[int, int]:
    """(first, end): the span from the first to the last 5 ms frame within ``range_db`` of the
    voiced level; (0, 0) for silence."""
    level = voiced_level_db(x, rate)
    if level == -math.inf:
        return (0, 0)
    size = max(1, round(FRAME * rate))
    power = _frame_powers(x, size)
    sounding = np.flatnonzero(power >= 10 ** ((level - range_db) / 10))
    return int(sounding[0] * size), int(min(len(x), (sounding[-1] + 1) * size))


def _raised_cosine(n: int) -> np.ndarray:
    """n gains rising from near 0 to near 1 along a raised cosine (both ends flat)."""
    return 0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)


def fade_ends(x: np.ndarray, fade_in: int, fade_out: int) -> np.ndarray:
    """``x`` with raised-cosine fades over its first ``fade_in`` and last ``fade_out`` samples,
    and its very first and last sample set to zero."""
    y = np.array(x, dtype=np.float64)
    shape = (-1,) + (1,) * (y.ndim - 1)
    if fade_in > 0:
        y[:fade_in] *= _raised_cosine(fade_in).reshape(shape)
    if fade_out > 0:
        y[len(y) - fade_out :] *= _raised_cosine(fade_out)[::-1].reshape(shape)
    if len(y):
        y[0] = 0.0
        y[-1] = 0.0
    return y


def _moving_average(g: np.ndarray, n: int) -> np.ndarray:
    """A centred moving average of odd length ``n`` (the ends padded with their edge value)."""
    if n <= 1:
        return g
    half = n // 2
    padded = np.concatenate([np.full(half, g[0]), g, np.full(half, g[-1])])
    sums = np.concatenate([[0.0], np.cumsum(padded)])
    average: np.ndarray = (sums[n:] - sums[:-n]) / n
    return average


def _running_min(g: np.ndarray, radius: int) -> np.ndarray:
    """The minimum over [i - radius, i + radius] at each i, by doubling (log steps, no loop
    over samples)."""
    out = g.copy()
    span = 1  # out[i] = min(g[i : i + span]) at this point
    width = 2 * radius + 1
    while span < width:
        step = min(span, width - span)
        shifted = np.concatenate([out[step:], np.full(step, np.inf)])
        out = np.minimum(out, shifted)
        span += step
    # Centre it: out[i] now covers [i, i + width); move it to [i - radius, i + radius].
    return np.concatenate([np.full(radius, out[0]), out[: len(out) - radius]]) if radius else out


def limit(x: np.ndarray, rate: int, ceiling_db: float = CEILING_DB) -> np.ndarray:
    """``x`` with every sample at or under ``ceiling_db`` dBFS, by a smooth gain (see above)."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) == 0:
        return x.copy()
    ceiling = 10 ** (ceiling_db / 20)
    peak = np.abs(x.reshape(len(x), -1)).max(axis=1)
    if peak.max() <= ceiling:
        return x.copy()
    need = np.minimum(1.0, ceiling / np.maximum(peak, 1e-12))
    smooth = 2 * max(1, round(SMOOTH * rate) // 2) + 1
    # The running minimum must reach over both averages, so the average never exceeds `need`.
    radius = max(round(LOOKAHEAD * rate), smooth)
    gain = _moving_average(_moving_average(_running_min(need, radius), smooth), smooth)
    gain = np.minimum(gain, need)  # rounding only
    limited: np.ndarray = x * gain.reshape((-1,) + (1,) * (x.ndim - 1))
    return limited


def master_sound(x: np.ndarray, rate: int, target: float) -> tuple[np.ndarray, float, float]:
    """``x`` levelled to ``target`` LUFS and limited: (samples, loudness, gain in dB)."""
    x = np.asarray(x, dtype=np.float64)
    level = cue_loudness(x, rate)
    if level == -math.inf or target == -math.inf:
        return np.zeros_like(x), -math.inf, -math.inf
    gain_db = target - level
    y = x
    for _ in range(3):
        y = limit(x * 10 ** (gain_db / 20), rate)
        measured = cue_loudness(y, rate)
        error = target - measured
        if abs(error) <= TOLERANCE_LU:
            break
        gain_db += error
    return y, measured, gain_db


def master_cue(x: np.ndarray, rate: int, target: float) -> Mastered:
    """A raw render (mono or frames x channels, at the output's rate) trimmed, faded, levelled
    to ``target`` LUFS and limited under -1 dBFS (see the module's notes)."""
    x = np.asarray(x, dtype=np.float64)
    first, end = trim_points(x, rate)
    if end <= first:
        return Mastered(np.zeros((0, *x.shape[1:])), rate, -math.inf, -math.inf, len(x), 0)
    lead, tail = round(LEAD * rate), round(TAIL * rate)
    start, stop = first - lead, end + tail
    # Zeros where the render gave less room than the lead-in or tail.
    body = np.zeros((stop - start, *x.shape[1:]))
    lo, hi = max(0, start), min(len(x), stop)
    body[lo - start : hi - start] = x[lo:hi]
    body = fade_ends(body, lead, tail)
    y, loudness, gain_db = master_sound(body, rate, target)
    # The limiter never raises a sample, so the ends stay exactly zero.
    return Mastered(y, rate, loudness, gain_db, start, len(x) - stop)
