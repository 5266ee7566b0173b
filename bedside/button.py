"""The push button: gpiozero's ``DigitalInputDevice``, reduced to timestamped edges on a queue.

gpiozero calls back on its own threads. The callbacks here do the least they can: hand
``Edge(pressed, at)`` to the event loop's queue, ``at`` when the edge happened. That is the
kernel's time of the edge where the pin library has it (lgpio hands gpiozero each line event's
timestamp), not when the callback ran: a callback thread kept waiting on a busy Pi would make
2 ms of contact chatter look tens of ms long, long enough to count as presses. Everything else (what
counts as a press, a hold, contact bounce) is the pure recogniser's job, where it is tested.
gpiozero's own ``bounce_time`` is left off on purpose: it drops edges, and a dropped release
leaves a button that looks held forever; a closure shorter than ``[button] bounce`` is ignored
by the recogniser instead. gpiozero's ``Button`` is left aside too: it is this device with a
hold thread that wakes every 100 ms for as long as it lives, pressed or not, which kept an idle
bedside waking 10 times a second (``make bench``'s ``idle_wakeups_per_s``); holds are the
recogniser's as well.

Tests and ``--mock-hardware`` hand in gpiozero's ``MockFactory`` as ``pin_factory``; on a Pi,
``open_pin_factory`` gives the one ``[button] pin_factory`` names, or gpiozero's own choice
(lgpio on every Pi, the Pi 5 included; then RPi.GPIO, pigpio, native) when it names none.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points

from gpiozero.pins import Factory

from bedside.closing import Closing
from bedside.config.keys import PIN_FACTORIES, pin_factory_names
from bedside.config.sections import ButtonConfig
from bedside.core.errors import TroubleError


@dataclass(frozen=True)
class Edge:
    pressed: bool
    at: float  # monotonic seconds


class ButtonEdges(Closing):
    """Puts an ``Edge`` on ``put`` each time the button goes down or comes up."""

    def __init__(
        self,
        config: ButtonConfig,
        put: Callable[[Edge], None],
        clock: Callable[[], float] = time.monotonic,
        pin_factory: Factory | None = None,
        speed: float = 1.0,
    ) -> None:
        from gpiozero import DigitalInputDevice  # here: finding a pin factory takes a moment

        self._put = put
        self._clock = clock
        self._speed = speed  # the loop's clock may run fast (the demo): its seconds a real one
        self.button = DigitalInputDevice(
            config.pin, pull_up=config.pull_up, bounce_time=None, pin_factory=pin_factory
        )
        self.button.when_activated = self._pressed
        self.button.when_deactivated = self._released

    def _pressed(self) -> None:
        self._put(Edge(True, self._when(self.button.active_time)))

    def _released(self) -> None:
        self._put(Edge(False, self._when(self.button.inactive_time)))

    def _when(self, age: float | None) -> float:
        """When the edge happened on the loop's clock: now, less how long ago the pin library
        says it was (the time since gpiozero's record of the change, by its own ticks). An
        age that makes no sense (none, negative, seconds old) is taken as now."""
        now = self._clock()
        if age is None or not 0.0 <= age <= self.LATEST:
            return now
        return now - age * self._speed

    LATEST = 2.0  # seconds: a callback later than this is not a late callback but a broken clock

    @property
    def is_pressed(self) -> bool:
        return bool(self.button.is_active)

    def close(self) -> None:
        """Let go of the pin; safe to call again (gpiozero's close is)."""
        self.button.close()


# How to get each of gpiozero's pin factories working, for the message when one cannot open.
_FIXES = {
    "lgpio": "on a Raspberry Pi, `sudo make install` installs lgpio; the user needs read and "
    "write access to /dev/gpiochip* (the gpio group)",
    "rpigpio": "RPi.GPIO works on a Pi 4 and older only (`pip install RPi.GPIO`); "
    'on a Pi 5 use pin_factory = "lgpio"',
    "pigpio": "`pip install pigpio` and start its daemon: `sudo systemctl enable --now pigpiod`",
    "native": "gpiozero's native factory needs /dev/gpiomem, which a Pi 4 and older have",
}
_AUTOMATIC_FIX = (
    "on a Raspberry Pi, `sudo make install` installs lgpio (or set [button] pin_factory); "
    "on another machine, `bedside run --mock-hardware` runs bedside without a button"
)


class PinFactoryUnavailable(TroubleError):
    """No pin factory could open the GPIO pins; the message says what is missing and the fix."""


def open_pin_factory(name: str | None) -> Factory:
    """gpiozero's pin factory called ``name``, or gpiozero's own choice when ``name`` is None
    (which honours $GPIOZERO_PIN_FACTORY). Raises PinFactoryUnavailable, never a traceback."""
    if name is None:
        from gpiozero import Device
        from gpiozero.exc import BadPinFactory, PinFactoryFallback

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                Device.ensure_pin_factory()
            except BadPinFactory:  # every default failed; gpiozero warned once for each
                # Only gpiozero's own: importing a library may warn too (SWIG's lgpio does).
                fallbacks = [w for w in caught if issubclass(w.category, PinFactoryFallback)]
                tried = "; ".join(_fallback(str(w.message)) for w in fallbacks)
                raise PinFactoryUnavailable(
                    f"no pin factory could open the GPIO pins (tried {tried}); "
                    f"fix: {_AUTOMATIC_FIX}"
                ) from None
            except Exception as exc:  # the one $GPIOZERO_PIN_FACTORY names, failing its own way
                raise PinFactoryUnavailable(
                    f"the pin factory $GPIOZERO_PIN_FACTORY names cannot open the GPIO pins: "
                    f"{_reason(exc)}; fix: {_AUTOMATIC_FIX}"
                ) from None
        return Device.pin_factory
    found = [ep for ep in entry_points(group=PIN_FACTORIES) if ep.name == name]
    if not found:
        raise PinFactoryUnavailable(
            f'gpiozero has no pin factory "{name}" (it has {", ".join(pin_factory_names())})'
        )
    try:
        return found[0].load()()
    except Exception as exc:  # each library fails its own way: ImportError, OSError, its error
        fix = _FIXES.get(name, "see gpiozero's documentation of its pin factories")
        raise PinFactoryUnavailable(
            f'the pin factory "{name}" ([button] pin_factory) cannot open the GPIO pins: '
            f"{_reason(exc)}; fix: {fix}"
        ) from None


def _fallback(message: str) -> str:
    """gpiozero's "Falling back from lgpio: No module named 'lgpio'" in a person's words."""
    name, _, why = message.removeprefix("Falling back from ").partition(": ")
    if why.startswith("No module named"):
        why = "not installed"
    elif "Pi revision" in why:
        why = "this is not a Raspberry Pi"
    return f"{name}: {why}" if why else name


def _reason(exc: Exception) -> str:
    if isinstance(exc, ImportError) and exc.name:
        return f"the Python package {exc.name.split('.')[0]} is not installed"
    return str(exc) or type(exc).__name__


def describe_pin_factory(factory: Factory) -> str:
    """Which pin factory this is and the gpiochip it opened: "lgpio on /dev/gpiochip0"."""
    cls = type(factory)
    target = f"{cls.__module__}:{cls.__qualname__}"
    names = [ep.name for ep in entry_points(group=PIN_FACTORIES) if ep.value == target]
    name = names[0] if names else cls.__name__
    chip = getattr(factory, "chip", None)
    if chip is not None:
        return f"{name} on /dev/gpiochip{chip}"
    if name == "mock":
        return "mock: simulated pins, no gpiochip"
    if name == "pigpio":
        return f"pigpio through the pigpio daemon at {factory.host}:{factory.port}, no gpiochip"
    return f"{name} through /dev/gpiomem, no gpiochip"
