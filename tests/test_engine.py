"""The pure engine: every gesture in every state, timing, pause, skip, end, dark and wake."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bedside.config.core_terms import defaults
from bedside.core.effects import (
    Display,
    Finished,
    GestureTaken,
    Say,
    Silence,
    StateChanged,
    StepStarted,
)
from bedside.core.engine import Engine
from bedside.core.events import Gestured, HoldPending, Remind, Tick
from bedside.core.gestures import Gesture
from bedside.core.routines import Cue, Routine, Step, StepKind
from bedside.core.settings import Settings
from bedside.core.state import Mode, State

PRESS, HOLD, LONG = (Gestured(g) for g in (Gesture.PRESS, Gesture.HOLD, Gesture.LONG_HOLD))

TOY = Routine(
    name="toy",
    title="Toy",
    finish="All done.",
    steps=(
        Step(
            "Get ready", StepKind.WAIT, None, (Cue(0, "Get ready."), Cue(10, "Press when ready."))
        ),
        Step("Hold", StepKind.TIMED, 60.0, (Cue(0, "Hold."), Cue(30, "Half."), Cue(60, "Done."))),
        Step("Lifts", StepKind.REPS, 30.0, (Cue(0, "Lift."),), reps=5, seconds_per_rep=6.0),
    ),
)
OTHER = Routine("other", "Other", (Step("Only", StepKind.TIMED, 10.0, (Cue(0, "Go."),)),))


@pytest.fixture
def engine() -> Engine:
    settings = defaults(
        Settings,
        routines={"toy": TOY, "other": OTHER},
        menu=("toy", "other"),
        night_routine="other",
        contrast=33,
        off_after=60.0,
        off_after_paused=600.0,
        stale_cue=5.0,
    )
    return Engine(settings)


def says(effects) -> list[str]:
    return [e.text for e in effects if isinstance(e, Say)]


def started(engine: Engine, at: float = 0.0) -> State:
    """The toy routine, started at ``at`` and past its wait step: running step 1."""
    state, _ = engine.start(at)
    state, _ = engine.handle(state, PRESS, at)
    state, _ = engine.handle(state, PRESS, at)
    assert state.mode is Mode.RUNNING and state.step_index == 1
    return state


# -- menu ---------------------------------------------------------------------------------------
def test_start_shows_the_menu_lit_at_the_configured_contrast(engine):
    state, effects = engine.start(100.0)
    assert state.mode is Mode.MENU and state.display_on
    assert effects == [Display(True, 33), StateChanged(Mode.MENU, "toy")]


def test_start_can_show_another_routine_first(engine):
    state, effects = engine.start(0.0, routine="other")
    assert state.menu_index == 1
    assert StateChanged(Mode.MENU, "other") in effects


def test_press_in_menu_starts_the_routine(engine):
    state, _ = engine.start(0.0)
    state, effects = engine.handle(state, PRESS, 2.0)
    assert state.mode is Mode.AWAITING and state.routine is TOY and state.step_index == 0
    assert effects[:3] == [
        GestureTaken("press"),
        StateChanged(Mode.AWAITING, "toy"),
        StepStarted("toy", 0, 3, TOY.steps[0]),
    ]
    assert says(effects) == ["Get ready."]


def test_hold_in_menu_shows_the_next_routine_and_wraps_round(engine):
    state, _ = engine.start(0.0)
    state, effects = engine.handle(state, HOLD, 1.0)
    assert state.menu_index == 1 and StateChanged(Mode.MENU, "other") in effects
    state, _ = engine.handle(state, HOLD, 2.0)
    assert state.menu_index == 0


def test_the_reminder_lights_the_menu_on_the_night_routine_and_says_its_text(engine):
    state, _ = engine.start(0.0)
    state, _ = engine.handle(state, Tick(), 61.0)  # dark after the idle minute
    assert not state.display_on
    state, effects = engine.handle(state, Remind("Time to wind down."), 100.0)
    assert state.display_on and state.menu_index == 1  # "other", the configured night routine
    # The configured contrast: how gently the display wakes is decided outside the engine.
    assert effects == [
        Display(True, 33),
        StateChanged(Mode.MENU, "other"),
        Say("Time to wind down."),
    ]
    running = started(engine)
    assert engine.handle(running, Remind("Time to wind down."), 5.0) == (running, [])


def test_long_hold_in_menu_does_nothing(engine):
    state, _ = engine.start(0.0)
    after, effects = engine.handle(state, LONG, 3.0)
    assert after.mode is Mode.MENU and after.menu_index == 0
    assert effects == [GestureTaken("long-hold")]


# -- running ------------------------------------------------------------------------------------
def test_cues_are_said_at_their_times_and_the_step_ends_on_time(engine):
    state = started(engine, at=10.0)
    assert engine.deadline(state) == 40.0  # the cue at 30 s
    state, effects = engine.handle(state, Tick(), 40.0)
    assert says(effects) == ["Half."]
    state, effects = engine.handle(state, Tick(), 70.0)
    assert says(effects) == ["Done.", "Lift."]
    assert state.step_index == 2 and state.step_start == 70.0
    assert StepStarted("toy", 2, 3, TOY.steps[2]) in effects


def test_a_late_tick_does_not_stretch_steps(engine):
    state = started(engine, at=0.0)
    # Woken 2 s late: the next step still began when the last one was due.
    state, effects = engine.handle(state, Tick(), 62.0)
    assert state.step_index == 2 and state.step_start == 60.0
    assert state.remaining(62.0) == 28.0
    assert "Done." in says(effects)


def test_a_cue_too_late_to_matter_is_dropped_not_said(engine):
    state = started(engine, at=0.0)
    state, effects = engine.handle(state, Tick(), 36.0)  # the 30 s cue is 6 s stale
    assert says(effects) == []
    assert state.next_cue == 2


def test_press_while_running_pauses_and_stops_speech(engine):
    state = started(engine)
    state, effects = engine.handle(state, PRESS, 20.0)
    assert state.mode is Mode.PAUSED and state.paused_at == 20.0
    assert effects[1] == Silence() and StateChanged(Mode.PAUSED, "toy") in effects
    assert engine.deadline(state) == 20.0 + 600.0  # only the display timer runs


def test_a_pause_moves_the_end_of_the_step_by_exactly_the_pause(engine):
    state = started(engine)
    state, _ = engine.handle(state, PRESS, 20.0)
    assert state.remaining(500.0) == 40.0  # paused time is not counted as done
    state, effects = engine.handle(state, PRESS, 95.5)
    assert state.mode is Mode.RUNNING and StateChanged(Mode.RUNNING, "toy") in effects
    assert state.remaining(95.5) == 40.0
    assert engine.deadline(state) == 30.0 + 75.5  # the 30 s cue, moved by the pause
    state, _ = engine.handle(state, Tick(), 60.0 + 75.5)
    assert state.step_index == 2 and state.step_start == 60.0 + 75.5


def test_hold_skips_to_the_next_step_from_running_paused_and_awaiting(engine):
    state = started(engine)
    skipped, effects = engine.handle(state, HOLD, 5.0)
    assert skipped.step_index == 2 and skipped.mode is Mode.RUNNING
    assert Silence() in effects and says(effects) == ["Lift."]

    paused, _ = engine.handle(state, PRESS, 5.0)
    skipped, _ = engine.handle(paused, HOLD, 9.0)
    assert skipped.step_index == 2 and skipped.mode is Mode.RUNNING
    assert skipped.paused_at is None and skipped.step_start == 9.0

    waiting, _ = engine.start(0.0)
    waiting, _ = engine.handle(waiting, PRESS, 0.0)
    skipped, _ = engine.handle(waiting, HOLD, 3.0)
    assert skipped.step_index == 1 and skipped.mode is Mode.RUNNING


def test_skipping_the_last_step_finishes_the_routine(engine):
    state = started(engine)
    state, _ = engine.handle(state, HOLD, 1.0)
    state, effects = engine.handle(state, HOLD, 2.0)
    assert state.mode is Mode.FINISHED and state.completed
    assert Finished("toy", True, 2.0) in effects and says(effects) == ["All done."]


@pytest.mark.parametrize("mode", ["running", "paused", "awaiting"])
def test_long_hold_ends_the_session(engine, mode):
    state, _ = engine.start(0.0)
    state, _ = engine.handle(state, PRESS, 0.0)
    if mode != "awaiting":
        state, _ = engine.handle(state, PRESS, 1.0)
    if mode == "paused":
        state, _ = engine.handle(state, PRESS, 2.0)
    assert state.mode.value == mode
    state, effects = engine.handle(state, LONG, 5.0)
    assert state.mode is Mode.FINISHED and not state.completed
    assert Silence() in effects and Finished("toy", False, 5.0) in effects
    assert StateChanged(Mode.FINISHED, "toy") in effects


def test_awaiting_press_continues(engine):
    state, _ = engine.start(0.0)
    state, _ = engine.handle(state, PRESS, 0.0)
    state, effects = engine.handle(state, Tick(), 10.0)
    assert says(effects) == ["Press when ready."]
    state, effects = engine.handle(state, PRESS, 12.0)
    assert state.mode is Mode.RUNNING and state.step_index == 1 and state.step_start == 12.0
    assert says(effects) == ["Hold."]


def test_finished_press_or_hold_goes_back_to_the_menu_and_long_hold_does_nothing(engine):
    state = started(engine)
    done, _ = engine.handle(state, LONG, 1.0)
    for gesture in (PRESS, HOLD):
        menu, effects = engine.handle(done, gesture, 2.0)
        assert menu.mode is Mode.MENU and menu.routine is None
        assert StateChanged(Mode.MENU, "toy") in effects
    same, effects = engine.handle(done, LONG, 2.0)
    assert same.mode is Mode.FINISHED and effects == [GestureTaken("long-hold")]


def test_a_routine_that_runs_out_finishes_completed_and_says_its_last_words(engine):
    state = started(engine)
    state, effects = engine.handle(state, Tick(), 90.0)
    assert state.mode is Mode.FINISHED and state.completed
    assert state.finished_at == 90.0 and state.session_start == 0.0
    assert effects[-1] == Say("All done.")


# -- the dark display ----------------------------------------------------------------------------
def test_menu_goes_dark_after_the_idle_time_and_the_first_gesture_only_wakes(engine):
    state, _ = engine.start(0.0)
    assert engine.deadline(state) == 60.0
    state, effects = engine.handle(state, Tick(), 60.0)
    assert not state.display_on and effects == [Display(False, 33)]
    assert engine.deadline(state) is None  # nothing at all runs while dark

    for gesture, name in ((PRESS, "press"), (HOLD, "hold"), (LONG, "long-hold")):
        woken, effects = engine.handle(state, gesture, 500.0)
        assert effects == [GestureTaken("wake"), Display(True, 33)], name
        assert woken.mode is Mode.MENU and woken.menu_index == 0 and woken.display_on
    woken, _ = engine.handle(state, PRESS, 500.0)
    assert engine.deadline(woken) == 560.0


def test_holding_on_a_dark_display_shows_no_hold_feedback(engine):
    state, _ = engine.start(0.0)
    state, _ = engine.handle(state, Tick(), 60.0)
    state, _ = engine.handle(state, HoldPending(), 70.0)
    assert not state.holding


def test_holding_shows_feedback_until_the_gesture(engine):
    state = started(engine)
    state, _ = engine.handle(state, HoldPending(), 5.0)
    assert state.holding
    state, _ = engine.handle(state, HOLD, 6.0)
    assert not state.holding


def test_a_finished_session_goes_dark_and_back_to_the_menu(engine):
    state = started(engine)
    state, _ = engine.handle(state, Tick(), 90.0)  # runs out: finished at 90
    assert engine.deadline(state) == 150.0  # a full idle time to read "All done"
    state, effects = engine.handle(state, Tick(), 150.0)
    assert state.mode is Mode.MENU and not state.display_on
    assert effects == [Display(False, 33), StateChanged(Mode.MENU, "toy")]


def test_a_running_countdown_never_goes_dark(engine):
    state = started(engine)
    state, _ = engine.handle(state, Tick(), 59.0)
    assert state.display_on


def test_paused_goes_dark_after_the_longer_idle_time_and_stays_paused(engine):
    state = started(engine)
    state, _ = engine.handle(state, PRESS, 10.0)
    state, _ = engine.handle(state, Tick(), 609.0)
    assert state.display_on
    state, effects = engine.handle(state, Tick(), 610.0)
    assert not state.display_on and state.mode is Mode.PAUSED
    state, effects = engine.handle(state, PRESS, 700.0)
    assert state.mode is Mode.PAUSED and GestureTaken("wake") in effects
    state, _ = engine.handle(state, PRESS, 701.0)
    assert state.mode is Mode.RUNNING and state.remaining(701.0) == 50.0


def test_a_wait_step_reached_by_the_clock_gets_a_full_idle_time(engine):
    routine = Routine(
        "pair",
        "Pair",
        (
            Step("Soak", StepKind.TIMED, 1200.0, (Cue(0, "Soak."),)),
            Step("Dry", StepKind.WAIT, None, (Cue(0, "Dry your feet."),)),
        ),
    )
    settings = defaults(Settings, routines={"pair": routine}, menu=("pair",), night_routine="pair")
    engine = Engine(replace(settings, off_after_paused=600.0))
    state, _ = engine.start(0.0)
    state, _ = engine.handle(state, PRESS, 0.0)
    state, effects = engine.handle(state, Tick(), 1200.0)
    assert state.mode is Mode.AWAITING and state.display_on
    assert says(effects) == ["Dry your feet."]
    assert engine.deadline(state) == 1800.0
