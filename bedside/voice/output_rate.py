"""The output's own sample rate, asked once, so every sound is rendered at it (band-limited,
ahead of time) and nothing is resampled while it plays (ALSA's ``plug`` would do it by linear
interpolation, which aliases).

The stage answers (``python -I -m bedside.sound.stage --format --output SPEC``, ALSA asked with
its conversions off), in a child: numpy and libasound stay out of the daemon's memory.
"""

from __future__ import annotations

import json
import subprocess
import sys

__all__ = ["FALLBACK_RATE", "native_rate", "stage_command"]

FALLBACK_RATE = 48000  # no card, a busy one, or a stand-in: what most outputs and dmix take


def stage_command(output: str, *options: str) -> list[str]:
    """The sound stage's command line for ``output`` (``alsa:NAME``, ``null``, ``fake:...``)."""
    # -I: the working folder never shadows the package, no user site, no PYTHON* variables.
    return [sys.executable, "-I", "-m", "bedside.sound.stage", "--output", output, *options]


def native_rate(output: str, timeout: float = 30.0) -> int:
    """The rate ``output`` plays at without conversion; FALLBACK_RATE when it cannot say."""
    if not output.startswith("alsa:"):
        return FALLBACK_RATE
    try:
        done = subprocess.run(
            stage_command(output, "--format"),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        rate = int(json.loads(done.stdout)["rate"])
    except (OSError, subprocess.TimeoutExpired, ValueError, KeyError, TypeError):
        return FALLBACK_RATE
    return rate if 8000 <= rate <= 384000 else FALLBACK_RATE
