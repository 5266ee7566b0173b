"""The ``bedside`` command: its output, its contracts, and how it turns mistakes into exit 2.

Most tests call ``bedside.commands.cli.main`` in-process and read what it printed; a few run
``python -m bedside`` and the installed ``bedside`` console script as subprocesses.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from bedside.commands.cli import main
from bedside.config.load import load_config
from bedside.core.routines import StepKind

SHIPPED_CONFIG = Path(__file__).resolve().parent.parent / "config" / "bedside.toml"
NAMES = ("bedtime", "legs-up-wall", "foot-massage", "leg-lifts")
CONSOLE_SCRIPT = Path(sys.executable).parent / "bedside"


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """``bedside ARGS`` in-process: exit status, stdout, stderr (never a traceback)."""
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "Traceback" not in out
    return code, out, err


def run_process(*args: str | Path, stdin: str = "", cwd: Path | None = None):
    result = subprocess.run(
        [str(a) for a in args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    return result


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} should occur once in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def seconds(clock: str) -> int:
    minutes, secs = clock.split(":")
    return int(minutes) * 60 + int(secs)


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


# -- routines --------------------------------------------------------------------------------
def test_routines_lists_all_four_in_menu_order(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "routines", "--config", SHIPPED_CONFIG)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == list(NAMES)
    config = load_config(SHIPPED_CONFIG)
    for line, name in zip(lines, NAMES, strict=True):
        assert config.routines[name].summary in line
        assert re.search(r"\b\d+ min\b", line)
    assert "5 sets of 20" in lines[3]


def test_routines_follows_the_menu_and_shows_what_is_left_out(
    capsys: pytest.CaptureFixture[str], config_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    edit(
        config_copy,
        'routines = ["bedtime", "legs-up-wall", "foot-massage", "leg-lifts"]',
        'routines = ["leg-lifts", "bedtime"]',
    )
    monkeypatch.setenv("BEDSIDE_CONFIG", str(config_copy))  # no --config: the environment's
    code, out, _ = run(capsys, "routines")
    assert code == 0
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == [
        "leg-lifts",
        "bedtime",
        "foot-massage",
        "legs-up-wall",
    ]
    assert ["not in the menu" in line for line in lines] == [False, False, True, True]


# -- plan ------------------------------------------------------------------------------------
STEP_LINE = re.compile(
    r"^\s*(?P<n>\d+)\s+(?P<after>\+?)(?P<start>\d\d:\d\d)\s+(?P<length>-|\d\d:\d\d)"
    r"\s+(?P<kind>timed|wait|reps)\s+(?P<title>.+)$"
)
# A cue, and when it is heard where the one before still speaks then (issue 21).
CUE_LINE = re.compile(
    r"^\s+\+(?P<at>\d\d:\d\d)\s+\u201c(?P<text>.*)\u201d"
    r"(  \(heard \+\d\d:\d\d, \d+\.\d s late\))?$"
)


def planned(name: str):
    """The routine as tonight's plan has it with no history: the hold at its first length."""
    from bedside.core.growth import retimed, tonight

    config = load_config(SHIPPED_CONFIG)
    return retimed(config.routines[name], tonight(config.hold, [], None), config.cues)


