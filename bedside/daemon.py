"""``bedside run``: the devices, the behaviour and the loop put together, under systemd or not.

With ``mock_hardware`` the very same daemon runs on any machine: gpiozero's MockFactory for
the button, luma.oled's real ssd1306 over a serial interface that records what it is sent,
and speech synthesised for real and played to a null sink that takes as long as a speaker.
"""

from __future__ import annotations

import contextlib
import functools
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
from pathlib import Path
from typing import TextIO

from bedside.behaviour import Behaviour
from bedside.clock import MonotonicClock
from bedside.config import Config, ConfigError, load_config
from bedside.files import StateLock, check_folder
from bedside.gestures import Thresholds
from bedside.history import Keeper, Progress, Session, Store, completed_nights, step_key
from bedside.hold import HoldNight, HoldPlan
from bedside.loop import Loop, Reload, Stop, Wake
from bedside.routine_engine import Phrases, Settings
from bedside.routines import Routine
from bedside.script import Command
from bedside.service import Notifier, watchdog_interval
from bedside.wallclock import wall_reader

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
    names = config.menu + tuple(n for n in config.routines if n not in config.menu)
    routines = [config.routines[name] for name in names]
    for routine in routines:
        texts += [cue.text for step in routine.steps for cue in step.cues]
        texts.append(routine.finish)
    texts += Phrases().every(routines, hold_lengths(config.hold))
    if config.reminder is not None:
        texts.append(config.reminder.text)
    return list(dict.fromkeys(t for t in texts if t))


def hold_lengths(plan: HoldPlan) -> list[float]:
    """Every length the hold that grows can have."""
    if not plan.grow:
        return []
    lengths, length = [plan.start], plan.start
    while plan.step > 0 and length < plan.longest:
        length = min(plan.longest, length + plan.step)
        lengths.append(length)
    return lengths


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
        serial = RecordingSerial(driver=config.display.driver, height=config.display.height)
    else:  # first: a missing pin library is said plainly before any device is opened
        factory = open_pin_factory(config.button.pin_factory)
    button = ButtonEdges(config.button, loop_put, clock=clock.now, pin_factory=factory)
    oled = Oled(
        lambda: open_panel(config.display, serial), config.display.contrast, now=clock.now()
    )
    player = options.player or (NULL_PLAYER if options.mock_hardware else None)
    # A cache folder that is a file is refused; one that cannot be made is the voice's to
    # live without (it makes its folder itself: silent, with one warning).
    voice = Voice(
        config.voice,
        check_folder(cache_directory(), "the cache folder") / "voice",
        player_command=player,
        stale_after=config.stale_cue,
        sounds=config.sounds,
    )
    return Hardware(button=button, oled=oled, voice=voice, pin=pin, serial=serial)


def find_step(routine: Routine, progress: Progress) -> int | None:
    """Where the interrupted step is in ``routine`` now, which may have been edited since:
    the same step (by its fingerprint) nearest the index it had, or None if it is gone."""
    steps = routine.steps
    if not progress.step_key:  # saved before fingerprints were kept: trust the index
        return progress.step_index if progress.step_index < len(steps) else None
    same = [i for i, step in enumerate(steps) if step_key(step) == progress.step_key]
    return min(same, key=lambda i: abs(i - progress.step_index), default=None)


