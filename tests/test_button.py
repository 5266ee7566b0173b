"""The button through gpiozero's own MockFactory and MockPin, into the gesture recogniser."""

from __future__ import annotations

import queue
import threading
import time

import pytest
from gpiozero.pins.mock import MockFactory, MockPin
from presses import press_through
from pytest import approx

from bedside.button import ButtonEdges, Edge
from bedside.config.sections import ButtonConfig
from bedside.core.gestures import Gesture, Notice, Signal

# An edge's time is the test's virtual clock less gpiozero's age of the edge, which MockPin
# measures by the real monotonic clock: microseconds when the machine is quiet, but CI saw
# 2 ms on a loaded one. The times below are the virtual clock's, within this.
AGE = 0.05


class Clock:
    """A virtual clock the test moves by hand: no sleeping for a three-second hold."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def rig():
    factory = MockFactory()
    edges: queue.Queue[Edge] = queue.Queue()
    clock = Clock()
    button = ButtonEdges(ButtonConfig(pin=17), edges.put, clock=clock, pin_factory=factory)
    yield factory.pin(17), edges, clock, button
    button.close()
    factory.close()


def gestures(edges: queue.Queue[Edge], until: float) -> list[tuple[Signal, float]]:
    """The queued edges through the device's own interleaving (``presses``), as the loop has
    them."""
    taken = []
    while not edges.empty():
        edge = edges.get_nowait()
        # each edge's time is the test clock's less gpiozero's age of it (AGE)
        taken.append((edge.pressed, round(edge.at, 3)))
    return [(signal, round(at, 6)) for signal, at in press_through(taken, until)[1]]


def test_a_clean_press(rig):
    pin, edges, clock, button = rig
    pin.drive_low()
    assert button.is_pressed
    clock.t += 0.15
    pin.drive_high()
    assert [(e.pressed, e.at) for e in edges.queue] == [
        (True, approx(100.0, abs=AGE)),
        (False, approx(100.15, abs=AGE)),
    ]
    # taken once the release has lasted the bounce time (20 ms)
    assert gestures(edges, clock.t + 0.02) == [(Gesture.PRESS, approx(100.17, abs=AGE))]


def test_a_hold(rig):
    pin, edges, clock, _ = rig
    pin.drive_low()
    clock.t += 1.8
    pin.drive_high()
    hold = [(Notice.HOLD_PENDING, approx(101.0, abs=AGE)), (Gesture.HOLD, approx(101.82, abs=AGE))]
    assert gestures(edges, clock.t + 0.02) == hold


def test_a_long_hold_fires_while_still_down(rig):
    pin, edges, clock, button = rig
    pin.drive_low()
    clock.t += 5.0
    assert button.is_pressed
    assert gestures(edges, clock.t) == [
        (Notice.HOLD_PENDING, approx(101.0, abs=AGE)),
        (Gesture.LONG_HOLD, approx(103.0, abs=AGE)),
    ]


def test_a_bouncing_contact_is_one_press(rig):
    pin, edges, clock, _ = rig
    for _ in range(3):  # the contact chatters for 5 ms as it closes...
        pin.drive_low()
        clock.t += 0.001
        pin.drive_high()
        clock.t += 0.0007
    pin.drive_low()
    clock.t += 0.2
    for _ in range(3):  # ...and again as it opens
        pin.drive_high()
        clock.t += 0.001
        pin.drive_low()
        clock.t += 0.0007
    pin.drive_high()
    assert edges.qsize() >= 12
    assert [s for s, _ in gestures(edges, clock.t + 10)] == [Gesture.PRESS]


def test_pull_down_wiring_reads_a_high_pin_as_pressed():
    factory = MockFactory()
    edges: queue.Queue[Edge] = queue.Queue()
    button = ButtonEdges(ButtonConfig(pin=22, pull_up=False), edges.put, pin_factory=factory)
    factory.pin(22).drive_high()
    assert edges.get_nowait().pressed
    button.close()


def test_a_press_from_another_thread_arrives_while_the_loop_is_busy(rig):
    # gpiozero calls back on its own threads; the edge lands on the queue without the loop.
    pin, edges, _, _ = rig
    worker = threading.Thread(target=pin.drive_low)
    worker.start()
    worker.join(timeout=2)
    edge = edges.get(timeout=2)
    assert edge.pressed and edge.at == approx(100.0, abs=AGE)


def test_a_press_while_a_cue_is_being_spoken_arrives_at_once(rig, tmp_path):
    from bedside.config.sections import VoiceConfig
    from bedside.voice import NULL_OUTPUT, Speaker

    pin, edges, _, _ = rig
    text = "Let your legs rest against the wall, and breathe slowly into your belly."
    # (stale_after: on a loaded machine the first render of a cold cue can pass the 5 s after
    # which a cue is dropped, not said late)
    with Speaker(VoiceConfig(), tmp_path, NULL_OUTPUT, stale_after=300) as voice:
        voice.say(text)
        deadline = time.monotonic() + 30
        while list(voice.played) != [text] and time.monotonic() < deadline:
            time.sleep(0.01)
        assert list(voice.played) == [text]  # the stage is playing it now (its null output)
        began = time.monotonic()
        pin.drive_low()
        edge = edges.get(timeout=1)
        assert edge.pressed and time.monotonic() - began < 0.05
        (heard,) = [line for line in voice.heard if line.get("what") == "cue"]
        assert time.monotonic() < heard["end"]  # still speaking: neither waited for


def test_an_idle_button_keeps_no_thread_awake():
    """gpiozero's Button starts a hold thread that wakes every 100 ms for as long as it lives;
    the button here starts no thread at all, so an idle bedside can sleep."""
    factory = MockFactory()
    before = set(threading.enumerate())
    button = ButtonEdges(ButtonConfig(pin=17), lambda edge: None, pin_factory=factory)
    try:
        assert set(threading.enumerate()) - before == set()
        assert not button.is_pressed
        factory.pin(17).drive_low()
        assert button.is_pressed
    finally:
        button.close()
        factory.close()


class LatePin(MockPin):
    """A pin whose callbacks run late, as on a busy Pi: the change is recorded (with its
    time, as lgpio records the kernel's) the moment it happens, the callback 50 ms after."""

    def _call_when_changed(self) -> None:
        time.sleep(0.05)
        super()._call_when_changed()


def test_an_edge_is_timed_when_it_happened_not_when_its_callback_ran():
    """Found in the VM: contact chatter of 2 ms closures read as presses when the callbacks
    came late, the edges timed at the callback."""
    factory = MockFactory(pin_class=LatePin)
    edges: queue.Queue[Edge] = queue.Queue()
    button = ButtonEdges(ButtonConfig(pin=17), edges.put, pin_factory=factory)
    try:
        pin = factory.pin(17)
        down = time.monotonic()
        pin.drive_low()
        up = time.monotonic()  # the release's change, 50 ms after the press's (its callback)
        pin.drive_high()
        pressed, released = edges.get_nowait(), edges.get_nowait()
        assert abs(pressed.at - down) < 0.02, pressed.at - down  # not 50 ms late
        assert abs(released.at - up) < 0.02, released.at - up
    finally:
        button.close()
