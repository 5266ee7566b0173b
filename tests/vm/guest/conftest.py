"""make test-vm's in-VM tests: run as root inside the VM by group.sh (never by `make test`:
tests/vm/guest is outside the suite's reach, its conftest only loads here)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import vmkit


@pytest.fixture
def fresh_daemon():
    """bedside restarted at its menu with an empty state folder (nothing to resume)."""
    vmkit.sh("systemctl", "stop", "bedside", timeout=60)
    vmkit.sh("sh", "-c", "rm -rf /var/lib/bedside/* /var/lib/bedside/.[!.]*", check=False)
    vmkit.sh("systemctl", "reset-failed", "bedside", check=False)
    vmkit.sh("systemctl", "start", "bedside", timeout=120)
    pid = vmkit.wait_ready()
    assert vmkit.status_text().startswith("menu: "), vmkit.status_text()
    return pid
