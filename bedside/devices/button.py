"""The push button: gpiozero's ``Button``, reduced to timestamped edges on a queue.

gpiozero calls back on its own threads. The callbacks here do the least they can: read the
monotonic clock and hand ``Edge(pressed, at)`` to the event loop's queue. Everything else (what
counts as a press, a hold, contact bounce) is the pure recogniser's job, where it is tested.
gpiozero's own ``bounce_time`` is left off on purpose: it drops edges, and a dropped release
leaves a button that looks held forever; a closure shorter than ``[button] bounce`` is ignored
by the recogniser instead.

Tests and ``--mock-hardware`` hand in gpiozero's ``MockFactory`` as ``pin_factory``; on a Pi,
gpiozero picks lgpio (every Pi, the Pi 5 included) or RPi.GPIO by itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from bedside.config import ButtonConfig


@dataclass(frozen=True)
class Edge:
    pressed: bool
    at: float  # monotonic seconds


class ButtonEdges:
    """Puts an ``Edge`` on ``put`` each time the button goes down or comes up."""

    def __init__(
        self,
        config: ButtonConfig,
        put: Callable[[Edge], None],
        clock: Callable[[], float] = time.monotonic,
        pin_factory=None,
    ) -> None:
        from gpiozero import Button  # imported here: finding a pin factory takes a moment

        self._put = put
        self._clock = clock
        self.button = Button(
            config.pin, pull_up=config.pull_up, bounce_time=None, pin_factory=pin_factory
        )
        self.button.when_pressed = self._pressed
        self.button.when_released = self._released

    def _pressed(self) -> None:
        self._put(Edge(True, self._clock()))

    def _released(self) -> None:
        self._put(Edge(False, self._clock()))

    @property
    def is_pressed(self) -> bool:
        return bool(self.button.is_pressed)

    def close(self) -> None:
        self.button.close()
