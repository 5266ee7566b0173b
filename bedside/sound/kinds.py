"""The soundscapes bedside synthesises, by name: what ``[soundscape] sound`` may say besides "off"
and a file. Its own module, numpy-free, so that reading the settings imports no numpy."""

from __future__ import annotations

__all__ = ["KINDS"]

KINDS = ("brown", "pink", "rain")
