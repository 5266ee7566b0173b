"""The configuration in the core's terms: ``Config`` into the engine's ``Settings`` and the
gesture ``Thresholds``, and each of the core's configured dataclasses at its defaults.

The core knows nothing of files; this is the one place that knows which key becomes which of
its settings. ``defaults`` is for code (the tests, the bench) that wants the core's classes as
a bedside.toml with every key left out would make them, from the declarations in keys.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, TypeVar

from bedside.config.sections import ButtonConfig, Config, from_section
from bedside.core.gestures import Thresholds
from bedside.core.growth import GrowthPlan
from bedside.core.nights import Quiet, Reminder
from bedside.core.routines import CueOptions
from bedside.core.settings import Settings

__all__ = ["defaults", "settings", "thresholds"]


def settings(config: Config) -> Settings:
    """What the engine (and the behaviour around it) runs on, from ``config``."""
    return Settings(
        routines=config.routines,
        menu=config.menu,
        night_routine=config.night_routine,
        contrast=config.display.contrast,
        off_after=config.display.off_after,
        off_after_paused=config.display.off_after_paused,
        stale_cue=config.stale_cue,
        pacer=config.pacer.enabled,
        breathe_in=config.pacer.breathe_in,
        breathe_out=config.pacer.breathe_out,
        announce=config.speak_menu,
        growth=config.hold,
        cues=config.cues,
    )


def thresholds(button: ButtonConfig) -> Thresholds:
    """When a press becomes a hold, a long hold, noise or a stuck button, from ``[button]``."""
    return from_section(Thresholds, asdict(button))


# Each of the core's configured dataclasses as a bedside.toml with every key left out makes it.
_AT_DEFAULTS: dict[type[Any], Callable[[], Any]] = {
    # no routines: whoever asks for these gives their own
    Settings: lambda: settings(Config(Path("bedside.toml"), routines={}, menu=())),
    Thresholds: lambda: thresholds(ButtonConfig()),
    GrowthPlan: lambda: from_section(GrowthPlan),
    CueOptions: lambda: from_section(CueOptions),
    Reminder: lambda: from_section(Reminder),
    Quiet: lambda: from_section(Quiet),
}

Configured = TypeVar("Configured", Settings, Thresholds, GrowthPlan, CueOptions, Reminder, Quiet)


def defaults(kind: type[Configured], **changes: Any) -> Configured:
    """``kind`` at the declared defaults, with ``changes``. ``Settings`` has no routines by
    default: give it ``routines`` and a ``menu`` (and a ``night_routine``) among the changes."""
    made: Configured = _AT_DEFAULTS[kind]()
    return replace(made, **changes)
