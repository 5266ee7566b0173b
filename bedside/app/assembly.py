"""The daemon's parts, and the two ways to make them.

``Parts`` gathers what the loop works with: the clock, the events queue, the button, the panel
(and how a screen is drawn for it), the voice, the store with its keeper, the notifier, and the
observers told what the loop does. ``real_parts`` makes the set for the device (gpiozero's pin
factory, the panel on I2C or SPI, the voice on ALSA); ``mock_parts`` makes the same set for any
machine (gpiozero's MockFactory, luma's real panel class over a ``RecordingSerial``, the sound
stage on a card made of the clock) and hands back the ``MockControls`` a test, the bench or
the demo drives it with.

``Parts`` owns what it opened: closing it (or leaving its ``with``) closes every part once, in
reverse order of opening. A builder that fails half-way closes what it had opened, then raises.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, TypeVar

from gpiozero.pins import Factory
from gpiozero.pins.mock import MockFactory, MockPin
from PIL import Image

from bedside.app import paths
from bedside.app.clocks import MonotonicClock
from bedside.app.events import Events, WallMoved
from bedside.app.notify import Notifier
from bedside.app.wallclock import MockWall, SystemWall, WallClock, WallWatch
from bedside.button import ButtonEdges, open_pin_factory
from bedside.closing import Closing
from bedside.config.sections import Config
from bedside.core.behaviour import Output
from bedside.core.clock import Clock
from bedside.core.screens import Screen
from bedside.display.geometry import WIDTH
from bedside.display.panel import Oled, open_panel
from bedside.display.partial import PartialUpdates
from bedside.display.picture import picture
from bedside.display.recording_bus import RecordingSerial
from bedside.folders import check_folder
from bedside.history.keeper import Keeper
from bedside.history.store import Store
from bedside.voice import NULL_OUTPUT, Speaker, VoiceSettings

# Opens the panel: at start-up, and again after it was lost (unplugged, a bus error).
PanelOpener = Callable[[], PartialUpdates]

log = logging.getLogger("bedside")


class Voice(Protocol):
    """What the daemon speaks through (``bedside.voice.Speaker``, or the demo's)."""

    def prepare(
        self,
        texts: list[str],
        volumes: list[float | None],
        settings: VoiceSettings | None = None,
    ) -> None: ...
    def reconfigure(self, settings: VoiceSettings) -> None: ...
    def say(self, text: str, volume: float | None = None, at: float | None = None) -> None: ...
    def silence(self) -> None: ...
    def withdraw(self) -> None: ...
    def wake(self) -> None: ...
    def chime(self, kind: str, at: float | None = None) -> None: ...
    def soundscape(self, on: bool, fade: float = 3.0) -> None: ...
    def sleep_timer(self) -> None: ...
    def listen(self, hear: Callable[[dict[str, Any]], None]) -> None: ...


class Observer:
    """Told, on the loop's thread, what the loop does: each output it carries out, each screen
    it draws (the dark one too), and once, when it is ready. Each does nothing unless a
    subclass says otherwise; each must be quick, since the loop waits for it."""

    def ready(self) -> None:
        pass

    def output(self, t: float, output: Output) -> None:
        pass

    def frame(self, screen: Screen) -> None:
        pass


class Driver(Observer):
    """Runs ``drive(*args)`` on a thread of its own once the loop is ready: how a script, a
    test, the bench or the demo's keyboard works the running daemon from outside."""

    def __init__(self, drive: Callable[..., object], *args: object, name: str = "driver") -> None:
        self.drive, self.args, self.name = drive, args, name

    def ready(self) -> None:
        threading.Thread(target=self.drive, args=self.args, name=self.name, daemon=True).start()


@dataclass(frozen=True)
class MockControls:
    """What works a mock set from outside: the button's pin (down is low: the button grounds
    it) and the serial interface that records what the panel is sent."""

    pin: MockPin
    serial: RecordingSerial
    wall: MockWall  # set by a script's clock command


@dataclass(frozen=True)
class Parts(Closing):
    """Everything the loop works with, each part opened; ``closing`` closes them all. A
    caller changes a part (the demo's voice) or adds observers with ``dataclasses.replace``
    or ``watched_by``, before the loop is made: the result owns the same parts."""

    clock: Clock  # the monotonic clock, at the speed asked for; a virtual one in tests
    wall: WallClock  # the wall clock, read at the monotonic clock's times, when known
    events: Events
    button: ButtonEdges
    panel: Oled
    render: Callable[[Screen], Image.Image]  # a screen drawn at the panel's size
    voice: Voice
    store: Store
    keeper: Keeper
    notifier: Notifier
    observers: tuple[Observer, ...] = ()
    closing: contextlib.ExitStack = field(default_factory=contextlib.ExitStack, repr=False)

    def watched_by(self, *observers: Observer) -> Parts:
        """The same parts, with ``observers`` told too."""
        return replace(self, observers=(*self.observers, *observers))

    def close(self) -> None:
        """Close every part, the last opened first; a second call does nothing."""
        self.closing.close()


def real_parts(
    config: Config,
    state_dir: Path,
    events: Events,
    *,
    speed: float = 1.0,
    clock: Clock | None = None,
    pin_factory: Factory | None = None,
    panel: PanelOpener | None = None,
    cache: Path | None = None,
    output: str | None = None,
    wall: WallClock | None = None,
) -> Parts:
    """The device's own: the button on gpiozero's pin factory (the configured one, unless
    given), the panel on its bus, the voice on ALSA. A missing pin library is said plainly
    before any device is opened. Each part may be given instead, as gpiozero's devices take
    their ``pin_factory``."""
    if pin_factory is None:
        pin_factory = open_pin_factory(config.button.pin_factory)
    clock = clock if clock is not None else MonotonicClock(speed)
    with contextlib.ExitStack() as stack:
        if wall is None:  # the system's clock, and the kernel's word each time it is set
            wall = SystemWall(clock)
            stack.enter_context(WallWatch(lambda: events.put(WallMoved())))
        parts = assemble(
            config,
            events,
            clock=clock,
            wall=wall,
            pin_factory=pin_factory,
            panel=panel if panel is not None else functools.partial(open_panel, config.display),
            database=paths.database(state_dir),
            cache=cache if cache is not None else _cache_folder(),
            output=output,
        )
        parts.closing.push(stack.pop_all())  # the watch closes with the parts, last
    return parts


def mock_parts(
    config: Config,
    state_dir: Path,
    events: Events,
    *,
    speed: float = 1.0,
    clock: Clock | None = None,
    pin_factory: MockFactory | None = None,
    cache: Path | None = None,
    output: str | None = None,
) -> tuple[Parts, MockControls]:
    """The same daemon on any machine: gpiozero's MockFactory (``pin_factory``, else a new
    one), luma's real class for the configured panel over a RecordingSerial, and speech
    synthesised for real and played by the sound stage on ``output`` (``null``, a card made of the
    clock that takes as long as a speaker, unless given)."""
    factory = pin_factory if pin_factory is not None else MockFactory()
    pin = factory.pin(config.button.pin)
    serial = RecordingSerial(driver=config.display.driver, height=config.display.height)
    clock = clock if clock is not None else MonotonicClock(speed)
    wall = MockWall.from_system(clock)  # the machine's time, until a script sets another
    parts = assemble(
        config,
        events,
        clock=clock,
        wall=wall,
        pin_factory=factory,
        panel=functools.partial(open_panel, config.display, serial),
        database=paths.database(state_dir),
        cache=cache if cache is not None else _cache_folder(),
        output=output if output is not None else NULL_OUTPUT,
    )
    return parts, MockControls(pin=pin, serial=serial, wall=wall)


def assemble(
    config: Config,
    events: Events,
    *,
    clock: Clock,
    wall: WallClock,
    pin_factory: Factory,
    panel: PanelOpener,
    database: Path,
    cache: Path | None,
    output: str | None,
) -> Parts:
    """The parts, every one made from what it is given: the composition root. ``cache`` is the
    cache folder (the voice keeps its sounds in a folder of its own in it; None: there is none,
    and the voice is silent), ``database`` the history's file, ``panel`` opens the panel
    (again, after it was lost), ``output`` is the sound stage's (None: ``[voice] device``)."""
    stack = contextlib.ExitStack()
    with stack:  # closes what opened if a later part fails; then Parts owns them all
        store = _owned(stack, Store(database, wall=wall.timestamp, clock=clock.now))
        stack.callback(_flush, store)  # runs before the store closes, after the rest
        button = _owned(
            stack,
            ButtonEdges(
                config.button,
                events.put,
                clock=clock.now,
                pin_factory=pin_factory,
                speed=clock.speed,
            ),
        )
        oled = _owned(stack, Oled(panel, config.display.contrast, now=clock.now()))
        # A cache folder that cannot be made is the voice's to live without (it makes its
        # folder itself: silent, with one warning).
        voice = _owned(
            stack,
            Speaker(
                config.voice if cache is not None else replace(config.voice, enabled=False),
                paths.voice_cache(cache if cache is not None else Path(os.devnull)),
                output,
                stale_after=config.stale_cue,
                sounds=config.sounds,
                sound_config=config.sound,
                soundscape=config.soundscape,
            ),
        )
        notifier = _owned(stack, Notifier())
        parts = Parts(
            clock=clock,
            wall=wall,
            events=events,
            button=button,
            panel=oled,
            render=functools.partial(picture, size=(WIDTH, config.display.height)),
            voice=voice,
            store=store,
            keeper=Keeper(store, speed=clock.speed, known=wall.known),
            notifier=notifier,
            closing=stack.pop_all(),
        )
    return parts


def _cache_folder() -> Path | None:
    """The cache folder systemd or the XDG places give; one that is a file is refused. None,
    with one warning, when there is no home to find it in: the device runs, silent."""
    try:
        return check_folder(paths.cache_directory(), "the cache folder")
    except paths.NoHome as exc:
        log.warning("no voice: %s", exc)
        return None


class _Closable(Protocol):
    def close(self) -> None: ...


T = TypeVar("T", bound=_Closable)


def _owned(stack: contextlib.ExitStack, part: T) -> T:
    stack.callback(_close, part)
    return part


def _close(part: _Closable) -> None:
    try:
        part.close()
    except Exception as exc:  # closing one part must not hide why we stopped, nor skip the rest
        log.warning("closing %s: %s", type(part).__name__, exc)


def _flush(store: Store) -> None:
    if not store.flush():
        log.warning("stopping with progress unsaved (%s)", store.trouble)
