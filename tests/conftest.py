"""Shared fixtures: the shipped configuration, and a private copy of it to break."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHIPPED_CONFIG = REPO / "config" / "bedside.toml"


@pytest.fixture
def shipped_config() -> Path:
    """The repository's own config/bedside.toml (read it, never write it)."""
    return SHIPPED_CONFIG


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    """bedside.toml and routines/ copied into tmp_path/config; returns the bedside.toml path."""
    folder = tmp_path / "config"
    folder.mkdir()
    shutil.copy(SHIPPED_CONFIG, folder / "bedside.toml")
    shutil.copytree(SHIPPED_CONFIG.parent / "routines", folder / "routines")
    return folder / "bedside.toml"
