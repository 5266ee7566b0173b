"""The daemon's ``--script`` on the mock pin: the script's moments slept to on a clock, and a
press never cut shorter than written when the driver comes to it late (a loaded machine)."""

from __future__ import annotations

from gpiozero.pins.mock import MockFactory

from bedside.app.scripted import drive_script
from bedside.core.script import parse_script


class LateClock:
    """A clock that sleeps exactly, except that the sleeps listed in ``late`` overrun."""

    def __init__(self, late: dict[int, float]) -> None:
        self.now, self.sleeps, self.late = 100.0, 0, late

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds + self.late.get(self.sleeps, 0.0)
        self.sleeps += 1


class Edges:
    """What the pin's own edge detection reports, on the clock's time."""

    def __init__(self, clock: LateClock) -> None:
        self.clock, self.seen = clock, list[tuple[str, float]]()

    def changed(self, ticks: float, state: bool) -> None:  # gpiozero keeps a weak reference
        self.seen.append(("up" if state else "down", round(self.clock.now, 9)))


def edges_of(script: str, late: dict[int, float], speed: float = 1.0) -> list[tuple[str, float]]:
    clock = LateClock(late)
    pin = MockFactory().pin(17)
    pin.function = "input"
    pin.drive_high()  # the pull-up: the button is open
    edges = Edges(clock)
    pin.edges = "both"
    pin.when_changed = edges.changed
    drive_script(
        pin, parse_script(script), speed, lambda: None, clock=clock.time, sleep=clock.sleep
    )
    return edges.seen


def test_the_script_runs_to_its_moments_from_its_start():
    assert edges_of("wait 1\npress\nwait 2\nhold 1.5\n", {}) == [
        ("down", 101.0),
        ("up", 101.1),
        ("down", 103.1),
        ("up", 104.6),
    ]


def test_a_press_reached_late_keeps_its_length():
    # The sleep before the first press overruns by 0.3 s: the press still lasts 0.1 s, and
    # what follows keeps its distance from it.
    assert edges_of("wait 1\npress\nwait 2\npress\n", {0: 0.3}) == [
        ("down", 101.3),
        ("up", 101.4),
        ("down", 103.4),
        ("up", 103.5),
    ]
