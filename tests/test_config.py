"""Configuration errors: every mistake is reported, each with file, line, key, expected, found.

Each test breaks a private copy of the shipped configuration (see ``config_copy`` in
conftest.py) and asserts what ``load_config`` says about it, down to the exact line.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bedside.config import docs as config_text
from bedside.config.core_terms import defaults
from bedside.config.docs import README_END, README_START, commented_toml, readme_table
from bedside.config.key_lines import key_lines, line_of
from bedside.config.keys import (
    DECLARED,
    SECTIONS,
    SETTINGS,
    KeyType,
    Setting,
    defaults_of,
    read,
    section,
)
from bedside.config.load import load_config
from bedside.config.sections import (
    ButtonConfig,
    DisplayConfig,
    SoundsConfig,
    VoiceConfig,
    _check_core_sections,
)
from bedside.config.toml_reader import ConfigError, Problem, Source
from bedside.config.voice_names import is_voice_name
from bedside.core.durations import parse_duration
from bedside.core.gestures import Thresholds
from bedside.core.growth import GrowthPlan
from bedside.core.nights import Quiet, Reminder
from bedside.core.routines import CueOptions
from bedside.core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_CONFIG = ROOT / "config" / "bedside.toml"
SHIPPED_ROUTINES = ROOT / "config" / "routines"
ROUTINE_NAMES = ("bedtime", "legs-up-wall", "foot-massage", "leg-lifts")


# -- helpers ---------------------------------------------------------------------------------
def edit(path: Path, old: str, new: str) -> None:
    """Replace the one occurrence of ``old`` in ``path`` with ``new``."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} should occur once in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def line_no(path: Path, marker: str) -> int:
    """The number (from 1) of the one line of ``path`` that contains ``marker``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found = [n for n, line in enumerate(lines, start=1) if marker in line]
    assert len(found) == 1, f"{marker!r} should be on exactly one line of {path}: {found}"
    return found[0]


def problems(path: Path) -> list[Problem]:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.problems, "a ConfigError must carry at least one problem"
    return info.value.problems


def the_problem(found: list[Problem], file: Path, key: str) -> Problem:
    """The one problem about ``key`` in ``file``."""
    matches = [p for p in found if Path(p.file) == file and p.key == key]
    assert len(matches) == 1, f"one problem for {file.name} {key}, got:\n" + "\n".join(
        map(str, found)
    )
    return matches[0]


def write_routine(config: Path, name: str, text: str) -> Path:
    """A new routine file next to the shipped ones; the text's first line is line 1."""
    path = config.parent / "routines" / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


# -- the shipped file ------------------------------------------------------------------------
def test_shipped_config_loads_clean(shipped_config: Path) -> None:
    config = load_config(shipped_config)
    assert set(config.routines) == set(ROUTINE_NAMES)
    assert config.menu == ROUTINE_NAMES


def test_shipped_defaults_are_the_hardware_defaults(shipped_config: Path) -> None:
    config = load_config(shipped_config)
    assert config.button.pin == 17
    assert config.button.pull_up is True
    assert config.display.interface == "i2c"
    assert config.display.i2c_address == 0x3C
    assert config.display.contrast <= 64  # a dark bedroom
    assert config.button.hold < config.button.long_hold


def test_shipped_file_says_what_the_code_defaults_say(shipped_config: Path) -> None:
    """A section left out of bedside.toml behaves exactly like the shipped section."""
    config = load_config(shipped_config)
    assert config.button == ButtonConfig()
    assert config.display == DisplayConfig()
    assert config.voice == VoiceConfig()
    assert config.sounds == SoundsConfig()
    assert config.cues == defaults(CueOptions)
    assert config.hold == defaults(GrowthPlan)
    raw = tomllib.loads(shipped_config.read_text(encoding="utf-8"))
    assert raw["button"]["pin"] == 17
    assert raw["display"]["i2c_address"] == 0x3C
    assert raw["display"]["contrast"] == config.display.contrast


def test_sections_left_out_fall_back_to_the_same_defaults(config_copy: Path) -> None:
    text = config_copy.read_text(encoding="utf-8")
    kept = [block for block in text.split("\n[") if not block.startswith(("button]", "display]"))]
    config_copy.write_text("\n[".join(kept), encoding="utf-8")
    assert "[button]" not in config_copy.read_text(encoding="utf-8")
    config = load_config(config_copy)
    assert config.button == ButtonConfig()
    assert config.display == DisplayConfig()


# -- each key declared once: the reader, the shipped file, the README and check-config ------
BOUNDED = [
    s
    for s in SETTINGS.values()
    if s.kind in (KeyType.INTEGER, KeyType.NUMBER, KeyType.DURATION) and s.hi is not None
]


def set_key(path: Path, setting: Setting, value: str) -> int:
    """Write ``key = value`` in place of the setting's line (commented out or not) in its
    section of ``path``; returns the line it is on."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines.index(f"[{setting.section}]")
    after = lines[header + 1 :]
    end = next((i for i, line in enumerate(after) if line.startswith("[")), len(after))
    at = [
        header + 1 + i
        for i, line in enumerate(after[:end])
        if line.startswith((f"{setting.key} = ", f"# {setting.key} = "))
    ]
    assert len(at) == 1, f"{setting.name} should have one line in {path}"
    lines[at[0]] = f"{setting.key} = {value}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return at[0] + 1


def load_problems(path: Path) -> list[Problem]:
    try:
        load_config(path)
    except ConfigError as error:
        return error.problems
    return []


SECONDS = {"s": 1, "min": 60, "h": 3600, "days": 24 * 3600}


def readme_bounds(allowed: str, setting: Setting) -> tuple[float, float]:
    """The README's "5 s to 1 h", "0x03 to 0x77" or "-40 to -10 dBFS" as numbers."""
    low, high = allowed.split(" to ")
    (lo, _, lo_unit), (hi, _, hi_unit) = low.partition(" "), high.partition(" ")
    if setting.kind is not KeyType.DURATION:
        assert (hi_unit, lo_unit) == (setting.unit, "")
        return (int(lo, 16), int(hi, 16)) if lo.startswith("0x") else (float(lo), float(hi))
    return float(lo) * SECONDS[lo_unit or hi_unit], float(hi) * SECONDS[hi_unit]


def test_the_shipped_file_is_what_the_declarations_give(shipped_config: Path) -> None:
    made = commented_toml()
    assert shipped_config.read_text(encoding="utf-8") == made, (
        "config/bedside.toml differs from bedside/config/keys.py: run python -m bedside.config.docs"
    )
    uncommented = re.sub(r"^# (?=[\w-]+ = )", "", made, flags=re.MULTILINE)
    written = tomllib.loads(uncommented)
    declared = {(s.section, s.key) for s in SETTINGS.values()}
    assert {(name, key) for name, table in written.items() for key in table} == declared


