"""What the device may say, gathered ahead of time so that every sound can be rendered before
it is needed: each routine's cues and closing words, the device's own phrases for every length
the growing hold can have, the reminder, at each volume a night may use."""

from __future__ import annotations

from bedside.config.sections import Config
from bedside.core.growth import every_length
from bedside.core.phrases import Phrases
from bedside.core.routines import menu_first


def cue_texts(config: Config) -> list[str]:
    """Every text the device may say, most likely first, to synthesise ahead of time."""
    texts: list[str] = []
    routines = [config.routines[name] for name in menu_first(config.menu, config.routines)]
    for routine in routines:
        texts += [cue.text for step in routine.steps for cue in step.cues]
        texts.append(routine.finish)
    texts += Phrases().every(routines, every_length(config.hold))
    if config.reminder is not None:
        texts.append(config.reminder.text)
    return list(dict.fromkeys(t for t in texts if t))


def volumes_of(config: Config) -> list[float | None]:
    """The volumes cues are said at: the configured one, and the quieter night's."""
    return [None] + ([config.quiet.volume] if config.quiet is not None else [])
