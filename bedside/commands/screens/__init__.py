"""``bedside screens DIR``: the gallery, every kind of screen the device shows as PNGs.

``evening`` picks the screens from real engine states, in the order an evening meets them;
``gallery`` draws them at the panel's size and writes them into a folder that can be written
again (the README's docs/screens and docs/screens-32 are made this way).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bedside.commands.screens.gallery import drawn_size, write_gallery
from bedside.config import core_terms
from bedside.config.sections import Config
from bedside.core.errors import UsageError
from bedside.core.growth import retimed
from bedside.core.settings import Settings
from bedside.display.geometry import WIDTH


def first_night(config: Config) -> Settings:
    """The settings as a first night shows them: the hold that grows at its first length, so
    the gallery's menu says what a new device says ("37 min, hold 5 min")."""
    settings = core_terms.settings(config)
    if not config.hold.grow:
        return settings
    start = config.hold.start
    routines = {name: retimed(r, start, config.cues) for name, r in settings.routines.items()}
    return replace(settings, routines=routines)


def main(config: Config, directory: Path, height: int | None = None) -> int:
    """Write the gallery into ``directory``, ``height`` rows high (default: the panel's)."""
    size = (WIDTH, height or config.display.height)
    drawn = drawn_size(directory) if directory.is_dir() else None
    if height is None and drawn is not None and drawn != size:
        # docs/screens-32 redrawn at the configured 64 rows would quietly lose its point.
        raise UsageError(
            f"{directory} holds bedside's {drawn[0]}x{drawn[1]} pictures and the panel "
            f"is configured as {size[0]}x{size[1]}: give --height {drawn[1]} to redraw them, "
            f"or --height {size[1]} to replace them"
        )
    paths = write_gallery(first_night(config), directory, size)  # or a GalleryError
    print(f"wrote {len(paths)} images ({size[0]}x{size[1]}) to {directory}")
    return 0
