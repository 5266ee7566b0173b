"""``bedside check-config``: bedside.toml and the routine files read as the daemon reads them.

Every problem is reported at once, each with its file and line (``ConfigError``, exit 2);
``--defaults`` prints a bedside.toml with every key at its default, each said what it does.
What is not a mistake but not what the files seem to say is a warning (exit 0): a voice file
the device cannot use (it speaks with espeak-ng instead), a cue the shorter nights leave out,
and a letter of a title the panel's font has no glyph for (it would show as a box), each with
its file and line; and a missing font. Last, how many sounds the configuration has rendered,
and the most it may.
"""

from __future__ import annotations

from pathlib import Path

from bedside.app.paths import voice_folders
from bedside.config.docs import commented_toml
from bedside.config.load import load_config
from bedside.config.panel_texts import Written, panel_texts
from bedside.config.sections import Config
from bedside.config.spoken import MAX_SOUNDS, sound_count
from bedside.core.growth import cues_left_out
from bedside.core.hearing import late_cues
from bedside.core.routines import Cue
from bedside.display.fonts import DEJAVU_SANS, PACKAGE, Face, describe_character, panel_face


def main(config_path: Path | None, defaults: bool = False, face: Face | None = None) -> int:
    if defaults:
        print(commented_toml(), end="")
        return 0
    config = load_config(config_path, voice_folders())
    print(f"{config.path}: ok, {len(config.routines)} routines ({', '.join(config.menu)})")
    for line in [*map(str, config.warnings), *warnings(config, face or panel_face())]:
        print(f"  warning: {line}")
    print(f"{sound_count(config)} sounds to render, of at most {MAX_SOUNDS}")
    return 0


def warnings(config: Config, face: Face) -> list[str]:
    """What is not a mistake but not what the files seem to say: a person should know."""
    return left_out(config) + late(config) + font_warnings(panel_texts(config.routines_dir), face)


def late(config: Config) -> list[str]:
    """One for each cue heard more than a second after it falls due, the one before it still
    speaking (cue lengths as rendered when the cache holds them, else estimated)."""
    from bedside.commands.cue_lengths import CueLengths

    lengths = CueLengths(config)
    said = []
    for name, routine in config.routines.items():
        for h in late_cues(routine, lengths):
            step = routine.steps[h.step]
            where = f"{h.cue.where}: " if h.cue.where else ""
            said.append(
                f"{where}{name}, step {h.step + 1} {step.title!r}: {h.cue.text!r} is heard"
                f" {h.late:.1f} s late, {h.before!r} still speaking"
            )
    return said


def font_warnings(texts: list[Written], face: Face) -> list[str]:
    """One for each character of ``texts`` that ``face`` lacks, where it is first written;
    and one for the panel's own font when it is missing."""
    said = []
    if face.path is None:
        said.append(
            f"the panel's font {DEJAVU_SANS} is missing, so it draws in {face.name}: "
            f"install it with `sudo apt-get install {PACKAGE}` (or `make system-deps`)"
        )
    seen: set[str] = set()
    for written in texts:
        for character in face.missing(written.text):
            if character in seen:
                continue
            seen.add(character)
            line = written.line_of(character)
            where = f"{written.file}:{line}" if line else written.file
            said.append(
                f"{where}: {written.key}: the panel's font has no {describe_character(character)}"
                ": it shows as a box"
            )
    return said


def left_out(config: Config) -> list[str]:
    """Cues on the hold that grows that some nights leave out, because that night's hold is
    too short for them (a cue at "8m" on a 5-minute night)."""
    said: list[str] = []
    seen: set[tuple[str, str]] = set()
    for routine in config.routines.values():
        for step in routine.steps:
            for cue, lengths in cues_left_out(step, config.hold):
                if (cue.where, cue.text) in seen:  # a step included in several routines
                    continue
                seen.add((cue.where, cue.text))
                nights = _minutes(lengths)
                said.append(
                    f"{cue.where}: the cue {cue.text!r} ({when(cue)}) on {step.title!r} is"
                    f" left out on nights the hold is {nights}: the hold grows from"
                    f" {_minutes([config.hold.start])}, and a cue past its end is not said"
                )
    return sorted(said, key=_place)


def _place(said: str) -> tuple[str, int]:
    """A warning's file and line, to list them from the top of each file down."""
    where = said.split(": ", 1)[0]
    file, _, line = where.rpartition(":")
    return (file, int(line)) if line.isdigit() else (where, 0)


def _minutes(lengths: list[float]) -> str:
    low, high = min(lengths) / 60, max(lengths) / 60
    return f"{low:g} min" if low == high else f"{low:g} to {high:g} min"


def when(cue: Cue) -> str:
    if cue.anchor == "end":
        return f"{-cue.offset / 60:g} min before the end"
    if cue.anchor == "share":
        return f"at {cue.offset:.0%}"
    return f"{cue.offset / 60:g} min in"
