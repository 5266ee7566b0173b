"""``bedside run``: the daemon systemd starts at boot, or, with ``--mock-hardware``, the whole
device on any machine (a mock button pin, a recording panel, a null sound sink), driven from
a button script if one is given.

Everything the person can get wrong (the options, the script, the configuration, the
routine's name) is checked here, before any device is touched.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bedside.app.daemon import Options, run
from bedside.app.logs import configure_logging
from bedside.app.paths import voice_folders
from bedside.commands.choices import read_script, routine_named
from bedside.config.load import load_config
from bedside.core.errors import UsageError


def main(
    config_path: Path | None,
    state_dir: Path | None = None,
    routine: str | None = None,
    mock_hardware: bool = False,
    script: str | None = None,
    trace: bool = False,
    speed: float = 1.0,
    verbose: bool = False,
) -> int:
    if script is not None and not mock_hardware:
        raise UsageError("--script drives a mock button: add --mock-hardware")
    if speed != 1.0 and not mock_hardware:
        raise UsageError("--speed runs a mock device fast: add --mock-hardware")
    commands = read_script(script) if script is not None else None
    # read here too: its errors are the person's, exit 2
    config = load_config(config_path, voice_folders(state_dir))
    if routine is not None:
        routine_named(config, routine)
    configure_logging(verbose)
    options = Options(
        config=config_path,
        state_dir=state_dir,
        routine=routine,
        mock_hardware=mock_hardware,
        script=commands,
        trace=sys.stdout if trace else None,
        speed=speed,
    )
    return run(options)