def restore(store: Store, keeper: Keeper, behaviour: Behaviour, config: Config) -> None:
    """A session a restart interrupted: back where it was and paused, if it was recent."""
    progress = store.current()
    if progress is None:
        return
    routine = config.routines.get(progress.routine)
    age = store.wall() - progress.updated
    index = find_step(routine, progress) if routine is not None else None
    # A clock behind the last write (no real-time clock, not synced yet) says nothing of how
    # long ago it was; the person can still end the session with a long hold.
    if index is not None and age <= config.resume_within:
        behaviour.resume(progress.routine, index, progress.step_elapsed, progress.session_elapsed)
        keeper.resumed(progress, behaviour.state)
        log.info(
            "resumed %s at step %d, %.0f s in, %s",
            progress.routine,
            index + 1,
            progress.step_elapsed,
            behaviour.state.mode.value,
        )
        return
    if routine is None:
        log.warning("closing the session of %s: that routine is gone", progress.routine)
    elif index is None:
        log.warning(
            "closing the session of %s: the routine was changed and its step %d is gone",
            progress.routine,
            progress.step_index + 1,
        )
    else:
        log.info("closing the session of %s interrupted %.0f min ago", progress.routine, age / 60)
    steps = len(routine.steps) if routine is not None else progress.step_index + 1
    done = min(progress.step_index, steps)
    store.record(Session(progress.routine, progress.started, progress.updated, False, done, steps))


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
    # Signal handlers come first: a SIGTERM or SIGHUP while the devices open waits on the
    # queue for the loop, instead of killing the daemon half-made or skipping its clean-up.
    events: queue.SimpleQueue = queue.SimpleQueue()
    with signals_to(events.put):
        state_dir = check_folder(state_directory(options.state_dir), "the state folder")
        with StateLock(state_dir):
            return _run(options, events, state_dir)


def _run(options: Options, events: queue.SimpleQueue, state_dir: Path) -> int:
    config = load_config(options.config)
    clock = MonotonicClock(options.speed)
    settings = Settings.from_config(config).showing(options.routine)
    store = Store(state_dir / "bedside.db", clock=clock.now)

    wall = wall_reader(clock)
    done = completed_nights(store)
    behaviour = Behaviour(
        settings,
        Thresholds.from_config(config.button),
        now=clock.now(),
        routine=options.routine,
        wall=wall,
        reminder=config.reminder,
        done=done,
        quiet=config.quiet,
        hold=config.hold,
        holds=[HoldNight(h.night, h.held) for h in store.holds()],
        cues=config.cues,
    )
    # Trace times count from here: said at -v, so a test can pin them to its own clock.
    log.debug("trace time 0 is monotonic %.6f", clock.real(behaviour.now))
    keeper = Keeper(store, speed=options.speed)
    restore(store, keeper, behaviour, config)

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
        settings = Settings.from_config(fresh)
        return settings, thresholds, fresh.reminder, fresh.quiet, fresh.hold, fresh.cues

    from bedside.drawing import render

    try:
        hardware = open_hardware(config, options, events.put, clock)
    except BaseException:
        store.close()
        raise
    if hardware.button.is_pressed:
        behaviour.button_already_down()
    hardware.voice.prepare(cue_texts(config), volumes_of(config))
    notifier = Notifier()
    loop = Loop(
        behaviour,
        clock,
        oled=hardware.oled,
        voice=hardware.voice,
        render=functools.partial(render, size=(128, config.display.height)),
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
        loop.run()
    finally:
        hardware.close()
        notifier.close()
        if not store.flush():
            log.warning("stopping with progress unsaved (%s)", store.trouble)
        store.close()
    return 0


@contextlib.contextmanager
def signals_to(put: Callable[[Stop | Reload | Wake], None]) -> Iterator[None]:
    """SIGTERM and SIGINT stop the loop, SIGHUP reloads, for as long as the block runs.

    Python runs signal handlers on the main thread, but the kernel may hand the signal to any
    thread (gpiozero's, the voice's), leaving the main thread asleep on its queue until its
    next deadline, which may be never. So every signal also writes to a wakeup socket, and a
    small thread turns that into a ``Wake`` on the queue: the main thread wakes at once and
    runs the handler.
    """
    previous = {
        signal.SIGTERM: signal.signal(signal.SIGTERM, lambda *_: put(Stop("SIGTERM"))),
        signal.SIGINT: signal.signal(signal.SIGINT, lambda *_: put(Stop("SIGINT"))),
        signal.SIGHUP: signal.signal(signal.SIGHUP, lambda *_: put(Reload())),
    }
    reader, writer = socket.socketpair()
    writer.setblocking(False)
    old_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)

    def relay() -> None:
        while reader.recv(64):
            put(Wake())

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
