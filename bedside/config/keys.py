"""Every key of ``bedside.toml``, declared once: its type, default, bounds, unit and help.

This table is where every default is written, and defaults flow one way, out of it: into the
reader (``read``, with its located problems), the section dataclasses (``defaults_of`` here;
the core's dataclasses through ``sections.from_section``), the commented
``config/bedside.toml``, ``check-config --defaults`` and the README's table (docs.py writes the
last three). What one key cannot say about another (long_hold > hold, a menu naming routines,
whether the voice file is needed) stays in load.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import time
from enum import Enum
from importlib.metadata import entry_points
from typing import Any

from bedside.config.toml_reader import Table
from bedside.core.nights import DAYS

__all__ = [
    "AT_START",
    "DECLARED",
    "DEFAULT_MENU",
    "SECTIONS",
    "SETTINGS",
    "KeyType",
    "Setting",
    "defaults_of",
    "read",
    "read_section",
    "section",
    "section_defaults",
]


class KeyType(Enum):
    """How a key is written and read; each has one reader in ``read``."""

    INTEGER = "a whole number"
    NUMBER = "a number"
    DURATION = "a time"
    BOOLEAN = "true or false"
    TEXT = "a text"
    CHOICE = "one of some texts"
    ONE_OF = "one of some whole numbers"
    TEXTS = "a list of texts"
    TIME = "a time of day"
    DAYS = "days of the week"
    FILE = "a file"  # read as its name; load.py looks for it, when another key says it is needed


@dataclass(frozen=True)
class Setting:
    section: str
    key: str
    kind: KeyType
    default: Any
    help: str  # the README's line
    comment: str = ""  # bedside.toml's trailing comment; "\n" continues it on the next line
    lo: float | None = None
    hi: float | None = None
    choices: tuple[Any, ...] | Callable[[], Sequence[str]] = ()
    unit: str = ""
    expected: str = ""  # for ONE_OF: the words of the message
    shown: str | None = None  # the default as bedside.toml writes it, when not its plain TOML
    commented_out: bool = False  # in bedside.toml, but as a comment: left out, the default holds
    absent: str = ""  # a default of None, in words: what happens when the key is left out
    allowed: str = ""  # the README's allowed values, where bounds and choices do not say it

    @property
    def name(self) -> str:
        return f"{self.section}.{self.key}"

    def options(self) -> list[Any]:
        return list(self.choices() if callable(self.choices) else self.choices)

    def toml(self) -> str:
        """The default as written in bedside.toml."""
        if self.shown is not None:
            return self.shown
        return toml_value(self.default)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, time):
        return f'"{value:%H:%M}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


PIN_FACTORIES = "gpiozero_pin_factories"  # gpiozero's entry-point group: its names for them


def pin_factory_names() -> list[str]:
    """The names gpiozero accepts for a pin factory (lgpio, rpigpio, pigpio, native, mock),
    read from its entry points: the setting's choices, and the button's message."""
    return sorted({ep.name for ep in entry_points(group=PIN_FACTORIES)})


# The menu when bedside.toml names none: the whole bedtime sequence first, then its parts,
# then leg lifts; any other routine file after those, by name.
DEFAULT_MENU = ("bedtime", "legs-up-wall", "foot-massage", "leg-lifts")

_GPIO = 27  # the highest BCM pin of the 40-pin header

# The keys a reload (SIGHUP) cannot apply, which take effect at the next start: the button's
# pin and the panel are opened once, at start, and a session interrupted is looked for then.
AT_START = (
    "button.pin",
    "button.pull_up",
    "button.pin_factory",
    "display.driver",
    "display.height",
    "display.interface",
    "display.i2c_bus",
    "display.i2c_address",
    "display.spi_port",
    "display.spi_device",
    "display.spi_dc",
    "display.spi_reset",
    "display.rotate",
    "sessions.resume_within",
)

SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        # -- [button]
        Setting(
            "button",
            "pin",
            KeyType.INTEGER,
            17,
            "BCM number of the button's pin",
            lo=0,
            hi=_GPIO,
            comment="BCM number of the pin the button connects to ground",
        ),
        Setting(
            "button",
            "pull_up",
            KeyType.BOOLEAN,
            True,
            "button between the pin and ground, with the internal pull-up",
            comment="the Pi's internal pull-up; false if your button pulls the pin high",
        ),
        Setting(
            "button",
            "bounce",
            KeyType.DURATION,
            0.02,
            "a contact closed for less than this is noise",
            lo=0,
            hi=0.5,
            comment="a contact shorter than this is noise, not a press",
        ),
        Setting(
            "button",
            "hold",
            KeyType.DURATION,
            1.0,
            "let go after this long: a hold",
            lo=0.2,
            hi=10,
            comment="let go after this long: a hold (skip a step, next routine)",
        ),
        Setting(
            "button",
            "long_hold",
            KeyType.DURATION,
            3.0,
            "still down after this long: a long hold (more than `hold`)",
            lo=0.5,
            hi=30,
            comment="keep holding this long: a long hold (end the session)",
        ),
        Setting(
            "button",
            "stuck",
            KeyType.DURATION,
            30.0,
            "still down after this long: stuck, ignored until released (more than `long_hold`)",
            lo=5,
            hi=3600,
            shown='"30s"',
            comment="down this long: a short or a knocked switch, ignored until released",
        ),
        Setting(
            "button",
            "pin_factory",
            KeyType.CHOICE,
            None,
            'the pin library, by gpiozero\'s name: `"lgpio"` (every Pi, the Pi 5 too), '
            '`"rpigpio"` (Pi 4 and older), `"pigpio"`, `"native"`, `"mock"`; left out, gpiozero '
            "chooses (lgpio first). `bedside selftest` says which one it used, on which gpiochip",
            choices=pin_factory_names,
            shown='"lgpio"',
            commented_out=True,
            absent="automatic",
            allowed="a pin factory gpiozero knows",
            comment="the pin library; left out, gpiozero chooses (lgpio on every Pi)",
        ),
        # -- [display]
        Setting(
            "display",
            "driver",
            KeyType.CHOICE,
            "ssd1306",
            'the panel\'s controller: `"sh1106"` for most 1.3" panels, `"ssd1309"` for 2.42"; '
            "see [which panel is which](#which-panel-is-which)",
            choices=("ssd1306", "sh1106", "ssd1309"),
            commented_out=True,
            comment='the controller: "ssd1306" (0.96"), "sh1106" (most 1.3" panels: a picture\n'
            'shifted 2 px with noise at the right edge needs this), "ssd1309" (2.42")',
        ),
        Setting(
            "display",
            "height",
            KeyType.ONE_OF,
            64,
            '`32` for the 0.91" 128x32 panels',
            choices=(64, 32),
            expected="64 or 32 (the panel's rows of pixels)",
            commented_out=True,
            comment='32 for the 0.91" 128x32 panels (half the picture or stretched without it)',
        ),
        Setting(
            "display",
            "interface",
            KeyType.CHOICE,
            "i2c",
            "how the panel is wired",
            choices=("i2c", "spi"),
            comment='"i2c" or "spi"',
        ),
        Setting(
            "display", "i2c_bus", KeyType.INTEGER, 1, "the I2C bus the panel is on", lo=0, hi=31
        ),
        Setting(
            "display",
            "i2c_address",
            KeyType.INTEGER,
            0x3C,
            "where the panel answers on it",
            lo=0x03,
            hi=0x77,
            shown="0x3C",
            comment="some panels answer at 0x3D",
        ),
        Setting(
            "display",
            "spi_port",
            KeyType.INTEGER,
            0,
            "an SPI panel's port",
            lo=0,
            hi=6,
            commented_out=True,
            comment="for an SPI panel: its port, chip select, D/C and reset pins",
        ),
        Setting(
            "display",
            "spi_device",
            KeyType.INTEGER,
            0,
            "an SPI panel's chip select",
            lo=0,
            hi=2,
            commented_out=True,
        ),
        Setting(
            "display",
            "spi_dc",
            KeyType.INTEGER,
            24,
            "an SPI panel's data/command pin",
            lo=0,
            hi=_GPIO,
            commented_out=True,
        ),
        Setting(
            "display",
            "spi_reset",
            KeyType.INTEGER,
            25,
            "an SPI panel's reset pin",
            lo=0,
            hi=_GPIO,
            commented_out=True,
        ),
        Setting(
            "display",
            "contrast",
            KeyType.INTEGER,
            40,
            "the display's brightness; low suits a dark room",
            lo=0,
            hi=255,
            comment="0 to 255: low, for a dark room",
        ),
        Setting(
            # Screens are laid out landscape: a quarter turn (1 or 3) would not fit the panel.
            "display",
            "rotate",
            KeyType.ONE_OF,
            0,
            "`2` for a panel mounted upside down",
            choices=(0, 2),
            expected="0, or 2 for a panel mounted upside down",
            comment="2 if the panel is mounted upside down",
        ),
        Setting(
            "display",
            "off_after",
            KeyType.DURATION,
            60.0,
            "idle time before going dark in the menu or when done",
            lo=5,
            hi=24 * 3600,
            shown='"1m"',
            comment="go dark after this long without a press, in the menu or when done",
        ),
        Setting(
            "display",
            "off_after_paused",
            KeyType.DURATION,
            900.0,
            "idle time before going dark while paused or waiting",
            lo=5,
            hi=24 * 3600,
            shown='"15m"',
            comment="...and while paused or waiting for a press",
        ),
        # -- [voice]
        Setting("voice", "enabled", KeyType.BOOLEAN, True, "`false` for a display-only device"),
        Setting(
            "voice",
            "voice",
            KeyType.TEXT,
            "en",
            "an espeak-ng voice (`espeak-ng --voices`)",
            comment='an espeak-ng voice: "en", "en-gb", "en-us", ...',
        ),
        Setting(
            "voice",
            "rate",
            KeyType.INTEGER,
            140,
            "how fast espeak-ng speaks",
            lo=60,
            hi=400,
            unit="words a minute",
            comment="words a minute",
        ),
        Setting(
            "voice",
            "volume",
            KeyType.NUMBER,
            0.8,
            "scales `loudness`",
            lo=0.0,
            hi=1.0,
            comment="0.0 to 1.0",
        ),
        Setting(
            "voice",
            "device",
            KeyType.TEXT,
            "default",
            "the ALSA device to play on",
            comment="ALSA output device for the player",
        ),
        Setting(
            "voice",
            "engine",
            KeyType.CHOICE,
            "pyttsx3",
            '`"pyttsx3"` (espeak-ng) or `"piper"` (see [The voice](#the-voice))',
            choices=("pyttsx3", "piper"),
            comment='"pyttsx3" (espeak-ng) or "piper", a neural voice (see the README)',
        ),
        Setting(
            "voice",
            "model",
            KeyType.FILE,
            None,
            'a Piper voice, needed for `"piper"`: its name (`bedside voice list-models` lists '
            "those installed; see [The voice](#the-voice)) or its `.onnx` file (its `.onnx.json` "
            "beside it), relative to `bedside.toml` or absolute",
            shown='"en_US-joe-medium"',
            commented_out=True,
            absent="none",
            allowed="a voice's name or a file",
            comment="a Piper voice: its name (`bedside voice list-models`) or its .onnx",
        ),
        Setting(
            "voice",
            "length_scale",
            KeyType.NUMBER,
            1.0,
            "Piper's pace: more is slower",
            lo=0.5,
            hi=2.0,
            comment="Piper's pace: 1.2 is slower, 0.9 quicker",
        ),
        Setting(
            "voice",
            "sentence_silence",
            KeyType.DURATION,
            0.3,
            "Piper's pause between sentences",
            lo=0.0,
            hi=2.0,
            comment="Piper's pause between the sentences of a cue, in seconds",
        ),
        Setting(
            "voice",
            "loudness",
            KeyType.NUMBER,
            -20.0,
            "every cue is levelled to this loudness (BS.1770-4, K-weighted and gated, as "
            "broadcast loudness is measured), before `volume`; chimes and the soundscape are "
            "set relative to it",
            lo=-40.0,
            hi=-10.0,
            unit="LUFS",
            shown="-20",
            comment="LUFS (BS.1770): every cue is levelled to this (volume scales it)",
        ),
        # -- [sounds]
        Setting(
            "sounds",
            "enabled",
            KeyType.BOOLEAN,
            True,
            "the chimes",
            comment="soft chimes, synthesised: none at all with false",
        ),
        Setting(
            "sounds",
            "step",
            KeyType.BOOLEAN,
            True,
            "a soft bell at each step",
            comment="a soft bell as each step starts",
        ),
        Setting(
            "sounds",
            "finish",
            KeyType.BOOLEAN,
            True,
            "a closing tone at the end",
            comment="a closing tone when a routine is done",
        ),
        Setting(
            "sounds",
            "level",
            KeyType.NUMBER,
            -8.0,
            "the chimes' level, relative to the voice",
            lo=-30.0,
            hi=0.0,
            unit="dB",
            shown="-8",
            comment="dB, relative to the voice",
        ),
        # -- [sound]
        Setting(
            "sound",
            "preroll",
            KeyType.DURATION,
            0.5,
            "the output opens this long before a sound is due and plays silence first, so an "
            "amplifier or USB speaker that wakes late loses none of the first word",
            lo=0.0,
            hi=5.0,
            unit="seconds",
            comment="seconds of silence before a sound, for an output that wakes late",
        ),
        # -- [soundscape]
        Setting(
            "soundscape",
            "sound",
            KeyType.TEXT,
            "off",
            'a bed of sound under the steps marked `soundscape = true`: `"off"`, `"brown"` '
            '(deep noise), `"pink"` (softer, brighter), `"rain"`, or a WAV or FLAC loop of your '
            "own (a path, relative to `bedside.toml` or absolute)",
            allowed='"off", "brown", "pink", "rain" or a file',
            comment='"off", "brown", "pink", "rain", or a WAV/FLAC loop of your own',
        ),
        Setting(
            "soundscape",
            "level",
            KeyType.NUMBER,
            18.0,
            "how far under the voice it plays",
            lo=3.0,
            hi=40.0,
            unit="dB",
            shown="18",
            comment="dB under the voice",
        ),
        Setting(
            "soundscape",
            "duck",
            KeyType.NUMBER,
            12.0,
            "how far it dips while a cue speaks (over 150 ms ramps, so it never pumps)",
            lo=0.0,
            hi=40.0,
            unit="dB",
            shown="12",
            comment="dB it dips under speech",
        ),
        Setting(
            "soundscape",
            "after",
            KeyType.DURATION,
            120.0,
            "the sleep timer: after a routine ends it plays on this long, then fades out over "
            "two minutes (a press stops it sooner, with a short fade)",
            lo=0,
            hi=8 * 3600,
            shown='"2m"',
            comment="it plays on this long after the routine, then fades out",
        ),
        # -- [menu]
        Setting(
            "menu",
            "routines",
            KeyType.TEXTS,
            DEFAULT_MENU,
            "the routines in the menu, in order",
            allowed="routine names, each once",
        ),
        Setting(
            "menu",
            "speak",
            KeyType.BOOLEAN,
            True,
            "say a routine's name (and tonight's hold) when a hold moves the menu to it",
            comment="say a routine's name (and tonight's hold) when a hold moves to it",
        ),
        # -- [nights]
        Setting(
            "nights",
            "routine",
            KeyType.TEXT,
            "bedtime",
            "the routine that makes a night done: the streak, the week's marks, the chart, "
            "the reminder",
            allowed="a routine name",
            comment="the routine that makes a night: its streak, the week's marks, the reminder",
        ),
        # -- [hold]
        Setting(
            "hold",
            "grow",
            KeyType.BOOLEAN,
            True,
            "the hold (steps with `grows = true`) grows with you; `false`: the file's length",
            comment="the hold by the wall grows with you; false: its routine file's length",
        ),
        Setting(
            "hold",
            "start",
            KeyType.DURATION,
            300.0,
            "the first night's hold",
            lo=60,
            hi=2 * 3600,
            shown='"5m"',
            comment="the first night's hold",
        ),
        Setting(
            "hold",
            "step",
            KeyType.DURATION,
            60.0,
            "added after each night held to the end (and taken off after two short nights running)",
            lo=0,
            hi=30 * 60,
            shown='"1m"',
            comment="added after each night it is held to the end; taken off after two\n"
            "nights running that it is ended or skipped early",
        ),
        Setting(
            # lo: at least `start`, which load.py puts in its place
            "hold",
            "longest",
            KeyType.DURATION,
            1200.0,
            "the hold never grows past this",
            lo=60,
            hi=3 * 3600,
            shown='"20m"',
            allowed="`start` to 3 h",
            comment="it never grows past this",
        ),
        # -- [routines]
        Setting(
            "routines",
            "folder",
            KeyType.TEXT,
            "routines",
            "the routine files, relative to `bedside.toml`",
            comment="the routine files, next to this file",
        ),
        # -- [profiles]: any routine with profiles; read in load.py
        Setting(
            "profiles",
            "leg-lifts",
            KeyType.TEXT,
            "steady",
            "which profile a routine with profiles uses (a key for each such routine)",
            allowed="a profile of its file",
            comment='"steady": 5 sets of 20; "strong": 3 sets of 30',
        ),
        # -- [pacer]
        Setting(
            "pacer",
            "enabled",
            KeyType.BOOLEAN,
            True,
            "the breathing guide on steps marked `pacer = true`",
            comment="a breathing guide on the display, on steps marked pacer = true",
        ),
        Setting(
            "pacer",
            "breathe_in",
            KeyType.DURATION,
            4.0,
            "seconds the guide grows",
            lo=1,
            hi=30,
            shown="4",
            comment="seconds the shape grows",
        ),
        Setting(
            "pacer",
            "breathe_out",
            KeyType.DURATION,
            6.0,
            "seconds the guide shrinks",
            lo=1,
            hi=30,
            shown="6",
            comment="seconds it shrinks",
        ),
        # -- [reminder]
        Setting(
            "reminder",
            "enabled",
            KeyType.BOOLEAN,
            False,
            "a bedtime reminder",
            comment="true: at `time`, the dark display wakes gently and invites you",
        ),
        Setting("reminder", "time", KeyType.TIME, time(22, 0), "when, on the night's evening"),
        Setting("reminder", "days", KeyType.DAYS, DAYS, "the nights it comes on"),
        Setting(
            "reminder",
            "text",
            KeyType.TEXT,
            "It's bedtime. Press the button when you're ready to wind down.",
            "what is said",
        ),
        Setting(
            "reminder",
            "contrast",
            KeyType.INTEGER,
            8,
            "how brightly the display wakes",
            lo=0,
            hi=255,
            comment="how brightly the display wakes for it",
        ),
        # -- [quiet]
        Setting(
            "quiet",
            "enabled",
            KeyType.BOOLEAN,
            False,
            "a quieter night",
            comment="true: later in the night, cues are softer and the display dimmer",
        ),
        Setting("quiet", "from", KeyType.TIME, time(23, 0), "the quiet hours begin"),
        Setting(
            "quiet",
            "until",
            KeyType.TIME,
            time(6, 0),
            "the quiet hours end (across midnight when earlier than `from`)",
        ),
        Setting(
            "quiet",
            "volume",
            KeyType.NUMBER,
            0.4,
            "the voice's volume then",
            lo=0.0,
            hi=1.0,
            comment="instead of [voice] volume",
        ),
        Setting(
            "quiet",
            "contrast",
            KeyType.INTEGER,
            10,
            "the display's most contrast then",
            lo=0,
            hi=255,
            comment="at most this, instead of [display] contrast",
        ),
        # -- [sessions]
        Setting(
            "sessions",
            "resume_within",
            KeyType.DURATION,
            2 * 3600.0,
            "after a restart, a session interrupted this recently comes back, paused",
            lo=0,
            hi=7 * 24 * 3600,
            shown='"2h"',
            comment="after a power cut, a session this recent comes back, paused",
        ),
        # -- [cues]
        Setting(
            "cues",
            "halfway",
            KeyType.TEXT,
            "Halfway.",
            'said halfway through long timed steps (`""`: never)',
            comment='said halfway through long timed steps; "" for silence',
        ),
        Setting(
            "cues",
            "minute_left",
            KeyType.TEXT,
            "One minute left.",
            'said a minute before long timed steps end (`""`: never)',
            comment='said a minute before they end; "" for silence',
        ),
        Setting(
            "cues",
            "long_step",
            KeyType.DURATION,
            300.0,
            "how long a step must be to get those two",
            lo=60,
            hi=24 * 3600,
            shown='"5m"',
            comment="how long a step must be to get those two",
        ),
        Setting(
            "cues",
            "stale_after",
            KeyType.DURATION,
            5.0,
            "a cue that could not be said within this long is dropped, not said late",
            lo=0.5,
            hi=600,
            shown='"5s"',
            comment="a cue that could not be said within this long is dropped",
        ),
    )
}

# The sections in bedside.toml's order, each with the column its comments line up at.
SECTIONS: dict[str, int] = dict.fromkeys(dict.fromkeys(s.section for s in SETTINGS.values()), 22)
SECTIONS["cues"] = 34


def section(name: str) -> list[Setting]:
    return [s for s in SETTINGS.values() if s.section == name]


def section_defaults(name: str) -> dict[str, Any]:
    """The defaults of one section's keys, by key."""
    return {s.key: s.default for s in section(name)}


