"""``bedside.toml`` and the routine files, read into frozen dataclasses.

Every mistake a person can make in these files (TOML syntax, an unknown key, a wrong type, a
value out of range, a menu naming a routine that does not exist) is collected and raised
together as one ``ConfigError`` naming file, line, key, what was expected and what was found.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, replace
from datetime import time
from pathlib import Path

from bedside.hold import HoldPlan
from bedside.nights import DAYS, Quiet, Reminder
from bedside.routine_files import RoutineOptions, load_routines
from bedside.routines import CueOptions, Routine
from bedside.schema import ConfigError, Problem, Source, Table

__all__ = ["Config", "ConfigError", "default_config_path", "load_config"]

log = logging.getLogger("bedside.config")
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
    driver: str = "ssd1306"  # the controller: "ssd1306", "sh1106" (most 1.3") or "ssd1309" (2.42")
    height: int = 64  # 64, or 32 for the 0.91" panels
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
    engine: str = "pyttsx3"  # or "piper"
    model: Path | None = None  # a Piper voice: its .onnx, with the .onnx.json beside it
    length_scale: float = 1.0  # Piper's speaking rate: above 1 is slower
    sentence_silence: float = 0.3  # Piper's pause between the sentences of a cue, in seconds
    loudness: float = -20.0  # dBFS RMS over the voiced part, every cue mastered to it


@dataclass(frozen=True)
class SoundsConfig:
    enabled: bool = True
    step: bool = True  # a soft bell as each step starts
    finish: bool = True  # a closing tone as a routine ends
    level: float = -8.0  # dB relative to the voice's loudness


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
    hold: HoldPlan = field(default_factory=HoldPlan)
    speak_menu: bool = True  # say a routine's name when a hold moves the menu to it
    quiet: Quiet | None = None  # None: the same volume and contrast all night
    routines_dir: Path = Path("routines")
    sounds: SoundsConfig = field(default_factory=SoundsConfig)
    night_routine: str = "bedtime"  # the routine that makes a night: the streak, the reminder


def default_config_path() -> Path:
    """$BEDSIDE_CONFIG, else /etc/bedside/bedside.toml when installed, else the shipped defaults."""
    env = os.environ.get("BEDSIDE_CONFIG")
    if env:
        return Path(env)
    return SYSTEM_CONFIG if SYSTEM_CONFIG.exists() else SHIPPED_CONFIG


def load_config(path: Path | None = None) -> Config:
    """Read ``bedside.toml`` and the routines it names; raise ConfigError with every problem."""
    path = Path(path) if path is not None else default_config_path()
    try:
        return _load(path)
    except ConfigError:
        raise
    except Exception as exc:  # a safety net: whatever a file does, a message, not a traceback
        log.debug("reading %s", path, exc_info=True)
        raise ConfigError(
            [Problem(str(path), None, "", "settings bedside can read", f"a {_kind(exc)} problem")]
        ) from None


def _kind(exc: Exception) -> str:
    return "memory" if isinstance(exc, MemoryError | RecursionError) else "file or value"


def _load(path: Path) -> Config:
    problems: list[Problem] = []
    source = Source.read(path, problems)
    if not source.ok:
        raise ConfigError(problems)
    top = source.table()

    button = _button(top)
    display = _display(top)
    voice = _voice(top, path.parent)
    sounds = _sounds(top)
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
    hold = _hold(top)
    sessions = top.child("sessions")
    resume_within = 2 * 3600.0
    if sessions:
        resume_within = sessions.duration("resume_within", resume_within, 0, 7 * 24 * 3600)
        sessions.done()

    nights = top.child("nights")
    night_routine = "bedtime"
    if nights:
        night_routine = nights.string("routine", night_routine)
        if night_routine not in routines and night_routine not in _files(routines_dir):
            nights.problem("routine", f"a routine name: {_listing(routines)}", night_routine)
        nights.done()

    menu_table = top.child("menu")
    menu: list[str] = list(_default_menu(routines))
    speak_menu = True
    if menu_table:
        speak_menu = menu_table.boolean("speak", True)
        menu = menu_table.strings("routines", menu)
        for i, name in enumerate(menu):
            # a routine whose own file has problems is reported there, not again here
            if name not in routines and name not in _files(routines_dir):
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
        raise ConfigError(in_line_order(problems))
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
        hold=hold,
        speak_menu=speak_menu,
        routines_dir=routines_dir,
        sounds=sounds,
        night_routine=night_routine,
    )


def in_line_order(problems: list[Problem]) -> list[Problem]:
    """Each file's problems from its top down; files in the order they were read."""
    files = list(dict.fromkeys(p.file for p in problems))
    return sorted(problems, key=lambda p: (files.index(p.file), p.line or 0))


def _files(folder: Path) -> set[str]:
    try:
        return {p.stem for p in folder.glob("*.toml")}
    except OSError:
        return set()


