"""Where bedside keeps things, decided here and nowhere else: the state folder (the history
database, the lock, and the Piper voices a person downloads), the cache folder (the rendered
voice), and the demo's own folder.

systemd hands the service its folders in ``$STATE_DIRECTORY`` and ``$CACHE_DIRECTORY``; a
person running bedside by hand gets the XDG places under their home. A home is a folder named
by an absolute path: ``HOME=""`` (or a relative ``HOME``) is no home, never the root folder or
the working one, and without one and without the folder given another way, ``NoHome`` says
plainly what to give instead.
"""

from __future__ import annotations

import contextlib
import os
import pwd
from collections.abc import Mapping
from pathlib import Path

from bedside.core.errors import UsageError

DATABASE = "bedside.db"  # in the state folder: progress, sessions, holds
VOICE = "voice"  # in the cache folder: every sound, rendered ahead
DEMO = "demo"  # under the state folder a person's own runs use: the demo's history
VOICES = "voices"  # in the state folder: Piper voices downloaded (the README's step)
SERVICE_STATE = Path("/var/lib/bedside")  # the service's state folder (StateDirectory=bedside)


class NoHome(UsageError):
    """No home folder to keep things in, and the folder not given another way."""


def home(environ: Mapping[str, str] = os.environ) -> Path | None:
    """The home folder: $HOME when it is an absolute path; when HOME is not set at all, the
    user's home as the password database has it (as Python and a login shell find it). None
    when HOME is set to nothing or to a relative path: no home, not "/" nor ".".
    """
    value = environ.get("HOME")
    if value is None:
        try:
            value = pwd.getpwuid(os.getuid()).pw_dir
        except KeyError:  # a uid with no entry: a container's made-up user
            return None
    return Path(value) if value and os.path.isabs(value) else None


def _no_home(environ: Mapping[str, str]) -> str:
    value = environ.get("HOME")
    if value is None:
        return "no home folder (HOME is not set, and this user has none)"
    return f"no home folder (HOME is {'empty' if not value else f'{value!r}, not a full path'})"


def state_directory(given: Path | None, environ: Mapping[str, str] = os.environ) -> Path:
    """--state-dir, else systemd's $STATE_DIRECTORY, else ~/.local/state/bedside; NoHome when
    there is none of the three."""
    if given is not None:
        return given
    env = environ.get("STATE_DIRECTORY")
    if env:
        return Path(env.split(":")[0])
    folder = home(environ)
    if folder is None:
        raise NoHome(
            f"{_no_home(environ)} to keep the history in: give --state-dir DIR, or set"
            " $STATE_DIRECTORY (or HOME)"
        )
    return folder / ".local" / "state" / "bedside"


def cache_directory(environ: Mapping[str, str] = os.environ) -> Path:
    """systemd's $CACHE_DIRECTORY, else $XDG_CACHE_HOME/bedside, else ~/.cache/bedside; NoHome
    when there is none of the three (an XDG_CACHE_HOME that is not a full path is ignored, as
    the XDG specification asks)."""
    env = environ.get("CACHE_DIRECTORY")
    if env:
        return Path(env.split(":")[0])
    xdg = environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):
        return Path(xdg) / "bedside"
    folder = home(environ)
    if folder is None:
        raise NoHome(
            f"{_no_home(environ)} for the voice's cache: set $CACHE_DIRECTORY or"
            " $XDG_CACHE_HOME (or HOME)"
        )
    return folder / ".cache" / "bedside"


def voice_cache(cache: Path) -> Path:
    """The rendered sounds' folder in the cache folder ``cache``."""
    return cache / VOICE


def database(state: Path) -> Path:
    """The history database in the state folder ``state``."""
    return state / DATABASE


def voice_folders(state: Path | None = None, environ: Mapping[str, str] = os.environ) -> list[Path]:
    """Where a Piper voice given by its name is looked for (after ``voices/`` beside
    bedside.toml, before the installed packages): the state folder's voices (``state``, else
    as ``state_directory`` finds it; none without a home), then the service's, so that a person
    checking the device's settings by hand finds the voices the device finds."""
    folders = []
    with contextlib.suppress(NoHome):  # no home: only the service's
        folders.append(state_directory(state, environ) / VOICES)
    return list(dict.fromkeys([*folders, SERVICE_STATE / VOICES]))


def demo_state(environ: Mapping[str, str] = os.environ) -> Path:
    """The demo's state folder: its own history, apart from the device's."""
    if not environ.get("STATE_DIRECTORY") and home(environ) is None:
        raise NoHome(f"{_no_home(environ)} to keep the demo's history in: set HOME to a folder")
    return state_directory(None, environ) / DEMO
