"""The daemon's event loop (``bedside.app.loop.Loop``) with the mock set of real parts (the OLED
over a recording bus, a voice that is off), on a virtual clock moved by hand: what it makes of a
late turn."""

from __future__ import annotations

import io
import json
import queue
from dataclasses import replace

import pytest

from bedside.app.assembly import mock_parts
from bedside.app.events import Stop, Wake, WallMoved
from bedside.app.loop import Loop
from bedside.button import Edge
from bedside.config import core_terms
from bedside.config.core_terms import defaults
from bedside.config.load import load_config
from bedside.config.sections import VoiceConfig
from bedside.core.behaviour import Behaviour
from bedside.core.clock import VirtualClock
from bedside.core.gestures import Thresholds

# The routine files' own lengths: the hold that grows (tests/test_hold.py) kept out of the way.
CONFIG = load_config()
SETTINGS = core_terms.settings(replace(CONFIG, hold=replace(CONFIG.hold, grow=False)))


def late(tmp_path, *queued) -> tuple[list[tuple[str, float]], str]:
    """``queued`` put on the queue of a loop of the real parts on a virtual clock at 10.0,
    which comes to them two seconds late (a busy machine, a slow SD card), then a wake and a
    stop: the gestures it traced (the trace's time counts from 10.0), and the state after."""
    clock = VirtualClock(10.0)
    behaviour = Behaviour(SETTINGS, defaults(Thresholds), now=10.0, routine="legs-up-wall")
    trace = io.StringIO()
    events: queue.SimpleQueue = queue.SimpleQueue()
    config = replace(load_config(), voice=VoiceConfig(enabled=False))
    parts, _ = mock_parts(config, tmp_path, events, clock=clock, cache=tmp_path)
    with parts:
        loop = Loop(behaviour, parts, trace=trace)
        # ... and, woken, the loop takes the release once it has lasted the bounce time
        for item in (*queued, Wake(), Stop("test")):
            events.put(item)
        clock.advance_to(12.5)
        assert loop.run() == "test"
    taken = [json.loads(line) for line in trace.getvalue().splitlines()]
    gestures = [(e["gesture"], e["t"]) for e in taken if e["type"] == "gesture"]
    return gestures, behaviour.state.mode.value


def test_edges_queued_while_the_loop_was_late_are_taken_at_their_own_times(tmp_path):
    """A press (down, and up 0.1 s later) waits in the queue while the loop is held up for two
    seconds: it is a press, not a hold of two seconds; it starts the routine."""
    assert late(tmp_path, Edge(True, 10.5), Edge(False, 10.6)) == ([("press", 0.62)], "awaiting")


@pytest.mark.parametrize("notice", [WallMoved(), Wake()], ids=["the clock set", "a signal"])
def test_a_press_queued_behind_a_notice_while_the_loop_was_late_is_a_press(tmp_path, notice):
    """The clock is set (or a signal wakes the loop), then a press (down, and up 0.1 s later),
    all while the loop is held up for two seconds: the press is taken at its own times, not
    squeezed to the moment the loop took the notice (a closure of no length: noise, lost)."""
    pressed = late(tmp_path, notice, Edge(True, 10.5), Edge(False, 10.6))
    assert pressed == ([("press", 0.62)], "awaiting")