# The menu when bedside.toml names none: the whole bedtime sequence first, then its parts,
# then leg lifts; any other routine file after those, by name.
DEFAULT_MENU = ("bedtime", "legs-up-wall", "foot-massage", "leg-lifts")


def _default_menu(routines: dict[str, Routine]) -> list[str]:
    known = [n for n in DEFAULT_MENU if n in routines]
    return known + sorted(n for n in routines if n not in DEFAULT_MENU)


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
        driver=t.string("driver", d.driver, choices=DISPLAY_DRIVERS),
        height=_one_of(t, "height", d.height, (64, 32), "64 or 32 (the panel's rows of pixels)"),
        interface=t.string("interface", d.interface, choices=["i2c", "spi"]),
        i2c_bus=t.integer("i2c_bus", d.i2c_bus, 0, 31),
        i2c_address=t.integer("i2c_address", d.i2c_address, 0x03, 0x77),
        spi_port=t.integer("spi_port", d.spi_port, 0, 6),
        spi_device=t.integer("spi_device", d.spi_device, 0, 2),
        spi_dc=t.integer("spi_dc", d.spi_dc, 0, 27),
        spi_reset=t.integer("spi_reset", d.spi_reset, 0, 27),
        contrast=t.integer("contrast", d.contrast, 0, 255),
        # Screens are laid out landscape: a quarter turn (1 or 3) would not fit the panel.
        rotate=_one_of(t, "rotate", d.rotate, (0, 2), "0, or 2 for a panel mounted upside down"),
        off_after=t.duration("off_after", d.off_after, 5, 24 * 3600) or d.off_after,
        off_after_paused=t.duration("off_after_paused", d.off_after_paused, 5, 24 * 3600)
        or d.off_after_paused,
    )
    t.done()
    return display


DISPLAY_DRIVERS = ("ssd1306", "sh1106", "ssd1309")


def _one_of(t: Table, key: str, default: int, choices: tuple[int, ...], expected: str) -> int:
    value = t.raw(key, default)
    if type(value) is not int or value not in choices:  # not 64.0, not true
        t.problem(key, expected, value)
        return default
    return value


def _voice(top: Table, folder: Path) -> VoiceConfig:
    t = top.child("voice")
    if t is None:
        return VoiceConfig()
    d = VoiceConfig()
    engine = t.string("engine", d.engine, choices=["pyttsx3", "piper"])
    model = None
    if t.has("model") or engine == "piper":
        name = t.string("model", "")
        model = _voice_file(folder, name) if name else None
        expected = "a Piper voice file (.onnx) that exists, with its .onnx.json beside it"
        if model is None:
            if name:
                t.problem("model", expected, name)
            else:
                t.problem("model", f'{expected}, for engine = "piper"')
            model = None
    voice = VoiceConfig(
        enabled=t.boolean("enabled", d.enabled),
        voice=t.string("voice", d.voice),
        rate=t.integer("rate", d.rate, 60, 400),
        volume=t.number("volume", d.volume, 0.0, 1.0),
        device=t.string("device", d.device),
        engine=engine,
        model=model,
        length_scale=t.number("length_scale", d.length_scale, 0.5, 2.0),
        sentence_silence=t.duration("sentence_silence", d.sentence_silence, 0.0, 2.0) or 0.0,
        loudness=t.number("loudness", d.loudness, -40.0, -10.0),
    )
    t.done()
    return voice


def _voice_file(folder: Path, name: str) -> Path | None:
    """``name`` (relative to ``folder``) if it is a file with its ``.json`` beside it."""
    try:
        model = folder / Path(name).expanduser()
        found = model.is_file() and Path(f"{model}.json").is_file()
    except (OSError, ValueError, RuntimeError):  # a NUL, a name too long, "~nobody"
        return None
    return model if found else None


def _sounds(top: Table) -> SoundsConfig:
    t = top.child("sounds")
    if t is None:
        return SoundsConfig()
    d = SoundsConfig()
    sounds = SoundsConfig(
        enabled=t.boolean("enabled", d.enabled),
        step=t.boolean("step", d.step),
        finish=t.boolean("finish", d.finish),
        level=t.number("level", d.level, -30.0, 0.0),
    )
    t.done()
    return sounds


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


def _hold(top: Table) -> HoldPlan:
    t = top.child("hold")
    d = HoldPlan()
    if t is None:
        return d
    start = t.duration("start", d.start, 60.0, 2 * 3600.0) or d.start
    plan = HoldPlan(
        grow=t.boolean("grow", d.grow),
        start=start,
        step=t.duration("step", d.step, 0.0, 30 * 60.0) or 0.0,
        longest=t.duration("longest", max(d.longest, start), start, 3 * 3600.0) or start,
    )
    t.done()
    return plan
