"""The hold that grows with the person, and the device used with the eyes closed: tonight's
length from the nights so far, across many nights on the virtual clock, kept in the history
through power cuts and reloads, shown by the menu and ``plan``, and said aloud."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from faults import Daemon, quiet_config, saved

from bedside.commands.simulate import simulate
from bedside.config import core_terms
from bedside.config.core_terms import defaults
from bedside.config.load import load_config
from bedside.config.spoken import cue_texts
from bedside.core.gestures import Thresholds
from bedside.core.growth import GrowthNight, GrowthPlan, nightly, retimed, tonight
from bedside.core.phrases import Phrases
from bedside.core.script import parse_script
from bedside.history.store import Store

ROOT = Path(__file__).resolve().parent.parent
PLAN = defaults(GrowthPlan, start=300, step=60, longest=1200)


def nights(*held: bool) -> list[GrowthNight]:
    first = date(2026, 11, 1)
    return [GrowthNight(first + timedelta(days=n), h) for n, h in enumerate(held)]


def test_it_grows_a_step_a_night_held_and_never_past_the_longest():
    assert tonight(PLAN, [], None) == 300
    assert tonight(PLAN, nights(True), None) == 360
    assert tonight(PLAN, nights(*[True] * 5), None) == 600
    assert tonight(PLAN, nights(*[True] * 40), None) == 1200


def test_it_steps_back_after_two_short_nights_running_never_below_the_start():
    assert tonight(PLAN, nights(True, True, False), None) == 420  # one short night: kept
    assert tonight(PLAN, nights(True, True, False, False), None) == 360  # two running: back
    assert tonight(PLAN, nights(True, True, False, True, False), None) == 480  # not running
    assert tonight(PLAN, nights(False, False, False, False), None) == 300
    assert tonight(PLAN, nights(True, False, False, False, False), None) == 300


def test_a_night_counts_once_and_held_wins():
    same = date(2026, 11, 1)
    outcomes = [GrowthNight(same, False), GrowthNight(same, True), GrowthNight(same, False)]
    assert nightly(outcomes) == [True]
    # A night the clock could not tell counts for nothing: it neither grows nor shrinks it.
    assert nightly([GrowthNight(None, True), GrowthNight(None, False)]) == []
    assert tonight(PLAN, [GrowthNight(None, True)] * 3, None) == 300


def test_tonights_length_is_fixed_for_the_night():
    """Only the nights before tonight count: a second session tonight gets the first's hold,
    and tomorrow's grows from both."""
    held_tonight = nights(True, True)  # the 1st, and tonight (the 2nd) already held once
    assert tonight(PLAN, held_tonight, date(2026, 11, 2)) == 360
    assert tonight(PLAN, [*held_tonight, held_tonight[-1]], date(2026, 11, 2)) == 360
    assert tonight(PLAN, held_tonight, date(2026, 11, 3)) == 420


def test_the_hold_takes_its_cues_along_when_its_length_changes():
    config = load_config()
    routine = config.routines["legs-up-wall"]
    for length in (300.0, 720.0, 1200.0):
        step = retimed(routine, length, config.cues).steps[1]
        assert step.duration == length
        texts = {c.text: c.at for c in step.cues}
        # Anchored to the end ("-4s"), so it stays 4 s before it: said before the next step's.
        assert texts["Time to come down, slowly."] == length - 4
        assert texts["Breathe slowly into your belly, and let it fall again."] == 20
        assert texts["Halfway."] == length / 2 and texts["One minute left."] == length - 60
        assert all(0 <= c.at <= length for c in step.cues)
    assert retimed(routine, 600.0, config.cues) == routine  # the file's own length


def run_nights(script_nights: list[str], plan: GrowthPlan = PLAN) -> list[dict]:
    """Each night at 21:50 a script, on one virtual clock; every event, each with its night."""
    config = load_config()
    settings = replace(core_terms.settings(config), growth=plan)
    lines = []
    for n, night in enumerate(script_nights):
        night = (WAKE if n else "") + night  # the display is lit at the start, dark later
        took = sum(c.seconds for c in parse_script(night))
        lines += [night, f"wait {24 * 3600 - took}"]  # the same hour the next night
    from io import StringIO

    out = StringIO()
    simulate(
        settings,
        defaults(Thresholds),
        parse_script("\n".join(lines)),
        out,
        routine="legs-up-wall",
        at=datetime(2026, 11, 1, 21, 50),
    )
    return [json.loads(line) for line in out.getvalue().splitlines()]


WAKE = "press\nwait 2\n"  # the first press on a dark display only wakes it
HELD = "press\nwait 2\npress\nwait 3000\nhold 1.5\nwait 2\n"  # through the whole hold
SHORT = "press\nwait 2\npress\nwait 60\nhold 3.5\nwait 2\npress\nwait 2\n"  # ended early


def hold_lengths(events: list[dict]) -> list[int]:
    return [
        e["duration"] for e in events if e["type"] == "step" and e["title"] == "Legs up the wall"
    ]


def test_simulate_over_many_nights_grows_caps_and_steps_back():
    events = run_nights([HELD] * 4 + [SHORT, SHORT] + [HELD])
    assert hold_lengths(events) == [300, 360, 420, 480, 540, 540, 480]
    holds = [e for e in events if e["type"] == "hold"]
    assert [h["held"] for h in holds] == [True] * 4 + [False, False, True]
    menus = [
        e["lines"][1]
        for e in events
        if e["type"] == "screen"
        and e["lines"][:1] == ["Legs up the wall"]
        and "press to start" in e["lines"]
    ]
    assert menus[0] == "6 min, hold 5 min" and "9 min, hold 8 min" in menus  # tonight's
    capped = run_nights([HELD] * 3, defaults(GrowthPlan, start=300, step=240, longest=600))
    assert hold_lengths(capped) == [300, 540, 600]


