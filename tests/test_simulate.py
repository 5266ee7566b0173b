"""The behaviour on a virtual clock: every shipped routine end to end, the simulate contract, and
random gesture sequences that must keep the engine's invariants."""

from __future__ import annotations

import io
import itertools
import json
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bedside.commands.simulate import simulate
from bedside.config import core_terms
from bedside.config.core_terms import defaults
from bedside.config.load import load_config
from bedside.core.behaviour import Behaviour
from bedside.core.effects import Say, StepStarted
from bedside.core.gestures import Thresholds
from bedside.core.script import Command, ScriptError, parse_script
from bedside.core.settings import Settings
from bedside.core.state import Mode

CONFIG = load_config()
# The routine files' own lengths: the hold that grows (tests/test_hold.py) kept out of the way.
SETTINGS = core_terms.settings(replace(CONFIG, hold=replace(CONFIG.hold, grow=False)))
THRESHOLDS = defaults(Thresholds)

FIELDS = {
    "state": {"state", "routine"},
    "step": {"routine", "index", "count", "title", "kind", "duration", "side"},
    "say": {"text"},
    "screen": {"lines"},
    "display": {"on", "contrast"},
    "gesture": {"gesture"},
    "finished": {"routine", "completed", "minutes"},
}


def run_script(text: str, routine: str | None = None, settings: Settings = SETTINGS) -> list[dict]:
    out = io.StringIO()
    simulate(settings, THRESHOLDS, parse_script(text), out, routine=routine)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def press(behaviour: Behaviour, at: float) -> float:
    """A press from ``at``; the time it is taken (let go for the bounce time)."""
    behaviour.edge(True, at)
    behaviour.edge(False, at + 0.1)
    behaviour.advance(at + 0.1 + THRESHOLDS.bounce)
    return at + 0.1 + THRESHOLDS.bounce


@pytest.mark.parametrize("name", sorted(CONFIG.routines))
def test_every_routine_runs_end_to_end_on_the_virtual_clock(name):
    routine = CONFIG.routines[name]
    behaviour = Behaviour(SETTINGS, THRESHOLDS, now=0.0, routine=name)
    t = press(behaviour, 0.0)  # start
    waits = 0.0
    while behaviour.state.mode is not Mode.FINISHED:
        if behaviour.state.mode is Mode.AWAITING:
            behaviour.advance(t + 30.0)  # let its cues be said, then carry on
            t = press(behaviour, t + 30.0)
            waits += 30.1 + THRESHOLDS.bounce  # each press taken once let go 20 ms
        else:
            t = behaviour.deadline()
            behaviour.advance(t)
    outputs = [o for _, o in behaviour.take()]
    started = [o.index for o in outputs if isinstance(o, StepStarted)]
    assert started == list(range(len(routine.steps)))
    assert behaviour.state.completed
    assert behaviour.state.finished_at - behaviour.state.session_start == pytest.approx(
        routine.total_seconds + waits
    )
    said = [o.text for o in outputs if isinstance(o, Say)]
    every_cue = [cue.text for step in routine.steps for cue in step.cues]
    assert said == [*every_cue, routine.finish]


def test_simulate_events_follow_the_contract():
    events = run_script("press\nwait 12\npress\nwait 30\npress\nwait 2\nhold 1.5\nhold 3.5\n")
    assert events[0]["t"] == 0
    for event in events:
        assert set(event) == {"t", "type"} | FIELDS[event["type"]], event
    types = {e["type"] for e in events}
    assert types == set(FIELDS)
    times = [e["t"] for e in events]
    assert times == sorted(times)
    step = next(e for e in events if e["type"] == "step")
    assert step == {
        "t": 0.12,  # let go at 0.1, taken once let go for the bounce time (20 ms)
        "type": "step",
        "routine": "bedtime",
        "index": 0,
        "count": len(CONFIG.routines["bedtime"].steps),
        "title": "Fill a warm footbath",
        "kind": "wait",
        "duration": None,
        "side": None,
    }
    gestures = [e["gesture"] for e in events if e["type"] == "gesture"]
    assert gestures == ["press", "press", "press", "hold", "long-hold"]
    # press ends 0.1; wait to 12.1; press to 12.2; wait to 42.2; press (pause) to 42.3;
    # wait to 44.3; hold (skip) to 45.8; the finger lifts for 0.1 s; the long hold fires 3 s
    # after 45.9.
    finished = [e for e in events if e["type"] == "finished"]
    # it began when the first press was taken (0.12): 48.78 s, as the history keeps it
    assert finished == [
        {"t": 48.9, "type": "finished", "routine": "bedtime", "completed": False, "minutes": 0.8}
    ]


def test_an_hour_of_waiting_goes_dark_once_and_a_press_only_wakes():
    events = run_script("wait 3600\npress\n")
    display = [(e["t"], e["on"]) for e in events if e["type"] == "display"]
    assert display == [(0, True), (60, False), (3600.12, True)]  # taken 20 ms after let go
    assert [e["gesture"] for e in events if e["type"] == "gesture"] == ["wake"]
    assert {"t": 60, "type": "screen", "lines": []} in events


