"""``bedside check-config``: bedside.toml and the routine files read as the daemon reads them.

Every problem is reported at once, each with its file and line (``ConfigError``, exit 2);
``--defaults`` prints a bedside.toml with every key at its default, each said what it does.
"""

from __future__ import annotations

from pathlib import Path

from bedside.config.docs import commented_toml
from bedside.config.load import load_config


def main(config_path: Path | None, defaults: bool = False) -> int:
    if defaults:
        print(commented_toml(), end="")
        return 0
    config = load_config(config_path)
    print(f"{config.path}: ok, {len(config.routines)} routines ({', '.join(config.menu)})")
    return 0
