"""``bedside routines``: every routine, the menu's in menu order, then those left out of it.

Each with its length as its file has it (a hold that grows at the file's length: tonight's
length is ``bedside plan``'s), its summary and its profile.
"""

from __future__ import annotations

from bedside.config.sections import Config
from bedside.core.printable import printable
from bedside.core.routines import menu_first
from bedside.core.screens import minutes


def main(config: Config) -> int:
    width = max(len(n) for n in config.routines)
    for name in menu_first(config.menu, config.routines):
        routine = config.routines[name]
        about = routine.summary + (f" ({routine.profile_title})" if routine.profile_title else "")
        shown = "" if name in config.menu else "  [not in the menu]"
        line = f"{name:<{width}}  {minutes(routine.total_seconds):>7}  {about}{shown}"
        print(printable(line))  # a name or a summary is shown, never played
    return 0
