"""The sounds bedside synthesises, by name: the soundscapes (what ``[soundscape] sound`` may say
besides "off" and a file) and the chimes. Its own module, numpy-free, so that reading the
settings or naming a sound in the daemon imports no numpy."""

from __future__ import annotations

__all__ = ["CHIMES", "KINDS"]

KINDS = ("brown", "pink", "rain")
CHIMES = ("step", "finish")  # a soft bell as a step starts; the close
