"""``bedside simulate --audio night.wav``: the simulated session's sound, as the device would play
it, written on the virtual clock in seconds rather than hours.

What the behaviour asks for (each cue when it falls due, a chime as each step starts and at the
close, the soundscape on for marked steps, the sleep timer after the routine, a stop when the
person moves on) becomes the sound stage's own schedule lines, exactly as the daemon sends them;
``bedside.sound.render.render_session`` mixes them offline through the stage's mixer (ducking,
fades, the sleep timer), at the output's own rate. What the cache lacks is rendered first, into
the same cache the daemon reads.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from bedside.app.paths import cache_directory, voice_cache
from bedside.config.sections import Config
from bedside.core.behaviour import Output
from bedside.core.effects import Finished, GestureTaken, Say, Silence, StateChanged, StepStarted
from bedside.core.errors import TroubleError, UsageError
from bedside.core.state import Mode
from bedside.voice import render_now
from bedside.voice.cache import open_cache
from bedside.voice.engine_choice import engine_for, spec_of
from bedside.voice.output_rate import native_rate
from bedside.voice.renderer import Item
from bedside.voice.speaker import SLEEP_FADE, STOP_FADE, loop, sound

__all__ = ["NightAudio"]

LOG = logging.getLogger("bedside.voice")
BED_FADE = 3.0  # seconds the soundscape fades in and out between steps


class NightAudio:
    """Collects the behaviour's outputs (``take``), then ``write``s the night's sound."""

    def __init__(self, config: Config, path: Path) -> None:
        self.config = config
        self.path = path
        self.outputs: list[tuple[float, Output]] = []

    def take(self, t: float, output: Output) -> None:
        self.outputs.append((t, output))

    def write(self) -> list[dict[str, Any]]:
        """Render what is missing, mix the night into ``path``; the stage's reports."""
        from bedside.sound.render import render_session  # numpy only when audio is asked for

        config = self.config
        folder = open_cache(voice_cache(cache_directory()), LOG)
        if folder is None:
            raise TroubleError("no cache folder to render the night's sounds into")
        engine = engine_for(config.voice, LOG)
        rate = native_rate(f"alsa:{config.voice.device}")
        lines, items = self._schedule(folder, engine, rate)
        _, problems = render_now(spec_of(engine), folder, list(items.values()), LOG)
        if problems:
            raise TroubleError(f"{len(problems)} sound(s) could not be rendered: {problems[0]}")
        scape = config.soundscape
        try:
            return render_session(
                lines, self.path, rate=rate, channels=2, duck_db=scape.duck, level_db=-scape.level
            )
        except OSError as exc:
            raise UsageError(f"cannot write {self.path}: {exc.strerror or exc}") from None

    def _schedule(
        self, folder: Path, engine: Any, rate: int
    ) -> tuple[list[dict[str, Any]], dict[str, Item]]:
        """The stage's lines, ``at`` in session seconds, and every sound they play."""
        config = self.config
        items: dict[str, Item] = {}
        lines: list[dict[str, Any]] = []
        bed = False
        sleeping = False  # the sleep timer runs: the bed plays on after the routine
        running = False
        volume: float | None = None

        def play(kind: str, t: float, text: str, item: Item) -> None:
            items[item.path] = item
            lines.append({"type": kind, "file": item.path, "at": t, "text": text})

        def chime(kind: str, t: float) -> None:
            sounds = config.sounds
            if sounds.enabled and getattr(sounds, kind, False):
                args = (config.voice, sounds, engine, folder, kind, volume, True, rate)
                play("chime", t, kind, sound(*args))

        def switch(on: bool, t: float, fade: float = BED_FADE) -> None:
            nonlocal bed
            if on == bed or not config.soundscape.enabled:
                return
            bed = on
            if not on:
                lines.append({"type": "soundscape", "off": True, "at": t, "fade": fade})
                return
            item = loop(config.voice, config.soundscape.sound, folder, rate)
            items[item.path] = item
            lines.append(
                {"type": "soundscape", "file": item.path, "at": t, "fade": fade,
                 "level": -config.soundscape.level + _quieter(config, volume)}
            )  # fmt: skip

        for t, output in self.outputs:
            match output:
                case Say(text=text, volume=said_at):
                    volume = said_at
                    args = (config.voice, config.sounds, engine, folder, text, volume, False, rate)
                    play("cue", t, text, sound(*args))
                case Silence():
                    lines.append({"type": "stop", "fade": STOP_FADE, "soundscape": False, "at": t})
                case StepStarted(step=step):
                    chime("step", t)
                    switch(step.soundscape, t)
                case Finished(completed=completed):
                    if completed:
                        chime("finish", t)
                        if config.soundscape.enabled:  # the bed for sleep, then faded out
                            switch(True, t)
                            after = t + config.soundscape.after
                            lines.append(
                                {"type": "soundscape", "off": True, "at": after, "fade": SLEEP_FADE}
                            )
                            bed, sleeping = False, True
                    else:
                        switch(False, t)
                case StateChanged(mode=mode):
                    running = mode is Mode.RUNNING
                case GestureTaken() if not running and (bed or sleeping):
                    # A press after the routine ends the bed, faded.
                    lines.append({"type": "soundscape", "off": True, "at": t, "fade": BED_FADE})
                    bed = sleeping = False
        return lines, items


def _quieter(config: Config, volume: float | None) -> float:
    """dB the bed goes down with a quieter night's voice."""
    if volume is None or config.voice.volume <= 0:
        return 0.0
    return 20 * math.log10(volume / config.voice.volume) if volume > 0 else -60.0
