"""What the device may say, gathered ahead of time so that every sound can be rendered before
it is needed: each routine's cues and closing words, the device's own phrases for every length
the growing hold can have, the reminder, at each volume a night may use; and how many sounds
that makes, which is bounded.

Every sound is a WAV in the cache (about 40 kB a second of speech), rendered ahead of time (a
Pi Zero takes seconds for each with Piper): ``MAX_SOUNDS`` keeps the cache to a size an SD card
and a night's first start can afford. A configuration asking for more is refused, naming the
routine that asks for the most.
"""

from __future__ import annotations

from dataclasses import replace

from bedside.config.sections import Config
from bedside.config.toml_reader import Problem
from bedside.core.growth import every_length
from bedside.core.phrases import Phrases, speakable
from bedside.core.routines import menu_first

__all__ = ["CHIMES", "MAX_SOUNDS", "cue_texts", "sound_count", "too_many_sounds", "volumes_of"]

MAX_SOUNDS = 500  # about 150 MB of cache at most; the shipped routines make under 300
CHIMES = ("step", "finish")  # the chimes [sounds] has: rendered at each volume when it is on


def cue_texts(config: Config) -> list[str]:
    """Every text the device may say, most likely first, to synthesise ahead of time (each
    once; none with nothing to say)."""
    texts: list[str] = []
    routines = [config.routines[name] for name in menu_first(config.menu, config.routines)]
    for routine in routines:
        texts += [cue.text for step in routine.steps for cue in step.cues]
        texts.append(routine.finish)
    texts += Phrases().every(routines, every_length(config.hold))
    if config.reminder is not None:
        texts.append(config.reminder.text)
    return list(dict.fromkeys(t for t in texts if speakable(t)))


def volumes_of(config: Config) -> list[float | None]:
    """The volumes cues are said at: the configured one, and the quieter night's."""
    return [None] + ([config.quiet.volume] if config.quiet is not None else [])


def sound_count(config: Config) -> int:
    """How many sounds ``config`` has rendered: every text and chime, at every volume."""
    if not config.voice.enabled:
        return 0
    chimes = len(CHIMES) if config.sounds.enabled else 0
    return (len(cue_texts(config)) + chimes) * len(volumes_of(config))


def too_many_sounds(config: Config) -> Problem | None:
    """A problem, naming the routine asking for the most, when ``config`` needs more sounds
    than ``MAX_SOUNDS``."""
    count = sound_count(config)
    if count <= MAX_SOUNDS:
        return None
    shares = {
        name: sound_count(replace(config, routines={name: routine}, menu=(name,), reminder=None))
        for name, routine in config.routines.items()
    }
    most = max(shares, key=lambda name: shares[name])
    return Problem(
        str(config.routines_dir / f"{most}.toml"),
        None,
        "",
        f"at most {MAX_SOUNDS} sounds to render for the whole configuration (every cue and"
        " phrase at each volume, and the chimes): fewer cues, or shorter steps",
        f"{count}, of which this routine asks for {shares[most]}",
    )