def test_the_readme_table_is_what_the_declarations_give() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.count(README_START) == 1 and readme.count(README_END) == 1
    start = readme.index(README_START)
    assert readme[start : readme.index(README_END) + len(README_END) + 1] == readme_table(), (
        "README.md's table differs from bedside/config/keys.py: run python -m bedside.config.docs"
    )
    table = readme[start : readme.index(README_END)]
    rows = [line for line in table.splitlines() if line.startswith("| `[")]
    assert len(rows) == len(SETTINGS)
    for row, setting in zip(rows, SETTINGS.values(), strict=True):
        assert row.startswith(f"| `[{setting.section}] {setting.key}` | ")
        if setting.hi is not None and setting.allowed == "":
            allowed = row.split(" | ")[2]
            assert readme_bounds(allowed, setting) == (setting.lo, setting.hi), row


def test_check_config_defaults_prints_the_shipped_file(config_copy: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bedside", "check-config", "--defaults"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == SHIPPED_CONFIG.read_text(encoding="utf-8")
    config_copy.write_text(done.stdout, encoding="utf-8")  # and it reads as the defaults
    config = load_config(config_copy)
    assert (config.button, config.display, config.voice) == (
        ButtonConfig(),
        DisplayConfig(),
        VoiceConfig(),
    )


def test_a_section_class_has_a_field_for_each_key_and_no_other() -> None:
    assert [f.name for f in dataclasses.fields(SoundsConfig)] == [
        "enabled",
        "step",
        "finish",
        "level",
    ]
    assert SoundsConfig().level == SETTINGS["sounds.level"].default
    with pytest.raises(TypeError, match=r"fields are not the keys of \[sounds\]"):

        @defaults_of("sounds")
        class Fewer:
            enabled: bool

    with pytest.raises(TypeError, match=r"fields are not the keys of \[pacer\]"):

        @defaults_of("pacer")
        class More:
            enabled: bool
            breathe_in: float
            breathe_out: float
            breathe_hold: float

    with pytest.raises(TypeError, match=r"Plain\.level should be written = DECLARED"):

        @defaults_of("sounds")
        class Plain:  # a default written here would be a second one, and a type checker
            enabled: bool = DECLARED  # would not see the table's without the marker
            step: bool = DECLARED
            finish: bool = DECLARED
            level: float = -8.0


def test_the_cores_configured_classes_take_every_default_from_the_table() -> None:
    def declared(*names: str) -> list[Any]:
        return [SETTINGS[name].default for name in names]

    plan = defaults(GrowthPlan)
    assert [plan.grow, plan.start, plan.step, plan.longest] == declared(
        "hold.grow", "hold.start", "hold.step", "hold.longest"
    )
    cues = defaults(CueOptions)
    assert [cues.halfway, cues.minute_left, cues.long_step] == declared(
        "cues.halfway", "cues.minute_left", "cues.long_step"
    )
    reminder = defaults(Reminder)
    assert [reminder.at, reminder.days, reminder.text, reminder.contrast] == declared(
        "reminder.time", "reminder.days", "reminder.text", "reminder.contrast"
    )
    quiet = defaults(Quiet)
    assert [quiet.start, quiet.end, quiet.volume, quiet.contrast] == declared(
        "quiet.from", "quiet.until", "quiet.volume", "quiet.contrast"
    )
    gestures = defaults(Thresholds, bounce=0.0)
    assert [gestures.hold, gestures.long_hold, gestures.bounce, gestures.stuck] == [
        *declared("button.hold", "button.long_hold"),
        0.0,
        SETTINGS["button.stuck"].default,
    ]
    settings = defaults(Settings, routines={}, menu=("bedtime",))
    assert settings.menu == ("bedtime",) and settings.growth == plan and settings.cues == cues
    assert [settings.contrast, settings.stale_cue, settings.announce, settings.pacer] == declared(
        "display.contrast", "cues.stale_after", "menu.speak", "pacer.enabled"
    )
    # none of them has a default of its own for what a key sets: there is one place to look
    for kind in (GrowthPlan, CueOptions, Reminder, Quiet, Thresholds, Settings):
        own = [f.name for f in dataclasses.fields(kind) if f.default is not dataclasses.MISSING]
        assert own in ([], ["within"], ["keep_clear"]), kind


def test_a_core_class_with_a_default_for_a_key_fails_at_import() -> None:
    @dataclasses.dataclass(frozen=True)
    class Seconded:
        volume: float
        contrast: int = 10  # a second default for [quiet] contrast

    @dataclasses.dataclass(frozen=True)
    class Unkeyed:
        volume: float
        loudness: float  # no key sets it, and it has no default

    with pytest.raises(TypeError, match=r"Seconded\.contrast has a default of its own"):
        _check_core_sections({Seconded: ("quiet", {})})
    with pytest.raises(TypeError, match=r"Unkeyed\.loudness has no key in \[quiet\]"):
        _check_core_sections({Unkeyed: ("quiet", {})})
    _check_core_sections({Quiet: ("quiet", {"from": "start", "until": "end"})})


def test_config_text_rewrites_what_is_stale_and_only_that(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "config").mkdir()
    toml, readme = tmp_path / "config" / "bedside.toml", tmp_path / "README.md"
    toml.write_text(commented_toml().replace("pin = 17 ", "pin = 22 "), encoding="utf-8")
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    readme.write_text(text.replace("| `17` |", "| `22` |"), encoding="utf-8")
    assert config_text.main(["--check"], root=tmp_path) == 1
    assert "pin = 22 " in toml.read_text(encoding="utf-8")  # --check changes nothing
    assert config_text.main([], root=tmp_path) == 0
    assert toml.read_text(encoding="utf-8") == commented_toml()
    assert readme.read_text(encoding="utf-8") == text
    assert config_text.main(["--check"], root=tmp_path) == 0
    assert capsys.readouterr().out == f"wrote {toml}\nwrote {readme}\n"
    toml.unlink()  # not a source tree: a message, not a traceback
    assert config_text.main([], root=tmp_path) == 2
    assert "not bedside's source tree" in capsys.readouterr().err


@pytest.mark.parametrize("setting", SETTINGS.values(), ids=lambda s: s.name)
def test_each_default_as_written_reads_as_the_default(setting: Setting) -> None:
    found: list[Problem] = []
    source = Source(
        "bedside.toml", f"[{setting.section}]\n{setting.key} = {setting.toml()}\n", found
    )
    table = source.table().child(setting.section)
    assert table is not None
    value = read(table, setting)
    assert found == []
    if setting.kind is KeyType.FILE:  # an example, read as its name: load.py looks for it
        assert setting.default is None and value == json.loads(setting.toml())
        assert value.endswith(".onnx") or is_voice_name(value)  # a file, or a voice's name
        return
    if setting.default is None:  # an example of what may be written, not the default
        assert value in setting.options()
    else:
        assert value == setting.default and type(value) is type(setting.default)


@pytest.mark.parametrize("setting", SETTINGS.values(), ids=lambda s: s.name)
def test_every_declared_key_is_read_as_a_known_key(config_copy: Path, setting: Setting) -> None:
    line = set_key(config_copy, setting, "{ wrong = 1 }")
    found = load_problems(config_copy)
    assert found, f"{setting.name} = {{ wrong = 1 }} went unnoticed"
    for problem in found:
        assert (problem.key, problem.line) == (setting.name, line)
        assert problem.found in ('{"wrong": 1}', "nothing")
        assert not problem.expected.startswith("a known key")


@pytest.mark.parametrize("setting", BOUNDED, ids=lambda s: s.name)
def test_the_declared_bounds_are_the_bounds(config_copy: Path, setting: Setting) -> None:
    assert setting.lo is not None and setting.hi is not None
    line = set_key(config_copy, setting, repr(setting.hi))
    assert [p for p in load_problems(config_copy) if p.key == setting.name] == []
    above = setting.hi + 1
    set_key(config_copy, setting, repr(above))
    problem = the_problem(load_problems(config_copy), config_copy, setting.name)
    assert problem.line == line
    assert f" to {setting.hi:g}" in problem.expected
    if setting.name != "hold.longest":  # at least [hold] start, whatever that is
        below = setting.lo - 1
        set_key(config_copy, setting, repr(below))
        problem = the_problem(load_problems(config_copy), config_copy, setting.name)
        assert f"from {setting.lo:g} to " in problem.expected
        assert problem.found == json.dumps(below)


# -- TOML syntax -----------------------------------------------------------------------------
def test_toml_syntax_error_names_file_and_line(config_copy: Path) -> None:
    edit(config_copy, "contrast = 40", "contrast = = 40")
    found = problems(config_copy)
    assert len(found) == 1
    (problem,) = found
    assert Path(problem.file) == config_copy
    assert problem.line == line_no(config_copy, "contrast = = 40")
    assert problem.expected == "valid TOML"
    assert problem.found  # tomllib's own words
    assert "line" not in problem.found  # the line is in .line, not repeated in the text
    assert str(problem).startswith(f"{config_copy}:{problem.line}:")


def test_toml_syntax_error_in_a_routine_file(config_copy: Path) -> None:
    routine = config_copy.parent / "routines" / "legs-up-wall.toml"
    edit(routine, 'title = "Coming down"', 'title = "Coming down')  # unterminated string
    found = problems(config_copy)
    syntax = [p for p in found if p.expected == "valid TOML"]
    assert len(syntax) == 1
    assert Path(syntax[0].file) == routine
    assert syntax[0].line == line_no(routine, 'title = "Coming down')


def test_missing_config_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "bedside.toml"
    (problem,) = problems(missing)
    assert Path(problem.file) == missing
    assert problem.found == "none"


# -- unknown keys ----------------------------------------------------------------------------
def test_unknown_key_near_a_known_one_says_did_you_mean(config_copy: Path) -> None:
    edit(config_copy, "contrast = 40", "contrsat = 40")
    problem = the_problem(problems(config_copy), config_copy, "display.contrsat")
    assert problem.line == line_no(config_copy, "contrsat")
    assert 'did you mean "contrast"?' in problem.expected
    assert "contrsat" in problem.found


def test_unknown_key_far_from_any_says_check_the_spelling(config_copy: Path) -> None:
    edit(config_copy, 'device = "default"', 'device = "default"\nwibble = 1')
    problem = the_problem(problems(config_copy), config_copy, "voice.wibble")
    assert problem.line == line_no(config_copy, "wibble = 1")
    assert "check the spelling" in problem.expected


def test_unknown_table_says_did_you_mean(config_copy: Path) -> None:
    edit(config_copy, "[button]", "[buttons]")
    found = problems(config_copy)
    problem = the_problem(found, config_copy, "buttons")
    assert problem.line == line_no(config_copy, "[buttons]")
    assert 'did you mean "button"?' in problem.expected


def test_unknown_key_in_a_routine_step(config_copy: Path) -> None:
    path = write_routine(
        config_copy,
        "extra",
        'title = "Extra"\n'  # 1
        "\n"  # 2
        "[[steps]]\n"  # 3
        'title = "Stretch"\n'  # 4
        'kind = "timed"\n'  # 5
        'duraton = "1m"\n',  # 6
    )
    found = problems(config_copy)
    problem = the_problem(found, path, "steps[1].duraton")
    assert problem.line == 6
    assert 'did you mean "duration"?' in problem.expected
    missing = the_problem(found, path, "steps[1].duration")  # and the real one is missing
    assert missing.line == 3
    assert missing.found == "nothing"


def check_config(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bedside", "check-config", "--config", str(config)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


@pytest.mark.parametrize(
    "kind, key, value, owner",
    [
        ("timed", "reps", "5", "reps"),
        ("timed", "count_every", "5", "reps"),
        ("reps", "duration", '"1m"', "timed"),
        ("wait", "pacer", "true", "timed"),
    ],
)
def test_a_key_of_another_kind_of_step_says_which_kind_it_belongs_to(
    config_copy: Path, kind: str, key: str, value: str, owner: str
) -> None:
    length = {"timed": 'duration = "1m"\n', "reps": "reps = 5\n", "wait": ""}[kind]
    path = write_routine(
        config_copy,
        "extra",
        f'title = "Extra"\n\n[[steps]]\ntitle = "Stretch"\nkind = "{kind}"\n{length}'
        f"{key} = {value}\n",
    )
    done = check_config(config_copy)
    assert done.returncode == 2
    line = line_no(path, f"{key} = ")
    said = f"{path}:{line}: steps[1].{key}: expected a key of a {kind} step: title, kind, cues"
    assert said in done.stderr, done.stderr
    assert f'found "{key}", which belongs to a {owner} step (kind = "{owner}")' in done.stderr
    assert "check the spelling" not in done.stderr and "did you mean" not in done.stderr


def test_a_stray_steps_line_at_the_end_is_said_once(config_copy: Path) -> None:
    routine = config_copy.parent / "routines" / "foot-massage.toml"
    routine.write_text(routine.read_text(encoding="utf-8") + "\nsteps = 3\n", encoding="utf-8")
    done = check_config(config_copy)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.startswith("  ")]
    assert len(lines) == 1, done.stderr  # the cause once, not four knock-on errors
    assert f"{routine}:{line_no(routine, 'steps = 3')}:" in lines[0]
    assert "steps: expected a list of steps ([[steps]] tables), in a group" in lines[0]
    assert lines[0].endswith("found 3")


# -- wrong types and ranges ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("old", "new", "key", "expected", "shown"),
    [
        ("pin = 17", 'pin = "seventeen"', "button.pin", "a whole number", '"seventeen"'),
        ("pull_up = true", 'pull_up = "yes"', "button.pull_up", "true or false", '"yes"'),
        ('interface = "i2c"', "interface = 2", "display.interface", '"i2c", "spi"', "2"),
        ("rotate = 0", "rotate = 1.5", "display.rotate", "0, or 2", "1.5"),
        ("volume = 0.8", 'volume = "loud"', "voice.volume", "a number", '"loud"'),
        ('voice = "en"', "voice = [1, 2]", "voice.voice", "a text", "[1, 2]"),
        ('off_after = "1m"', "off_after = true", "display.off_after", "90s", "true"),
    ],
)
def test_wrong_type(
    config_copy: Path, old: str, new: str, key: str, expected: str, shown: str
) -> None:
    edit(config_copy, old, new)
    problem = the_problem(problems(config_copy), config_copy, key)
    assert problem.line == line_no(config_copy, new)
    assert expected in problem.expected
    assert problem.found == shown