def test_routine_option_chooses_the_menu_entry_shown_first():
    events = run_script("press\n", routine="leg-lifts")
    assert events[1] == {"t": 0, "type": "state", "state": "menu", "routine": "leg-lifts"}
    assert any(e["type"] == "step" and e["routine"] == "leg-lifts" for e in events)


def test_the_countdown_screen_changes_once_a_second():
    no_pacer = replace(SETTINGS, pacer=False)
    events = run_script("press\nwait 1\npress\nwait 5.1\n", "legs-up-wall", no_pacer)
    begun = next(e["t"] for e in events if e["type"] == "step" and e["index"] == 1)
    clocks = [e["lines"][1] for e in events if e["type"] == "screen" and e["t"] > begun]
    assert clocks == ["09:59", "09:58", "09:57", "09:56", "09:55"]


def test_the_breathing_guide_grows_over_four_seconds_and_shrinks_over_six():
    from bedside.core.screens import BREATH_LEVELS

    behaviour = Behaviour(SETTINGS, THRESHOLDS, now=0.0, routine="legs-up-wall")
    for t, pressed in ((0.0, True), (0.1, False), (1.0, True), (1.1, False)):
        behaviour.edge(pressed, t)
    began = 1.1 + THRESHOLDS.bounce  # the press taken once let go for the bounce time
    behaviour.advance(began)
    sizes = []
    while behaviour.now < began + 20:
        behaviour.advance(behaviour.deadline())
        sizes.append(
            (round(behaviour.now - began, 3), behaviour.screen.breath, behaviour.screen.breathing)
        )
    peaks = [t for t, size, _ in sizes if size == BREATH_LEVELS]
    assert peaks and 3.5 < peaks[0] < 4.0 and any(13.5 < t < 14.0 for t in peaks)
    assert min(s for _, s, _ in sizes) == 0
    steps = [b - a for (_, a, _), (_, b, _) in itertools.pairwise(sizes)]
    assert all(abs(step) <= 1 for step in steps)  # a pixel a side at a time: smooth
    assert {d for _, _, d in sizes} == {"in", "out"}
    assert 100 < len(sizes) < 200  # it wakes only when the guide or the clock changes
    # The text screen only says when the breath turns, so simulate stays readable.
    events = run_script("press\nwait 1\npress\nwait 20\n", "legs-up-wall")
    breathing = [line for e in events if e["type"] == "screen" for line in e["lines"]]
    assert "breathe in" in breathing and "breathe out" in breathing
    screens = [e for e in events if e["type"] == "screen" and e["t"] > 1.2]
    assert len(screens) < 30


def test_script_parsing_reports_every_bad_line_by_number():
    assert parse_script("press  # go\n\n  hold 2\nwait 5m\n") == [
        Command(1, "press", 0.1),
        Command(3, "hold", 2.0),
        Command(4, "wait", 300.0),
    ]
    with pytest.raises(ScriptError) as info:
        parse_script("press\npush\nwait\nhold -1\nwait soon\npress 2\n", "s.txt")
    lines = [m.split(":")[1] for m in info.value.messages]
    assert lines == ["2", "3", "4", "5", "6"]
    usage = "expected 'press', 'hold SECONDS', 'wait SECONDS' or 'clock YYYY-MM-DDTHH:MM'"
    assert f"s.txt:2: {usage}, found 'push'" in str(info.value)


# -- random gestures ------------------------------------------------------------------------
action = st.one_of(
    st.tuples(st.just("press"), st.just(0.1)),
    st.tuples(st.just("hold"), st.floats(min_value=0.02, max_value=6.0)),
    st.tuples(st.just("wait"), st.floats(min_value=0.01, max_value=2000.0)),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    routine=st.sampled_from(sorted(CONFIG.routines)),
    actions=st.lists(action, min_size=1, max_size=40),
)
def test_random_gestures_keep_the_invariants(routine, actions):
    behaviour = Behaviour(SETTINGS, THRESHOLDS, now=0.0, routine=routine)
    t = 0.0

    def check(now: float) -> None:
        state = behaviour.state
        due = behaviour.deadline()
        assert due is None or due > now  # nothing that fell due was left undone
        if state.routine is not None and state.mode is not Mode.MENU:
            assert 0 <= state.step_index < len(state.routine.steps)
        step = state.step
        if step is not None:
            left = state.remaining(now)
            assert left is None or left >= 0
            if step.duration is not None:
                assert state.elapsed(now) <= step.duration + 1e-9
        if state.mode is Mode.PAUSED:
            # Paused time is never counted as done.
            assert state.elapsed(now + 1000.0) == state.elapsed(now)
        assert behaviour.screen.lines == [] or behaviour.state.display_on

    for kind, seconds in actions:
        if kind == "wait":
            t += seconds
            behaviour.advance(t)
        else:
            behaviour.edge(True, t)
            check(t)
            t += seconds
            behaviour.edge(False, t)
        check(t)
        behaviour.take()
