"""``bedside run``: the parts, the behaviour and the loop put together, under systemd or not.

``run`` takes the signals and the state folder, reads the configuration, has the parts built
(``bedside.app.assembly``: the real set, or with ``mock_hardware`` the mock one, on which the very
same daemon runs on any machine) and runs the loop on them until it is stopped; then it closes
them. The demo, the bench and the tests hand ``run`` a builder of their own, which makes the
mock set and adds the observers that drive and watch it.
"""

from __future__ import annotations

import functools
import logging
import queue
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

from bedside.app.assembly import Driver, Parts, mock_parts, real_parts
from bedside.app.events import Events, Stop, WallMoved
from bedside.app.loop import Loop
from bedside.app.notify import watchdog_interval
from bedside.app.paths import state_directory, voice_folders
from bedside.app.reloads import Reconfiguration, Reloader, at_start
from bedside.app.resume import restore
from bedside.app.scripted import drive_script
from bedside.app.signals import signals_to
from bedside.config.load import ConfigError, load_config, log_warnings
from bedside.config.sections import Config
from bedside.core.behaviour import Behaviour
from bedside.core.script import Command
from bedside.folders import StateLock, check_folder
from bedside.history.rows import completed_nights, growth_nights

log = logging.getLogger("bedside")


@dataclass
class Options:
    config: Path | None = None
    state_dir: Path | None = None
    routine: str | None = None
    mock_hardware: bool = False
    script: list[Command] | None = None
    trace: TextIO | None = None
    speed: float = 1.0
    # The configuration in the behaviour's terms, read at start and again on a reload (the
    # demo's makes the waits for a person real seconds at its speed).
    terms: Callable[[Config], Reconfiguration] = Reconfiguration.from_config


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

        def clock_set(when: datetime) -> None:  # the script's clock command
            controls.wall.set(when)
            events.put(WallMoved())

        script = Driver(
            drive_script,
            controls.pin,
            options.script,
            options.speed,
            done,
            clock_set,
            2 * config.button.bounce / options.speed,  # the last press taken before the end
            name="bedside-script",
        )
        return parts.watched_by(script)

    return build


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
            config = load_config(options.config, voice_folders(state_dir))
            log_warnings(config, log)
            with (build or parts_for(options))(config, state_dir, events) as parts:
                return serve(options, config, parts)


# Seconds past the stage's pre-roll that a cue is asked for ahead of its time: the loop, the
# pipe and the stage's hand-over to the mixer, with room for a busy machine.
AHEAD_PAST_PREROLL = 0.5


def serve(options: Options, config: Config, parts: Parts) -> int:
    """Run the loop on ``parts`` until a Stop; the caller closes them."""
    store, clock = parts.store, parts.clock
    setup = options.terms(config)
    behaviour = Behaviour(
        setup.settings.showing(options.routine),
        setup.thresholds,
        now=clock.now(),
        routine=options.routine,
        wall=parts.wall.read,
        reminder=setup.reminder,
        done=completed_nights(store),
        quiet=setup.quiet,
        holds=growth_nights(store),
    )
    # Trace times count from here: said at -v, so a test can pin them to its own clock.
    log.debug("trace time 0 is monotonic %.6f", clock.real(behaviour.now))
    restore(store, parts.keeper, behaviour, config, parts.wall.known)

    running = config

    def reload() -> Reconfiguration | None:  # on the reloader's thread
        nonlocal running
        try:
            fresh = load_config(options.config, voice_folders(options.state_dir))
        except ConfigError as exc:
            for problem in exc.problems:
                log.error("reload: %s", problem)
            log.error("reload: keeping the configuration already running")
            return None
        log_warnings(fresh, log, "reload: ")
        for name in at_start(running, fresh):
            log.warning("reload: %s changed; it takes effect at the next start", name)
        running = fresh
        taken = options.terms(fresh)
        # The new sounds are rendered now, in the background, for when it takes over.
        parts.voice.prepare(taken.texts, taken.volumes, taken.voice)
        return taken

    if parts.button.is_pressed:
        behaviour.button_already_down()
    parts.voice.prepare(setup.texts, setup.volumes)
    with Reloader(reload, parts.events.put) as reloader:
        loop = Loop(
            behaviour,
            parts,
            reloader=reloader,
            trace=options.trace,
            watchdog=watchdog_interval(),
            ahead=config.sound.preroll + AHEAD_PAST_PREROLL,
        )
        loop.run()
    return 0