# What a section dataclass's field is set to, so that type checkers see it has a default:
# ``defaults_of`` puts its key's declared default in its place.
DECLARED: Any = object()


def defaults_of(name: str) -> Callable[[type], type]:
    """A class decorator, under ``@dataclass``: each field is a key of section ``name``, written
    ``field: type = DECLARED``, and takes its default from there. A field with no key, or a key
    with no field, fails at import."""

    def apply(cls: type) -> type:
        declared = section_defaults(name)
        fields = list(cls.__annotations__)
        if set(fields) != set(declared):
            raise TypeError(f"{cls.__name__}'s fields are not the keys of [{name}]")
        for key in fields:
            if getattr(cls, key, None) is not DECLARED:
                raise TypeError(f"{cls.__name__}.{key} should be written = DECLARED")
            setattr(cls, key, declared[key])
        return cls

    return apply


_TIME_HELP = 'a time of day like "22:00"'
_DAYS_HELP = "days among " + ", ".join(f'"{x}"' for x in DAYS)


def read(t: Table, s: Setting, **changes: Any) -> Any:
    """One key of table ``t`` through its declaration (``changes``: bounds or default that
    depend on another key); a problem recorded, and the default, when it is not as declared."""
    if changes:
        s = replace(s, **changes)
    if not t.has(s.key):
        t.raw(s.key)  # known, so not reported as a typo
        return s.default
    match s.kind:
        case KeyType.INTEGER:
            return t.integer(s.key, s.default, _whole(s.lo), _whole(s.hi))
        case KeyType.NUMBER:
            return t.number(s.key, s.default, s.lo, s.hi)
        case KeyType.DURATION:
            lo = s.lo if s.lo is not None else 0.0
            if s.hi is None:  # no longest declared: the reader's own
                return t.duration(s.key, s.default, lo)
            return t.duration(s.key, s.default, lo, s.hi)
        case KeyType.BOOLEAN:
            return t.boolean(s.key, s.default)
        case KeyType.TEXT:
            return t.string(s.key, s.default)
        case KeyType.CHOICE:
            return t.string(s.key, s.default, choices=s.options()) or s.default
        case KeyType.ONE_OF:
            value = t.raw(s.key)
            if type(value) is not int or value not in s.options():  # not 64.0, not true
                t.problem(s.key, s.expected, value)
                return s.default
            return value
        case KeyType.TEXTS:
            return tuple(t.strings(s.key, list(s.default)))
        case KeyType.TIME:
            text = t.string(s.key, f"{s.default:%H:%M}")
            try:
                hours, minutes = (int(part) for part in text.split(":"))
                return time(hours, minutes)
            except ValueError:
                t.problem(s.key, _TIME_HELP, text)
                return s.default
        case KeyType.DAYS:
            days = t.strings(s.key, list(s.default))
            if not days or any(day not in DAYS for day in days):
                t.problem(s.key, _DAYS_HELP, t.raw(s.key))
                return s.default
            return tuple(days)
        case KeyType.FILE:
            return t.string(s.key, "")  # its name, as written: load.py looks for the file


def _whole(bound: float | None) -> int | None:
    return None if bound is None else int(bound)


def read_section(t: Table, name: str, but: Sequence[str] = ()) -> dict[str, Any]:
    """Every key of section ``name`` but those in ``but``, each through ``read``."""
    return {s.key: read(t, s) for s in section(name) if s.key not in but}
