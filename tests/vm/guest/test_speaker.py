"""The speaker through ALSA: the VM's card 0 is snd-aloop's loopback, so what the daemon's
sound stage plays (the device's [voice] device, "default") comes back from hw:Loopback,1,0. A cue
the daemon says is recorded there and compared with the WAVs in its cache (/var/cache/bedside):
the same sound (by correlation), at its level, and its onset at the card against when it fell
due (the button's release that asked for it)."""

import subprocess
import time
import wave
from pathlib import Path

import numpy as np
from vmkit import Button, cursor, figure, gestures, messages, python_pass_seconds, wait_for

# The loopback's own rate and channels, which the stage plays at and every WAV in bedside's
# cache is rendered at (mono): the capture end must ask for the same, as snd-aloop ties them.
RATE = 48000
CHANNELS = 2
CACHE = Path("/var/cache/bedside")


def load(path: Path) -> np.ndarray | None:
    with wave.open(str(path), "rb") as w:
        if w.getframerate() != RATE or w.getnchannels() != 1 or w.getsampwidth() != 2:
            return None
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)


def best_lag(recording: np.ndarray, sound: np.ndarray) -> tuple[float, int]:
    """The normalised cross-correlation's peak (1.0: the very samples) and where it is."""
    n = len(sound)
    size = 1 << int(np.ceil(np.log2(len(recording) + n)))
    corr = np.fft.irfft(np.fft.rfft(recording, size) * np.conj(np.fft.rfft(sound, size)), size)
    corr = corr[: len(recording) - n + 1]
    energy = np.concatenate(([0.0], np.cumsum(recording**2)))
    window = np.sqrt(np.maximum(energy[n:] - energy[:-n], 1e-9))
    score = corr / (window * np.sqrt(np.sum(sound**2)) + 1e-9)
    lag = int(np.argmax(score))
    return float(score[lag]), lag


def sounding(samples: np.ndarray) -> tuple[int, int]:
    """Where the recording is not silence (10 ms blocks above -50 dBFS)."""
    block = RATE // 100
    blocks = samples[: len(samples) // block * block].reshape(-1, block)
    loud = np.nonzero(np.sqrt(np.mean(blocks**2, axis=1)) > 32768 * 10 ** (-50 / 20))[0]
    assert len(loud), "the loopback recorded only silence: nothing was played on the card"
    return int(loud[0] * block), int((loud[-1] + 1) * block)


def test_a_cue_comes_back_from_the_card_as_the_cached_sound(fresh_daemon, tmp_path):
    raw = tmp_path / "card.raw"
    seconds = 14
    recorder = subprocess.Popen(
        ["arecord", "-q", "-D", "hw:Loopback,1,0", "-f", "S16_LE", "-r", str(RATE),
         "-c", str(CHANNELS), "-t", "raw", "-d", str(seconds), "--buffer-time=40000",
         "--period-time=10000", str(raw)],
    )  # fmt: skip
    time.sleep(1.5)
    button = Button()
    mark = cursor()
    button.down()
    time.sleep(1.3)
    released = button.up()  # a hold in the menu: the next routine, and its name said
    assert wait_for("the hold", lambda: gestures(mark), 15) == ["hold"]
    assert recorder.wait(timeout=seconds + 60) == 0
    ended = time.monotonic()
    recording = np.fromfile(raw, dtype="<i2").reshape(-1, CHANNELS)[:, 0].astype(np.float64)
    started = ended - len(recording) / RATE  # the first sample's time, from the last one's
    said = [m.split("say: ", 1)[1] for m in messages(mark) if "say: " in m]
    assert said, "the daemon said nothing"

    first, last = sounding(recording)
    length = (last - first) / RATE
    candidates = []
    for wav in sorted(CACHE.glob("**/*.wav")):
        sound = load(wav)
        if sound is not None and abs(len(sound) / RATE - length) < 0.25 + 0.1 * length:
            candidates.append((wav, sound))
    assert candidates, f"no cached WAV {length:.2f} s long in {CACHE}"
    scored = sorted(
        ((*best_lag(recording, sound), wav, sound) for wav, sound in candidates),
        key=lambda s: -s[0],
    )
    score, lag, wav, sound = scored[0]
    runner_up = scored[1][0] if len(scored) > 1 else 0.0
    assert score > 0.95, f"the card's sound is not a cached WAV (best {score:.3f}: {wav.name})"
    assert score - runner_up > 0.05 or len(scored) == 1

    segment = recording[lag : lag + len(sound)]
    level = 20 * np.log10(np.sqrt(np.mean(segment**2)) / np.sqrt(np.mean(sound**2)))
    onset = started + lag / RATE - released
    reference = python_pass_seconds()
    print(
        f"said {said!r}; on the card: {wav.name} (correlation {score:.4f}, next best "
        f"{runner_up:.3f} of {len(scored)}), level {level:+.2f} dB"
    )
    figure(
        "cue onset at the card after the release that asked for it",
        onset,
        "s",
        f"python3 -c pass {reference:.3f} s",
        onset / reference,
    )
    assert abs(level) < 1.0, f"the cue came out {level:+.1f} dB from its cached level"
    assert -0.05 < onset < 3.0, f"the cue began {onset:.2f} s after it fell due"
