"""The nights on the virtual clock: the reminder across days and midnight and with a clock not
yet synced, the streak across midnight, and `bedside history` on a database a real run wrote."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from bedside.commands.simulate import simulate
from bedside.config import core_terms
from bedside.config.core_terms import defaults
from bedside.config.load import load_config
from bedside.core.behaviour import Behaviour
from bedside.core.effects import Display, Say
from bedside.core.gestures import Thresholds
from bedside.core.nights import Reminder, night_of, streak
from bedside.core.script import parse_script
from bedside.core.settings import Settings
from bedside.core.state import Mode

ROOT = Path(__file__).resolve().parent.parent
CONFIG = load_config()
# The routine files' own lengths: the hold that grows (tests/test_hold.py) kept out of the way.
SETTINGS = core_terms.settings(replace(CONFIG, hold=replace(CONFIG.hold, grow=False)))
REMINDER = defaults(
    Reminder, at=time(22, 0), days=("mon", "tue", "wed", "thu", "fri", "sat", "sun")
)
TEXT = REMINDER.text
BOUNCE = defaults(Thresholds).bounce  # a release is taken once it has lasted this long


def core_at(start: datetime | None, reminder: Reminder = REMINDER, done=()) -> Behaviour:
    wall = None if start is None else (lambda t: start + timedelta(seconds=t))
    done = {"bedtime": set(done)}
    return Behaviour(
        SETTINGS, defaults(Thresholds), now=0.0, wall=wall, reminder=reminder, done=done
    )


def press(behaviour: Behaviour, at: float, seconds: float = 0.1) -> None:
    """A press from ``at``, taken once let go for the bounce time."""
    behaviour.edge(True, at)
    behaviour.edge(False, at + seconds)
    behaviour.advance(at + seconds + BOUNCE)


def run_through(behaviour: Behaviour, t: float) -> float:
    """The session begun, through every step to its end, pressing on the waits; the end's time."""
    while behaviour.state.mode is not Mode.FINISHED:
        if behaviour.state.mode is Mode.AWAITING:
            t += 1
            press(behaviour, t)
        else:
            t = behaviour.deadline()
            behaviour.advance(t)
    return t


def said(behaviour: Behaviour) -> list[tuple[float, str]]:
    return [(t, o.text) for t, o in behaviour.take() if isinstance(o, Say)]


def test_a_night_runs_from_noon_to_noon():
    assert night_of(datetime(2026, 11, 20, 21, 30)) == date(2026, 11, 20)
    assert night_of(datetime(2026, 11, 21, 1, 30)) == date(2026, 11, 20)
    assert night_of(datetime(2026, 11, 21, 12, 0)) == date(2026, 11, 21)


def test_the_streak_counts_a_session_after_midnight_for_the_evening_before():
    done = {night_of(datetime(2026, 11, 18, 22, 0)), night_of(datetime(2026, 11, 20, 0, 40))}
    done.add(night_of(datetime(2026, 11, 20, 23, 50)))
    # 18th, 19th (after midnight, on the 20th) and 20th: three nights in a row.
    assert streak(done, datetime(2026, 11, 21, 0, 30)) == 3
    assert streak(done, datetime(2026, 11, 21, 20, 0)) == 3  # tonight is still to come
    assert streak(done, datetime(2026, 11, 22, 13, 0)) == 0  # last night was missed


def test_the_reminder_wakes_the_dark_display_gently_once_and_a_press_starts_bedtime():
    behaviour = core_at(datetime(2026, 11, 20, 21, 50))
    behaviour.advance(59 * 60)  # to 22:49
    reminders = [(t, text) for t, text in said(behaviour) if text == TEXT]
    assert reminders == [(600.0, TEXT)]  # at 22:00, and no repeat
    behaviour = core_at(datetime(2026, 11, 20, 21, 50))
    behaviour.advance(600.0)
    lit = [o for _, o in behaviour.take() if isinstance(o, Display) and o.on]
    assert lit[-1] == Display(True, 8)  # low contrast
    behaviour.edge(True, 601.0)
    behaviour.edge(False, 601.1)
    behaviour.advance(601.1 + BOUNCE)
    assert behaviour.state.mode is Mode.AWAITING and behaviour.state.routine.name == "bedtime"


