"""A session cut off in every kind of step and state comes back there: the daemon's own loop,
parts and SQLite database, in this process, on a virtual clock.

The grid is every step kind (timed, reps, wait) against every state it can be cut in (running,
paused, awaiting), cut the way a power cut or ``kill -9`` cuts (nothing more runs: the file
holds what was written before) and the way SIGTERM does (the loop's clean stop writes the step
as it stands). Each cut is started again three times: a restart never crash-loops on what it
kept. What is logic given a store runs here in milliseconds; the real process killed by a real
signal is ``test_faults``' (one cell each way).
"""

from __future__ import annotations

import io
import json
import queue
from pathlib import Path

import pytest
from faults import LOST_AT_MOST, quiet_config, saved

from bedside.app.assembly import mock_parts
from bedside.app.daemon import Options, serve
from bedside.app.events import Arrival, Edge, Stop
from bedside.config import core_terms
from bedside.config.load import load_config
from bedside.core.behaviour import Behaviour
from bedside.core.clock import VirtualClock
from bedside.core.screens import View
from bedside.core.script import parse_script, timeline
from bedside.core.state import Mode

LEGS = "press\nwait 0.3\npress\n"  # start legs up the wall; settled by the wall: the hold runs
GRID = {
    # (routine, kind, state at the cut): the script that gets there, and the step it is in
    ("legs-up-wall", "wait", "awaiting"): ("press\nwait 30\n", 0),
    ("legs-up-wall", "timed", "running"): (LEGS + "wait 30\n", 1),
    ("legs-up-wall", "timed", "paused"): (LEGS + "wait 4\npress\nwait 30\n", 1),
    ("leg-lifts", "reps", "running"): ("press\nwait 0.3\npress\nwait 30\n", 1),
    ("leg-lifts", "reps", "paused"): ("press\nwait 0.3\npress\nwait 4\npress\nwait 30\n", 1),
}


class PowerCut(Exception):
    """Nothing after this runs: not the loop's stop, not a last write."""


class Scheduled:
    """The loop's queue on a virtual clock: what arrives and when. Where the loop would sleep
    until its next deadline, the clock moves there instead; ``PowerCut`` ends everything."""

    def __init__(self, clock: VirtualClock, arrivals: list[tuple[float, Arrival | PowerCut]]):
        self.clock = clock
        self.arrivals = sorted(arrivals, key=lambda pair: pair[0])

    def put(self, item: Arrival) -> None:  # the button's thread, were the pin to move
        self.arrivals.insert(0, (self.clock.now(), item))

    def get(self, timeout: float | None = None) -> Arrival:
        now = self.clock.now()
        at, item = self.arrivals[0]
        if timeout is not None and at > now + timeout:
            self.clock.advance(timeout)
            raise queue.Empty
        self.arrivals.pop(0)
        self.clock.advance_to(max(now, at))
        if isinstance(item, PowerCut):
            raise item
        return item

    def get_nowait(self) -> Arrival:
        """What has arrived by now, if anything: the loop takes what queued behind a notice."""
        if not self.arrivals or self.arrivals[0][0] > self.clock.now():
            raise queue.Empty
        _, item = self.arrivals.pop(0)
        if isinstance(item, PowerCut):
            raise item
        return item


def life(
    config: Path,
    state: Path,
    cut: Arrival | PowerCut,
    at: float,
    script: str = "",
    routine: str | None = None,
) -> list[dict]:
    """One life of the daemon on ``state``: ``script`` on its button, then ``cut`` at ``at``
    seconds; its trace."""
    clock = VirtualClock()
    moments = timeline(parse_script(script)) if script else []
    presses: list[tuple[float, Arrival | PowerCut]] = [
        (m.at, Edge(m.pressed, m.at)) for m in moments if m.pressed is not None
    ]
    events = Scheduled(clock, [*presses, (at, cut)])
    loaded = load_config(config)
    trace = io.StringIO()
    parts, _ = mock_parts(loaded, state, events, clock=clock, cache=state.parent / "cache")
    options = Options(config=config, state_dir=state, routine=routine, trace=trace)
    try:
        serve(options, loaded, parts)
    except PowerCut:
        # Only what was written is kept: on a healthy disk nothing waits in memory, so the
        # parts' closing (which a real power cut skips) writes nothing more.
        assert not parts.store.progress_unsaved and not parts.store.unsaved
    finally:
        parts.close()
    return [json.loads(line) for line in trace.getvalue().splitlines()]


