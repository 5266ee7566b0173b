"""The machine's sound cards, as ALSA lists them: whether ``[voice] device`` has anything to play
on (``bedside voice say``, ``selftest``, the demo)."""

from __future__ import annotations

import subprocess

__all__ = ["NULL_OUTPUT", "sound_cards"]

# The sound stage's output where there is no card to play on: a card made of the clock, which
# takes as long as a speaker and keeps nothing (mock-hardware runs, the demo, tests).
NULL_OUTPUT = "null"


def sound_cards() -> list[str]:
    """The ALSA cards ``aplay -l`` lists (none without aplay, or without a card)."""
    try:
        listing = subprocess.run(
            ["aplay", "-l"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line for line in listing.stdout.splitlines() if line.startswith("card ")]