@pytest.mark.parametrize("name", NAMES)
def test_plan_prints_a_readable_table(capsys: pytest.CaptureFixture[str], name: str) -> None:
    code, out, err = run(capsys, "plan", name, "--config", SHIPPED_CONFIG)
    assert code == 0 and err == ""
    routine = planned(name)
    lines = out.splitlines()
    # Last, where the lengths that say when each cue is heard came from (issue 21).
    assert lines[-1].startswith("heard: ") and "estimated from their words" in lines[-1]
    lines = lines[:-2]
    grows = any(step.grows for step in routine.steps)
    assert lines[-1].startswith("The hold grows with you: tonight 5 min") == grows
    lines = lines[:-2] if grows else lines
    assert lines[0].startswith(f"{routine.title} ({name})")
    assert lines[1].startswith(f"{len(routine.steps)} steps, ")
    assert seconds(lines[1].split(", ")[1].split()[0]) == routine.total_seconds
    assert lines[3].split() == ["#", "start", "length", "kind", "step"]
    steps = [STEP_LINE.match(line) for line in lines[4:] if STEP_LINE.match(line)]
    cues = [CUE_LINE.match(line) for line in lines[4:] if CUE_LINE.match(line)]
    footnote = ["", "+ : after the presses that steps waiting for one take"]
    waits = any(step.kind is StepKind.WAIT for step in routine.steps)
    assert lines[-2:] == footnote if waits else lines[-1] != footnote[1]
    # nothing else in the table
    assert len(steps) + len(cues) == len(lines) - 4 - (2 if waits else 0)
    assert len(steps) == len(routine.steps)
    start = 0.0
    waited = False
    for match, step in zip(steps, routine.steps, strict=True):
        assert match["title"].startswith(step.title)
        assert match["kind"] == step.kind.value
        assert seconds(match["start"]) == start
        assert match["after"] == ("+" if waited else "")  # after a press: no clock time
        waited = waited or step.kind is StepKind.WAIT
        if step.kind is StepKind.WAIT:
            assert match["length"] == "-" and "waits for a press" in match["title"]
        else:
            assert seconds(match["length"]) == step.duration
        if step.side:
            assert f"({step.side})" in match["title"]
        if step.reps:
            assert f"{step.reps} x " in match["title"]
        start += step.duration or 0
    said = [cue for step in routine.steps for cue in step.cues]
    assert [m["text"] for m in cues] == [cue.text for cue in said]
    assert [seconds(m["at"]) for m in cues] == [int(-(-cue.at // 1)) for cue in said]


def test_plan_shows_the_profile(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "plan", "leg-lifts", "--config", SHIPPED_CONFIG)
    assert out.splitlines()[0] == "Leg lifts (leg-lifts), profile steady: 5 sets of 20"


def check_contract(plan: dict, name: str) -> None:
    """The JSON of `bedside plan NAME --json`, exactly as DESIGN.md's contract says."""
    assert list(plan) == ["routine", "title", "total_seconds", "steps"]
    assert plan["routine"] == name
    assert isinstance(plan["title"], str) and plan["title"]
    assert isinstance(plan["steps"], list) and plan["steps"]
    durations = []
    for index, step in enumerate(plan["steps"]):
        assert list(step) == ["index", "title", "kind", "duration", "side", "reps", "cues"]
        assert step["index"] == index
        assert isinstance(step["title"], str) and step["title"]
        assert step["kind"] in ("timed", "wait", "reps")
        assert step["side"] in (None, "left", "right")
        if step["kind"] == "wait":
            assert step["duration"] is None
        else:
            assert isinstance(step["duration"], int | float) and step["duration"] > 0
            assert not isinstance(step["duration"], bool)
            durations.append(step["duration"])
        if step["kind"] == "reps":
            assert isinstance(step["reps"], int) and step["reps"] > 0
        else:
            assert step["reps"] is None
        assert isinstance(step["cues"], list)
        for cue in step["cues"]:
            assert list(cue) == ["at", "text"]
            assert isinstance(cue["at"], int | float) and not isinstance(cue["at"], bool)
            assert cue["at"] >= 0
            if step["duration"] is not None:
                assert cue["at"] <= step["duration"]
            assert isinstance(cue["text"], str) and cue["text"]
    assert isinstance(plan["total_seconds"], int | float)
    assert plan["total_seconds"] == sum(durations)


@pytest.mark.parametrize("name", NAMES)
def test_plan_json_follows_the_contract(capsys: pytest.CaptureFixture[str], name: str) -> None:
    code, out, err = run(capsys, "plan", name, "--json", "--config", SHIPPED_CONFIG)
    assert code == 0 and err == ""
    plan = json.loads(out)  # stdout is the JSON and nothing else
    check_contract(plan, name)
    routine = planned(name)
    assert plan["title"] == routine.title
    assert len(plan["steps"]) == len(routine.steps)
    for step, loaded in zip(plan["steps"], routine.steps, strict=True):
        assert step["title"] == loaded.title
        assert step["side"] == loaded.side
        assert step["cues"] == [{"at": cue.at, "text": cue.text} for cue in loaded.cues]
        if step["kind"] == "reps":
            assert step["duration"] == step["reps"] * loaded.seconds_per_rep


def test_plan_json_examples(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "plan", "legs-up-wall", "--json", "--config", SHIPPED_CONFIG)
    plan = json.loads(out)
    assert [s["kind"] for s in plan["steps"]] == ["wait", "timed", "timed"]
    assert plan["total_seconds"] == 360  # the first night's hold: 5 minutes
    assert isinstance(plan["total_seconds"], int)  # whole seconds print without ".0"
    assert '"total_seconds": 360,' in out
    _, out, _ = run(capsys, "plan", "leg-lifts", "--json", "--config", SHIPPED_CONFIG)
    sets = [s for s in json.loads(out)["steps"] if s["kind"] == "reps"]
    assert [(s["reps"], s["duration"]) for s in sets] == [(20, 120)] * 5  # 20 x 6 s
    _, out, _ = run(capsys, "plan", "foot-massage", "--json", "--config", SHIPPED_CONFIG)
    sides = [s["side"] for s in json.loads(out)["steps"]]
    assert sides == [None, None, None] + ["left"] * 5 + ["right"] * 5


def test_plan_json_with_the_strong_profile(
    capsys: pytest.CaptureFixture[str], config_copy: Path
) -> None:
    edit(config_copy, 'leg-lifts = "steady"', 'leg-lifts = "strong"')
    code, out, _ = run(capsys, "plan", "leg-lifts", "--json", "--config", config_copy)
    assert code == 0
    plan = json.loads(out)
    check_contract(plan, "leg-lifts")
    assert [(s["reps"], s["duration"]) for s in plan["steps"] if s["kind"] == "reps"] == [
        (30, 180)
    ] * 3


def test_plan_of_an_unknown_routine(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "plan", "nope", "--config", SHIPPED_CONFIG)
    assert code == 2
    assert out == ""
    assert "nope" in err
    for name in NAMES:
        assert name in err
    assert len(err.splitlines()) == 1


def test_plan_json_of_an_unknown_routine_prints_no_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "plan", "bed-time", "--json", "--config", SHIPPED_CONFIG)
    assert code == 2 and out == ""
    assert "bedtime" in err


# -- check-config ----------------------------------------------------------------------------
def test_check_config_on_the_shipped_config(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check-config", "--config", SHIPPED_CONFIG)
    assert code == 0 and err == ""
    assert "ok" in out
    assert str(SHIPPED_CONFIG) in out
    assert all(name in out for name in NAMES)


def test_check_config_lists_every_problem(
    capsys: pytest.CaptureFixture[str], config_copy: Path
) -> None:
    routines = config_copy.parent / "routines"
    edit(config_copy, "pin = 17", "pin = 99")
    edit(config_copy, "contrast = 40", "contrsat = 40")
    edit(routines / "legs-up-wall.toml", 'duration = "60s"', 'duration = "a minute"')
    code, out, err = run(capsys, "check-config", "--config", config_copy)
    assert code == 2 and out == ""
    text = config_copy.read_text(encoding="utf-8").splitlines()
    pin = text.index(next(line for line in text if line.startswith("pin = 99"))) + 1
    contrast = text.index(next(line for line in text if line.startswith("contrsat"))) + 1
    wall = (routines / "legs-up-wall.toml").read_text(encoding="utf-8").splitlines()
    down = wall.index(next(line for line in wall if "a minute" in line)) + 1
    lines = err.splitlines()
    assert lines[0] == "bedside: 3 problem(s) in the configuration:"
    assert len(lines) == 4
    assert any(line.strip().startswith(f"{config_copy}:{pin}: button.pin:") for line in lines)
    assert any(
        line.strip().startswith(f"{config_copy}:{contrast}: display.contrsat:") for line in lines
    )
    assert any(
        line.strip().startswith(f"{routines / 'legs-up-wall.toml'}:{down}: steps[3].duration:")
        for line in lines
    )


def test_missing_config_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "bedside.toml"
    for command in (["check-config"], ["routines"], ["plan", "bedtime"]):
        code, out, err = run(capsys, *command, "--config", missing)
        assert code == 2 and out == ""
        assert str(missing) in err
        assert "found none" in err


# -- usage errors ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["dance"], "invalid choice"),
        ([], "required"),
        (["plan"], "NAME"),
        (["simulate"], "--script"),
        (["screens"], "DIR"),
        (["plan", "bedtime", "--jsn"], "unrecognized arguments"),
    ],
)
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], args: list[str], says: str):
    code, out, err = run(capsys, *args)
    assert code == 2
    assert out == ""
    assert "usage: bedside" in err
    assert says in err


