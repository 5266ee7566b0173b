"""Reading ``bedside.toml`` and the routine files it names into a ``Config`` (sections.py).

Every mistake a person can make in these files (TOML syntax, an unknown key, a wrong type, a
value out of range, a menu naming a routine that does not exist) is collected and raised
together as one ``ConfigError`` naming file, line, key, what was expected and what was found.
Each key is read through its declaration in keys.py; what is written here by hand is what
relates keys (long_hold > hold, a menu naming routines, the Piper voice file that
``engine = "piper"`` needs).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from bedside.config.keys import DEFAULT_MENU, SETTINGS, read, read_section
from bedside.config.routine_files import RoutineOptions, load_routines
from bedside.config.sections import (
    ButtonConfig,
    Config,
    DisplayConfig,
    PacerConfig,
    SoundConfig,
    SoundscapeConfig,
    SoundsConfig,
    VoiceConfig,
    from_section,
)
from bedside.config.spoken import too_many_sounds
from bedside.config.toml_reader import ConfigError, Problem, Source, Table, show
from bedside.config.voice_names import is_voice_name, search_folders, voice_named
from bedside.config.voices import voice_problem
from bedside.core.growth import GrowthPlan
from bedside.core.nights import Quiet, Reminder
from bedside.core.phrases import NOTHING_TO_SAY, speakable
from bedside.core.routines import CueOptions, Routine
from bedside.sound.kinds import KINDS as SOUNDSCAPES

__all__ = ["DEFAULT_MENU", "ConfigError", "default_config_path", "load_config", "log_warnings"]

log = logging.getLogger("bedside.config")
SYSTEM_CONFIG = Path("/etc/bedside/bedside.toml")


def _shipped_config() -> Path:
    """The default bedside.toml, one set of files: the repository's config/, which a wheel
    carries as the package's data in bedside/defaults (pyproject.toml maps the one onto the
    other). Installed, that copy is the one there is; in a source tree (editable), config/."""
    package = Path(__file__).resolve().parents[1]  # bedside/, beside bedside/config/
    packaged = package / "defaults" / "bedside.toml"
    return packaged if packaged.exists() else package.parent / "config" / "bedside.toml"


SHIPPED_CONFIG = _shipped_config()


def default_config_path() -> Path:
    """$BEDSIDE_CONFIG, else /etc/bedside/bedside.toml when installed, else the shipped defaults."""
    env = os.environ.get("BEDSIDE_CONFIG")
    if env:
        return Path(env)
    return SYSTEM_CONFIG if SYSTEM_CONFIG.exists() else SHIPPED_CONFIG


def load_config(path: Path | None = None, voices: Sequence[Path] = ()) -> Config:
    """Read ``bedside.toml`` and the routines it names; raise ConfigError with every problem.
    A voice named by its name in ``[voice] model`` is looked for in ``voices/`` beside it, then
    in the folders ``voices`` (``app.paths.voice_folders``), then in the installed packages."""
    path = Path(path) if path is not None else default_config_path()
    try:
        return _load(path, voices)
    except ConfigError:
        raise
    except Exception as exc:  # a safety net: whatever a file does, a message, not a traceback
        log.debug("reading %s", path, exc_info=True)
        raise ConfigError(
            [Problem(str(path), None, "", "settings bedside can read", f"a {_kind(exc)} problem")]
        ) from None


def log_warnings(config: Config, logger: logging.Logger, before: str = "") -> None:
    """Each of ``config``'s warnings as a WARNING on ``logger`` (``before`` each: "reload: ")."""
    for problem in config.warnings:
        logger.warning("%swarning: %s", before, problem)


def _kind(exc: Exception) -> str:
    return "memory" if isinstance(exc, MemoryError | RecursionError) else "file or value"


