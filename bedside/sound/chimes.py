"""The chimes, synthesised at any rate in numpy: a soft bell as a step starts, a falling
two-note close as a routine ends. The same sound as bedside's first chimes (a few sine partials,
a gentle attack, a long exponential decay, nothing above 2.5 kHz); levelled by BS.1770 to the
voice's loudness plus ``level`` dB by ``chime`` below.
"""

from __future__ import annotations

import math

import numpy as np

from bedside.sound.kinds import CHIMES
from bedside.sound.mastering import master_sound

__all__ = ["CHIMES", "chime", "synthesise"]

# (seconds from the start, fundamental in Hz, seconds it rings): one strike each.
_STRIKES = {
    "step": [(0.0, 659.25, 1.3)],
    "finish": [(0.0, 392.0, 1.6), (0.45, 293.66, 2.4)],
}
# (ratio to the fundamental, relative amplitude, decay factor)
_PARTIALS = [(1.0, 1.0, 1.0), (2.0, 0.35, 1.6), (2.4, 0.12, 2.2), (3.0, 0.06, 2.8)]
_ATTACK = 0.008  # s
_TOP = 2500.0  # Hz: no partial above

assert tuple(_STRIKES) == CHIMES  # the names, said once in kinds.py (numpy-free)


def synthesise(kind: str, rate: int) -> np.ndarray:
    """The chime ``kind`` as float64 mono at ``rate``, peaking at 0.5, ending at zero."""
    strikes = _STRIKES[kind]
    length = max(at + ring for at, _, ring in strikes) + 0.05
    out = np.zeros(int(length * rate))
    for at, base, ring in strikes:
        n = int(ring * rate)
        t = np.arange(n) / rate
        attack = np.where(t < _ATTACK, 0.5 - 0.5 * np.cos(np.pi * t / _ATTACK), 1.0)
        first = int(at * rate)
        for ratio, amplitude, decay in _PARTIALS:
            frequency = base * ratio
            if frequency > _TOP:
                continue
            fall = math.log(1000) * decay / ring  # to -60 dB over `ring` (faster when higher)
            out[first : first + n] += (
                amplitude * attack * np.exp(-fall * t) * np.sin(2 * np.pi * frequency * t)
            )
    # The last 20 ms fade to exactly zero (the ring is at -60 dB there already).
    tail = int(0.02 * rate)
    out[-tail:] *= 0.5 + 0.5 * np.cos(np.pi * (np.arange(tail) + 0.5) / tail)
    out[-1] = 0.0
    levelled: np.ndarray = out * (0.5 / np.abs(out).max())
    return levelled


def chime(kind: str, rate: int, target: float) -> np.ndarray:
    """The chime levelled to ``target`` LUFS (the voice's target plus the chimes' level)."""
    samples, _, _ = master_sound(synthesise(kind, rate), rate, target)
    return samples