# -- simulate --------------------------------------------------------------------------------
def test_simulate_runs_a_script(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    script = tmp_path / "script.txt"
    script.write_text("press  # start\nwait 10\npress\n", encoding="utf-8")
    code, out, err = run(
        capsys, "simulate", "--script", script, "--routine", "legs-up-wall", "--config",
        SHIPPED_CONFIG,
    )  # fmt: skip
    assert code == 0 and err == ""
    events = [json.loads(line) for line in out.splitlines()]
    assert all({"t", "type"} <= set(e) for e in events)
    states = [(e["state"], e["routine"]) for e in events if e["type"] == "state"]
    assert states[0] == ("menu", "legs-up-wall")
    assert ("awaiting", "legs-up-wall") in states


def test_simulate_malformed_script_line(capsys: pytest.CaptureFixture[str], tmp_path: Path):
    script = tmp_path / "script.txt"
    script.write_text("press\nwait 5\njump\n# fine\nhold\nwait -3\n", encoding="utf-8")
    code, out, err = run(capsys, "simulate", "--script", script, "--config", SHIPPED_CONFIG)
    assert code == 2
    assert out == ""
    assert "script.txt:3:" in err and "jump" in err
    assert "script.txt:5:" in err and "script.txt:6:" in err  # every bad line, not the first
    assert "script.txt:1:" not in err and "script.txt:4:" not in err


def test_simulate_script_from_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("press\nwait ten\n"))
    code, out, err = run(capsys, "simulate", "--script", "-", "--config", SHIPPED_CONFIG)
    assert code == 2 and out == ""
    assert "<stdin>:2:" in err