@pytest.mark.parametrize(
    ("old", "new", "key", "expected"),
    [
        ("pin = 17", "pin = 99", "button.pin", "from 0 to 27"),
        ("pin = 17", "pin = -1", "button.pin", "from 0 to 27"),
        ("contrast = 40", "contrast = 300", "display.contrast", "from 0 to 255"),
        ("i2c_address = 0x3C", "i2c_address = 0x100", "display.i2c_address", "from 3 to 119"),
        ("rate = 140", "rate = 5", "voice.rate", "from 60 to 400"),
        ("volume = 0.8", "volume = 1.5", "voice.volume", "from 0 to 1"),
        ("loudness = -20", "loudness = -3", "voice.loudness", "from -40 to -10"),
        ("length_scale = 1.0", "length_scale = 0.1", "voice.length_scale", "from 0.5 to 2"),
        ("level = -8", "level = 6", "sounds.level", "from -30 to 0"),
        ("bounce = 0.02", 'bounce = "2s"', "button.bounce", "from 0 to 0.5 seconds"),
    ],
)
def test_out_of_range(config_copy: Path, old: str, new: str, key: str, expected: str) -> None:
    edit(config_copy, old, new)
    problem = the_problem(problems(config_copy), config_copy, key)
    assert problem.line == line_no(config_copy, new)
    assert expected in problem.expected
    assert problem.found == json.dumps(tomllib.loads(new)[new.split(" =")[0]])


