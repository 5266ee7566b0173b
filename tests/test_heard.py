"""When each cue is heard (issue 21): speech never overlaps speech, so a cue due while the one
before still speaks is heard late; ``plan`` shows when, ``check-config`` warns past a second,
naming the cue, and the shipped routines have none."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bedside.core.hearing import heard, late_cues, spoken_seconds
from bedside.core.routines import Cue, Routine, Step, StepKind

ROOT = Path(__file__).resolve().parent.parent


def routine() -> Routine:
    wait = Step("Lie down", StepKind.WAIT, None, (Cue(0, "long"), Cue(2, "short")))
    timed = Step("Rest", StepKind.TIMED, 10.0, (Cue(0, "first"), Cue(9, "last")))
    return Routine("r", "R", (wait, timed))


LENGTHS = {"long": 5.0, "short": 1.0, "first": 2.0, "last": 3.0}


def test_a_cue_due_while_another_speaks_is_heard_when_it_ends() -> None:
    found = heard(routine(), LENGTHS.__getitem__)
    assert [(h.cue.text, h.at, h.late) for h in found] == [
        ("long", 0.0, 0.0),
        ("short", 5.0, 3.0),  # due at 2, "long" speaks until 5
        ("first", 0.0, 0.0),  # the wait ends with its last cue: the press comes after
        ("last", 9.0, 0.0),
    ]
    assert found[1].before == "long"
    assert [h.cue.text for h in late_cues(routine(), LENGTHS.__getitem__)] == ["short"]


def test_an_estimate_grows_with_the_words_and_the_pace() -> None:
    slow = spoken_seconds("Rest, and breathe easily.", 140)
    assert 1.5 < slow < 3.0 and spoken_seconds("Rest, and breathe easily.", 280) < slow


def check_config(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bedside", "check-config", "--config", str(config)],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=False,
    )  # fmt: skip


def test_the_shipped_routines_have_no_cue_heard_late(shipped_config: Path) -> None:
    run = check_config(shipped_config)
    assert run.returncode == 0, run.stderr
    assert "late" not in run.stdout, run.stdout


def test_check_config_warns_naming_a_cue_heard_late(config_copy: Path) -> None:
    routines = config_copy.parent / "routines"
    (routines / "quick.toml").write_text(
        'title = "Quick"\n\n[[steps]]\ntitle = "Lift"\nkind = "timed"\nduration = "30s"\n'
        "cues = [\n"
        '  { at = "start", text = "Lie on your back, and lift both legs slowly, very slowly." },\n'
        '  { at = "2s", text = "Lower them." },\n'
        "]\n"
    )
    run = check_config(config_copy)
    assert run.returncode == 0, run.stderr
    (line,) = [x for x in run.stdout.splitlines() if "late" in x]
    assert "quick.toml:9" in line and "step 1 'Lift'" in line, line
    assert "'Lower them.' is heard" in line and "'Lie on your back" in line, line
    plan = subprocess.run(
        [sys.executable, "-m", "bedside", "plan", "quick", "--config", str(config_copy)],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=False,
    )  # fmt: skip
    assert plan.returncode == 0, plan.stderr
    (lower,) = [x for x in plan.stdout.splitlines() if "Lower them." in x]
    assert "(heard +00:0" in lower and "s late)" in lower
    assert "estimated from their words" in plan.stdout
