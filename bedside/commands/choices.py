"""What a person names on the command line, checked before a command uses it: a routine's
name (against the configuration), a button script (read and parsed whole), and the history a
report reads (``--state-dir DIR`` or ``--demo``).

Several commands take each of these (run, demo, plan, simulate, history); each is read here
once, with one message for each mistake.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bedside.app.paths import database, demo_state, state_directory
from bedside.config.sections import Config
from bedside.core.errors import UsageError
from bedside.core.routines import menu_first
from bedside.core.script import Command, parse_script


def routine_named(config: Config, name: str) -> str:
    """``name``, if the configuration has a routine of that name; else a UsageError that
    lists the routines there are, the menu's first."""
    if name not in config.routines:
        names = ", ".join(menu_first(config.menu, config.routines))
        raise UsageError(f"no routine named {name!r}; there are: {names}")
    return name


def read_script(path: str) -> list[Command]:
    """The button script in the file ``path`` (``-``: standard input), every line checked."""
    if path == "-":
        text, name = sys.stdin.read(), "<stdin>"
    else:
        try:
            text, name = Path(path).read_text(encoding="utf-8"), path
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read the script {path}: {exc}") from None
    return parse_script(text, name)


def history_file(state_dir: Path | None, demo: bool = False) -> Path:
    """The history database a command reads: the demo's (``--demo``), the one in
    ``state_dir`` (``--state-dir``), or the daemon's in its default state folder."""
    return database(demo_state() if demo else state_directory(state_dir))
