"""Resampling once, at render time, to the output's own rate: band-limited, in numpy.

The whole sound is resampled in the frequency domain: its spectrum, taken once over the whole
(zero-padded) sound, is cut or extended to the new rate's band and transformed back. That is the
ideal band-limited interpolation (no images above the old Nyquist when going up, nothing folded
back when going down), with a short raised-cosine roll-off over the top 4 % of the band so that
content right at the old Nyquist does not ring across the sound. A loop resampled without
padding stays a seamless loop (the transform is circular), which is what a soundscape wants.

Why this and not python-soxr or the sox command: measured in bench/sound_bench.py (figures in
the README). In short: soxr VHQ is as clean and a little faster, but PyPI has no 32-bit ARM
wheels for it; sox's ``rate -v`` is as clean but a process per sound; this needs nothing but
numpy, which the mixer needs anyway, and gives the same result on every Pi.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["resample", "resample_loop"]

ROLL_OFF = 0.04  # fraction of the narrower band given to the raised-cosine roll-off
PAD = 0.05  # s of zeros on each side, so the circular transform does not wrap a sound's ends


def _smooth_length(n: int, factor: int) -> int:
    """The least multiple of ``factor`` at least ``n`` whose other factors are 2, 3, 5 or 7."""
    best = None
    m = max(1, math.ceil(n / factor))
    while best is None:
        k = m
        for p in (2, 3, 5, 7):
            while k % p == 0:
                k //= p
        if k == 1:
            best = m * factor
        m += 1
    return best


def _taper(bins: int, keep: int) -> np.ndarray:
    """Gains for ``bins`` spectrum bins: 1 up to the roll-off, a raised cosine to 0 at ``keep``."""
    gains = np.zeros(bins)
    width = max(1, int(keep * ROLL_OFF))
    flat = max(0, keep - width)
    gains[:flat] = 1.0
    ramp = np.arange(keep - flat)
    gains[flat:keep] = 0.5 + 0.5 * np.cos(np.pi * (ramp + 0.5) / (keep - flat))
    return gains


def _convert(x: np.ndarray, n_out: int, taper_bins: int) -> np.ndarray:
    n_in = len(x)
    spectrum = np.fft.rfft(x, axis=0)
    out_bins = n_out // 2 + 1
    keep = min(len(spectrum), out_bins, taper_bins)
    result = np.zeros((out_bins, *spectrum.shape[1:]), dtype=complex)
    gains = _taper(keep, keep).reshape((-1,) + (1,) * (x.ndim - 1))
    result[:keep] = spectrum[:keep] * gains
    return np.fft.irfft(result, n_out, axis=0) * (n_out / n_in)


def resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """``x`` (frames, or frames x channels) at ``rate_out``, as float64: same start, same
    length in time (to a frame)."""
    x = np.asarray(x, dtype=np.float64)
    if rate_in == rate_out or len(x) == 0:
        return x.copy()
    g = math.gcd(rate_in, rate_out)
    up, down = rate_out // g, rate_in // g
    pad = math.ceil(PAD * rate_in / down) * down  # maps to a whole output frame
    # A padded length that is a multiple of `down`, so the output length is exact.
    n_in = _smooth_length(len(x) + 2 * pad, down)
    padded = np.zeros((n_in, *x.shape[1:]))
    padded[pad : pad + len(x)] = x
    n_out = n_in // down * up
    narrower = min(n_in, n_out) // 2 + 1
    y = _convert(padded, n_out, narrower)
    first = pad // down * up
    return y[first : first + round(len(x) * rate_out / rate_in)]


def resample_loop(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """A loop at ``rate_out``, still a seamless loop: resampled circularly, without padding.
    Its length becomes ``round(len(x) * rate_out / rate_in)`` (for most lengths the pitch moves by
    less than one part in a million)."""
    x = np.asarray(x, dtype=np.float64)
    if rate_in == rate_out or len(x) == 0:
        return x.copy()
    n_out = round(len(x) * rate_out / rate_in)
    return _convert(x, n_out, min(len(x), n_out) // 2 + 1)