def test_out_of_range_messages_read_well(config_copy: Path) -> None:
    edit(config_copy, "pin = 17", "pin = 99")
    edit(config_copy, "contrast = 40", "contrast = 300")
    text = str(ConfigError(problems(config_copy)))
    pin, contrast = line_no(config_copy, "pin = 99"), line_no(config_copy, "contrast = 300")
    assert f"{config_copy}:{pin}: button.pin: expected a whole number from 0 to 27, found 99" in (
        text
    )
    assert (
        f"{config_copy}:{contrast}: display.contrast: expected a whole number from 0 to 255,"
        " found 300"
    ) in text


def test_negative_step_duration(config_copy: Path) -> None:
    routine = config_copy.parent / "routines" / "foot-massage.toml"
    edit(routine, 'duration = "20m"', "duration = -5")
    problem = the_problem(problems(config_copy), routine, "steps[2].duration")
    assert problem.line == line_no(routine, "duration = -5")
    assert "from 1 to 86400 seconds" in problem.expected
    assert problem.found == "-5"


@pytest.mark.parametrize(("hold", "long_hold"), [("1.0", "0.5"), ("3.0", "3.0"), ('"2s"', '"1s"')])
def test_long_hold_must_be_longer_than_hold(config_copy: Path, hold: str, long_hold: str) -> None:
    edit(config_copy, "hold = 1.0 ", f"hold = {hold} ")
    edit(config_copy, "long_hold = 3.0", f"long_hold = {long_hold}")
    found = problems(config_copy)
    assert len(found) == 1
    problem = the_problem(found, config_copy, "button.long_hold")
    assert problem.line == line_no(config_copy, "long_hold =")
    assert problem.expected.startswith("more than hold")
    assert problem.found == long_hold


