"""A session rendered offline through the same mixer: what ``simulate --audio`` will write."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from bedside.sound import chimes, soundscapes
from bedside.sound.render import render_session
from bedside.sound.wavfile import read_wav, write_wav

from .stagekit import R, burst, detector_delay, onsets


def test_a_session_offline(tmp_path: Path) -> None:
    write_wav(tmp_path / "chime.wav", chimes.chime("step", R, -28.0), R)
    write_wav(tmp_path / "rain.wav", soundscapes.synthesise("rain", R, 2, 8.0, -20.0), R)
    cue = burst(tmp_path / "cue.wav")
    other = burst(tmp_path / "other.wav", freq=5000.0)
    lines = [
        {"type": "soundscape", "file": str(tmp_path / "rain.wav"), "at": 0.0, "fade": 1.0},
        {"type": "chime", "file": str(tmp_path / "chime.wav"), "at": 2.0, "text": "step"},
        {"type": "cue", "file": str(cue), "at": 2.0, "text": "one"},
        {"type": "cue", "file": str(other), "at": 2.2, "text": "two"},  # queued after one
        {"type": "soundscape", "off": True, "at": 5.0, "fade": 4.0},
    ]
    reports = render_session(lines, tmp_path / "night.wav", rate=R, channels=2)
    x, rate = read_wav(tmp_path / "night.wav")
    assert rate == R
    with wave.open(str(tmp_path / "night.wav")) as w:
        assert w.getnchannels() == 2
    starts = {r["text"]: r["start"] for r in reports if r.get("what") == "cue" and "text" in r}
    assert starts == {"one": 2.0, "two": 2.6}
    left = x[:, 0].astype(np.float64)
    assert (onsets(left) - detector_delay()) / R == pytest.approx([2.0], abs=0.001)
    assert (onsets(left, 5000.0) - detector_delay(5000.0)) / R == pytest.approx([2.6], abs=0.001)
    # The rain ducked under the cues (bed measured in the gap-free band under 1 kHz), and
    # faded to nothing by 9 s; the file ends half a second after.
    assert np.all(x[int(9.01 * R) :] == 0.0)
    assert len(x) / R == pytest.approx(9.5, abs=0.11)
    assert {r["state"] for r in reports if r["type"] == "duck"} == {"down", "up"}
