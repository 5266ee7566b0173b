"""``bedside.toml`` and the routine files, read into frozen dataclasses.

Every mistake a person can make in these files (TOML syntax, an unknown key, a wrong type, a
value out of range, a menu naming a routine that does not exist) is collected and raised
together as one ``ConfigError`` naming file, line, key, what was expected and what was found.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import time
from pathlib import Path

from bedside.nights import DAYS, Quiet, Reminder
from bedside.routines import CueOptions, Routine, RoutineOptions, load_routines
from bedside.schema import ConfigError, Problem, Source, Table

__all__ = ["Config", "ConfigError", "default_config_path", "load_config"]

SYSTEM_CONFIG = Path("/etc/bedside/bedside.toml")


def _shipped_config() -> Path:
    """The default bedside.toml, one set of files: the repository's config/, which a wheel
    carries as the package's data in bedside/defaults (pyproject.toml maps the one onto the
    other). Installed, that copy is the one there is; in a source tree (editable), config/."""
    here = Path(__file__).resolve().parent
    packaged = here / "defaults" / "bedside.toml"
    return packaged if packaged.exists() else here.parent / "config" / "bedside.toml"


SHIPPED_CONFIG = _shipped_config()


@dataclass(frozen=True)
class ButtonConfig:
    pin: int = 17  # BCM numbering
    pull_up: bool = True  # button between the pin and ground
    bounce: float = 0.02  # a contact closed for less than this is noise, not a press
    hold: float = 1.0  # released after this long: a hold
    long_hold: float = 3.0  # still down after this long: a long hold
    stuck: float = 30.0  # still down after this long: stuck (a short), ignored until released
    pin_factory: str | None = None  # gpiozero's name for it; None: gpiozero chooses


@dataclass(frozen=True)
class DisplayConfig:
    interface: str = "i2c"
    i2c_bus: int = 1
    i2c_address: int = 0x3C
    spi_port: int = 0
    spi_device: int = 0
    spi_dc: int = 24
    spi_reset: int = 25
    contrast: int = 40  # of 255: a dark room needs little
    rotate: int = 0  # 0 or 2 (upside down), as luma counts quarter turns
    off_after: float = 60.0  # idle seconds in the menu or at the end before going dark
    off_after_paused: float = 900.0  # idle seconds while paused or waiting for a press


@dataclass(frozen=True)
class VoiceConfig:
    enabled: bool = True
    voice: str = "en"
    rate: int = 140  # words a minute: calm, not slow
    volume: float = 0.8
    device: str = "default"  # the ALSA device the player writes to


@dataclass(frozen=True)
class PacerConfig:
    enabled: bool = True
    breathe_in: float = 4.0
    breathe_out: float = 6.0


@dataclass(frozen=True)
class Config:
    path: Path
    routines: dict[str, Routine]
    menu: tuple[str, ...]
    button: ButtonConfig = field(default_factory=ButtonConfig)
    display: DisplayConfig = field(default_factory=DisplayConfig)
    voice: VoiceConfig = field(default_factory=VoiceConfig)
    cues: CueOptions = field(default_factory=CueOptions)
    stale_cue: float = 5.0  # a cue this late is not spoken at all
    resume_within: float = 2 * 3600.0  # a session interrupted longer ago is closed, not resumed
    reminder: Reminder | None = None  # None: no bedtime reminder
    pacer: PacerConfig = field(default_factory=PacerConfig)
    quiet: Quiet | None = None  # None: the same volume and contrast all night
    routines_dir: Path = Path("routines")


def default_config_path() -> Path:
    """$BEDSIDE_CONFIG, else /etc/bedside/bedside.toml when installed, else the shipped defaults."""
    env = os.environ.get("BEDSIDE_CONFIG")
    if env:
        return Path(env)
    return SYSTEM_CONFIG if SYSTEM_CONFIG.exists() else SHIPPED_CONFIG


def load_config(path: Path | None = None) -> Config:
    """Read ``bedside.toml`` and the routines it names; raise ConfigError with every problem."""
    path = Path(path) if path is not None else default_config_path()
    problems: list[Problem] = []
    source = Source.read(path, problems)
    if not source.ok:
        raise ConfigError(problems)
    top = source.table()

    button = _button(top)
    display = _display(top)
    voice = _voice(top)
    cues, stale = _cues(top)

    folder = top.child("routines")
    folder_name = folder.string("folder", "routines") if folder else "routines"
    if folder:
        folder.done()
    profile_table = top.child("profiles")
    profiles = {}
    if profile_table:
        for name in profile_table.data:
            profiles[name] = profile_table.string(name, "")
    routines_dir = (path.parent / folder_name).resolve()
    routines = load_routines(
        routines_dir,
        RoutineOptions(profiles=profiles, cues=cues),
        problems,
        label=str(path.parent / folder_name),
    )
    if profile_table:
        for name in profile_table.data:
            routine = routines.get(name)
            if routine is None:
                profile_table.problem(name, f"a routine name: {_listing(routines)}", name)
            elif routine.profile is None:
                profile_table.problem(name, "a routine with [profiles] in its file", name)
            elif profiles[name] and profiles[name] not in routine.profiles:
                choices = ", ".join(f'"{p}"' for p in routine.profiles)
                profile_table.problem(name, f"one of {choices}", profiles[name])

    reminder = _reminder(top)
    quiet = _quiet(top)
    pacer = _pacer(top)
    sessions = top.child("sessions")
    resume_within = 2 * 3600.0
    if sessions:
        resume_within = sessions.duration("resume_within", resume_within, 0, 7 * 24 * 3600)
        sessions.done()

    menu_table = top.child("menu")
    menu: list[str] = list(_default_menu(routines))
    if menu_table:
        menu = menu_table.strings("routines", menu)
        for i, name in enumerate(menu):
            if name not in routines:
                menu_table.source.add(
                    ("menu", "routines", i), f"a routine name: {_listing(routines)}", f'"{name}"'
                )
        if not menu and menu_table.has("routines"):
            menu_table.problem("routines", "at least one routine", [])
        if len(set(menu)) != len(menu):
            menu_table.problem("routines", "each routine once", menu)
        menu_table.done()
    top.done()
    if problems:
        raise ConfigError(problems)
    return Config(
        path=path,
        routines=routines,
        menu=tuple(menu),
        button=button,
        display=display,
        voice=voice,
        cues=cues,
        stale_cue=stale,
        resume_within=resume_within,
        reminder=reminder,
        quiet=quiet,
        pacer=pacer,
        routines_dir=routines_dir,
    )


def _default_menu(routines: dict[str, Routine]) -> list[str]:
    names = sorted(routines)
    return (["bedtime"] if "bedtime" in routines else []) + [n for n in names if n != "bedtime"]


def _listing(routines: dict[str, Routine]) -> str:
    return ", ".join(f'"{n}"' for n in sorted(routines)) or "none loaded"


def _button(top: Table) -> ButtonConfig:
    t = top.child("button")
    if t is None:
        return ButtonConfig()
    d = ButtonConfig()
    button = ButtonConfig(
        pin=t.integer("pin", d.pin, 0, 27),
        pull_up=t.boolean("pull_up", d.pull_up),
        bounce=t.duration("bounce", d.bounce, 0.0, 0.5) or 0.0,
        hold=t.duration("hold", d.hold, 0.2, 10.0) or d.hold,
        long_hold=t.duration("long_hold", d.long_hold, 0.5, 30.0) or d.long_hold,
        stuck=t.duration("stuck", d.stuck, 5.0, 3600.0) or d.stuck,
        pin_factory=_pin_factory(t),
    )
    if not t.has("stuck") and button.stuck <= button.long_hold:  # a very long long hold
        button = replace(button, stuck=2 * button.long_hold)
    if button.long_hold <= button.hold:
        found = t.data.get("long_hold", f"{button.long_hold:g} (the default)")
        t.problem("long_hold", f"more than hold ({button.hold:g} s)", found)
    if button.stuck <= button.long_hold:
        found = t.data.get("stuck", f"{button.stuck:g} (the default)")
        t.problem("stuck", f"more than long_hold ({button.long_hold:g} s)", found)
    t.done()
    return button


def _pin_factory(t: Table) -> str | None:
    """[button] pin_factory: one of the names gpiozero gives its pin factories, else None."""
    from bedside.devices.button import pin_factory_names  # it imports this module

    if not t.has("pin_factory"):
        return None
    return t.string("pin_factory", None, choices=pin_factory_names()) or None


def _display(top: Table) -> DisplayConfig:
    t = top.child("display")
    if t is None:
        return DisplayConfig()
    d = DisplayConfig()
    display = DisplayConfig(
        interface=t.string("interface", d.interface, choices=["i2c", "spi"]),
        i2c_bus=t.integer("i2c_bus", d.i2c_bus, 0, 31),
        i2c_address=t.integer("i2c_address", d.i2c_address, 0x03, 0x77),
        spi_port=t.integer("spi_port", d.spi_port, 0, 6),
        spi_device=t.integer("spi_device", d.spi_device, 0, 2),
        spi_dc=t.integer("spi_dc", d.spi_dc, 0, 27),
        spi_reset=t.integer("spi_reset", d.spi_reset, 0, 27),
        contrast=t.integer("contrast", d.contrast, 0, 255),
        rotate=t.integer("rotate", d.rotate, 0, 3),
        off_after=t.duration("off_after", d.off_after, 5, 24 * 3600) or d.off_after,
        off_after_paused=t.duration("off_after_paused", d.off_after_paused, 5, 24 * 3600)
        or d.off_after_paused,
    )
    t.done()
    return display


def _voice(top: Table) -> VoiceConfig:
    t = top.child("voice")
    if t is None:
        return VoiceConfig()
    d = VoiceConfig()
    voice = VoiceConfig(
        enabled=t.boolean("enabled", d.enabled),
        voice=t.string("voice", d.voice),
        rate=t.integer("rate", d.rate, 60, 400),
        volume=t.number("volume", d.volume, 0.0, 1.0),
        device=t.string("device", d.device),
    )
    t.done()
    return voice


def _cues(top: Table) -> tuple[CueOptions, float]:
    t = top.child("cues")
    d = CueOptions()
    if t is None:
        return d, 5.0
    cues = CueOptions(
        halfway=t.string("halfway", d.halfway),
        minute_left=t.string("minute_left", d.minute_left),
        long_step=t.duration("long_step", d.long_step, 60, 24 * 3600) or d.long_step,
    )
    stale = t.duration("stale_after", 5.0, 0.5, 600) or 5.0
    t.done()
    return cues, stale


def _reminder(top: Table) -> Reminder | None:
    t = top.child("reminder")
    if t is None:
        return None
    d = Reminder()
    enabled = t.boolean("enabled", False)
    at = _time_of_day(t, "time", d.at)
    days = t.strings("days", list(DAYS))
    if not days or any(day not in DAYS for day in days):
        t.problem("days", "days among " + ", ".join(f'"{x}"' for x in DAYS), t.raw("days"))
        days = list(DAYS)
    reminder = Reminder(
        at=at,
        days=tuple(days),
        text=t.string("text", d.text),
        contrast=t.integer("contrast", d.contrast, 0, 255),
    )
    t.done()
    return reminder if enabled else None


def _time_of_day(t: Table, key: str, default: time) -> time:
    text = t.string(key, default.strftime("%H:%M"))
    try:
        hours, minutes = (int(part) for part in text.split(":"))
        return time(hours, minutes)
    except ValueError:
        t.problem(key, 'a time of day like "22:00"', text)
        return default


def _quiet(top: Table) -> Quiet | None:
    t = top.child("quiet")
    if t is None:
        return None
    d = Quiet()
    enabled = t.boolean("enabled", False)
    quiet = Quiet(
        start=_time_of_day(t, "from", d.start),
        end=_time_of_day(t, "until", d.end),
        volume=t.number("volume", d.volume, 0.0, 1.0),
        contrast=t.integer("contrast", d.contrast, 0, 255),
    )
    t.done()
    return quiet if enabled else None


def _pacer(top: Table) -> PacerConfig:
    t = top.child("pacer")
    if t is None:
        return PacerConfig()
    d = PacerConfig()
    pacer = PacerConfig(
        enabled=t.boolean("enabled", d.enabled),
        breathe_in=t.duration("breathe_in", d.breathe_in, 1.0, 30.0) or d.breathe_in,
        breathe_out=t.duration("breathe_out", d.breathe_out, 1.0, 30.0) or d.breathe_out,
    )
    t.done()
    return pacer
