"""Which speech engine a configuration gets, and how the daemon names it to the render child.

``[voice] engine = "piper"`` with a model gets Piper where Piper can run; everything else, and
Piper where it cannot run (32-bit ARM, not installed), gets espeak-ng through pyttsx3. The
daemon builds its engine only for the cache key; the render child builds its own from
``spec_of(engine)``, a plain JSON object, with ``engine_from_spec``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from bedside.config.sections import VoiceConfig
from bedside.voice.engine import EngineSpec, SpeechEngine
from bedside.voice.espeak import EspeakEngine
from bedside.voice.piper import PiperEngine, piper_missing

__all__ = ["engine_for", "engine_from_spec", "fallback_for", "spec_of"]


def engine_for(config: VoiceConfig, log: logging.Logger | None = None) -> SpeechEngine:
    """The engine ``config`` asks for; espeak-ng, with one warning, when Piper cannot run."""
    if config.engine == "piper" and config.model is not None:
        problem = piper_missing()
        if problem is None:
            return PiperEngine(config.model, config.length_scale, config.sentence_silence)
        if log is not None:
            log.warning('engine = "piper": %s; speaking with espeak-ng instead', problem)
    return fallback_for(config)


def fallback_for(config: VoiceConfig) -> SpeechEngine:
    """espeak-ng, as ``config`` sets it: the voice whenever Piper cannot speak."""
    return EspeakEngine(config.voice, config.rate)


def spec_of(engine: SpeechEngine) -> EngineSpec:
    """``engine`` as the render child's request names it: its name and its settings."""
    if isinstance(engine, PiperEngine):
        return {
            "name": "piper",
            "model": str(engine.model),
            "length_scale": engine.length_scale,
            "sentence_silence": engine.sentence_silence,
        }
    assert isinstance(engine, EspeakEngine)
    return {"name": "pyttsx3", "voice": engine.voice, "rate": engine.rate}


def engine_from_spec(spec: EngineSpec) -> SpeechEngine:
    """The engine ``spec_of`` named, built again (in the render child)."""
    if spec["name"] == "piper":
        return PiperEngine(Path(spec["model"]), spec["length_scale"], spec["sentence_silence"])
    return EspeakEngine(spec["voice"], spec["rate"])
