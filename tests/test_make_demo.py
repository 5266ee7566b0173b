"""``make demo`` from a fresh clone, as the README's Quick start has a newcomer run it: it
installs bedside's own dependencies alone (``make test`` adds the tools), says where the
``bedside`` command is, and ``make link`` puts that command on the PATH."""

from __future__ import annotations

import os
import re
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


def test_make_demo_ends_by_saying_where_the_bedside_command_is(tmp_path):
    """Every command after the Quick start is a `bedside` one; the demo's end says which file
    that is. (No terminal here, so the demo itself only says it needs one.)"""
    shown = make("-o", str(VENV / RUNTIME), "demo", f"VENV={VENV}", "DEB=")
    assert shown.returncode == 2
    assert "needs a terminal" in shown.stderr
    hint = r"The bedside command is (\S+) \(make link puts it on your PATH\)"
    said = re.search(hint, shown.stdout)
    assert said is not None, shown.stdout
    command = Path(said.group(1))
    assert command == VENV / "bin" / "bedside" and os.access(command, os.X_OK)
    helped = subprocess.run([str(command), "--help"], capture_output=True, text=True, timeout=60)
    assert helped.returncode == 0 and "routines" in helped.stdout


def test_the_quick_start_says_how_to_run_bedside_and_it_works_from_a_clean_shell(tmp_path):
    """The Quick start names the command's path and `make link`; done as it says, with a
    fresh home and nothing but the system's PATH and the link's folder, `bedside` runs."""
    text = quick_start()
    assert ".venv/bin/bedside" in text and "`make link`" in text and "~/.local/bin" in text
    home = tmp_path / "home"
    home.mkdir()
    linked = make("-o", str(VENV / RUNTIME), "link", f"VENV={VENV}", env={"HOME": str(home)})
    assert linked.returncode == 0, linked.stderr
    link = home / ".local" / "bin" / "bedside"
    assert link.is_symlink() and link.resolve() == (VENV / "bin" / "bedside").resolve()
    assert "not on your PATH yet" in linked.stdout or f"{home}/.local/bin" in os.environ["PATH"]
    clean = {"HOME": str(home), "PATH": f"{home}/.local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
    routines = subprocess.run(
        ["sh", "-c", "cd && bedside routines"],
        capture_output=True,
        text=True,
        env=clean,
        timeout=60,
    )
    assert routines.returncode == 0, routines.stderr
    assert "bedtime" in routines.stdout and "leg-lifts" in routines.stdout
    again = make("-o", str(VENV / RUNTIME), "link", f"VENV={VENV}", env={"HOME": str(home)})
    assert again.returncode == 0  # made again: nothing to do


def test_make_link_never_replaces_a_bedside_that_is_not_this_clones(tmp_path):
    home = tmp_path / "home"
    other = home / ".local" / "bin" / "bedside"
    other.parent.mkdir(parents=True)
    other.write_text("#!/bin/sh\necho another bedside\n")
    linked = make("-o", str(VENV / RUNTIME), "link", f"VENV={VENV}", env={"HOME": str(home)})
    assert linked.returncode != 0
    assert "is not this clone's bedside: left as it is" in linked.stdout
    assert other.read_text() == "#!/bin/sh\necho another bedside\n"
