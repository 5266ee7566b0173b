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
    return vmkit.fresh_start()