@pytest.mark.parametrize("how", ["power-cut", "SIGTERM"])
@pytest.mark.parametrize("cell", list(GRID), ids=["-".join(c[1:]) for c in GRID])
def test_a_cut_in_any_step_and_state_comes_back_there(tmp_path, cell, how):
    routine, kind, mode = cell
    script, index = GRID[cell]
    config = quiet_config(tmp_path / "config")
    state = tmp_path / "state"
    # 8 s after the last press: at least one periodic save, as a cut at any moment would find.
    last = max(m.at for m in timeline(parse_script(script)) if m.pressed is not None)
    cut = PowerCut() if how == "power-cut" else Stop("SIGTERM")
    first = life(config, state, cut, at=last + 8.0, script=script, routine=routine)
    reached = [e for e in first if e["type"] == "step" and e["index"] == index]
    assert reached and [e for e in first if e["type"] == "state"][-1]["state"] == mode
    kept, _ = saved(state)
    assert kept is not None and kept[:2] == (routine, index)
    if mode == "running":  # what ran of the step, as kept: at most 5 s lost, none invented
        ran = last + 8.0 - reached[0]["t"]
        lost = {"power-cut": LOST_AT_MOST, "SIGTERM": 1e-6}[how]
        assert ran - lost <= kept[2] <= ran + 1e-6, (kept[2], ran)

    for _ in range(3):  # again and again: a restart never crash-loops on what it kept
        again = life(config, state, Stop("test done"), at=2.0)
        step = next(e for e in again if e["type"] == "step")
        states = [e for e in again if e["type"] == "state"]
        assert states[0]["state"] == ("awaiting" if kind == "wait" else "paused")
        assert (step["index"], step["kind"], step["t"]) == (index, kind, 0.0)
        said = [e["text"] for e in again if e["type"] == "say"]
        assert said[0].startswith("Picking up where you left off.")
        if kind == "wait":  # its instruction again: the person may not remember it
            assert said[1].startswith("Lie")
        else:
            shown = next(e for e in again if e["type"] == "screen")["lines"]
            assert shown[0] == "Paused"
        assert saved(state)[0][:2] == (routine, index)


def test_a_routine_asked_for_at_the_start_waits_in_the_menu_behind_a_resumed_session():
    """``--routine leg-lifts`` with a bedtime session brought back: the session comes first;
    ended (a long hold, then a press), the menu shows leg lifts, as asked. Asked for nothing,
    the menu shows the routine that was resumed, as before."""
    config = load_config()
    settings = core_terms.settings(config)
    thresholds = core_terms.thresholds(config.button)
    for asked, shown in (("leg-lifts", "Leg lifts"), (None, "Bedtime")):
        behaviour = Behaviour(settings.showing(asked), thresholds, now=0.0, routine=asked)
        behaviour.resume("bedtime", 1, 10.0, 100.0)
        assert behaviour.state.mode is Mode.PAUSED and behaviour.screen.kind is View.PAUSED
        for pressed, at in ((True, 1.0), (False, 5.0), (True, 6.0), (False, 6.1)):
            behaviour.edge(pressed, at)  # a long hold ends it; a press: the menu
        behaviour.advance(7.0)  # a let-go is sure once the bounce time has passed
        assert behaviour.screen.kind is View.MENU and behaviour.screen.title == shown, asked