def _load(path: Path, voices: Sequence[Path]) -> Config:
    problems: list[Problem] = []
    source = Source.read(path, problems)
    if not source.ok:
        raise ConfigError(problems)
    top = source.table()

    button = _button(top)
    display = _read_into(top, "display", DisplayConfig)
    warnings: list[Problem] = []
    voice = _voice(top, path.parent, warnings, voices)
    sounds = _read_into(top, "sounds", SoundsConfig)
    sound = _read_into(top, "sound", SoundConfig)
    soundscape = _soundscape(top, path.parent)
    cues, stale = _cues(top)

    folder_name = _single(top, "routines.folder")
    profile_table = top.child("profiles")
    profiles = {}
    if profile_table:
        for name in profile_table.data:
            profiles[name] = profile_table.string(name, "")
    routines_dir = (path.parent / folder_name).resolve()
    routines = load_routines(
        routines_dir,
        RoutineOptions(cues=cues, profiles=profiles),
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
    pacer = _read_into(top, "pacer", PacerConfig)
    hold = _hold(top)
    resume_within = _single(top, "sessions.resume_within")

    def a_routine(t: Table, name: str) -> None:
        if name not in routines and name not in _files(routines_dir):
            t.problem("routine", f"a routine name: {_listing(routines)}", name)

    night_routine = _single(top, "nights.routine", check=a_routine)

    menu_table = top.child("menu")
    menu: list[str] = list(_default_menu(routines))
    speak_menu = SETTINGS["menu.speak"].default
    if menu_table:
        speak_menu = read(menu_table, SETTINGS["menu.speak"])
        menu = list(read(menu_table, SETTINGS["menu.routines"], default=tuple(menu)))
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
    config = Config(
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
        sound=sound,
        soundscape=soundscape,
        night_routine=night_routine,
        warnings=tuple(warnings),
    )
    too_many = too_many_sounds(config)
    if too_many is not None:
        raise ConfigError([too_many])
    return config


def in_line_order(problems: list[Problem]) -> list[Problem]:
    """Each file's problems from its top down; files in the order they were read."""
    files = list(dict.fromkeys(p.file for p in problems))
    return sorted(problems, key=lambda p: (files.index(p.file), p.line or 0))


def _files(folder: Path) -> set[str]:
    try:
        return {p.stem for p in folder.glob("*.toml")}
    except OSError:
        return set()


def _default_menu(routines: dict[str, Routine]) -> list[str]:
    known = [n for n in DEFAULT_MENU if n in routines]
    return known + sorted(n for n in routines if n not in DEFAULT_MENU)


def _listing(routines: dict[str, Routine]) -> str:
    return ", ".join(f'"{n}"' for n in sorted(routines)) or "none loaded"


def _button(top: Table) -> ButtonConfig:
    t = top.child("button")
    if t is None:
        return ButtonConfig()
    button = ButtonConfig(**read_section(t, "button"))
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


def _single(top: Table, name: str, check: Callable[[Table, Any], None] | None = None) -> Any:
    """The one key of a section ("sessions.resume_within"), read through its declaration, then
    ``check``ed against what the other sections say; its default when the section is left out."""
    setting = SETTINGS[name]
    t = top.child(setting.section)
    if t is None:
        return setting.default
    value = read(t, setting)
    if check is not None:
        check(t, value)
    t.done()
    return value


Section = TypeVar("Section", DisplayConfig, SoundsConfig, SoundConfig, PacerConfig)


def _read_into(top: Table, name: str, kind: type[Section]) -> Section:
    """Section ``name``, whose keys are the fields of ``kind``, each read through its
    declaration; ``kind``'s defaults when the section is left out."""
    t = top.child(name)
    if t is None:
        return kind()
    value = kind(**read_section(t, name))
    t.done()
    return value


def _voice(
    top: Table, folder: Path, warnings: list[Problem], voices: Sequence[Path]
) -> VoiceConfig:
    """``[voice]``; a Piper voice that cannot be used is a warning, never a refusal: the device
    speaks with espeak-ng instead (a device left mute or dark by a voice file helps no one)."""
    t = top.child("voice")
    if t is None:
        return VoiceConfig()
    values = read_section(t, "voice")
    name = values.pop("model") or ""  # the file's name, as written
    model = None
    if t.has("model") or values["engine"] == "piper":
        model, why = _voice_file(folder, name, voices)
        if why is not None:
            expected = (
                "a Piper voice file (.onnx) that can be used, with its .onnx.json beside it,"
                " or an installed voice's name"
            )
            written = json.dumps(name, ensure_ascii=False) if len(name) < 300 else show(name)
            found = f"{written}: {why}" if name else 'nothing, for engine = "piper"'
            if values["engine"] == "piper":
                found += "; speaking with espeak-ng instead"
            warnings.append(_problem_at(t, "model", expected, found))
    t.done()
    return VoiceConfig(**values, model=model)


def _soundscape(top: Table, folder: Path) -> SoundscapeConfig:
    """[soundscape]: ``sound`` is "off", a kind bedside synthesises, or a loop of the person's
    own, which must be a WAV or FLAC file that can be read (kept as its absolute path)."""
    t = top.child("soundscape")
    if t is None:
        return SoundscapeConfig()
    values = read_section(t, "soundscape")
    name = values["sound"]
    if name != "off" and name not in SOUNDSCAPES:
        loop = _loop_file(folder, name)
        if loop is None:
            kinds = ", ".join(f'"{k}"' for k in ("off", *SOUNDSCAPES))
            t.problem("sound", f"{kinds}, or a WAV or FLAC file that can be read", name)
            values["sound"] = "off"
        else:
            values["sound"] = str(loop)
    t.done()
    return SoundscapeConfig(**values)


def _loop_file(folder: Path, name: str) -> Path | None:
    """``name`` (relative to ``folder``) if it is a readable .wav or .flac file."""
    try:
        loop = (folder / Path(name).expanduser()).resolve()
        if loop.suffix.lower() not in (".wav", ".flac") or not loop.is_file():
            return None
        with loop.open("rb") as f:
            f.read(4)
    except (OSError, ValueError, RuntimeError):  # unreadable, a NUL, "~nobody"
        return None
    return loop


def _problem_at(t: Table, key: str, expected: str, found: str) -> Problem:
    """A Problem where ``key`` of ``t`` is written (or its table, when it is left out)."""
    before = len(t.source.problems)
    t.source.add((*t.path, key), expected, found)
    return t.source.problems.pop(before)


def _voice_file(folder: Path, name: str, voices: Sequence[Path]) -> tuple[Path | None, str | None]:
    """The voice ``name``: a file (relative to ``folder``), or a voice's name, looked for
    beside bedside.toml, in ``voices`` and in the installed packages; or why it cannot be used."""
    if not name:
        return None, "no voice named"
    if is_voice_name(name):
        return voice_named(name, search_folders(folder, voices))
    try:
        model = folder / Path(name).expanduser()
    except (OSError, ValueError, RuntimeError) as e:  # a NUL, "~nobody"
        return None, f"no such file ({e})"
    why = voice_problem(model)
    return (model, None) if why is None else (None, why)


def _cues(top: Table) -> tuple[CueOptions, float]:
    t = top.child("cues")
    if t is None:
        return from_section(CueOptions), SETTINGS["cues.stale_after"].default
    values = read_section(t, "cues")
    for key in ("halfway", "minute_left"):
        _sayable(t, key, values[key])
    t.done()
    return from_section(CueOptions, values), values["stale_after"]


def _sayable(t: Table, key: str, text: str) -> None:
    if text and not speakable(text):
        t.problem(key, NOTHING_TO_SAY, text)


def _reminder(top: Table) -> Reminder | None:
    t = top.child("reminder")
    if t is None:
        return None
    values = read_section(t, "reminder")
    _sayable(t, "text", values["text"])
    t.done()
    return from_section(Reminder, values) if values["enabled"] else None


def _quiet(top: Table) -> Quiet | None:
    t = top.child("quiet")
    if t is None:
        return None
    values = read_section(t, "quiet")
    t.done()
    return from_section(Quiet, values) if values["enabled"] else None


def _hold(top: Table) -> GrowthPlan:
    t = top.child("hold")
    if t is None:
        return from_section(GrowthPlan)
    values = read_section(t, "hold", but=["longest"])
    start, longest = values["start"], SETTINGS["hold.longest"]
    # never shorter than the first night's hold, whatever that is
    values["longest"] = read(t, longest, lo=start, default=max(longest.default, start))
    t.done()
    return from_section(GrowthPlan, values)
