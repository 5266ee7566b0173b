"""The chimes: a soft bell as each step starts, a distinct closing tone as a routine ends.

Synthesised here, not recorded: a few sine partials with a gentle attack and a long
exponential decay, every partial under 2.5 kHz so nothing is bright or sharp. They are mastered
and cached like the cues, at a level relative to the voice (``[sounds] level``).
"""

from __future__ import annotations

import array
import math

from bedside.voice.wav import FULL_SCALE, Sound

__all__ = ["CHIMES", "RATE", "synthesise"]

RATE = 22050  # the rate both engines speak at: one rate for the whole cache

# (seconds from the start, fundamental in Hz, seconds it rings): one strike each.
_STRIKES = {
    # A single soft bell: E5, short enough not to cover the cue after it.
    "step": [(0.0, 659.25, 1.3)],
    # The close: two lower notes falling a fourth (G4 to D4), ringing longer.
    "finish": [(0.0, 392.0, 1.6), (0.45, 293.66, 2.4)],
}
# A bell's partials (ratio to the fundamental, relative amplitude, decay factor): mostly the
# fundamental and its octave, a touch of the minor third above (2.4) that makes it a bell.
_PARTIALS = [(1.0, 1.0, 1.0), (2.0, 0.35, 1.6), (2.4, 0.12, 2.2), (3.0, 0.06, 2.8)]
_ATTACK = 0.008  # seconds: soft enough not to tick, quick enough to sound struck

CHIMES = tuple(_STRIKES)


def synthesise(kind: str) -> Sound:
    """The chime ``kind`` ("step" or "finish") as a Sound, peaking at about half scale."""
    strikes = _STRIKES[kind]
    length = max(at + ring for at, _, ring in strikes) + 0.05
    out = [0.0] * int(length * RATE)
    for at, base, ring in strikes:
        first = int(at * RATE)
        for ratio, amplitude, decay in _PARTIALS:
            frequency = base * ratio
            if frequency > 2500:
                continue
            step = 2 * math.pi * frequency / RATE
            # Decay to -60 dB over `ring` seconds (faster for higher partials).
            fall = math.log(1000) * decay / ring
            for n in range(int(ring * RATE)):
                t = n / RATE
                envelope = math.exp(-fall * t)
                if t < _ATTACK:
                    envelope *= 0.5 - 0.5 * math.cos(math.pi * t / _ATTACK)
                out[first + n] += amplitude * envelope * math.sin(step * n)
    peak = max(abs(x) for x in out) or 1.0
    scale = 0.5 * FULL_SCALE / peak
    return Sound(array.array("h", (round(x * scale) for x in out)), RATE)