# -- durations -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "seconds"),
    [(90, 90), (90.5, 90.5), ("90s", 90), ("5m", 300), ("1m30s", 90), (" 2m ", 120), ("1h", 3600)],
)
def test_parse_duration_accepts(value: Any, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize(
    "value", ["5 minutes", "five", "", "m", "5x", "-1m", "1m-30s", True, False, None, [90], {}]
)
def test_parse_duration_rejects(value: Any) -> None:
    assert parse_duration(value) is None


def test_parse_duration_keeps_the_sign_of_a_number() -> None:
    # -60 means "a minute before the end" for a cue's `at`; ranges reject it elsewhere.
    assert parse_duration(-1) == -1
    assert parse_duration(float("inf")) is None
    assert parse_duration(float("nan")) is None


@pytest.mark.parametrize(
    ("written", "seconds"), [("90", 90), ('"90s"', 90), ('"5m"', 300), ('"1m30s"', 90)]
)
def test_durations_in_the_config(config_copy: Path, written: str, seconds: float) -> None:
    edit(config_copy, 'off_after = "1m"', f"off_after = {written}")
    assert load_config(config_copy).display.off_after == seconds


@pytest.mark.parametrize("written", ['"5 minutes"', "true", "-1"])
def test_bad_durations_in_the_config(config_copy: Path, written: str) -> None:
    edit(config_copy, 'off_after = "1m"', f"off_after = {written}")
    problem = the_problem(problems(config_copy), config_copy, "display.off_after")
    assert problem.line == line_no(config_copy, f"off_after = {written}")
    assert '"1m30s"' in problem.expected
    assert problem.found == written


# -- the menu and profiles -------------------------------------------------------------------
def test_menu_naming_a_routine_that_does_not_exist(config_copy: Path) -> None:
    edit(config_copy, '["bedtime", "legs-up-wall"', '["bedtime", "legs-up-the-wall"')
    problem = the_problem(problems(config_copy), config_copy, "menu.routines[2]")
    assert problem.line == line_no(config_copy, "legs-up-the-wall")
    for name in ROUTINE_NAMES:
        assert f'"{name}"' in problem.expected
    assert problem.found == '"legs-up-the-wall"'


def test_menu_error_on_a_multi_line_array_names_the_element_line(config_copy: Path) -> None:
    edit(
        config_copy,
        'routines = ["bedtime", "legs-up-wall", "foot-massage", "leg-lifts"]',
        'routines = [\n  "bedtime",\n  "legs-up-wall",\n  "foot-massgae",\n]',
    )
    problem = the_problem(problems(config_copy), config_copy, "menu.routines[3]")
    assert problem.line == line_no(config_copy, '"foot-massgae"')


def test_menu_listing_a_routine_twice(config_copy: Path) -> None:
    edit(config_copy, '"foot-massage", "leg-lifts"]', '"foot-massage", "bedtime"]')
    problem = the_problem(problems(config_copy), config_copy, "menu.routines")
    assert problem.line == line_no(config_copy, "routines = [")
    assert problem.expected == "each routine once"


def test_profile_for_a_routine_that_does_not_exist(config_copy: Path) -> None:
    edit(config_copy, 'leg-lifts = "steady"', 'leg-lifts = "steady"\nleg-raises = "strong"')
    problem = the_problem(problems(config_copy), config_copy, "profiles.leg-raises")
    assert problem.line == line_no(config_copy, "leg-raises")
    assert all(f'"{name}"' in problem.expected for name in ROUTINE_NAMES)


def test_profile_for_a_routine_without_profiles(config_copy: Path) -> None:
    edit(config_copy, 'leg-lifts = "steady"', 'leg-lifts = "steady"\nfoot-massage = "strong"')
    problem = the_problem(problems(config_copy), config_copy, "profiles.foot-massage")
    assert problem.line == line_no(config_copy, 'foot-massage = "strong"')
    assert "[profiles]" in problem.expected


def test_unknown_profile_is_an_error_naming_the_profiles_there_are(config_copy: Path) -> None:
    edit(config_copy, 'leg-lifts = "steady"', 'leg-lifts = "superstrong"')
    found = problems(config_copy)
    about = [p for p in found if "superstrong" in str(p)]
    assert about, "\n".join(map(str, found))
    assert any('"steady"' in str(p) and '"strong"' in str(p) for p in about)


def test_unknown_profile_is_reported_where_it_was_written(config_copy: Path) -> None:
    edit(config_copy, 'leg-lifts = "steady"', 'leg-lifts = "superstrong"')
    found = problems(config_copy)
    assert len(found) == 1, "\n".join(map(str, found))
    problem = the_problem(found, config_copy, "profiles.leg-lifts")
    assert problem.line == line_no(config_copy, "superstrong")
    assert '"steady"' in problem.expected and '"strong"' in problem.expected
    assert problem.found == '"superstrong"'


# -- routine files ---------------------------------------------------------------------------
def test_unknown_step_kind(config_copy: Path) -> None:
    path = write_routine(
        config_copy,
        "extra",
        'title = "Extra"\n'  # 1
        "\n"  # 2
        "[[steps]]\n"  # 3
        'title = "Stretch"\n'  # 4
        'kind = "stretch"\n'  # 5
        'duration = "1m"\n',  # 6
    )
    problem = the_problem(problems(config_copy), path, "steps[1].kind")
    assert problem.line == 5
    assert problem.expected == 'one of "timed", "wait", "reps"'
    assert problem.found == '"stretch"'


def test_unknown_step_kind_is_the_only_problem(config_copy: Path) -> None:
    write_routine(
        config_copy,
        "extra",
        'title = "Extra"\n\n[[steps]]\ntitle = "Stretch"\nkind = "stretch"\nduration = "1m"\n'
        'cues = [{ at = "start", text = "Stretch." }]\n',
    )
    found = problems(config_copy)
    assert [p.key for p in found] == ["steps[1].kind"], "\n".join(map(str, found))


def test_include_of_a_missing_routine(config_copy: Path) -> None:
    bedtime = config_copy.parent / "routines" / "bedtime.toml"
    edit(bedtime, 'include = "legs-up-wall"', 'include = "legs-up-the-wall"')
    found = problems(config_copy)
    assert len(found) == 1
    problem = the_problem(found, bedtime, "steps[2].include")
    assert problem.line == line_no(bedtime, "legs-up-the-wall")
    assert all(f'"{name}"' in problem.expected for name in ROUTINE_NAMES)
    assert problem.found == '"legs-up-the-wall"'


def test_include_cycle(config_copy: Path) -> None:
    a = write_routine(config_copy, "loop-a", 'title = "A"\n\n[[steps]]\ninclude = "loop-b"\n')
    b = write_routine(config_copy, "loop-b", 'title = "B"\n[[steps]]\ninclude = "loop-a"\n')
    found = problems(config_copy)
    in_a = the_problem(found, a, "steps[1].include")
    in_b = the_problem(found, b, "steps[1].include")
    assert (in_a.line, in_b.line) == (4, 3)
    assert in_a.expected == "a routine that does not include itself"
    assert in_a.found == '"loop-b -> loop-a -> loop-b"'
    assert in_b.found == '"loop-a -> loop-b -> loop-a"'


def test_routine_including_itself(config_copy: Path) -> None:
    path = write_routine(config_copy, "selfish", 'title = "S"\n[[steps]]\ninclude = "selfish"\n')
    problem = the_problem(problems(config_copy), path, "steps[1].include")
    assert problem.line == 3
    assert "selfish -> selfish" in problem.found


def test_bad_cue_at(config_copy: Path) -> None:
    path = write_routine(
        config_copy,
        "extra",
        'title = "Extra"\n'  # 1
        "[[steps]]\n"  # 2
        'title = "Stretch"\n'  # 3
        'kind = "timed"\n'  # 4
        'duration = "1m"\n'  # 5
        "cues = [\n"  # 6
        '  { at = "start", text = "Stretch." },\n'  # 7
        '  { at = "150%", text = "Too late." },\n'  # 8
        "]\n",  # 9
    )
    found = problems(config_copy)
    assert len(found) == 1
    problem = the_problem(found, path, "steps[1].cues[2].at")
    assert problem.line == 8
    assert '"50%"' in problem.expected and "(60 s)" in problem.expected
    assert problem.found == '"150%"'


@pytest.mark.parametrize("at", ['"61s"', "-61", '"-2m"', '"soon"', "true"])
def test_cue_outside_its_step(config_copy: Path, at: str) -> None:
    path = write_routine(
        config_copy,
        "extra",
        f'title = "Extra"\n[[steps]]\ntitle = "Stretch"\nkind = "timed"\nduration = 60\n'
        f'cues = [{{ at = {at}, text = "Hm." }}]\n',
    )
    problem = the_problem(problems(config_copy), path, "steps[1].cues[1].at")
    assert problem.line == 6
    assert problem.found == at


def test_bad_duration_does_not_make_its_cues_wrong(config_copy: Path) -> None:
    path = write_routine(
        config_copy,
        "extra",
        'title = "Extra"\n[[steps]]\ntitle = "Stretch"\nkind = "timed"\nduration = "ten"\n'
        'cues = [{ at = "end", text = "Done." }, { at = "-10s", text = "Nearly." }]\n',
    )
    found = problems(config_copy)
    assert [p.key for p in found] == ["steps[1].duration"], "\n".join(map(str, found))
    assert found[0].file == str(path)


def test_unknown_placeholder(config_copy: Path) -> None:
    path = write_routine(
        config_copy,
        "extra",
        'title = "Extra"\n'  # 1
        "[[steps]]\n"  # 2
        'title = "Rub"\n'  # 3
        'kind = "wait"\n'  # 4
        "cues = [\n"  # 5
        '  { at = "start", text = "Rub your {foot}." },\n'  # 6
        "]\n",  # 7
    )
    found = problems(config_copy)
    assert len(found) == 1
    problem = the_problem(found, path, "steps[1].cues[1].text")
    assert problem.line == 6
    assert "{side}" in problem.expected
    assert "{foot}" in problem.found


def test_side_placeholder_outside_sides(config_copy: Path) -> None:
    path = write_routine(
        config_copy, "extra", 'title = "E"\n[[steps]]\ntitle = "Rub {side}"\nkind = "wait"\n'
    )
    problem = the_problem(problems(config_copy), path, "steps[1].title")
    assert problem.line == 3
    assert "with sides" in problem.expected


def test_profile_reference_without_profiles(config_copy: Path) -> None:
    path = write_routine(
        config_copy,
        "extra",
        'title = "Extra"\n'  # 1
        "\n"  # 2
        "[[steps]]\n"  # 3
        'repeat = "$sets"\n'  # 4
        "\n"  # 5
        "  [[steps.steps]]\n"  # 6
        '  title = "Lift"\n'  # 7
        '  kind = "reps"\n'  # 8
        "  reps = 10\n",  # 9
    )
    found = problems(config_copy)
    assert len(found) == 1
    problem = the_problem(found, path, "steps[1].repeat")
    assert problem.line == 4
    assert "add [profiles]" in problem.expected
    assert problem.found == '"$sets"'


def test_profile_reference_without_profiles_does_not_cascade(config_copy: Path) -> None:
    write_routine(
        config_copy,
        "extra",
        'title = "Extra"\n[[steps]]\nrepeat = "$sets"\n[[steps.steps]]\ntitle = "Set {set}"\n'
        'kind = "reps"\nreps = "$reps"\ncues = [{ at = "20s", text = "Keep going." }]\n',
    )
    found = problems(config_copy)
    assert sorted(p.key for p in found) == ["steps[1].repeat", "steps[1].steps[1].reps"], "\n".join(
        map(str, found)
    )


def test_unknown_profile_variable_lists_the_ones_there_are(config_copy: Path) -> None:
    routine = config_copy.parent / "routines" / "leg-lifts.toml"
    edit(routine, 'repeat = "$sets"', 'repeat = "$rounds"')
    problem = the_problem(problems(config_copy), routine, "steps[2].repeat")
    assert problem.line == line_no(routine, "$rounds")
    assert '"$sets"' in problem.expected and '"$reps"' in problem.expected


# -- everything at once ----------------------------------------------------------------------
def test_every_problem_is_reported_at_once(config_copy: Path) -> None:
    routines = config_copy.parent / "routines"
    edit(config_copy, "pin = 17", "pin = 99")
    edit(config_copy, "contrast = 40", "contrsat = 40")
    edit(config_copy, "long_hold = 3.0", "long_hold = 0.5")
    edit(config_copy, '"foot-massage", "leg-lifts"]', '"foot-massage", "leg-lift"]')
    edit(routines / "foot-massage.toml", 'duration = "20m"', "duration = -5")
    edit(routines / "legs-up-wall.toml", 'kind = "wait"', 'kind = "pause"')
    edit(routines / "bedtime.toml", 'duration = "30s"', 'duration = "30 seconds"')

    with pytest.raises(ConfigError) as info:
        load_config(config_copy)
    found = info.value.problems
    expected = {
        (config_copy, "button.pin", line_no(config_copy, "pin = 99")),
        (config_copy, "display.contrsat", line_no(config_copy, "contrsat")),
        (config_copy, "button.long_hold", line_no(config_copy, "long_hold = 0.5")),
        (config_copy, "menu.routines[4]", line_no(config_copy, '"leg-lift"]')),
        (
            routines / "foot-massage.toml",
            "steps[2].duration",
            line_no(routines / "foot-massage.toml", "duration = -5"),
        ),
        (
            routines / "legs-up-wall.toml",
            "steps[1].kind",
            line_no(routines / "legs-up-wall.toml", '"pause"'),
        ),
        (
            routines / "bedtime.toml",
            "steps[3].duration",
            line_no(routines / "bedtime.toml", "30 seconds"),
        ),
    }
    got = {(Path(p.file), p.key, p.line) for p in found}
    assert expected <= got, "\n".join(map(str, found))
    # str() lists them all, one a line, each as file:line: key: expected ..., found ...
    lines = str(info.value).splitlines()
    assert len(lines) == len(found)
    for file, key, line in expected:
        assert any(text.startswith(f"{file}:{line}: {key}: expected ") for text in lines)


def test_problems_in_an_included_routine_are_said_once(config_copy: Path) -> None:
    # foot-massage is loaded on its own and again through bedtime's include.
    routine = config_copy.parent / "routines" / "foot-massage.toml"
    edit(routine, 'duration = "90s"', 'duration = "90 s"')
    found = problems(config_copy)
    assert [str(p) for p in found].count(str(found[0])) == 1
    assert len(found) == 1
    assert found[0].line == line_no(routine, '"90 s"')


# -- bugs that end in a traceback instead of a ConfigError -----------------------------------
@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('off_after = "1m"', "off_after = ", "display.off_after"),
        ("volume = 0.8", "volume = ", "voice.volume"),
    ],
)
def test_huge_number_is_a_config_error(config_copy: Path, old: str, new: str, key: str) -> None:
    edit(config_copy, old, new + "9" * 400)
    problem = the_problem(problems(config_copy), config_copy, key)
    assert problem.line == line_no(config_copy, "9" * 400)


