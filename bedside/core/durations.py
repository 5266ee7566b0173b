"""Lengths of time as people write them: ``90``, ``2.5``, ``"90s"``, ``"5m"``, ``"1m30s"``.

Pure, and shared by the settings, the routine files and the button scripts, which all take a
length of time the same way.
"""

from __future__ import annotations

import math
import re
from typing import Any

_NUMBER_RE = r"(?:\d+(?:\.\d*)?|\.\d+)"
_DURATION_RE = re.compile(rf"^(?:({_NUMBER_RE})h)?\s*(?:({_NUMBER_RE})m)?\s*(?:({_NUMBER_RE})s)?$")
DURATION_HELP = 'seconds as a number, or a text like "90s", "5m", "1m30s"'


def parse_duration(value: Any) -> float | None:
    """Seconds from 90, 90.5, "90s", "5m", "1m30s" or "1h"; None when it is none of those."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            seconds = float(value)
        except OverflowError:  # a whole number too large for a float
            return None
        return seconds if math.isfinite(seconds) else None
    if isinstance(value, str):
        text = value.strip()
        match = _DURATION_RE.match(text)
        if text and match and any(match.groups()):
            h, m, s = (float(g) if g else 0.0 for g in match.groups())
            return h * 3600 + m * 60 + s
    return None


def whole_minutes(seconds: float) -> int:
    """A length in whole minutes, as it is said and shown: the one rounding of minutes, half
    up as people round (41.5 minutes is 42, 46.5 is 47), not Python's half to even."""
    return math.floor(seconds / 60 + 0.5)


def session_minutes(seconds: float) -> float:
    """A session's length as the history shows it, and the trace's ``finished`` says it."""
    return round(max(0.0, seconds) / 60, 1)
