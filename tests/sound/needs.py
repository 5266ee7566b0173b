"""What the sound tests need from the machine: missing here, a test skips; missing under CI=true
(which installs everything with make system-deps and the test extra), it fails, so a check that
quietly stopped running is seen."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def missing(why: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{why}: CI installs it, so this check must run there")
    pytest.skip(why)
