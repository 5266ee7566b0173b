"""How bedside says Piper is installed, where it is missing: a command that works from the clone
or the installed venv (bedside is not on PyPI, so ``pip install 'bedside[piper]'`` does not),
run here as a person would paste it, from a shell that has not activated any venv."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tomllib

from voicekit import ROOT

from bedside.voice.piper import piper_requirement

# A Python without piper: the real check, on an interpreter that cannot find it.
WITHOUT_PIPER = (
    "import importlib.util, logging\n"
    "find = importlib.util.find_spec\n"
    "importlib.util.find_spec = lambda n, *a: None if n == 'piper' else find(n, *a)\n"
    "from bedside.voice.engine_choice import engine_for\n"
    "from bedside.config.sections import VoiceConfig\n"
    "logging.basicConfig()\n"
    "engine_for(VoiceConfig(engine='piper', model='x.onnx'), logging.getLogger('x'))\n"
)


def test_the_command_bedside_gives_to_install_piper_works_as_it_is_pasted(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_PIPER], capture_output=True, text=True, cwd=ROOT
    )
    said = re.search(r"Piper is not installed \(install it with: (.+)\)", done.stderr)
    assert said, done.stderr
    command = shlex.split(said.group(1))
    assert command[0] != "sudo"  # this venv is the tester's own
    # Installed here already (make test's venv has Piper): pip finds it satisfied, offline.
    shell = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PIP_NO_INPUT": "1"}
    pasted = subprocess.run(
        [*command, "--dry-run", "--no-index", "--quiet"],
        capture_output=True, text=True, cwd=tmp_path, env={**shell, "LANG": "C.UTF-8"},
    )  # fmt: skip
    assert pasted.returncode == 0, (said.group(1), pasted.stderr)
    assert "bedside[" not in said.group(1)


def test_the_piper_asked_for_is_the_piper_the_extra_names():
    def versions(requirement: str) -> list[str]:
        return sorted(requirement.removeprefix("piper-tts").split(","))

    assert versions(piper_requirement()) == versions(declared_piper())


def test_the_readme_installs_piper_with_a_command_that_works():
    readme = (ROOT / "README.md").read_text()
    assert "pip install 'bedside[" not in readme  # bedside is not on PyPI
    steps = readme[readme.index("To give the device a Piper voice") :]
    assert f"sudo /opt/bedside/venv/bin/pip install '{declared_piper()}'" in steps
    assert ".venv/bin/pip install -e '.[piper]'" in steps  # from the clone


def declared_piper() -> str:
    """The piper extra's requirement as pyproject.toml writes it, without its markers."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    return extras["piper"][0].partition(";")[0].strip()
