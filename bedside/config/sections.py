"""Each section of ``bedside.toml`` as the frozen dataclass it is read into, and ``Config``.

Two kinds of section. bedside's own hardware and sound settings have dataclasses here
(``ButtonConfig``, ``DisplayConfig``, ``VoiceConfig``, ``SoundsConfig``, ``PacerConfig``), one
field a key, each default taken from keys.py by ``@defaults_of``. The sections the core runs
on are read straight into the core's dataclasses (``[hold]`` into ``GrowthPlan``, ``[cues]``
into ``CueOptions``, ``[reminder]``, ``[quiet]``; the gesture ``Thresholds`` come out of
``[button]``) by ``from_section``; those classes carry no defaults of their own for what a key
sets, so that every default is written once, in keys.py, and flows one way, out of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from bedside.config.keys import DECLARED, SETTINGS, defaults_of, section_defaults
from bedside.config.toml_reader import Problem
from bedside.core.gestures import Thresholds
from bedside.core.growth import GrowthPlan
from bedside.core.nights import Quiet, Reminder
from bedside.core.routines import CueOptions, Routine

__all__ = [
    "ButtonConfig",
    "Config",
    "DisplayConfig",
    "PacerConfig",
    "SoundConfig",
    "SoundsConfig",
    "SoundscapeConfig",
    "VoiceConfig",
    "from_section",
]


# Each field is a key of its section: its default, bounds and meaning are in keys.py.
@dataclass(frozen=True)
@defaults_of("button")
class ButtonConfig:
    pin: int = DECLARED
    pull_up: bool = DECLARED
    bounce: float = DECLARED
    hold: float = DECLARED
    long_hold: float = DECLARED
    stuck: float = DECLARED
    pin_factory: str | None = DECLARED


@dataclass(frozen=True)
@defaults_of("display")
class DisplayConfig:
    driver: str = DECLARED
    height: int = DECLARED
    interface: str = DECLARED
    i2c_bus: int = DECLARED
    i2c_address: int = DECLARED
    spi_port: int = DECLARED
    spi_device: int = DECLARED
    spi_dc: int = DECLARED
    spi_reset: int = DECLARED
    contrast: int = DECLARED
    rotate: int = DECLARED
    off_after: float = DECLARED
    off_after_paused: float = DECLARED


@dataclass(frozen=True)
@defaults_of("voice")
class VoiceConfig:
    enabled: bool = DECLARED
    voice: str = DECLARED
    rate: int = DECLARED
    volume: float = DECLARED
    device: str = DECLARED
    engine: str = DECLARED
    model: Path | None = DECLARED
    length_scale: float = DECLARED
    sentence_silence: float = DECLARED
    loudness: float = DECLARED


@dataclass(frozen=True)
@defaults_of("sounds")
class SoundsConfig:
    enabled: bool = DECLARED
    step: bool = DECLARED
    finish: bool = DECLARED
    level: float = DECLARED


@dataclass(frozen=True)
@defaults_of("sound")
class SoundConfig:
    preroll: float = DECLARED


@dataclass(frozen=True)
@defaults_of("soundscape")
class SoundscapeConfig:
    sound: str = DECLARED  # "off", a kind ("brown", "pink", "rain"), or a loop's absolute path
    level: float = DECLARED  # dB under the voice
    duck: float = DECLARED
    after: float = DECLARED

    @property
    def enabled(self) -> bool:
        return self.sound != "off"


@dataclass(frozen=True)
@defaults_of("pacer")
class PacerConfig:
    enabled: bool = DECLARED
    breathe_in: float = DECLARED
    breathe_out: float = DECLARED


# The core's dataclasses that a section fills, each with its section and the keys whose name
# is not the field's ("from" is a Python keyword). A field that is no key (``Reminder.within``,
# ``CueOptions.keep_clear``) keeps the core's default; a key that is no field (``enabled``,
# ``stale_after``, ``pin``) is read into ``Config`` elsewhere.
CoreSections = Mapping[type[Any], tuple[str, Mapping[str, str]]]
_CORE_SECTIONS: CoreSections = {
    GrowthPlan: ("hold", {}),
    CueOptions: ("cues", {}),
    Reminder: ("reminder", {"time": "at"}),
    Quiet: ("quiet", {"from": "start", "until": "end"}),
    Thresholds: ("button", {}),
}

Core = TypeVar("Core", GrowthPlan, CueOptions, Reminder, Quiet, Thresholds)


def from_section(kind: type[Core], values: Mapping[str, Any] | None = None) -> Core:
    """``kind``, one of the core's configured dataclasses, from its section's ``values`` by key
    (None: the defaults keys.py declares)."""
    given = section_defaults(_CORE_SECTIONS[kind][0]) if values is None else values
    return kind(**{name: given[key] for key, name in _keys_of(kind).items()})


def _keys_of(kind: type[Any], sections: CoreSections = _CORE_SECTIONS) -> dict[str, str]:
    """``kind``'s fields that a key of its section sets, by key."""
    name, renamed = sections[kind]
    names = {f.name for f in fields(kind)}
    by_key = {key: renamed.get(key, key) for key in section_defaults(name)}
    return {key: attribute for key, attribute in by_key.items() if attribute in names}


