"""``bedside run``: the parts, the behaviour and the loop put together, under systemd or not.

``run`` takes the signals and the state folder, reads the configuration, has the parts built
(``bedside.app.assembly``: the real set, or with ``mock_hardware`` the mock one, on which the very
same daemon runs on any machine) and runs the loop on them until it is stopped; then it closes
them. The demo, the bench and the tests hand ``run`` a builder of their own, which makes the
mock set and adds the observers that drive and watch it.
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
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bedside.app.assembly import Driver, Events, Parts, mock_parts, real_parts
from bedside.app.loop import Loop, Reconfiguration, Reload, Stop, Wake
from bedside.app.notify import watchdog_interval
from bedside.app.wallclock import wall_reader
from bedside.config.load import Config, ConfigError, load_config
from bedside.core.behaviour import Behaviour
from bedside.core.growth import GrowthNight, GrowthPlan
from bedside.core.phrases import Phrases
from bedside.core.routines import Routine
from bedside.core.script import Command
from bedside.folders import StateLock, check_folder
from bedside.history.keeper import Keeper
from bedside.history.rows import Progress, Session, completed_nights, step_key
from bedside.history.store import Store

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


def hold_lengths(plan: GrowthPlan) -> list[float]:
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


# Makes the daemon's parts from its configuration, its state folder and its events queue.
Build = Callable[[Config, Path, Events], Parts]


def parts_for(options: Options) -> Build:
    """What ``bedside run`` builds: the real parts, or the mock ones worked by ``--script``."""
    if not options.mock_hardware:
        return functools.partial(real_parts, speed=options.speed)

    def build(config: Config, state_dir: Path, events: Events) -> Parts:
        parts, controls = mock_parts(config, state_dir, events, speed=options.speed)
        if options.script is None:
            return parts
        done = functools.partial(events.put, Stop("script done"))
        script = Driver(
            drive_script, controls.pin, options.script, options.speed, done, name="bedside-script"
        )
        return parts.watched_by(script)

    return build


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


def run(options: Options, build: Build | None = None, events: Events | None = None) -> int:
    """The daemon, until it is stopped: the parts ``build`` makes (by default those
    ``options`` ask for) worked by the behaviour. Whoever drives it from another thread puts
    on ``events`` (a Stop ends it); one is made when none is given."""
    # Signal handlers come first: a SIGTERM or SIGHUP while the devices open waits on the
    # queue for the loop, instead of killing the daemon half-made or skipping its clean-up.
    events = events if events is not None else queue.SimpleQueue()
    with signals_to(events.put):
        state_dir = check_folder(state_directory(options.state_dir), "the state folder")
        with StateLock(state_dir):
            config = load_config(options.config)
            with (build or parts_for(options))(config, state_dir, events) as parts:
                return serve(options, config, parts)


def serve(options: Options, config: Config, parts: Parts) -> int:
    """Run the loop on ``parts`` until a Stop; the caller closes them."""
    store, clock = parts.store, parts.clock
    setup = Reconfiguration.from_config(config)
    behaviour = Behaviour(
        setup.settings.showing(options.routine),
        setup.thresholds,
        now=clock.now(),
        routine=options.routine,
        wall=wall_reader(clock),
        reminder=setup.reminder,
        done=completed_nights(store),
        quiet=setup.quiet,
        hold=setup.hold,
        holds=[GrowthNight(h.night, h.held) for h in store.growth_rows()],
        cues=setup.cues,
    )
    # Trace times count from here: said at -v, so a test can pin them to its own clock.
    log.debug("trace time 0 is monotonic %.6f", clock.real(behaviour.now))
    restore(store, parts.keeper, behaviour, config)

    def reload() -> Reconfiguration | None:
        try:
            fresh = load_config(options.config)
        except ConfigError as exc:
            for problem in exc.problems:
                log.error("reload: %s", problem)
            log.error("reload: keeping the configuration already running")
            return None
        parts.voice.prepare(cue_texts(fresh), volumes_of(fresh))
        return Reconfiguration.from_config(fresh)

    if parts.button.is_pressed:
        behaviour.button_already_down()
    parts.voice.prepare(cue_texts(config), volumes_of(config))
    loop = Loop(
        behaviour,
        parts,
        reload=reload,
        trace=options.trace,
        watchdog=watchdog_interval(),
        # The wall clock may jump (NTP after boot): look again at least once a minute.
        recheck=60.0 if config.reminder is not None else None,
    )
    loop.run()
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
