"""``bedside routines``: every routine, the menu's in menu order, then those left out of it.

Each with tonight's length (a hold that grows at tonight's length, from the history, as
``bedside plan`` and the menu show it), its summary and its profile.
"""

from __future__ import annotations

from pathlib import Path

from bedside.commands.tonight import hold_for
from bedside.config.sections import Config
from bedside.core.growth import retimed
from bedside.core.printable import printable
from bedside.core.routines import menu_first
from bedside.core.screens import minutes


def main(config: Config, state_dir: Path | None = None, demo: bool = False) -> int:
    width = max(len(n) for n in config.routines)
    length = hold_for(config, state_dir, demo)
    for name in menu_first(config.menu, config.routines):
        routine = config.routines[name]
        if length is not None:
            routine = retimed(routine, length, config.cues)
        about = routine.summary + (f" ({routine.profile_title})" if routine.profile_title else "")
        shown = "" if name in config.menu else "  [not in the menu]"
        line = f"{name:<{width}}  {minutes(routine.total_seconds):>7}  {about}{shown}"
        print(printable(line))  # a name or a summary is shown, never played
    return 0
