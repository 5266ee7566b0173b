"""``bedside run``: the devices, the core and the loop put together, under systemd or not.

With ``mock_hardware`` the very same daemon runs on any machine: gpiozero's MockFactory for
the button, luma.oled's real ssd1306 over a serial interface that records what it is sent,
and speech synthesised for real and played to a null sink that takes as long as a speaker.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

from bedside.clock import MonotonicClock
from bedside.config import Config, ConfigError, load_config
from bedside.core import Core
from bedside.engine import Phrases, Settings
from bedside.files import usable_folder
from bedside.gestures import Thresholds
from bedside.history import Keeper, Session, Store, completed_nights
from bedside.loop import Loop, Reload, Stop, Wake
from bedside.nights import clock_synced
from bedside.script import Command
from bedside.service import Notifier, watchdog_interval

log = logging.getLogger("bedside")


def state_directory(given: Path | None) -> Path:
    """--state-dir, else systemd's $STATE_DIRECTORY, else ~/.local/state/bedside."""
    if given is not None:
        return given
    env = os.environ.get("STATE_DIRECTORY")
    if env:
        return Path(env.split(":")[0])
    return Path.home() / ".local" / "state" / "bedside"


def cache_directory() -> Path:
    """systemd's $CACHE_DIRECTORY, else ~/.cache/bedside."""
    env = os.environ.get("CACHE_DIRECTORY")
    if env:
        return Path(env.split(":")[0])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "bedside"


def cue_texts(config: Config) -> list[str]:
    """Every text the device may say, most likely first, to synthesise ahead of time."""
    texts: list[str] = []
    for name in config.menu + tuple(n for n in config.routines if n not in config.menu):
        routine = config.routines[name]
        texts += [cue.text for step in routine.steps for cue in step.cues]
        texts.append(routine.finish)
    phrases = Phrases()
    texts += [phrases.paused, phrases.resumed, phrases.ended]
    return list(dict.fromkeys(t for t in texts if t))


def volumes_of(config: Config) -> list[float | None]:
    """The volumes cues are said at: the configured one, and the quieter night's."""
    return [None] + ([config.quiet.volume] if config.quiet is not None else [])


@dataclass
class Options:
    config: Path | None = None
    state_dir: Path | None = None
    routine: str | None = None
    mock_hardware: bool = False
    script: list[Command] | None = None
    trace: TextIO | None = None
    speed: float = 1.0
    player: list[str] | None = None  # the voice's player command; None: the default
    attach: Callable[[Loop, Hardware], None] | None = None  # the demo hooks in here
    extra_threads: list[threading.Thread] = field(default_factory=list)


@dataclass
class Hardware:
    """The three devices, and what a mock run or the demo needs to reach into them."""

    button: object
    oled: object
    voice: object
    pin: object | None = None  # the MockPin, with mock hardware
    serial: object | None = None  # the RecordingSerial, with mock hardware

    def close(self) -> None:
        for part in (self.button, self.voice):
            try:
                part.close()
            except Exception as exc:  # closing must not hide why we stopped
                log.warning("closing %s: %s", type(part).__name__, exc)


def open_hardware(config: Config, options: Options, loop_put: Callable, clock) -> Hardware:
    from bedside.devices.button import ButtonEdges, open_pin_factory
    from bedside.devices.oled import Oled, open_panel
    from bedside.devices.voice import NULL_PLAYER, Voice

    serial = factory = pin = None
    if options.mock_hardware:
        from gpiozero.pins.mock import MockFactory

        from bedside.devices.recorder import RecordingSerial

        factory = MockFactory()
        pin = factory.pin(config.button.pin)
        serial = RecordingSerial()
    else:  # first: a missing pin library is said plainly before any device is opened
        factory = open_pin_factory(config.button.pin_factory)
    oled = Oled(
        lambda: open_panel(config.display, serial), config.display.contrast, now=clock.now()
    )
    player = options.player or (NULL_PLAYER if options.mock_hardware else None)
    cache = usable_folder(cache_directory() / "voice")
    voice = Voice(config.voice, cache, player_command=player, stale_after=config.stale_cue)
    button = ButtonEdges(config.button, loop_put, clock=clock.now, pin_factory=factory)
    return Hardware(button=button, oled=oled, voice=voice, pin=pin, serial=serial)


def restore(store: Store, keeper: Keeper, core: Core, config: Config) -> None:
    """A session a restart interrupted: back where it was and paused, if it was recent."""
    progress = store.current()
    if progress is None:
        return
    routine = config.routines.get(progress.routine)
    age = store.wall() - progress.updated
    # A clock behind the last write (no real-time clock, not synced yet) says nothing of how
    # long ago it was; the person can still end the session with a long hold.
    fits = routine is not None and 0 <= progress.step_index < len(routine.steps)
    if fits and age <= config.resume_within:
        core.resume(
            progress.routine, progress.step_index, progress.step_elapsed, progress.session_elapsed
        )
        keeper.resumed(progress, core.state)
        log.info(
            "resumed %s at step %d, %.0f s in, paused",
            progress.routine,
            progress.step_index + 1,
            progress.step_elapsed,
        )
        return
    log.info("closing the session of %s interrupted %.0f min ago", progress.routine, age / 60)
    steps = len(routine.steps) if routine is not None else progress.step_index + 1
    store.record(
        Session(
            progress.routine, progress.started, progress.updated, False, progress.step_index, steps
        )
    )


