"""Shared fixtures: the shipped configuration, and a private copy of it to break."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHIPPED_CONFIG = REPO / "config" / "bedside.toml"


@pytest.fixture(autouse=True)
def own_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test (and every process it starts) has a home of its own: nothing reads or
    writes the real ~/.local/state/bedside or ~/.cache/bedside."""
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
    for name in ("STATE_DIRECTORY", "CACHE_DIRECTORY", "XDG_CACHE_HOME", "BEDSIDE_CONFIG"):
        monkeypatch.delenv(name, raising=False)


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