def test_unusable_routines_folder_is_a_config_error(config_copy: Path) -> None:
    edit(config_copy, 'folder = "routines"', f'folder = "{"x" * 300}"')
    found = problems(config_copy)
    assert any("x" * 300 in p.file or "x" * 300 in p.found for p in found)


def test_missing_routines_folder(config_copy: Path) -> None:
    edit(config_copy, 'folder = "routines"', 'folder = "nothere"')
    found = problems(config_copy)
    folder = [p for p in found if p.expected == "a folder of routine files"]
    assert len(folder) == 1
    assert folder[0].file.endswith("nothere")


# -- tomlpos ---------------------------------------------------------------------------------
KEY_LINES_DOC = """\
# a comment with [brackets] and key = value
title = "Legs # not a comment [x] = y"   # 2
note = 'single [quoted] = "#"'           # 3
a.b.c = 1                                # 4
"quoted.key" = 2                         # 5

[display]                                # 7
contrast = 40                            # 8
nested.inner = true                      # 9

[ profiles . steady ]                    # 11
sets = 5                                 # 12

[[steps]]                                # 14
title = "One"                            # 15
cues = [                                 # 16
  { at = "start", text = "a = [b] # c" },   # 17
  { at = "30s", text = "d" },            # 18
  { text = "e", at = "end" },            # 19
]

[[steps]]                                # 22
title = "Two"                            # 23

  [[steps.steps]]                        # 25
  title = "Two.one"                      # 26

  [[steps.steps]]                        # 28
  title = "Two.two"                      # 29
  cues = [{ at = 5, text = "f" },        # 30
          { at = 9, text = "g" }]        # 31

  [steps.extra]                          # 33
  more = \"\"\"
[[steps]]
not = "a key"
\"\"\"                                   # 34-37
after = 1                                # 38
"""


