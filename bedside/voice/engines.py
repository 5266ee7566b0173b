"""The seam between bedside and its speech engines: which engine a configuration gets.

Two engines stand behind it: espeak-ng through pyttsx3 (``espeak.py``, the default) and Piper
(``piper.py``), each with ``identity()`` (what goes into the cache key) and ``render(texts,
folder)`` (run in the render child only). ``spec()`` is how the daemon tells the child which
engine to build.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

from bedside.config.load import VoiceConfig
from bedside.voice.espeak import EngineUnavailable, EspeakEngine, SynthesisFailed
from bedside.voice.piper import PiperEngine, piper_missing

__all__ = [
    "Engine",
    "EngineUnavailable",
    "SynthesisFailed",
    "engine_for",
    "engine_from_spec",
    "spec_of",
]


class Engine(Protocol):
    name: str

    def identity(self) -> list[object]: ...


def engine_for(config: VoiceConfig, log: logging.Logger | None = None) -> Engine:
    """The engine ``config`` asks for; espeak-ng, with one warning, when Piper cannot run."""
    if config.engine == "piper" and config.model is not None:
        problem = piper_missing()
        if problem is None:
            return PiperEngine(config.model, config.length_scale, config.sentence_silence)
        if log is not None:
            log.warning('engine = "piper": %s; speaking with espeak-ng instead', problem)
    return EspeakEngine(config.voice, config.rate)


def spec_of(engine: Engine) -> dict[str, object]:
    if isinstance(engine, PiperEngine):
        return {
            "name": "piper",
            "model": str(engine.model),
            "length_scale": engine.length_scale,
            "sentence_silence": engine.sentence_silence,
        }
    assert isinstance(engine, EspeakEngine)
    return {"name": "pyttsx3", "voice": engine.voice, "rate": engine.rate}


def engine_from_spec(spec: dict) -> EspeakEngine | PiperEngine:
    if spec["name"] == "piper":
        return PiperEngine(Path(spec["model"]), spec["length_scale"], spec["sentence_silence"])
    return EspeakEngine(spec["voice"], spec["rate"])
