"""[sound] and [soundscape] as read: the defaults, a loop of the person's own found beside
bedside.toml, a name that is neither a kind nor a file said plainly (exit 2), and the
``soundscape = true`` mark on routine steps, which the shipped soak and hold carry."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bedside.config.load import load_config
from bedside.sound.kinds import KINDS

ROOT = Path(__file__).resolve().parent.parent


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def check_config(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bedside", "check-config", "--config", str(config)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_the_defaults(shipped_config: Path) -> None:
    config = load_config(shipped_config)
    assert config.sound.preroll == 0.5
    assert (config.soundscape.sound, config.soundscape.level) == ("off", 18.0)
    assert (config.soundscape.duck, config.soundscape.after) == (12.0, 120.0)
    assert not config.soundscape.enabled


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind(config_copy: Path, kind: str) -> None:
    edit(config_copy, 'sound = "off"', f'sound = "{kind}"')
    assert load_config(config_copy).soundscape.sound == kind


def test_a_loop_of_ones_own_beside_the_settings(config_copy: Path) -> None:
    (config_copy.parent / "sea.flac").write_bytes(b"fLaC" + bytes(100))
    edit(config_copy, 'sound = "off"', 'sound = "sea.flac"')
    config = load_config(config_copy)
    assert config.soundscape.sound == str(config_copy.parent / "sea.flac")
    assert config.soundscape.enabled


@pytest.mark.parametrize("name", ["sea.wav", "notes.txt", "waves"])
def test_neither_a_kind_nor_a_loop_is_said_plainly(config_copy: Path, name: str) -> None:
    (config_copy.parent / "notes.txt").write_text("not a sound")
    (config_copy.parent / "waves").mkdir()
    edit(config_copy, 'sound = "off"', f'sound = "{name}"')
    run = check_config(config_copy)
    assert run.returncode == 2, run.stdout + run.stderr
    line = next(
        n for n, text in enumerate(config_copy.read_text().splitlines(), 1) if "sound = " in text
    )
    said = run.stdout + run.stderr
    assert f"bedside.toml:{line}" in said and "soundscape.sound" in said, said
    assert '"brown", "pink", "rain", or a WAV or FLAC file' in said and name in said, said
    assert "Traceback" not in said


def test_the_shipped_soak_and_hold_carry_the_mark(shipped_config: Path) -> None:
    config = load_config(shipped_config)
    marked = {
        (name, step.title) for name, r in config.routines.items() for step in r.steps
        if step.soundscape
    }  # fmt: skip
    assert {("foot-massage", "Soak your feet"), ("legs-up-wall", "Legs up the wall")} <= marked
    assert ("bedtime", "Soak your feet") in marked and ("bedtime", "Legs up the wall") in marked
    unmarked = [s for r in config.routines.values() for s in r.steps if not s.soundscape]
    assert unmarked, "only the long quiet steps are marked"


def test_the_mark_is_checked_like_any_step_key(config_copy: Path) -> None:
    path = config_copy.parent / "routines" / "extra.toml"
    path.write_text(
        'title = "Extra"\n\n[[steps]]\ntitle = "Rest"\nkind = "wait"\nsoundscape = "yes"\n'
    )
    run = check_config(config_copy)
    said = run.stdout + run.stderr
    assert run.returncode == 2 and "extra.toml:6" in said and "true or false" in said, said