def test_key_lines_document_is_valid_toml() -> None:
    data = tomllib.loads(KEY_LINES_DOC)
    assert data["steps"][1]["steps"][1]["cues"][1]["text"] == "g"
    assert len(data["steps"]) == 2


@pytest.mark.parametrize(
    ("path", "line"),
    [
        (("title",), 2),
        (("note",), 3),
        (("a", "b", "c"), 4),
        (("quoted.key",), 5),
        (("display",), 7),
        (("display", "contrast"), 8),
        (("display", "nested", "inner"), 9),
        (("profiles", "steady"), 11),
        (("profiles", "steady", "sets"), 12),
        (("steps",), 14),
        (("steps", 0), 14),
        (("steps", 0, "title"), 15),
        (("steps", 0, "cues"), 16),
        (("steps", 0, "cues", 0, "at"), 17),
        (("steps", 0, "cues", 1), 18),
        (("steps", 0, "cues", 1, "at"), 18),
        (("steps", 0, "cues", 2, "at"), 19),
        (("steps", 1), 22),
        (("steps", 1, "title"), 23),
        (("steps", 1, "steps", 0), 25),
        (("steps", 1, "steps", 0, "title"), 26),
        (("steps", 1, "steps", 1), 28),
        (("steps", 1, "steps", 1, "title"), 29),
        (("steps", 1, "steps", 1, "cues", 0, "at"), 30),
        (("steps", 1, "steps", 1, "cues", 1, "at"), 31),
        (("steps", 1, "extra"), 33),
        (("steps", 1, "extra", "more"), 34),
        (("steps", 1, "extra", "after"), 38),
    ],
)
def test_key_lines(path: tuple[str | int, ...], line: int) -> None:
    assert key_lines(KEY_LINES_DOC)[path] == line


def resolves(data: Any, path: tuple[str | int, ...]) -> bool:
    """Whether ``path`` leads somewhere in the parsed document."""
    for part in path:
        in_table = isinstance(data, dict) and isinstance(part, str) and part in data
        in_array = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if not (in_table or in_array):
            return False
        data = data[part]
    return True


def test_key_lines_are_not_fooled_by_strings() -> None:
    lines = key_lines(KEY_LINES_DOC)
    data = tomllib.loads(KEY_LINES_DOC)
    phantoms = [path for path in lines if not resolves(data, path)]
    assert phantoms == []
    assert len(lines) == 39  # every key, table and array element, and nothing else


def test_line_of_falls_back_to_the_nearest_ancestor() -> None:
    lines = key_lines(KEY_LINES_DOC)
    assert line_of(lines, ("steps", 0, "duration")) == 14  # missing key: its table's line
    assert line_of(lines, ("steps", 1, "steps", 1, "kind")) == 28
    assert line_of(lines, ("nothing",)) is None


def test_key_lines_escaped_quote_in_multi_line_string() -> None:
    text = 'x = """a \\""" b\n[fake]\nc"""\ny = 1\n'
    assert tomllib.loads(text) == {"x": 'a """ b\n[fake]\nc', "y": 1}
    lines = key_lines(text)
    assert lines.get(("y",)) == 4
    assert [path for path in lines if not resolves(tomllib.loads(text), path)] == []


# -- property tests --------------------------------------------------------------------------
def toml_string(text: str) -> str:
    body = json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")
    return body


