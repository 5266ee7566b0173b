"""``bedside check-config``: bedside.toml and the routine files read as the daemon reads them.

Every problem is reported at once, each with its file and line (``ConfigError``, exit 2);
what the device lives with (a voice file it cannot use) is a warning, and the exit is 0;
``--defaults`` prints a bedside.toml with every key at its default, each said what it does.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bedside.config.docs import commented_toml
from bedside.config.load import load_config
from bedside.config.spoken import MAX_SOUNDS, sound_count


def main(config_path: Path | None, defaults: bool = False) -> int:
    if defaults:
        print(commented_toml(), end="")
        return 0
    config = load_config(config_path)
    for problem in config.warnings:
        print(f"warning: {problem}", file=sys.stderr)
    warned = f", {len(config.warnings)} warning(s)" if config.warnings else ""
    print(f"{config.path}: ok{warned}, {len(config.routines)} routines ({', '.join(config.menu)})")
    print(f"{sound_count(config)} sounds to render, of at most {MAX_SOUNDS}")
    return 0
