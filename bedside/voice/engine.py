"""The base every speech engine stands on: what an engine offers, and the errors it raises.

An engine (``espeak.py``: espeak-ng through pyttsx3, the default; ``piper.py``: Piper through
its command line) has a ``name``, an ``identity()`` (what besides the text decides how a cue
sounds: part of its cache key) and a ``render(texts, work)`` that runs in the render child
only. Which engine a configuration gets is ``engine_choice.py``'s to say.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from bedside.core.errors import TroubleError

__all__ = ["EngineSpec", "EngineUnavailable", "SpeechEngine", "SynthesisFailed"]

# How the daemon tells the render child which engine to build: plain JSON, the engine's name
# and its settings (``engine_choice.spec_of`` makes one, ``engine_from_spec`` reads it back).
EngineSpec = dict[str, Any]


class EngineUnavailable(TroubleError):
    """The engine is missing, or refuses its settings: nothing can be rendered with it."""


class SynthesisFailed(TroubleError):
    """One text could not be made into a usable WAV."""


class SpeechEngine(Protocol):
    """A speech engine: texts into WAV files, in the render child, never in the daemon.

    ``identity()`` may be slow the first time (it asks the engine for its version, or hashes
    a voice file) and is remembered after. ``render`` yields ``(index, path)`` for each text
    made into a WAV in ``work``, or ``(index, the error)`` for one that failed, in order; it
    raises ``EngineUnavailable`` when the engine cannot run at all.
    """

    name: str

    def identity(self) -> list[object]: ...

    def render(self, texts: list[str], work: Path) -> Iterator[tuple[int, Path | Exception]]: ...
