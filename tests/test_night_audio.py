"""``bedside simulate --audio night.wav`` (the simulated session's sound as the stage would play
it, on the virtual clock) and ``bedside voice list`` (what the cache holds), from outside."""

from __future__ import annotations

import json
import os
import time
import wave
from pathlib import Path

import numpy as np
import pytest
from voicekit import bedside

from bedside.sound.loudness import integrated_loudness

NAP = """title = "Nap"
finish = "Sleep well."

[[steps]]
title = "Lie down"
kind = "wait"
cues = [{ at = "start", text = "Lie down." }]

[[steps]]
title = "Rest"
kind = "timed"
duration = "30s"
soundscape = true
cues = [{ at = "start", text = "Breathe slowly." }, { at = "20s", text = "Five." }]
"""


def setup(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    (tmp_path / "routines").mkdir()
    (tmp_path / "routines" / "nap.toml").write_text(NAP)
    config = tmp_path / "bedside.toml"
    config.write_text('[menu]\nroutines = ["nap"]\n\n[soundscape]\nsound = "pink"\nafter = "10s"\n')
    (tmp_path / "script.txt").write_text("press\nwait 3\npress\nwait 60\n")
    return config, {"CACHE_DIRECTORY": str(tmp_path / "cache")}


def read(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as w:
        rate, channels = w.getframerate(), w.getnchannels()
        data = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, channels)
    return data / 32768.0, rate


def test_a_night_heard_before_it_happens(tmp_path: Path) -> None:
    config, env = setup(tmp_path)
    night = tmp_path / "night.wav"
    began = time.monotonic()
    run = bedside(
        "simulate", "--config", str(config), "--script", str(tmp_path / "script.txt"),
        "--audio", str(night), env=env, timeout=300,
    )  # fmt: skip
    took = time.monotonic() - began
    assert run.returncode == 0, run.stderr
    events = [json.loads(line) for line in run.stdout.splitlines()]
    finished = next(e["t"] for e in events if e["type"] == "finished")
    rest = next(e["t"] for e in events if e["type"] == "step" and e["title"] == "Rest")
    x, rate = read(night)
    assert rate == 48000 and x.shape[1] == 2
    # To the end of the sleep timer: 10 s on, 120 s of fade, half a second more.
    assert len(x) / rate == pytest.approx(finished + 10 + 120 + 0.5, abs=0.6)
    assert took < 60  # minutes of sound in seconds (renders included)
    assert np.abs(x[:10]).max() == 0 and np.abs(x[-rate // 4 :]).max() == 0  # no step
    # The bed alone (between the cues of the marked step): 18 dB under the cues, by BS.1770
    # (a mono cue on both channels of the stereo output reads 3 LU over itself).
    bed = integrated_loudness(x[int((rest + 8) * rate) : int((rest + 18) * rate)], rate)
    assert bed == pytest.approx(-20 + 20 * np.log10(0.8) + 3 - 18, abs=0.7)
    # Ducked under "Five." (at rest + 20 s), back up after it.
    five = x[int((rest + 20.2) * rate) : int((rest + 20.5) * rate)]
    assert np.abs(five).max() > 10 ** (-30 / 20)  # the cue is there
    # Before the rest step the bed is silent: the first step is not marked.
    assert np.sqrt(np.mean(x[int((rest - 1.0) * rate) : int((rest - 0.1) * rate)] ** 2)) < 1e-3


def test_voice_list_says_each_cached_sound(tmp_path: Path) -> None:
    config, env = setup(tmp_path)
    run = bedside("voice", "render", "--config", str(config), env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    listed = bedside("voice", "list", "--json", "--config", str(config), env=env, timeout=60)
    assert listed.returncode == 0, listed.stderr
    sounds = json.loads(listed.stdout)
    assert all(set(s) == {"text", "file", "seconds", "loudness_lufs"} for s in sounds)
    by_text = {s["text"]: s for s in sounds}
    assert {"Lie down.", "Breathe slowly.", "Five.", "step", "finish", "pink"} <= set(by_text)
    assert by_text["Five."]["loudness_lufs"] == pytest.approx(-21.94, abs=0.2)
    assert by_text["pink"]["seconds"] == 40.0
    assert all(os.path.isfile(s["file"]) for s in sounds)
    plain = bedside("voice", "list", "--config", str(config), env=env, timeout=60)
    assert "Breathe slowly." in plain.stdout and f"{len(sounds)} sounds in" in plain.stdout