def test_the_reminder_comes_again_the_next_night_but_only_on_its_days():
    start = datetime(2026, 11, 20, 12, 0)  # a Friday
    behaviour = core_at(start, defaults(Reminder, days=("fri", "sun")))
    behaviour.advance(3 * 86400)
    times = [start + timedelta(seconds=t) for t, text in said(behaviour) if text == TEXT]
    assert times == [datetime(2026, 11, 20, 22, 0), datetime(2026, 11, 22, 22, 0)]


def test_a_reminder_after_midnight_belongs_to_the_evening_before():
    start = datetime(2026, 11, 20, 23, 0)
    behaviour = core_at(
        start, defaults(Reminder, at=time(0, 30), days=("fri",))
    )  # the night of Friday 20th
    behaviour.advance(26 * 3600)
    times = [start + timedelta(seconds=t) for t, text in said(behaviour) if text == TEXT]
    assert times == [datetime(2026, 11, 21, 0, 30)]


def test_no_reminder_during_a_session_or_when_tonight_is_done():
    behaviour = core_at(datetime(2026, 11, 20, 21, 58))
    behaviour.edge(True, 0.0)
    behaviour.edge(False, 0.1)  # a session runs through 22:00
    behaviour.advance(0.1 + BOUNCE)
    behaviour.advance(1800.0)
    assert TEXT not in [text for _, text in said(behaviour)]
    done_tonight = core_at(datetime(2026, 11, 20, 21, 58), done={date(2026, 11, 20)})
    done_tonight.advance(3600.0)
    assert TEXT not in [text for _, text in said(done_tonight)]


def test_a_clock_not_yet_synced_never_fires_a_reminder():
    behaviour = core_at(None)
    behaviour.advance(7 * 86400)
    assert TEXT not in [text for _, text in said(behaviour)]
    assert behaviour.deadline() is None  # and nothing is scheduled for it while dark


def test_the_menu_shows_the_streak_and_finishing_bedtime_adds_tonight():
    start = datetime(2026, 11, 20, 21, 0)
    behaviour = core_at(start, done={date(2026, 11, 18), date(2026, 11, 19)})
    shown = behaviour.screen
    assert shown.nights == "2 nights" and shown.week == (False,) * 4 + (True, True, False)
    press(behaviour, 0.0)
    t = run_through(behaviour, 0.0)
    assert behaviour.state.completed and behaviour.streak.nights == 3
    press(behaviour, t + 5)  # back to the menu
    assert behaviour.screen.nights == "3 nights"


def test_simulate_at_sets_the_virtual_wall_clock():
    out = io.StringIO()
    simulate(
        SETTINGS,
        defaults(Thresholds),
        parse_script("wait 700\n"),
        out,
        at=datetime(2026, 11, 20, 21, 55),
        reminder=REMINDER,
    )
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {"t": 300.0, "type": "say", "text": TEXT} in events


