"""How long each cue speaks, for ``plan`` and ``check-config``: the rendered sound's length
when the cache holds it (at the output's rate; the common rates are looked for, so no device
is opened to ask), else an estimate from its words at the voice's pace, said as one."""

from __future__ import annotations

from pathlib import Path

from bedside.app.paths import NoHome, cache_directory, voice_cache
from bedside.config.sections import Config
from bedside.core.hearing import spoken_seconds
from bedside.voice.engine_choice import engine_for
from bedside.voice.speaker import sound
from bedside.voice.wav import UNREADABLE, is_playable, wav_seconds

__all__ = ["CueLengths"]

RATES = (48000, 44100, 96000, 32000, 22050, 16000)  # where the cache's sounds may be rendered
PIPER_WORDS_A_MINUTE = 160.0  # joe-medium at length_scale 1, measured over the shipped cues


class CueLengths:
    """``lengths(text)``: seconds; ``rendered`` and ``estimated`` count which were which."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.engine = engine_for(config.voice)
        try:
            self.folder: Path | None = voice_cache(cache_directory())
        except NoHome:
            self.folder = None
        self.rendered = 0
        self.estimated = 0
        self._known: dict[str, float] = {}

    def __call__(self, text: str) -> float:
        if text not in self._known:
            self._known[text] = self._length(text)
        return self._known[text]

    @property
    def said(self) -> str:
        """Where the lengths came from, in words."""
        if not self.estimated:
            return "cue lengths as rendered (the cache)"
        if not self.rendered:
            return "cue lengths estimated from their words (bedside voice render makes them)"
        return (
            f"cue lengths as rendered, {self.estimated} estimated from their words"
            " (bedside voice render makes them)"
        )

    def _length(self, text: str) -> float:
        voice = self.config.voice
        if self.folder is not None and voice.enabled:
            for rate in RATES:
                path = Path(sound(voice, None, self.engine, self.folder, text, rate=rate).path)
                if is_playable(path):
                    try:
                        seconds = wav_seconds(path)
                    except UNREADABLE:
                        break
                    self.rendered += 1
                    return seconds
        self.estimated += 1
        if voice.engine == "piper":
            return spoken_seconds(text, PIPER_WORDS_A_MINUTE / voice.length_scale)
        return spoken_seconds(text, voice.rate)
