"""The settings the engine runs on, in the core's own terms (read from the files by
``bedside.config``, which declares every default: ``bedside.config.core_terms.settings``)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from bedside.core.growth import GrowthPlan
from bedside.core.phrases import Phrases
from bedside.core.routines import CueOptions, Routine


@dataclass(frozen=True)
class Settings:
    """Everything the engine, the screens and the behaviour around them are configured with:
    the routines and the menu, the display's contrast and when it goes dark, the breathing
    guide, the growing hold. Frozen: a reloaded configuration is a new Settings."""

    routines: dict[str, Routine]
    menu: tuple[str, ...]
    night_routine: str  # the routine whose completion makes a night: streak, reminder
    contrast: int
    off_after: float
    off_after_paused: float
    stale_cue: float
    pacer: bool  # the breathing guide, on the steps that ask for it
    breathe_in: float
    breathe_out: float
    announce: bool  # say a routine's name when a hold moves the menu to it
    growth: GrowthPlan  # the hold (steps with ``grows``) follows the person, or not
    cues: CueOptions  # placed again on a growing step each night
    phrases: Phrases = field(default_factory=Phrases)

    def showing(self, routine: str | None) -> Settings:
        """These settings with ``routine`` in the menu (first, if the menu lacks it)."""
        if routine is None or routine in self.menu:
            return self
        return replace(self, menu=(routine, *self.menu))