def test_simulate_missing_script(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "missing.txt"
    code, out, err = run(capsys, "simulate", "--script", missing, "--config", SHIPPED_CONFIG)
    assert code == 2 and out == ""
    assert str(missing) in err


def test_simulate_unknown_routine(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    script = tmp_path / "script.txt"
    script.write_text("press\n", encoding="utf-8")
    code, out, err = run(
        capsys, "simulate", "--script", script, "--routine", "nap", "--config", SHIPPED_CONFIG
    )
    assert code == 2 and out == ""
    assert "nap" in err and all(name in err for name in NAMES)


FRAMES_SCRIPT = "press\nwait 30\npress\nwait 5\npress\nwait 5\nhold 1.5\n"


@pytest.mark.parametrize("exists", [False, True])
def test_simulate_writes_frames(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, exists: bool
) -> None:
    script = tmp_path / "script.txt"
    script.write_text(FRAMES_SCRIPT, encoding="utf-8")
    frames = tmp_path / "frames"
    if exists:
        frames.mkdir()
    code, out, err = run(
        capsys, "simulate", "--script", script, "--frames", frames, "--config", SHIPPED_CONFIG
    )
    assert code == 0 and err == ""
    screens = [e for e in map(json.loads, out.splitlines()) if e["type"] == "screen"]
    files = sorted(frames.iterdir())
    assert len(files) >= 4
    assert all(f.suffix == ".png" for f in files)
    assert len(files) <= len(screens)
    pictures = []
    for file in files:
        with Image.open(file) as image:
            assert image.format == "PNG"
            assert image.size == (128, 64)
            pictures.append(image.convert("1").tobytes())
    # each frame differs from the one before it
    assert all(a != b for a, b in itertools.pairwise(pictures))


def test_simulate_refuses_a_folder_that_is_not_empty(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    script = tmp_path / "script.txt"
    script.write_text(FRAMES_SCRIPT, encoding="utf-8")
    frames = tmp_path / "frames"
    frames.mkdir()
    (frames / "holiday.png").write_bytes(b"not really a png, but mine")
    (frames / "frame-00001-t000000.00.png").write_bytes(b"also mine")
    before = snapshot(frames)
    code, out, err = run(
        capsys, "simulate", "--script", script, "--frames", frames, "--config", SHIPPED_CONFIG
    )
    assert code == 2
    assert out == ""
    assert str(frames) in err and "not empty" in err
    assert snapshot(frames) == before


def test_simulate_refuses_frames_into_a_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    script = tmp_path / "script.txt"
    script.write_text("press\n", encoding="utf-8")
    target = tmp_path / "frames.png"
    target.write_bytes(b"keep me")
    code, out, err = run(
        capsys, "simulate", "--script", script, "--frames", target, "--config", SHIPPED_CONFIG
    )
    assert code == 2 and out == ""
    assert str(target) in err
    assert target.read_bytes() == b"keep me"


# -- screens ---------------------------------------------------------------------------------
def test_screens_writes_distinct_panel_sized_pictures(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "screens"
    code, out, err = run(capsys, "screens", folder, "--config", SHIPPED_CONFIG)
    assert code == 0 and err == ""
    files = sorted(folder.glob("*.png"))
    assert f"wrote {len(files)} images" in out
    panel = set()
    for file in files:
        with Image.open(file) as image:
            if image.size == (128, 64):
                panel.add(image.convert("1").tobytes())
    assert len(panel) >= 8


def test_screens_leaves_a_file_of_the_persons_alone(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    code, _, err = run(capsys, "screens", tmp_path, "--config", SHIPPED_CONFIG)
    assert code == 0 and err == ""
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert (tmp_path / "01-menu.png").is_file()


def test_screens_refuses_to_write_over_a_picture_it_did_not_make(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "01-menu.png").write_bytes(b"my own picture")
    before = snapshot(tmp_path)
    code, out, err = run(capsys, "screens", tmp_path, "--config", SHIPPED_CONFIG)
    assert code == 2 and out == ""
    assert "01-menu.png is not a picture bedside wrote" in err
    assert snapshot(tmp_path) == before


# -- as real processes -----------------------------------------------------------------------
def test_python_dash_m_bedside(tmp_path: Path) -> None:
    result = run_process(
        sys.executable, "-m", "bedside", "routines", "--config", SHIPPED_CONFIG, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert [line.split()[0] for line in result.stdout.splitlines()] == list(NAMES)


def test_console_script_exists_and_runs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert CONSOLE_SCRIPT.is_file() and os.access(CONSOLE_SCRIPT, os.X_OK)
    result = run_process(
        CONSOLE_SCRIPT, "plan", "legs-up-wall", "--json", "--config", SHIPPED_CONFIG, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    _, out, _ = run(capsys, "plan", "legs-up-wall", "--json", "--config", SHIPPED_CONFIG)
    assert json.loads(result.stdout) == json.loads(out)
    check_contract(json.loads(result.stdout), "legs-up-wall")


def test_processes_exit_2_without_a_traceback(tmp_path: Path, config_copy: Path) -> None:
    result = run_process(
        sys.executable, "-m", "bedside", "plan", "nope", "--config", SHIPPED_CONFIG
    )
    assert result.returncode == 2 and result.stdout == ""
    assert "bedtime" in result.stderr

    edit(config_copy, "pin = 17", 'pin = "seventeen"')
    result = run_process(CONSOLE_SCRIPT, "check-config", "--config", config_copy)
    assert result.returncode == 2 and result.stdout == ""
    assert f"{config_copy}:" in result.stderr and "seventeen" in result.stderr

    result = run_process(
        sys.executable, "-m", "bedside", "simulate", "--script", "-", "--config",
        SHIPPED_CONFIG, stdin="press\nwait 5\nsnooze 10\n",
    )  # fmt: skip
    assert result.returncode == 2 and result.stdout == ""
    assert "<stdin>:3:" in result.stderr

    result = run_process(sys.executable, "-m", "bedside", "nap")
    assert result.returncode == 2 and "usage: bedside" in result.stderr


def test_simulate_as_a_process_reads_a_script_from_stdin() -> None:
    result = run_process(
        sys.executable, "-m", "bedside", "simulate", "--script", "-", "--config",
        SHIPPED_CONFIG, stdin="press\nwait 2\n",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events[0]["t"] == 0
    assert any(e["type"] == "say" for e in events)
    assert any(e["type"] == "step" and e["index"] == 0 for e in events)


def test_simulate_frames_follow_a_32_row_panel(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, config_copy: Path
) -> None:
    edit(config_copy, "[display]\n", "[display]\nheight = 32\n")
    script = tmp_path / "script.txt"
    script.write_text(FRAMES_SCRIPT, encoding="utf-8")
    frames = tmp_path / "frames"
    code, _, err = run(
        capsys, "simulate", "--script", script, "--frames", frames, "--config", config_copy
    )
    assert code == 0, err
    for file in sorted(frames.iterdir()):
        with Image.open(file) as image:
            assert image.size == (128, 32)
