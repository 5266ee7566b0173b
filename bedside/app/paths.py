"""Where bedside keeps things, decided here and nowhere else: the state folder (the history
database and the lock), the cache folder (the rendered voice), and the demo's own folder.

systemd hands the service its folders in ``$STATE_DIRECTORY`` and ``$CACHE_DIRECTORY``; a
person running bedside by hand gets the XDG places under their home.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

DATABASE = "bedside.db"  # in the state folder: progress, sessions, holds
VOICE = "voice"  # in the cache folder: every sound, rendered ahead
DEMO = "demo"  # under the state folder a person's own runs use: the demo's history


def state_directory(given: Path | None, environ: Mapping[str, str] = os.environ) -> Path:
    """--state-dir, else systemd's $STATE_DIRECTORY, else ~/.local/state/bedside."""
    if given is not None:
        return given
    env = environ.get("STATE_DIRECTORY")
    if env:
        return Path(env.split(":")[0])
    return Path.home() / ".local" / "state" / "bedside"


def cache_directory(environ: Mapping[str, str] = os.environ) -> Path:
    """systemd's $CACHE_DIRECTORY, else $XDG_CACHE_HOME/bedside, else ~/.cache/bedside."""
    env = environ.get("CACHE_DIRECTORY")
    if env:
        return Path(env.split(":")[0])
    return Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bedside"


def voice_cache(cache: Path) -> Path:
    """The rendered sounds' folder in the cache folder ``cache``."""
    return cache / VOICE


def database(state: Path) -> Path:
    """The history database in the state folder ``state``."""
    return state / DATABASE


def demo_state(environ: Mapping[str, str] = os.environ) -> Path:
    """The demo's state folder: its own history, apart from the device's."""
    return state_directory(None, environ) / DEMO
