"""``make demo`` from a fresh clone, as the README's Quick start has a newcomer run it: it
installs bedside's own dependencies alone (``make test`` adds the tools)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(sys.prefix)  # the virtual env this suite runs in: its bin/ has bedside
RUNTIME = ".installed-runtime"  # make demo's stamp in the virtual env


def make(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = ["make", "--no-print-directory", "-C", str(ROOT), *args]
    environment = {**os.environ, **(env or {})}
    if "-n" not in args:  # never an install into the virtual env this suite runs in
        planned = subprocess.run(
            [*command, "-n"], capture_output=True, text=True, env=environment, timeout=60
        )
        assert "pip install" not in planned.stdout, planned.stdout
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=environment,
        timeout=120,
    )


def quick_start() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]


def test_make_demo_installs_bedside_alone_and_make_test_adds_the_tools(tmp_path):
    """From a fresh clone (no virtual env yet), what each target would run: make demo's pip
    installs ``.``, never the extras; make test's installs ``.[test,dev]`` on top of it."""
    fresh = [f"VENV={tmp_path / 'venv'}", "DEB="]
    demo = make("-n", "demo", *fresh)
    assert demo.returncode == 0, demo.stderr
    installs = [line for line in demo.stdout.splitlines() if " pip install" in line]
    assert [line.split()[-1] for line in installs] == ["pip", "."]  # pip upgraded, then bedside
    assert "[test" not in demo.stdout and "[dev" not in demo.stdout
    test = make("-n", "test", *fresh)
    assert test.returncode == 0, test.stderr
    installs = [line.split()[-1] for line in test.stdout.splitlines() if " pip install" in line]
    assert installs == ["pip", ".", "'.[test,dev]'"]
