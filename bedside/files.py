"""The daemon's own files, kept usable: what cannot be read is set aside, never crash-looped on.

Whatever is set aside keeps its contents under a timestamped name beside the original, so a
person can still look at it; a fresh one takes its place.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("bedside.files")


def set_aside(
    path: Path, why: str, suffixes: tuple[str, ...] = ("",), wall: Callable[[], float] = time.time
) -> Path:
    """Rename ``path`` (and ``path`` + each suffix) to ``path.corrupt-YYYYmmdd-HHMMSS``."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(wall()))
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    for suffix in suffixes:
        part = Path(str(path) + suffix)
        if part.exists() or part.is_symlink():
            part.rename(Path(str(aside) + suffix))
    log.warning("%s could not be used (%s): set aside as %s", path, why, aside)
    return aside


def usable_folder(path: Path) -> Path:
    """``path`` as a folder we can read and write, set aside and made anew when it is not."""
    if path.exists() and not (path.is_dir() and os.access(path, os.R_OK | os.W_OK | os.X_OK)):
        set_aside(path, "not a folder we can read and write")
    path.mkdir(parents=True, exist_ok=True)
    return path