def drive_script(pin, commands: Iterable[Command], speed: float, done: Callable[[], None]) -> None:
    """Run a button script in real time on a MockPin (down is low: the button pulls to ground)."""
    for command in commands:
        if command.action == "wait":
            time.sleep(command.seconds / speed)
        else:
            pin.drive_low()
            time.sleep(command.seconds / speed)
            pin.drive_high()
    done()


def run(options: Options) -> int:
    config = load_config(options.config)
    state_dir = usable_folder(state_directory(options.state_dir))
    clock = MonotonicClock(options.speed)
    settings = Settings.from_config(config).showing(options.routine)
    store = Store(state_dir / "bedside.db")

    def wall(at: float) -> datetime | None:
        """The wall clock at monotonic ``at``, while it can be trusted."""
        if not clock_synced():
            return None
        return datetime.now() - timedelta(seconds=clock.now() - at)

    done = completed_nights(store)
    core = Core(
        settings,
        Thresholds.from_config(config.button),
        now=clock.now(),
        routine=options.routine,
        wall=wall,
        reminder=config.reminder,
        done=done,
        quiet=config.quiet,
    )
    keeper = Keeper(store)
    restore(store, keeper, core, config)

    def reload() -> tuple | None:
        try:
            fresh = load_config(options.config)
        except ConfigError as exc:
            for problem in exc.problems:
                log.error("reload: %s", problem)
            log.error("reload: keeping the configuration already running")
            return None
        hardware.voice.prepare(cue_texts(fresh), volumes_of(fresh))
        thresholds = Thresholds.from_config(fresh.button)
        return Settings.from_config(fresh), thresholds, fresh.reminder, fresh.quiet

    from bedside.drawing import render

    events: queue.SimpleQueue = queue.SimpleQueue()
    hardware = open_hardware(config, options, events.put, clock)
    if hardware.button.is_pressed:
        core.button_already_down()
    hardware.voice.prepare(cue_texts(config), volumes_of(config))
    notifier = Notifier()
    loop = Loop(
        core,
        clock,
        oled=hardware.oled,
        voice=hardware.voice,
        render=render,
        notifier=notifier,
        trace=options.trace,
        watchdog=watchdog_interval(),
        reload=reload,
        events=events,
        keeper=keeper,
        # The wall clock may jump (NTP after boot): look again at least once a minute.
        recheck=60.0 if config.reminder is not None else None,
    )

    if options.script is not None:
        done = lambda: loop.put(Stop("script done"))  # noqa: E731
        worker = threading.Thread(
            target=drive_script,
            args=(hardware.pin, options.script, options.speed, done),
            name="bedside-script",
            daemon=True,
        )
        options.extra_threads.append(worker)
        worker.start()
    if options.attach is not None:
        options.attach(loop, hardware)
    try:
        with signals_to(loop):
            loop.run()
    finally:
        hardware.close()
        notifier.close()
        store.close()
    return 0


@contextlib.contextmanager
def signals_to(loop: Loop) -> Iterator[None]:
    """SIGTERM and SIGINT stop the loop, SIGHUP reloads, for as long as the block runs.

    Python runs signal handlers on the main thread, but the kernel may hand the signal to any
    thread (gpiozero's, the voice's), leaving the main thread asleep on its queue until its
    next deadline, which may be never. So every signal also writes to a wakeup socket, and a
    small thread turns that into a ``Wake`` on the queue: the main thread wakes at once and
    runs the handler.
    """
    previous = {
        signal.SIGTERM: signal.signal(signal.SIGTERM, lambda *_: loop.put(Stop("SIGTERM"))),
        signal.SIGINT: signal.signal(signal.SIGINT, lambda *_: loop.put(Stop("SIGINT"))),
        signal.SIGHUP: signal.signal(signal.SIGHUP, lambda *_: loop.put(Reload())),
    }
    reader, writer = socket.socketpair()
    writer.setblocking(False)
    old_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)

    def relay() -> None:
        while reader.recv(64):
            loop.put(Wake())

    thread = threading.Thread(target=relay, name="bedside-signals", daemon=True)
    thread.start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(old_fd)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        writer.shutdown(socket.SHUT_RDWR)  # the relay's recv returns nothing: it ends
        thread.join(timeout=2)
        reader.close()
        writer.close()


def configure_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if verbose else logging.INFO,
        # journald adds its own time stamps; a terminal run wants them
        format="%(levelname)s %(name)s: %(message)s"
        if os.environ.get("INVOCATION_ID")
        else "%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
