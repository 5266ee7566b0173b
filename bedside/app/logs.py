"""The daemon's log: to stderr, which journald keeps under systemd."""

from __future__ import annotations

import logging
import os
import sys


def configure_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if verbose else logging.INFO,
        # journald adds its own time stamps; a terminal run wants them
        format="%(levelname)s %(name)s: %(message)s"
        if os.environ.get("INVOCATION_ID")
        else "%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
