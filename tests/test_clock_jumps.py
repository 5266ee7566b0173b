"""The wall clock as a Pi has it, on the virtual clock: not known at boot, set by the network
mid-session, jumping back and forth, and noon passing while the device sits in the menu.

Each test runs ``simulate`` with the script's ``clock`` command (the wall clock jumps there and
counts as known) and reads what the device showed and did, as the daemon's trace says it.
"""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import datetime, time

import pytest

from bedside.commands.simulate import simulate
from bedside.config import core_terms
from bedside.config.core_terms import defaults
from bedside.config.load import load_config
from bedside.core.behaviour import Behaviour
from bedside.core.clock import SettableWall
from bedside.core.effects import Display
from bedside.core.gestures import Thresholds
from bedside.core.nights import Reminder
from bedside.core.script import parse_script

CONFIG = load_config()
SETTINGS = core_terms.settings(CONFIG)
# The whole bedtime routine from the menu (tonight's hold: 5 min): each step that waits for a
# press pressed on, each timed step run out.
BEDTIME = (
    "press\nwait 2\npress\nwait 1202\n"  # the footbath filled; the soak
    "press\nwait 602\n"  # dried; the massage
    "press\nwait 400\n"  # by the wall: the hold, coming down, into bed, and done
)
# legs-up-wall from a lit menu, through tonight's hold (5 min) to its end, back to the menu
LEGS = "press\nwait 2\npress\nwait 3000\nhold 1.5\nwait 2\n"
LEGS_HOLD = "Legs up the wall"  # the step that grows
EVERY_NIGHT = defaults(
    Reminder, at=time(22, 0), days=("mon", "tue", "wed", "thu", "fri", "sat", "sun")
)
WAKE = "press\nwait 2\n"  # the first press on a dark display only wakes it


def run(script: str, routine: str = "bedtime", **options: object) -> list[dict]:
    out = io.StringIO()
    simulate(
        SETTINGS,
        core_terms.thresholds(CONFIG.button),
        parse_script(script),
        out,
        routine=routine,
        **options,  # type: ignore[arg-type]
    )
    return [json.loads(line) for line in out.getvalue().splitlines()]


def streaks(events: list[dict]) -> list[str]:
    """What the menu said of the streak, each time it changed ("" when it said nothing)."""
    shown = [
        next((line for line in e["lines"] if " night" in line), "")
        for e in events
        if e["type"] == "screen" and "press to start" in e["lines"]
    ]
    return [s for i, s in enumerate(shown) if i == 0 or s != shown[i - 1]]


def test_the_streak_follows_the_wall_clock_while_the_device_sits_in_the_menu():
    """Bedtime done tonight: "1 night" and tonight's mark. Two days later, woken in the menu,
    the streak is gone and the mark has moved back two nights, without a restart."""
    script = "clock 2027-01-05T21:00\n" + BEDTIME + "press\nwait 120\nwait 172800\n" + WAKE
    assert streaks(run(script)) == ["", "1 night ○○○○○○●", "0 nights ○○○○●○○"]


def test_a_sync_mid_session_places_the_session_in_its_night_and_shows_it():
    """Not known at start; the network sets the clock during the session: the completed night
    counts, and the session's length is what ran, not the jump."""
    script = BEDTIME.replace("wait 1202\n", "wait 600\nclock 2027-01-05T21:30\nwait 602\n")
    events = run(script + "press\nwait 2\n")
    assert streaks(events)[-1] == "1 night ○○○○○○●"
    (finished,) = [e for e in events if e["type"] == "finished"]
    assert finished["completed"] and 30 < finished["minutes"] < 120


def test_the_clock_going_back_never_makes_a_session_shorter_than_it_ran():
    back = LEGS.replace("wait 3000", "wait 100\nclock 2027-01-05T20:00\nwait 2900")
    script = "clock 2027-01-05T22:00\n" + back
    (finished,) = [e for e in run(script, "legs-up-wall") if e["type"] == "finished"]
    assert finished["completed"] and finished["minutes"] == 6.0  # as it ran, not 120 min less


def holds(events: list[dict]) -> list[float]:
    return [
        e["duration"] for e in events if e["type"] == "step" and e["title"] == "Legs up the wall"
    ]


def test_tonights_hold_is_fixed_for_the_night_and_grows_the_next():
    """Two sessions tonight hold the same length; tomorrow's is a step longer. While the clock
    cannot tell the night, sessions grow nothing."""
    first, again = "clock 2027-01-05T21:00\n" + LEGS, LEGS
    tomorrow = "wait 40000\n" + "clock 2027-01-06T21:00\n" + WAKE + LEGS
    events = run(first + again + tomorrow, "legs-up-wall")
    assert holds(events) == [300, 300, 360]
    unknown = run(LEGS + LEGS + "wait 90000\n" + WAKE + LEGS, "legs-up-wall")
    assert holds(unknown) == [300, 300, 300]


