"""The settings the engine runs on, in the core's own terms (read from the files by
``bedside.config``)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from bedside.core.phrases import Phrases
from bedside.core.routines import Routine


@dataclass(frozen=True)
class Settings:
    routines: dict[str, Routine]
    menu: tuple[str, ...]
    night_routine: str  # the routine whose completion makes a night: streak, reminder
    contrast: int = 40
    off_after: float = 60.0
    off_after_paused: float = 900.0
    stale_cue: float = 5.0
    phrases: Phrases = field(default_factory=Phrases)
    pacer: bool = True  # the breathing guide, on the steps that ask for it
    breathe_in: float = 4.0
    breathe_out: float = 6.0
    announce: bool = True  # say a routine's name when a hold moves the menu to it
    hold_grows: bool = False  # the hold (steps with ``grows``) follows the person

    def showing(self, routine: str | None) -> Settings:
        """These settings with ``routine`` in the menu (first, if the menu lacks it)."""
        if routine is None or routine in self.menu:
            return self
        return replace(self, menu=(routine, *self.menu))

    @classmethod
    def from_config(cls, config) -> Settings:  # config: bedside.config.load.Config
        return cls(
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
            hold_grows=config.hold.grow,
        )
