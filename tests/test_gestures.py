"""Button edges with timestamps become press, hold and long hold."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from presses import press_through
from pytest import approx

from bedside.config.core_terms import defaults
from bedside.core.gestures import ButtonState, Gesture, Notice, Recogniser, Thresholds

THRESHOLDS = defaults(Thresholds, hold=1.0, long_hold=3.0, bounce=0.02)
R = Recogniser(THRESHOLDS)


def run(edges: list[tuple[bool, float]], until: float | None = None, t: Thresholds = THRESHOLDS):
    """The edges in order, then the time ``until``, through the device's own interleaving."""
    return press_through(edges, until, t)


BOUNCE = THRESHOLDS.bounce  # a release is taken once it has lasted this long


def test_a_short_press():
    _, out = run([(True, 10.0), (False, 10.1)])
    assert out == [(Gesture.PRESS, 10.1 + BOUNCE)]


def test_a_press_just_under_the_hold_threshold_is_still_a_press():
    # let go at 0.999 s: the hold's notice at 1 s is not given, the release being under way
    _, out = run([(True, 0.0), (False, 0.999)])
    assert out == [(Gesture.PRESS, 0.999 + BOUNCE)]


def test_a_hold_says_holding_at_one_second_and_is_a_hold_on_release():
    _, out = run([(True, 5.0), (False, 7.0)])
    assert out == [(Notice.HOLD_PENDING, 6.0), (Gesture.HOLD, 7.0 + BOUNCE)]


def test_a_long_hold_fires_at_three_seconds_while_still_down_and_release_adds_nothing():
    state, out = run([(True, 5.0)], until=8.0)
    assert out == [(Notice.HOLD_PENDING, 6.0), (Gesture.LONG_HOLD, 8.0)]
    state, signals = R.edge(state, False, 20.0)
    state, more = R.tick(state, 20.0 + BOUNCE)
    assert signals == more == [] and state == ButtonState()


def test_chatter_alone_is_noise_however_long_it_goes_on():
    """Six closures of 2 ms, 4 ms apart: 32 ms of contact noise, never a press (seen in make
    test-vm, with real edges on a real kernel)."""
    edges = []
    for n in range(6):
        edges += [(True, 1.0 + 0.006 * n), (False, 1.002 + 0.006 * n)]
    assert run(edges)[1] == []


def test_a_bouncing_contact_is_one_press():
    # Several edges within 5 ms as the contact closes, and again as it opens: one press, taken
    # once the contact has stayed open for the bounce time.
    edges = [(True, 1.000), (False, 1.001), (True, 1.002), (False, 1.003), (True, 1.004)]
    edges += [(False, 1.150), (True, 1.151), (False, 1.153)]
    _, out = run(edges)
    assert out == [(Gesture.PRESS, 1.153 + BOUNCE)]


@given(st.floats(min_value=0.05, max_value=2.9), st.floats(min_value=0.0001, max_value=0.0199))
def test_an_opening_shorter_than_the_bounce_time_does_not_split_a_closure(at, opening):
    """A contact lifting for a millisecond mid-hold: a 1.5 s hold stays one hold, not two
    presses (which would pause and carry on instead of skipping), and a long hold one long
    hold, not two holds."""
    if at < 1.4:  # let go at 1.5 s, after the dropout
        _, out = run([(True, 0.0), (False, at), (True, at + opening), (False, 1.5)])
        assert [s for s, _ in out if s is not Notice.HOLD_PENDING] == [Gesture.HOLD]
    _, out = run([(True, 0.0), (False, at), (True, at + opening)], until=10.0)
    assert [s for s, _ in out if s is not Notice.HOLD_PENDING] == [Gesture.LONG_HOLD]


def test_an_up_without_a_down_and_a_repeated_down_are_harmless():
    state, signals = R.edge(ButtonState(), False, 1.0)
    assert signals == [] and state == ButtonState()
    state, _ = R.edge(ButtonState(), True, 1.0)
    state, _ = R.edge(state, True, 1.5)
    assert state.down_at == 1.0


def test_thresholds_are_configurable():
    quick = defaults(Thresholds, hold=0.5, long_hold=2.0, bounce=0.0)
    _, out = run([(True, 0.0), (False, 0.6)], t=quick)
    assert out == [(Notice.HOLD_PENDING, 0.5), (Gesture.HOLD, 0.6)]
    _, out = run([(True, 0.0)], until=2.0, t=quick)
    assert out[-1] == (Gesture.LONG_HOLD, 2.0)


def test_a_deadline_always_counts_as_reached_despite_rounding():
    # 13.8 + 3.0 - 13.8 < 3.0 in floating point: ticking at the deadline must still fire.
    state, _ = R.edge(ButtonState(), True, 13.799999999999999)
    for _ in range(2):
        due = R.deadline(state)
        state, signals = R.tick(state, due)
        assert signals
    assert state.long_fired and R.deadline(state) == 13.799999999999999 + 30.0  # stuck


def closures(edges: list[tuple[bool, float]], end: float) -> list[tuple[float, float, float]]:
    """The closures a person made, as (down, up, its longest unbroken stretch): an opening
    shorter than the bounce time joins the closures either side of it; the last runs to
    ``end`` if never let go."""
    made: list[tuple[float, float, float]] = []
    downs = [t for pressed, t in edges if pressed]
    ups = [t for pressed, t in edges if not pressed] + [end]
    for down, up in zip(downs, ups, strict=False):
        if made and down - made[-1][1] < BOUNCE:
            first, _, longest = made[-1]
            made[-1] = (first, up, max(longest, up - down))
        else:
            made.append((down, up, up - down))
    return made


@given(st.lists(st.floats(min_value=0.001, max_value=10.0), min_size=1, max_size=30))
def test_each_closure_gives_at_most_one_gesture_and_it_matches_its_length(gaps):
    t, edges = 0.0, []
    for i, gap in enumerate(gaps):
        t += gap
        edges.append((i % 2 == 0, t))
    end = t + 10
    _, out = run(edges, until=end)
    for down, up, longest in closures(edges, end):
        taken = up + BOUNCE  # a release is taken once it has lasted the bounce time
        mine = [
            (s, approx(at)) for s, at in out if s is not Notice.HOLD_PENDING and down < at <= taken
        ]
        if up == end:
            assert mine == ([(Gesture.LONG_HOLD, down + 3.0)] if end >= down + 3.0 else [])
        elif longest < BOUNCE:  # chatter: no unbroken stretch of contact as long as the bounce
            assert mine == []
        elif up < down + 1.0:
            assert mine == [(Gesture.PRESS, taken)]
        elif up < down + 3.0:
            assert mine == [(Gesture.HOLD, taken)]
        else:
            assert mine == [(Gesture.LONG_HOLD, down + 3.0)]