def test_a_reminder_due_when_the_clock_jumps_lights_the_display_for_its_whole_time():
    """The clock, not known at boot, is set past bedtime: the reminder wakes the display at
    that moment, and it stays lit for the menu's idle time, not a few milliseconds."""
    events = run("wait 600\nclock 2027-01-05T22:05\nwait 300\n", reminder=EVERY_NIGHT)
    lit = [e for e in events if e["type"] == "display" and e["on"] and e["t"] >= 600]
    dark = [e for e in events if e["type"] == "display" and not e["on"] and e["t"] >= 600]
    assert lit and lit[0]["t"] == 600.0 and lit[0]["contrast"] == 8
    assert dark and dark[0]["t"] - lit[0]["t"] == CONFIG.display.off_after


def test_a_jump_seen_late_by_the_loop_is_stamped_when_it_is_seen():
    """The daemon's loop last woke at 100 s; the network sets the clock past bedtime, and the
    loop sees it at 700 s. Bedtime's reminder happens at 700, not at a moment the new reading
    puts between the two (the display lit "then" would go dark at once)."""
    wall = SettableWall()
    fixed = replace(SETTINGS, growth=replace(SETTINGS.growth, grow=False))  # the files' lengths
    behaviour = Behaviour(
        fixed,
        defaults(Thresholds),
        now=0.0,
        wall=wall.read,
        reminder=EVERY_NIGHT,
        routine="bedtime",
    )
    behaviour.advance(100.0)
    wall.set(datetime(2027, 1, 5, 22, 5), 700.0)
    behaviour.wall_moved(700.0)
    outputs = behaviour.take()
    lit = [t for t, o in outputs if isinstance(o, Display) and o.on and o.contrast == 8]
    assert lit == [700.0]
    assert behaviour.deadline() == 700.0 + CONFIG.display.off_after  # dark a minute later


# The bedtime routine with a place in each state for the clock to jump: the script's lines
# before and after it. The session's own times (its steps, its states, the minutes it
# records) are the monotonic clock's, so a jump anywhere changes none of them.
TO_SOAK, AFTER_SOAK = BEDTIME.split("wait 1202\n")  # the soak: a 20-minute countdown
STATES = {
    "menu": ("", BEDTIME),
    "awaiting a press": ("press\nwait 1\n", "wait 1\n" + BEDTIME.removeprefix("press\nwait 2\n")),
    "running": (TO_SOAK + "wait 600\n", "wait 602\n" + AFTER_SOAK),
    "paused": (TO_SOAK + "wait 600\npress\nwait 30\n", "wait 30\npress\nwait 602\n" + AFTER_SOAK),
    "holding by the wall": (BEDTIME.removesuffix("wait 400\n") + "wait 100\n", "wait 300\n"),
    "finished": (BEDTIME + "wait 5\n", "wait 5\npress\nwait 2\n"),
}
JUMPS = {"a year on": "clock 2028-01-05T21:30\n", "two hours back": "clock 2027-01-05T19:00\n"}
KEPT = {"state": ("state",), "step": ("title", "duration"), "finished": ("minutes", "completed")}


def session_times(events: list[dict]) -> list[tuple]:
    """What the session did and when, by the monotonic clock: each state, each step and its
    length, and the minutes it records."""
    return [
        (e["t"], e["type"], *(e[k] for k in KEPT[e["type"]])) for e in events if e["type"] in KEPT
    ]


@pytest.mark.parametrize("jump", JUMPS.values(), ids=list(JUMPS))
@pytest.mark.parametrize("state", STATES, ids=list(STATES))
def test_a_clock_jump_in_any_state_moves_none_of_the_sessions_times(state: str, jump: str):
    """The clock known (21:00) from the start, then set again in each state the device can be
    in: the states, the steps, their lengths and the minutes recorded are those of the same
    night with no jump, to the millisecond."""
    before, after = STATES[state]
    start = "clock 2027-01-05T21:00\n"
    plain = run(start + before + after)
    jumped = run(start + before + jump + after)
    assert [e["completed"] for e in plain if e["type"] == "finished"] == [True]
    assert session_times(jumped) == session_times(plain)


def test_noon_turns_the_night_on_a_lit_menu():
    """Bedtime done at 21:00; the next day, the menu woken just before noon shows tonight's
    mark; at noon itself (15 h on), with nothing pressed, the night turns: the mark moves to
    last night and tonight's hold is a step longer, on the lit display."""
    script = "clock 2027-01-05T21:00\n" + BEDTIME + "press\nwait 2\nwait 51740\n" + WAKE
    menus = [
        (e["t"], e["lines"])
        for e in run(script + "wait 120\n")
        if e["type"] == "screen" and "press to start" in e["lines"]
    ]
    woken = [(t, lines) for t, lines in menus if 53000 < t < 54000]
    assert woken and woken[-1][1][2] == "1 night ○○○○○○●"
    at_noon = [lines for t, lines in menus if t == 15 * 3600]
    assert at_noon == [
        ["Bedtime", "38 min, hold 6 min", "1 night ○○○○○●○", "1/4", "press to start"]
    ]