def test_a_fixed_hold_keeps_the_files_length():
    events = run_nights([HELD] * 2, defaults(GrowthPlan, grow=False))
    assert hold_lengths(events) == [600, 600]


def test_paused_says_how_much_is_left_and_the_menu_says_where_it_is(tmp_path):
    events = run_nights(
        [
            "press\nwait 2\npress\nwait 90.5\npress\nwait 2\n"
            "press\nwait 2\nhold 3.5\nwait 2\npress\nwait 1\nhold 1.5\nwait 1\n"
        ]
    )
    said = [e["text"] for e in events if e["type"] == "say"]
    assert "Paused. Three minutes left. Press to carry on." in said  # 3:29 left
    assert "Ending here. Sleep well." in said
    assert "Foot massage." in said  # a hold in the menu says where it moved
    assert Phrases.left(20) == "Less than a minute left"
    assert Phrases.left(60) == "One minute left"


def test_every_phrase_the_device_can_make_is_rendered_ahead():
    config = load_config()
    texts = set(cue_texts(config))
    phrases = Phrases()
    for seconds in range(0, 1201, 30):
        assert phrases.paused.format(left=phrases.left(seconds)) in texts
    for minutes in range(5, 21):
        assert f"Bedtime. Tonight, the hold is {phrases.minutes(minutes * 60)}." in texts
    assert "Leg lifts." in texts and phrases.restored_waiting in texts


def test_no_menu_voice_when_asked_for_none(config_copy):
    text = config_copy.read_text().replace("speak = true", "speak = false")
    config_copy.write_text(text)
    config = load_config(config_copy)
    from io import StringIO

    out = StringIO()
    simulate(
        core_terms.settings(config), defaults(Thresholds), parse_script("hold 1.5\nwait 2\n"), out
    )
    assert '"say"' not in out.getvalue()


def test_a_check_config_names_the_hold_limits(config_copy):
    text = config_copy.read_text().replace('longest = "20m"', 'longest = "2m"')
    config_copy.write_text(text)
    done = subprocess.run(
        [sys.executable, "-m", "bedside", "check-config", "--config", str(config_copy)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 2 and "hold.longest" in done.stderr
    assert "from 300 to 10800 seconds" in done.stderr


# -- the daemon: kept in the history, through a power cut and a reload -----------------------
def test_the_daemon_keeps_the_hold_in_its_history_through_power_cuts(tmp_path):
    config = quiet_config(tmp_path / "config")
    config.write_text(config.read_text().replace('start = "5m"', 'start = "2m"'))  # for speed
    state = tmp_path / "state"
    # one evening (long gone, so that any clock today has it behind it) at 21:00, the whole
    # 2-minute hold, 20 times fast
    script = "clock 2026-01-05T21:00\npress\nwait 1\npress\nwait 400\n"
    first = Daemon(state, config, script, "--routine", "legs-up-wall", speed=20)
    first.wait_for(lambda e: e["type"] == "hold")
    time.sleep(0.2)
    first.stop(signal.SIGKILL)  # a power cut during "Coming down"
    first.finish()
    with Store(state / "bedside.db") as store:
        [kept] = store.growth_rows()
    assert kept.held and kept.length == 120

    # The restart (the same night) resumes "Coming down"; its end goes to the menu, which shows
    # tonight's hold still: tomorrow evening, it shows tomorrow's.
    script = "wait 0.5\npress\nwait 70\nhold 1.5\nwait 1\nclock 2026-01-06T21:00\nwait 1\n"
    second = Daemon(state, config, "clock 2026-01-05T21:10\n" + script, speed=20)
    assert second.finish() == 0, second.stderr
    shown = [e["lines"] for e in second.of("screen") if "press to start" in e["lines"]]
    assert "hold 2 min" in " ".join(shown[0]) and "hold 3 min" in " ".join(shown[-1]), shown
    plan = subprocess.run(
        [
            sys.executable,
            "-m",
            "bedside",
            "plan",
            "legs-up-wall",
            "--json",
            "--config",
            str(config),
            "--state-dir",
            str(state),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert json.loads(plan.stdout)["steps"][1]["duration"] == 180
    assert saved(state)[0] is None


def test_a_reload_applies_a_new_hold_plan_at_the_menu(tmp_path):
    config = quiet_config(tmp_path / "config")
    state = tmp_path / "state"
    daemon = Daemon(state, config, "wait 30\n", "--routine", "legs-up-wall")
    daemon.wait_for(lambda e: e["type"] == "screen")
    config.write_text(config.read_text().replace('start = "5m"', 'start = "7m"'))
    daemon.process.send_signal(signal.SIGHUP)
    daemon.wait_for_log("configuration reloaded")
    shown = daemon.wait_for(lambda e: e["type"] == "screen" and "hold 7 min" in e["lines"][1])
    assert shown["lines"][0] == "Legs up the wall"
    daemon.stop(signal.SIGTERM)
    assert daemon.finish() == 0


@pytest.mark.parametrize("done", [(True, False, True), ()])
def test_the_menu_shows_the_week_under_the_streak(done):
    from bedside.core.nights import Streak
    from bedside.core.screens import describe
    from bedside.core.state import Mode, State

    settings = core_terms.settings(load_config())
    week = (False,) * (7 - len(done)) + done
    streak = Streak(1, week) if done else Streak()
    screen = describe(State(Mode.MENU), settings, 0.0, streak)
    if done:
        assert screen.week == week and screen.nights == "1 night"
        assert "1 night ○○○○●○●" in screen.lines
    else:
        assert screen.week == () and screen.nights == ""
