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


def test_edges_queued_while_the_loop_was_late_are_taken_at_their_own_times(tmp_path):
    """A press (down, and up 0.1 s later) waits in the queue while the loop is held up for two
    seconds (a busy machine, a slow SD card): it is a press, not a hold of two seconds."""
    clock = VirtualClock(10.0)
    behaviour = Behaviour(SETTINGS, defaults(Thresholds), now=10.0, routine="legs-up-wall")
    trace = io.StringIO()
    events: queue.SimpleQueue = queue.SimpleQueue()
    config = replace(load_config(), voice=VoiceConfig(enabled=False))
    parts, _ = mock_parts(config, tmp_path, events, clock=clock, cache=tmp_path)
    with parts:  # the real parts, on a virtual clock
        loop = Loop(behaviour, parts, trace=trace)
        # ... and, woken, the loop takes the release once it has lasted the bounce time
        for item in (Edge(True, 10.5), Edge(False, 10.6), Wake(), Stop("test")):
            events.put(item)
        clock.advance_to(12.5)  # the loop comes to them two seconds late
        assert loop.run() == "test"
    taken = [json.loads(line) for line in trace.getvalue().splitlines()]
    gestures = [(e["gesture"], e["t"]) for e in taken if e["type"] == "gesture"]
    assert gestures == [("press", 0.62)]  # trace time counts from the start, 10.0
    assert behaviour.state.mode.value == "awaiting"  # the press started the routine


@pytest.mark.parametrize("notice", [WallMoved(), Wake()], ids=["the clock set", "a signal"])
def test_a_press_queued_behind_a_notice_while_the_loop_was_late_is_a_press(tmp_path, notice):
    """The clock is set (or a signal wakes the loop), then a press (down, and up 0.1 s later),
    all while the loop is held up for two seconds: the press is taken at its own times, not
    squeezed to the moment the loop took the notice (a closure of no length: noise, lost)."""
    clock = VirtualClock(10.0)
    behaviour = Behaviour(SETTINGS, defaults(Thresholds), now=10.0, routine="legs-up-wall")
    trace = io.StringIO()
    events: queue.SimpleQueue = queue.SimpleQueue()
    config = replace(load_config(), voice=VoiceConfig(enabled=False))
    parts, _ = mock_parts(config, tmp_path, events, clock=clock, cache=tmp_path)
    with parts:
        loop = Loop(behaviour, parts, trace=trace)
        for item in (notice, Edge(True, 10.5), Edge(False, 10.6), Wake(), Stop("test")):
            events.put(item)
        clock.advance_to(12.5)  # the loop comes to them two seconds late
        assert loop.run() == "test"
    taken = [json.loads(line) for line in trace.getvalue().splitlines()]
    assert [(e["gesture"], e["t"]) for e in taken if e["type"] == "gesture"] == [("press", 0.62)]
    assert behaviour.state.mode.value == "awaiting"
