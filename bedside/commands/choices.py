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
from bedside.folders import NotAFile, TooLarge, read_file


def routine_named(config: Config, name: str) -> str:
    """``name``, if the configuration has a routine of that name; else a UsageError that
    lists the routines there are, the menu's first."""
    if name not in config.routines:
        names = ", ".join(menu_first(config.menu, config.routines))
        raise UsageError(f"no routine named {name!r}; there are: {names}")
    return name


SCRIPT_LIMIT = 1 << 20  # bytes (on standard input, characters): a night of presses is a few kB


def read_script(path: str) -> list[Command]:
    """The button script in the file ``path`` (``-``: standard input), every line checked.

    A script is a regular file or standard input, of at most SCRIPT_LIMIT bytes: a device
    (/dev/zero) or a FIFO named as a script is refused before it is opened, and standard input
    is read only to the limit, so no script can hang the command or fill its memory.
    """
    limit = f"at most {SCRIPT_LIMIT // 1024} kB"
    shown = "on standard input" if path == "-" else path
    try:
        if path == "-":
            name = "<stdin>"
            text = sys.stdin.read(SCRIPT_LIMIT + 1)  # characters: at most 4 bytes each
            if len(text) > SCRIPT_LIMIT:
                raise TooLarge(Path(name), SCRIPT_LIMIT)
        else:
            name = path
            text = read_file(Path(path), SCRIPT_LIMIT).decode("utf-8")
    except NotAFile as exc:
        raise UsageError(
            f"the script {path} is {exc.kind}: give a script file, or - for standard input"
        ) from None
    except TooLarge:
        raise UsageError(f"the script {shown} is too long: a script is {limit}") from None
    except FileNotFoundError:
        raise UsageError(f"no script {path}: there is no such file") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"the script {shown} is not UTF-8 text (byte {exc.start + 1})") from None
    except (OSError, ValueError) as exc:
        why = (getattr(exc, "strerror", None) or "unreadable").lower()
        raise UsageError(f"cannot read the script {path}: {why}") from None
    return parse_script(text, name)


def history_file(state_dir: Path | None, demo: bool = False) -> Path:
    """The history database a command reads: the demo's (``--demo``), the one in
    ``state_dir`` (``--state-dir``), or the daemon's in its default state folder."""
    return database(demo_state() if demo else state_directory(state_dir))
