"""The band-limited resampler: images and aliases measured on a sweep and tones, beside the
linear interpolation ALSA's plug uses."""

from __future__ import annotations

import numpy as np
import pytest

from bedside.sound.resample import resample, resample_loop


def sweep(rate: int, top: float, seconds: float = 4.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    k = np.log(top / 20.0) / seconds
    x = 0.5 * np.sin(2 * np.pi * 20.0 * (np.exp(k * t) - 1) / k)
    fade = np.hanning(400)
    x[:200] *= fade[:200]
    x[-200:] *= fade[200:]
    return x


def band_ratio_db(y: np.ndarray, rate: int, signal_below: float, image_above: float) -> float:
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y)))) ** 2
    f = np.fft.rfftfreq(len(y), 1 / rate)
    return 10 * np.log10(spectrum[f > image_above].sum() / spectrum[f < signal_below].sum())


def linear(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    at = np.arange(int(len(x) * rate_out / rate_in)) * rate_in / rate_out
    return np.interp(at, np.arange(len(x)), x)


def test_upsampling_a_sweep_adds_no_images() -> None:
    """22,050 -> 48,000 Hz, a sweep to 10.5 kHz: what lands above the old Nyquist (11,025 Hz)
    is an image. Linear interpolation (ALSA's plug) leaves them about 40 dB down."""
    x = sweep(22050, 10500)
    ours = band_ratio_db(resample(x, 22050, 48000), 48000, 10600, 11600)
    plug = band_ratio_db(linear(x, 22050, 48000), 48000, 10600, 11600)
    assert ours < -120, ours
    assert plug > -60, plug


def test_downsampling_folds_nothing_back() -> None:
    """48,000 -> 44,100 Hz: a tone at 23 kHz must vanish, not fold to 21.1 kHz."""
    t = np.arange(48000 * 2) / 48000
    x = 0.5 * np.sin(2 * np.pi * 23000 * t) + 0.5 * np.sin(2 * np.pi * 1000 * t)
    y = resample(x, 48000, 44100)
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    f = np.fft.rfftfreq(len(y), 1 / 44100)
    alias = spectrum[(f > 21000) & (f < 21200)].max()
    tone = spectrum[(f > 990) & (f < 1010)].max()
    assert 20 * np.log10(alias / tone) < -100


@pytest.mark.parametrize(("rate_in", "rate_out"), [(22050, 48000), (22050, 44100), (16000, 48000)])
def test_a_tone_passes_at_its_level_and_the_length_is_kept(rate_in: int, rate_out: int) -> None:
    t = np.arange(rate_in * 2) / rate_in
    x = 0.5 * np.sin(2 * np.pi * 1000 * t)
    y = resample(x, rate_in, rate_out)
    assert len(y) == round(len(x) * rate_out / rate_in)
    middle = y[len(y) // 4 : 3 * len(y) // 4]
    assert 20 * np.log10(np.sqrt(2 * np.mean(middle**2)) / 0.5) == pytest.approx(0.0, abs=0.01)
    # The same instant: the tone's phase is where it was.
    t_out = np.arange(len(y)) / rate_out
    expected = 0.5 * np.sin(2 * np.pi * 1000 * t_out)
    assert np.max(np.abs(middle - expected[len(y) // 4 : 3 * len(y) // 4])) < 1e-3


def test_stereo_and_unchanged_rates() -> None:
    x = np.random.default_rng(1).standard_normal((22050, 2)) * 0.1
    assert resample(x, 22050, 48000).shape == (48000, 2)
    assert np.array_equal(resample(x, 48000, 48000), x)


def test_a_loop_stays_a_loop() -> None:
    """Circular resampling: the step across the loop point is like any other step."""
    n = 44100 * 3
    rng = np.random.default_rng(2)
    spectrum = rng.standard_normal(n // 2 + 1) + 1j * rng.standard_normal(n // 2 + 1)
    spectrum[0] = 0
    spectrum[np.fft.rfftfreq(n, 1 / 44100) > 8000] = 0
    loop = np.fft.irfft(spectrum, n)
    loop /= np.abs(loop).max() * 2
    y = resample_loop(loop, 44100, 48000)
    steps = np.abs(np.diff(y))
    assert abs(y[0] - y[-1]) <= np.percentile(steps, 99.9)