def toml_value(value: Any) -> str:
    """``value`` written as TOML (inline), by hand, the way a person might."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


# Every declared key of these sections; [menu], [routines] and [profiles] name files instead.
FUZZED = {
    name: [s.key for s in section(name)]
    for name in SECTIONS
    if name not in ("menu", "routines", "profiles")
}

bare_keys = st.from_regex(r"[a-z][a-z_]{0,10}", fullmatch=True)
scalars = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([0, 1, 3, 17, 27, 28, 60, 0x3C, 255, 256, 400, -1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=12),
    st.from_regex(r"-?[0-9]{0,3}(\.[0-9])?(h|m|s|ms| s|%)?", fullmatch=True),
    st.sampled_from(["i2c", "spi", "", "5m", "1m30s", "90s", "0s", "1h", "en", "default"]),
    st.datetimes(),
    st.dates(),
    st.times(),
)
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.dictionaries(bare_keys, scalars, max_size=2),
)


def section_entries(known: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.one_of(st.sampled_from(known), bare_keys), values, max_size=6)


@pytest.fixture(scope="module")
def routines_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("random-config")
    shutil.copytree(SHIPPED_ROUTINES, folder / "routines")
    return folder


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.fixed_dictionaries({name: section_entries(keys) for name, keys in FUZZED.items()}),
    st.permutations(list(FUZZED)),
)
def test_random_settings_only_ever_raise_config_error(
    routines_folder: Path, sections: dict[str, dict[str, Any]], order: list[str]
) -> None:
    lines = ["[menu]", 'routines = ["bedtime", "leg-lifts"]', ""]
    where: dict[str, int] = {}
    for name in order:
        lines.append(f"[{name}]")
        where[name] = len(lines)
        for key, value in sections[name].items():
            lines.append(f"{key} = {toml_value(value)}")
            where[f"{name}.{key}"] = len(lines)
        lines.append("")
    path = routines_folder / "bedside.toml"
    path.write_text("\n".join(lines), encoding="utf-8")

    try:
        config = load_config(path)
    except ConfigError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.file == str(path), str(problem)
            # every problem is about a key we wrote, on its line (or, for a key we left out,
            # such as long_hold when only hold was given, on its table's line)
            section = problem.key.split(".")[0]
            assert section in where, str(problem)
            assert problem.line == where.get(problem.key, where[section]), str(problem)
            assert problem.expected
            assert str(problem).startswith(f"{path}:{problem.line}: {problem.key}: expected ")
        return
    assert 0 <= config.button.pin <= 27
    assert config.button.hold < config.button.long_hold
    assert 0 <= config.display.contrast <= 255
    assert 0 <= config.voice.volume <= 1
    assert config.display.interface in ("i2c", "spi")
    for name, entries in sections.items():
        for key in entries:
            assert key in FUZZED[name], f"{name}.{key} was accepted"


toml_ish = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "[button]",
                "[display]",
                "[voice]",
                "[cues]",
                "[menu]",
                "[profiles]",
                "[[steps]]",
                "[button.pin]",
                "pin = 17",
                "contrast = 300",
                "hold = 2",
                "long_hold = 1",
                'routines = ["bedtime"]',
                'routines = ["nope"]',
                "routines = 5",
                'folder = "routines"',
                'leg-lifts = "strong"',
                'leg-lifts = "weak"',
                "button = 5",
                'display = "big"',
                "menu = []",
                "cues = { halfway = 1 }",
                "=",
                '"',
                "[",
                "]",
                "{",
                "}",
                "#",
                "\\",
            ]
        ),
        st.text(alphabet=" =[]{}\"#.,'\\abc0123\n", max_size=10),
    ),
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(toml_ish)
def test_random_toml_ish_documents_only_ever_raise_config_error(
    routines_folder: Path, parts: list[str]
) -> None:
    path = routines_folder / "bedside.toml"
    path.write_text("\n".join(parts), encoding="utf-8")
    try:
        load_config(path)
    except ConfigError as exc:
        assert exc.problems
        assert all(isinstance(p, Problem) and p.file for p in exc.problems)


# A document of tables, arrays of tables and cue arrays, with every key's line known.
tricky_text = st.text(alphabet="ab #[]=.\"'\\{},\t", max_size=16)


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, dict[tuple[str | int, ...], int]]:
    lines: list[str] = []
    expected: dict[tuple[str | int, ...], int] = {}

    def put(path: tuple[str | int, ...], line: str) -> None:
        lines.append(line)
        expected[path] = len(lines)

    def pairs(table: tuple[str | int, ...], prefix: str) -> None:
        keys = draw(st.lists(bare_keys, max_size=3, unique=True))
        for key in keys:
            value = draw(st.one_of(tricky_text, st.integers(), st.booleans()))
            text = toml_value(value)
            if isinstance(value, str) and "'" not in value and draw(st.booleans()):
                text = f"'{value}'"  # a literal string
            put((*table, f"{prefix}{key}"), f"{prefix}{key} = {text}  # {draw(tricky_text)}")
        if draw(st.booleans()):
            text = draw(tricky_text)
            put((*table, f"{prefix}0long"), f'{prefix}0long = """')
            lines.extend([text.replace("\\", "\\\\").replace('"', '\\"'), "[[steps]]", '"""'])
        if draw(st.booleans()):
            put((*table, "cues"), "cues = [")
            for i in range(draw(st.integers(1, 3))):
                text = toml_string(draw(tricky_text))
                put((*table, "cues", i, "at"), f"  {{ at = {i}, text = {text} }},  # ]")
            lines.append("]")

    pairs((), "k_")
    for t in range(draw(st.integers(0, 2))):
        put((f"t_{t}",), f"[ t_{t} ]")
        pairs((f"t_{t}",), "k_")
    for i in range(draw(st.integers(0, 3))):
        put(("steps", i), "[[steps]]")
        pairs(("steps", i), "s_")
        for j in range(draw(st.integers(0, 2))):
            put(("steps", i, "steps", j), "  [[steps.steps]]")
            pairs(("steps", i, "steps", j), "n_")
    return "\n".join(lines) + "\n", expected


@settings(max_examples=200, deadline=None)
@given(documents())
def test_key_lines_finds_every_key_line(doc: tuple[str, dict[tuple[str | int, ...], int]]) -> None:
    text, expected = doc
    tomllib.loads(text)  # the generator writes valid TOML
    found = key_lines(text)
    for path, line in expected.items():
        assert found.get(path) == line, (path, text)
    data = tomllib.loads(text)
    assert [path for path in found if not resolves(data, path)] == [], text


def drawn(draw: st.DrawFn, s: Setting, at_least: float = -math.inf) -> Any:
    """A value of ``s`` within its declaration (``at_least``: what another key asks of it)."""
    low = max(s.lo or 0, at_least)
    match s.kind:
        case KeyType.INTEGER:
            return draw(st.integers(int(s.lo or 0), int(s.hi or 0)))
        case KeyType.NUMBER:
            return draw(st.floats(min_value=low, max_value=s.hi))
        case KeyType.DURATION:
            whole = st.integers(math.ceil(low), math.floor(s.hi or 0))
            return draw(st.one_of(whole, st.floats(min_value=low, max_value=s.hi)))
        case KeyType.BOOLEAN:
            return draw(st.booleans())
        case KeyType.TEXT:
            return draw(st.text(max_size=10))
    return draw(st.sampled_from(s.options()))


@st.composite
def valid_settings(draw: st.DrawFn) -> dict[str, dict[str, Any]]:
    """Each key of the sections Config keeps as they are written, within its declaration."""
    out: dict[str, dict[str, Any]] = {}
    for name in ("button", "display", "voice", "sounds", "pacer", "hold"):
        entries: dict[str, Any] = {}
        for s in section(name):
            if s.kind is KeyType.FILE or not draw(st.booleans()):
                continue  # left out, some of the time
            entries[s.key] = drawn(draw, s)
        out[name] = entries
    # what one key says of another: long_hold > hold, stuck > long_hold, longest >= start
    button, hold = out["button"], out["hold"]
    button["hold"] = drawn(draw, SETTINGS["button.hold"])
    button["long_hold"] = drawn(draw, SETTINGS["button.long_hold"], button["hold"] + 0.01)
    button["stuck"] = drawn(draw, SETTINGS["button.stuck"], button["long_hold"] + 0.01)
    if "longest" in hold:
        start = hold.setdefault("start", SETTINGS["hold.start"].default)
        hold["longest"] = drawn(draw, SETTINGS["hold.longest"], start)
    out["voice"].pop("engine", None)  # "piper" needs a voice file
    return out


@settings(max_examples=100, deadline=None)
@given(valid_settings(), st.booleans())
def test_random_valid_settings_load_as_written(
    routines_folder: Path, sections: dict[str, dict[str, Any]], as_text: bool
) -> None:
    lines = []
    for name, entries in sections.items():
        lines.append(f"[{name}]")
        for key, value in entries.items():
            written = toml_value(value)
            if (
                SETTINGS[f"{name}.{key}"].kind is KeyType.DURATION
                and as_text
                and type(value) is int
            ):
                written = f'"{value // 60}m{value % 60}s"'  # "1m30s" and the like
            lines.append(f"{key} = {written}")
    path = routines_folder / "bedside.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = load_config(path)
    for name, entries in sections.items():
        loaded = getattr(config, name)
        for key, value in entries.items():
            assert getattr(loaded, key) == value, f"{name}.{key}"
