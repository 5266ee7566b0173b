"""The checks here run inside a booted container, against the installed service: only
`make test-systemd` (tests/systemd/run.sh) runs them; the quick suite leaves them alone."""

from __future__ import annotations

import os

if not os.environ.get("BEDSIDE_SYSTEMD_CHECKS"):
    collect_ignore_glob = ["test_*.py"]