def test_history_reads_the_database_a_real_run_wrote(tmp_path):
    script = tmp_path / "script.txt"
    # the clock known (as the network sets it): the session is placed in its night
    script.write_text(
        f"clock {datetime.now():%Y-%m-%dT%H:%M}\n"
        "press\nwait 0.3\npress\nwait 0.3\nhold 1.2\nwait 0.3\nhold 1.2\nwait 0.5\n"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    run = [sys.executable, "-m", "bedside", "run", "--mock-hardware", "--routine", "legs-up-wall"]
    state = ["--state-dir", str(tmp_path / "state")]
    result = subprocess.run(
        [*run, *state, "--script", str(script)], env=env, capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    history = [sys.executable, "-m", "bedside", "history", *state]
    rows = json.loads(subprocess.run([*history, "--json"], capture_output=True, text=True).stdout)
    assert len(rows) == 1
    row = rows[0]
    assert row["routine"] == "legs-up-wall" and row["completed"] is True
    assert row["steps_done"] == row["steps"] == 3
    assert row["night"] == night_of(datetime.fromisoformat(row["started"])).isoformat()
    table = subprocess.run(history, capture_output=True, text=True).stdout
    assert "legs-up-wall" in table and "done" in table
    csv = subprocess.run([*history, "--csv"], capture_output=True, text=True).stdout.splitlines()
    assert csv[0].startswith("night,routine,started") and len(csv) == 2


def test_a_quieter_night_softens_cues_and_dims_a_lit_display_at_its_hours():
    from bedside.core.nights import Quiet

    quiet = Quiet(start=time(23, 0), end=time(6, 0), volume=0.3, contrast=10)
    start = datetime(2026, 11, 20, 22, 58)
    wall = lambda t: start + timedelta(seconds=t)  # noqa: E731
    behaviour = Behaviour(
        SETTINGS, defaults(Thresholds), now=0.0, routine="legs-up-wall", wall=wall, quiet=quiet
    )
    behaviour.edge(True, 0.0)
    behaviour.edge(False, 0.1)
    behaviour.advance(0.1 + BOUNCE)
    behaviour.edge(True, 1.0)
    behaviour.edge(False, 1.1)  # ten minutes of legs up the wall from 22:58
    behaviour.advance(1.1 + BOUNCE)
    before = [o for _, o in behaviour.take() if isinstance(o, Say)]
    assert before and all(o.volume is None for o in before)
    behaviour.advance(300.0)
    outputs = behaviour.take()
    dimmed = [(t, o) for t, o in outputs if isinstance(o, Display)]
    assert [o for _, o in dimmed] == [Display(True, 10)]  # at 23:00, the lit display dims
    assert dimmed[0][0] == pytest.approx(120.0, abs=1e-3)
    said = [(t, o.volume) for t, o in outputs if isinstance(o, Say)]
    assert said == [(21.12, None), (181.12, 0.3)]  # before 23:00, and after (from 1.12 s)
    assert quiet.applies(datetime(2026, 11, 21, 5, 59)) and not quiet.applies(
        datetime(2026, 11, 21, 6, 0)
    )


def test_a_quieter_night_leaves_a_clock_not_yet_synced_alone():
    from bedside.core.nights import Quiet

    behaviour = Behaviour(
        SETTINGS, defaults(Thresholds), now=0.0, quiet=defaults(Quiet), routine="legs-up-wall"
    )
    behaviour.edge(True, 0.0)
    behaviour.edge(False, 0.1)
    behaviour.advance(0.1 + BOUNCE)
    assert all(o.volume is None for _, o in behaviour.take() if isinstance(o, Say))


def _night_routine_config(config_copy: Path) -> tuple[Settings, Reminder]:
    """The shipped configuration with legs up the wall as the night's routine, reminder on."""
    text = config_copy.read_text()
    text = text.replace('routine = "bedtime"', 'routine = "legs-up-wall"')
    text = text.replace("enabled = false       # true: at `time`", "enabled = true  # at `time`")
    config_copy.write_text(text)
    config = load_config(config_copy)
    assert config.night_routine == "legs-up-wall" and config.reminder is not None
    fixed = replace(config, hold=replace(config.hold, grow=False))  # the files' own lengths
    return core_terms.settings(fixed), config.reminder


def test_the_configured_night_routine_makes_the_streak_and_the_reminder(config_copy):
    settings, reminder = _night_routine_config(config_copy)
    start = datetime(2026, 11, 20, 21, 50)
    done = {"bedtime": {date(2026, 11, 17), date(2026, 11, 18), date(2026, 11, 19)}}
    done["legs-up-wall"] = {date(2026, 11, 19)}
    behaviour = Behaviour(
        settings,
        defaults(Thresholds),
        now=0.0,
        wall=lambda t: start + timedelta(seconds=t),
        reminder=reminder,
        done=done,
    )
    assert behaviour.screen.title == "Bedtime"
    assert behaviour.screen.nights == "" and behaviour.screen.week == ()  # not the night's
    press(behaviour, 1.0, seconds=1.5)  # a hold: the next routine, legs up the wall
    assert behaviour.screen.title == "Legs up the wall"
    assert behaviour.screen.nights == "1 night"
    assert behaviour.screen.week == (False,) * 5 + (True, False)

    behaviour.take()
    behaviour.advance(600.0)  # 22:00: the reminder, on the night's routine, gently lit
    outputs = [o for _, o in behaviour.take()]
    assert Say(reminder.text) in outputs
    assert [o for o in outputs if isinstance(o, Display) and o.on] == [
        Display(True, reminder.contrast)
    ]
    assert behaviour.screen.title == "Legs up the wall"

    press(behaviour, 601.0)
    t = run_through(behaviour, 601.0)
    assert behaviour.state.completed and behaviour.streak.nights == 2
    press(behaviour, t + 5)  # back to the menu
    assert behaviour.screen.title == "Legs up the wall" and behaviour.screen.nights == "2 nights"
    assert behaviour.screen.week == (False,) * 5 + (True, True)


def test_the_reminder_keeps_quiet_only_when_the_night_routine_is_done(config_copy):
    settings, reminder = _night_routine_config(config_copy)
    start = datetime(2026, 11, 20, 21, 58)
    tonight = date(2026, 11, 20)

    def reminded(done: dict[str, set[date]]) -> bool:
        wall = lambda t: start + timedelta(seconds=t)  # noqa: E731
        behaviour = Behaviour(
            settings, defaults(Thresholds), now=0.0, wall=wall, reminder=reminder, done=done
        )
        behaviour.advance(600.0)
        return reminder.text in [text for _, text in said(behaviour)]

    assert reminded({})
    assert reminded({"bedtime": {tonight}})  # bedtime done is not the night's routine done
    assert not reminded({"legs-up-wall": {tonight}})


def test_finishing_bedtime_adds_nothing_when_another_routine_makes_the_night(config_copy):
    settings, _ = _night_routine_config(config_copy)
    start = datetime(2026, 11, 20, 21, 0)
    behaviour = Behaviour(
        settings,
        defaults(Thresholds),
        now=0.0,
        wall=lambda t: start + timedelta(seconds=t),
        done={"legs-up-wall": {date(2026, 11, 19)}},
    )
    press(behaviour, 0.0)  # bedtime, first in the menu
    assert behaviour.state.routine.name == "bedtime"
    run_through(behaviour, 0.0)
    assert behaviour.state.completed
    assert behaviour.streak.nights == 1  # last night's legs up the wall, and no more
    # Kept all the same: a reloaded configuration may make bedtime the night's routine.
    assert behaviour.done["bedtime"] == {date(2026, 11, 20)}


def test_a_session_resumed_in_the_quiet_hours_comes_back_quietly():
    from bedside.core.nights import Quiet

    quiet = Quiet(start=time(23, 0), end=time(6, 0), volume=0.3, contrast=10)
    start = datetime(2026, 11, 20, 23, 30)
    behaviour = Behaviour(
        SETTINGS,
        defaults(Thresholds),
        now=0.0,
        wall=lambda t: start + timedelta(seconds=t),
        quiet=quiet,
    )
    behaviour.take()
    behaviour.resume("legs-up-wall", 1, 100.0, 200.0)
    outputs = [o for _, o in behaviour.take()]
    assert [o for o in outputs if isinstance(o, Display)] == [Display(True, 10)]
    spoken = [o for o in outputs if isinstance(o, Say)]
    assert spoken and all(o.volume == 0.3 for o in spoken)


def test_a_reloaded_configuration_s_night_routine_makes_the_streak_at_once():
    start = datetime(2026, 11, 20, 21, 0)
    wall = lambda t: start + timedelta(seconds=t)  # noqa: E731
    done = {"legs-up-wall": {date(2026, 11, 18), date(2026, 11, 19)}}
    behaviour = Behaviour(SETTINGS, defaults(Thresholds), now=0.0, wall=wall, done=done)
    press(behaviour, 1.0, seconds=1.5)  # to legs up the wall: not the night's routine, yet
    assert behaviour.screen.title == "Legs up the wall" and behaviour.screen.nights == ""
    behaviour.reconfigure(replace(SETTINGS, night_routine="legs-up-wall"), defaults(Thresholds))
    assert behaviour.screen.title == "Legs up the wall" and behaviour.screen.nights == "2 nights"


def test_the_gallery_shows_the_streak_on_the_night_routine():
    from bedside.commands.screens.evening import gallery_screens

    shots = dict(gallery_screens(replace(SETTINGS, night_routine="legs-up-wall")))
    assert shots["menu-streak"].title == "Legs up the wall"
    assert shots["menu-streak"].nights == "5 nights"
    assert shots["menu"].title == "Bedtime" and shots["menu"].nights == ""