def _check_core_sections(sections: CoreSections) -> None:
    """Defaults flow one way: a core field a key sets has no default of its own (else the two
    could differ), and every other field has one. Broken, bedside fails at import."""
    for kind, (name, _) in sections.items():
        set_by_keys = set(_keys_of(kind, sections).values())
        for f in fields(kind):
            has_default = f.default is not MISSING or f.default_factory is not MISSING
            if (f.name in set_by_keys) == has_default:
                why = "a default of its own" if has_default else f"no key in [{name}]"
                raise TypeError(f"{kind.__name__}.{f.name} has {why}")


_check_core_sections(_CORE_SECTIONS)


@dataclass(frozen=True)
class Config:
    """bedside.toml as read: the routines it names and every section, each key at its value or
    its declared default; what ``bedside.config.load.load_config`` returns, the whole device's
    configuration. ``bedside.config.core_terms`` turns it into the core's ``Settings`` and
    ``Thresholds``. Only ``path``, ``routines`` and ``menu`` have no default: a Config made
    with just those is a bedside.toml with every key left out."""

    path: Path  # the bedside.toml read
    routines: dict[str, Routine]  # every routine file, by name, loaded
    menu: tuple[str, ...]  # the routines the menu offers, in order
    button: ButtonConfig = field(default_factory=ButtonConfig)
    display: DisplayConfig = field(default_factory=DisplayConfig)
    voice: VoiceConfig = field(default_factory=VoiceConfig)
    cues: CueOptions = field(default_factory=lambda: from_section(CueOptions))
    stale_cue: float = SETTINGS["cues.stale_after"].default
    resume_within: float = SETTINGS["sessions.resume_within"].default
    reminder: Reminder | None = None  # None: no bedtime reminder
    pacer: PacerConfig = field(default_factory=PacerConfig)
    hold: GrowthPlan = field(default_factory=lambda: from_section(GrowthPlan))
    speak_menu: bool = SETTINGS["menu.speak"].default
    quiet: Quiet | None = None  # None: the same volume and contrast all night
    routines_dir: Path = Path(SETTINGS["routines.folder"].default)
    sounds: SoundsConfig = field(default_factory=SoundsConfig)
    sound: SoundConfig = field(default_factory=SoundConfig)
    soundscape: SoundscapeConfig = field(default_factory=SoundscapeConfig)
    night_routine: str = SETTINGS["nights.routine"].default
    # What is read but not right, which the device lives with (check-config and the log say it).
    warnings: tuple[Problem, ...] = ()
