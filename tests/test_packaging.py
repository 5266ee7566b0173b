"""What `pip install .` (not editable, as `make install` does) carries: every package, and the
default settings and routines, the very files of config/, found without /etc/bedside."""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_of_the_source_tree_is_in_the_wheel_list():
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "bedside").rglob("__init__.py")
    }
    assert found <= listed, f"add {sorted(found - listed)} to [tool.setuptools] packages"


def test_an_installed_bedside_finds_the_shipped_defaults_without_etc(tmp_path):
    source, target = tmp_path / "source", tmp_path / "site"
    for name in ("bedside", "config"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target)]
    subprocess.run([*pip, str(source)], check=True, timeout=300)
    program = f"""
import json
from pathlib import Path
import bedside.config.load as c
c.SYSTEM_CONFIG = Path({str(tmp_path / "no-etc" / "bedside.toml")!r})  # as on a fresh machine
config = c.load_config()
print(json.dumps({{"path": str(c.default_config_path()), "routines": sorted(config.routines)}}))
"""
    env = {k: v for k, v in os.environ.items() if k != "BEDSIDE_CONFIG"}
    env["PYTHONPATH"] = str(target)
    result = subprocess.run(
        [sys.executable, "-c", program],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    defaults = target / "bedside" / "defaults"
    assert found["path"] == str(defaults / "bedside.toml")
    assert found["routines"] == sorted(
        p.stem for p in (ROOT / "config" / "routines").glob("*.toml")
    )
    # One set of files: the package's data is config/ itself, byte for byte.
    assert (defaults / "bedside.toml").read_bytes() == (
        ROOT / "config" / "bedside.toml"
    ).read_bytes()
    comparison = filecmp.dircmp(defaults / "routines", ROOT / "config" / "routines")
    assert comparison.left_list == comparison.right_list and not comparison.diff_files


def test_building_bedside_warns_of_no_package_left_out(tmp_path):
    """make demo's set-up (pip install -e .) printed forty lines of setuptools' warning for
    each folder of data that was no package of its own (bedside.defaults.routines)."""
    source = tmp_path / "source"
    for name in ("bedside", "config"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "install", "--verbose", "--no-deps"]
    done = subprocess.run(
        [*pip, "--target", str(tmp_path / "site"), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    said = done.stdout + done.stderr
    assert "setuptools" in said  # the build's own output is there to be read
    assert "is absent from the `packages` configuration" not in said
    assert "Package would be ignored" not in said
    assert (tmp_path / "site" / "bedside" / "defaults" / "routines" / "bedtime.toml").is_file()


def test_make_demos_editable_install_prints_nothing_of_setuptools(tmp_path):
    """make demo's set-up is a newcomer's first screen: its editable install (the Makefile's
    EDITABLE, as make runs it) printed ten lines of setuptools' reminder that a folder named
    bedside in the working folder would shadow the package (bedside's children run with -P)."""
    planned = subprocess.run(
        ["make", "-n", "-B", "-o", "system-deps", f"VENV={tmp_path / 'venv'}", "demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = [line for line in planned.stdout.splitlines() if " pip install" in line]
    assert len(lines) == 2 and "-e ." in lines[1], lines  # pip brought up to date, then bedside
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "venv")], check=True)
    for line in lines:  # as make runs them (through the shell); bedside without what it needs
        done = subprocess.run(
            line + (" --no-deps" if "-e ." in line else ""),
            shell=True,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
    said = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if line.strip() and "is ignored: it is neither a file nor a directory" not in line
    ]  # (that one is this machine's pip.conf naming local package folders)
    assert said == [], said
