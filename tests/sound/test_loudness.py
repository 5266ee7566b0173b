"""The BS.1770-4 meter against the standard's own numbers, EBU Tech 3341's test signals, a
plain biquad run sample by sample, and (where installed) pyloudnorm and ffmpeg's ebur128."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bedside.sound.loudness import (
    block_loudness,
    cue_loudness,
    integrated_loudness,
    k_coefficients,
    k_weight,
)

from .needs import missing


def tone(freq: float, dbfs: float, seconds: float, rate: int = 48000) -> np.ndarray:
    """A sine whose peak is at ``dbfs`` (as EBU Tech 3341 states its levels)."""
    t = np.arange(round(seconds * rate)) / rate
    return 10 ** (dbfs / 20) * np.sin(2 * np.pi * freq * t)


def stereo(x: np.ndarray) -> np.ndarray:
    return np.stack([x, x], axis=1)


def k_gain(freq: float, rate: int) -> float:
    """|H(f)| of the K-weighting cascade, straight from its coefficients."""
    z = np.exp(-1j * 2 * np.pi * freq / rate)
    h = 1.0
    for b, a in k_coefficients(rate):
        h *= (b[0] + b[1] * z + b[2] * z * z) / (a[0] + a[1] * z + a[2] * z * z)
    return float(abs(h))


def test_the_48khz_coefficients_are_the_standards() -> None:
    (shelf_b, shelf_a), (hp_b, hp_a) = k_coefficients(48000)
    # ITU-R BS.1770-4, tables 1 and 2.
    assert np.allclose(shelf_b, [1.53512485958697, -2.69169618940638, 1.19839281085285], atol=1e-8)
    assert np.allclose(shelf_a, [1.0, -1.69065929318241, 0.73248077421585], atol=1e-8)
    assert np.allclose(hp_b, [1.0, -2.0, 1.0])
    assert np.allclose(hp_a, [1.0, -1.99004745483398, 0.99007225036621], atol=1e-8)


@pytest.mark.parametrize("rate", [48000, 44100, 22050])
def test_the_fft_filter_is_the_biquads_run_sample_by_sample(rate: int) -> None:
    x = np.random.default_rng(3).standard_normal(rate // 4) * 0.1
    y = list(x)
    for b, a in k_coefficients(rate):  # direct form I, from rest
        out, x1, x2, y1, y2 = [], 0.0, 0.0, 0.0, 0.0
        for v in y:
            w = b[0] * v + b[1] * x1 + b[2] * x2 - a[1] * y1 - a[2] * y2
            out.append(w)
            x2, x1, y2, y1 = x1, v, y1, w
        y = out
    assert np.max(np.abs(k_weight(x, rate) - np.array(y))) < 1e-9


def test_ebu_3341_case_1_stereo_1khz_at_minus_23_dbfs() -> None:
    # Worked out: each channel's mean square is A^2/2 with A = 10^(-23/20); two channels of
    # weight 1; the K-weighting's gain at 1 kHz is +0.6977 dB. -0.691 + 10 log10(2 * A^2 / 2 *
    # |H|^2) = -22.9933 LUFS.
    expected = -0.691 + 10 * math.log10(10 ** (-23 / 10) * k_gain(1000, 48000) ** 2)
    assert expected == pytest.approx(-22.9933, abs=1e-4)
    measured = integrated_loudness(stereo(tone(1000, -23, 20)), 48000)
    assert measured == pytest.approx(expected, abs=0.005)
    assert measured == pytest.approx(-23.0, abs=0.1)


def test_a_mono_997hz_sine_at_minus_20_dbfs_reads_minus_23() -> None:
    # One channel of weight 1.0: -0.691 + 10 log10(A^2 / 2 * |H(997)|^2), A = 0.1, and the
    # K-weighting's gain at 997 Hz is +0.6910 dB (what the -0.691 offset is there to cancel):
    # -23.0103 LUFS.
    expected = -0.691 + 10 * math.log10(0.01 / 2 * k_gain(997, 48000) ** 2)
    assert expected == pytest.approx(-23.0103, abs=1e-4)
    for rate in (48000, 44100, 22050):
        measured = integrated_loudness(tone(997, -20, 20, rate), rate)
        assert measured == pytest.approx(-23.0, abs=0.1), rate
    assert integrated_loudness(tone(997, -20, 20), 48000) == pytest.approx(expected, abs=0.005)


@pytest.mark.parametrize(
    ("pieces", "expected"),
    [
        ([(-33, 20)], -33.0),  # case 2
        ([(-36, 10), (-23, 60), (-36, 10)], -23.0),  # case 3: the relative gate
        ([(-72, 10), (-36, 10), (-23, 60), (-36, 10), (-72, 10)], -23.0),  # case 4: both gates
        ([(-26, 20), (-20, 20.1), (-26, 20)], -23.0),  # case 5
    ],
)
def test_ebu_3341_gating_cases(pieces: list[tuple[float, float]], expected: float) -> None:
    x = np.concatenate([tone(1000, level, seconds) for level, seconds in pieces])
    assert integrated_loudness(stereo(x), 48000) == pytest.approx(expected, abs=0.1)


def test_silence_and_too_short_are_minus_infinity() -> None:
    assert integrated_loudness(np.zeros(48000), 48000) == -math.inf
    assert integrated_loudness(tone(1000, -20, 0.3), 48000) == -math.inf  # under one block
    assert cue_loudness(np.zeros(4800), 48000) == -math.inf


def test_a_short_cue_reads_its_own_level_whatever_the_silence_around_it() -> None:
    """Under 400 ms of sound: one block as long as the sound, so 250 ms of a -20 dBFS 997 Hz
    tone reads -23.0 like the long tone, with or without a second of silence either side."""
    burst = tone(997, -20, 0.25)
    ramp = np.hanning(480)
    burst[:240] *= ramp[:240]
    burst[-240:] *= ramp[240:]
    alone = cue_loudness(burst, 48000)
    padded = cue_loudness(np.concatenate([np.zeros(48000), burst, np.zeros(48000)]), 48000)
    assert alone == pytest.approx(-23.0, abs=0.15)
    assert padded == pytest.approx(alone, abs=0.05)


def test_the_short_measure_meets_the_gated_one_at_400ms() -> None:
    noise = np.random.default_rng(5).standard_normal(48000 * 2) * 0.05
    short = cue_loudness(noise[: int(0.399 * 48000)], 48000)
    long = cue_loudness(noise[: int(0.401 * 48000)], 48000)
    assert short == pytest.approx(long, abs=0.2)


def test_momentary_blocks_every_100ms() -> None:
    blocks = block_loudness(stereo(tone(1000, -23, 2.0)), 48000)
    assert len(blocks) == 17  # (2.0 - 0.4) / 0.1 + 1
    assert np.allclose(blocks[2:], -23.0, atol=0.1)


def _signals() -> list[tuple[str, np.ndarray, int]]:
    rng = np.random.default_rng(11)
    speechy = rng.standard_normal(48000 * 6) * np.repeat(rng.uniform(0, 0.3, 60), 4800)
    return [
        ("stereo 1 kHz -23", stereo(tone(1000, -23, 20)), 48000),
        ("mono 997 Hz -20", tone(997, -20, 20), 48000),
        ("gated noise bursts", speechy, 48000),
        ("44.1 kHz stereo noise", rng.standard_normal((44100 * 5, 2)) * 0.05, 44100),
    ]


def test_pyloudnorm_agrees() -> None:
    try:
        import pyloudnorm
    except ImportError:
        missing("pyloudnorm is not installed (the test extra has it)")
    for name, x, rate in _signals():
        # "DeMan": the standard's filters exactly (pyloudnorm's default designs them another
        # way and reads about 0.04 LU lower).
        meter = pyloudnorm.Meter(rate, filter_class="DeMan")
        assert integrated_loudness(x, rate) == pytest.approx(
            meter.integrated_loudness(x), abs=0.01
        ), name
