"""The folders are the layers, and what enforces them can fail: import-linter refuses a layer
crossed, an import cycle (even one hidden in a function) or I/O in the core; mypy refuses a
wrong type; and the picture of the layers in docs/building.md is the one the contract draws.

``make test`` runs ``lint-imports`` and ``mypy`` over the package itself; here each is shown to
fail on a copy of the package broken on purpose, so that a check that passes means something.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from layers import DOC, block, current

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def test_the_picture_of_the_layers_is_the_one_the_contract_draws():
    assert current(DOC.read_text()) == block(), "run: python tests/layers.py --write"


def broken_copy(tmp_path: Path, module: str, line: str) -> Path:
    """The package and its pyproject.toml in ``tmp_path``, with ``line`` added to ``module``."""
    shutil.copytree(ROOT / "bedside", tmp_path / "bedside", ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    path = tmp_path / module
    path.write_text(path.read_text() + f"\n{line}\n")
    return tmp_path


def lint_imports(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BIN / "lint-imports", "--no-cache"],
        cwd=folder,
        env={"PYTHONPATH": str(folder), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_layers_hold_in_the_package_as_it_is():
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize(
    ("module", "line", "said"),
    [
        (  # a layer crossed: the core reaching up into the shell
            "bedside/core/durations.py",
            "from bedside.app import paths",
            "bedside.core is not allowed to import bedside.app",
        ),
        (  # the core touching the machine
            "bedside/core/routines.py",
            "import subprocess",
            "bedside.core is not allowed to import subprocess",
        ),
        (  # a cycle between two siblings, hidden in a function
            "bedside/voice/cache.py",
            "def _later() -> None:\n    from bedside.voice import speaker",
            "No cycles are allowed in bedside.voice",
        ),
    ],
    ids=["layer-crossed", "io-in-the-core", "hidden-cycle"],
)
def test_import_linter_refuses_a_broken_layering(tmp_path, module, line, said):
    done = lint_imports(broken_copy(tmp_path, module, line))
    assert done.returncode != 0 and said in done.stdout, done.stdout


def test_mypy_refuses_a_wrong_type(tmp_path):
    folder = broken_copy(tmp_path, "bedside/core/durations.py", 'LATER: int = "soon"')
    done = subprocess.run(
        [BIN / "mypy", "--no-incremental", "--follow-imports=silent", "bedside/core/durations.py"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stdout
    assert 'Incompatible types in assignment (expression has type "str"' in done.stdout


def test_mypy_is_clean_over_the_sound_stage():
    """bedside/sound imports nothing else of bedside, so it is checked alone, quickly: strict,
    as make test checks the whole package."""
    done = subprocess.run(
        [BIN / "mypy", "--no-incremental", "bedside/sound"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout
