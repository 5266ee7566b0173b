"""The event loop: one queue, one deadline, and the effects carried out on the devices.

Everything that happens from outside (a button edge from gpiozero's thread, a signal, the end
of a script) is put on one queue. The loop waits on it with a timeout that runs to the next
deadline (a cue, the end of a step, the next second of a countdown, a watchdog ping), so it
wakes only when there is something to do: no polling, and nothing at all while the display is
dark and no watchdog asks. Deadlines come from the behaviour, computed from when each step began on
the monotonic clock, so no sleep adds drift.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from bedside.app.assembly import Parts
from bedside.app.events import Arrival, Edge, Events, Reload, Stop, WallMoved
from bedside.config import core_terms
from bedside.config.sections import Config
from bedside.core.behaviour import Behaviour, ButtonStuck, GrowthRecorded, Output, ScreenChanged
from bedside.core.effects import (
    Display,
    Finished,
    GestureTaken,
    Say,
    Silence,
    StateChanged,
    StepStarted,
)
from bedside.core.gestures import Thresholds
from bedside.core.nights import Quiet, Reminder
from bedside.core.screens import Screen, View
from bedside.core.settings import Settings
from bedside.core.state import Mode
from bedside.core.trace import Trace
from bedside.history.rows import completed_nights, growth_nights

log = logging.getLogger("bedside")


@dataclass(frozen=True)
class Reconfiguration:
    """A configuration read again, in the terms ``Behaviour.reconfigure`` takes it."""

    settings: Settings
    thresholds: Thresholds
    reminder: Reminder | None
    quiet: Quiet | None

    @classmethod
    def from_config(cls, config: Config) -> Reconfiguration:
        return cls(
            core_terms.settings(config),
            core_terms.thresholds(config.button),
            config.reminder,
            config.quiet,
        )


class Loop:
    """The daemon running: ``behaviour`` worked by ``parts`` until a Stop arrives on their
    events queue. ``reload`` reads the configuration again (None: what is running stays),
    ``trace`` takes the JSON trace, ``watchdog`` is how often systemd wants a ping. The wall
    clock, once known, is watched by the kernel's notice that it was set (a ``WallMoved``);
    until it is known, the loop looks again every ``RECHECK`` seconds."""

    RECHECK = 60.0

    def __init__(
        self,
        behaviour: Behaviour,
        parts: Parts,
        *,
        reload: Callable[[], Reconfiguration | None] | None = None,
        trace: TextIO | None = None,
        watchdog: float | None = None,
    ) -> None:
        self.behaviour = behaviour
        self.parts = parts
        self.clock = parts.clock
        self.panel = parts.panel
        self.voice = parts.voice
        self.notifier = parts.notifier
        self.keeper = parts.keeper
        self.events: Events = parts.events
        self.reload = reload
        self.trace = None if trace is None else Trace(trace, flush=True)
        # The stage's reports come on its reader's thread: one trace line at a time.
        self._trace_lock = threading.Lock()
        if self.trace is not None:
            self.voice.listen(self._heard)
        self.watchdog = watchdog
        self.known = parts.wall.known()  # the wall clock, at the last look
        self.start = behaviour.now
        self.next_ping = self.clock.now() + watchdog if watchdog else None
        self.next_shift: float | None = None
        # A reloaded configuration waits for the menu: a session runs to its end as it began.
        self.pending_reload: Reconfiguration | None = None

    # -- running -----------------------------------------------------------------------------
    def run(self) -> str:
        """Until a Stop arrives; returns its reason."""
        self._carry_out()
        self.keeper.after(self.behaviour.state, self.behaviour.now)
        self._redraw(self.clock.now())
        self.notifier.ready(self._status())
        log.info("ready: %s", self._status())
        for observer in self.parts.observers:
            observer.ready()
        while True:
            item = self._wait()
            now = self.clock.now()
            if isinstance(item, Stop):
                self._shutdown(item.reason)
                return item.reason
            if isinstance(item, Edge):
                log.debug("button %s at %.3f", "down" if item.pressed else "up", item.at)
                if item.pressed and self.behaviour.state.mode is not Mode.RUNNING:
                    # A press after the routine (the sleep timer running) ends the bed, faded.
                    self.voice.soundscape(False)
                self.behaviour.edge(item.pressed, item.at)
                # Not on to `now` yet: an edge queued behind this one (the loop came late)
                # happened before it, and is taken first at its own time; the next turn waits
                # for nothing, since what fell due meanwhile is already past.
                now = self.behaviour.now
            elif isinstance(item, WallMoved):
                log.info("the wall clock was set: %s", self._wall_said())
                self.behaviour.wall_moved(now)
                self.known = self.parts.wall.known()
            elif isinstance(item, Reload) and self.reload is not None:
                fresh = self.reload()  # None: it logged every problem; the old one stays
                self.pending_reload = fresh or self.pending_reload
                if fresh is not None and self.behaviour.state.mode is not Mode.MENU:
                    log.info("reload: read; it takes over at the menu, when this session ends")
            if not self.known and self.parts.wall.known():  # set without a jump the kernel told
                log.info("the wall clock is known now: %s", self._wall_said())
                self.behaviour.wall_moved(now)
            self.known = self.parts.wall.known()
            self.behaviour.advance(now)
            self._carry_out()
            self.keeper.after(self.behaviour.state, now)
            if self.pending_reload is not None and self.behaviour.state.mode is Mode.MENU:
                self._apply_reload()
            self.panel.retry(now)
            if self.parts.store.catch_up():  # the history could not be read whole at start
                store = self.parts.store
                self.behaviour.history_read(completed_nights(store), growth_nights(store), now)
                self._carry_out()
            if self.next_shift is not None and now >= self.next_shift:
                self._redraw(now)
            if self.next_ping is not None and now >= self.next_ping:
                self.notifier.watchdog()
                self.next_ping = now + (self.watchdog or 0)

    def _wall_said(self) -> str:
        moment = self.parts.wall.read(self.clock.now())
        when = f"{moment:%Y-%m-%d %H:%M}, " if moment is not None else ""
        return f"{when}from {self.parts.wall.source().value}"

    def _wait(self) -> Arrival | None:
        times = [
            self.behaviour.deadline(),
            self.next_ping,
            self.next_shift,
            self.panel.deadline(),
            self.keeper.deadline(self.behaviour.state),
            self.parts.store.deadline(),
        ]
        if not self.known:  # until the clock is known, look again now and then: no night yet
            times.append(self.clock.now() + self.RECHECK)
        deadline = min((t for t in times if t is not None), default=None)
        timeout = None
        if deadline is not None:
            timeout = max(0.0, (deadline - self.clock.now()) / self.clock.speed)
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None

    def _carry_out(self) -> None:
        for t, output in self.behaviour.take():
            self._trace(t, output)
            self._effect(t, output)
            for observer in self.parts.observers:
                observer.output(t, output)

    def _effect(self, t: float, output: Output) -> None:
        match output:
            case Say(text=text, volume=volume):
                log.info("say: %s", text)
                self.voice.say(text, volume)
            case Silence():
                self.voice.silence()
            case Display(on=on, contrast=contrast):
                self.panel.power(on, contrast, t)
                self.next_shift = self.panel.next_shift(t) if on else None
            case ScreenChanged(screen=screen):
                if screen.kind is not View.DARK:
                    self._show(screen, t)
                else:
                    self._tell(screen)
            case StepStarted(routine=routine, index=index, count=count, step=step):
                side = f" ({step.side})" if step.side else ""
                log.info("%s: step %d/%d %s%s", routine, index + 1, count, step.title, side)
                self.notifier.status(self._status())
                self.voice.chime("step")
                self.voice.soundscape(step.soundscape)
            case StateChanged(mode=mode, routine=routine):
                log.info("%s: %s", mode.value, routine)
                self.notifier.status(self._status())
            case Finished(routine=routine, completed=completed):
                log.info("%s: %s", routine, "completed" if completed else "ended early")
                if completed:
                    self.voice.chime("finish")
                    self.voice.sleep_timer()  # the bed plays on, then fades: sleep comes
                else:
                    self.voice.soundscape(False)
            case ButtonStuck():
                log.warning("the button has been down too long: ignored until it is released")
            case GestureTaken(gesture=gesture):
                log.debug("gesture: %s", gesture)
            case GrowthRecorded():
                log.info(
                    "the hold: %s (%.0f of %.0f s); the next one: %.0f s",
                    "held" if output.outcome.held else "ended early",
                    output.seconds,
                    output.length,
                    self.behaviour.hold_tonight or 0.0,
                )
                self.keeper.growth_recorded(output)

    def _show(self, screen: Screen, now: float) -> None:
        self.panel.show(self.parts.render(screen), now)
        self.next_shift = self.panel.next_shift(now)
        self._tell(screen)

    def _tell(self, screen: Screen) -> None:
        for observer in self.parts.observers:
            observer.frame(screen)

    def _redraw(self, now: float) -> None:
        if self.panel.on and self.behaviour.screen.kind is not View.DARK:
            self._show(self.behaviour.screen, now)

    def _trace(self, t: float, output: Output) -> None:
        if self.trace is None:
            return
        with self._trace_lock:
            self.trace.write(t - self.start, output)

    def _heard(self, line: dict[str, Any]) -> None:
        """A sound reaching the output, or the soundscape dipping, as the stage tells it (times
        on the monotonic clock) in the trace's time: ``sound`` and ``duck`` events."""
        if self.trace is None:
            return

        def at(real: object) -> float | None:
            if not isinstance(real, int | float):
                return None
            since = (float(real) - self.clock.real(self.start)) * self.clock.speed
            return round(since, 3)  # trace time 0 is the loop's start

        if line.get("type") == "sound":
            body: dict[str, Any] = {"type": "sound", "what": line.get("what")}
            body["text"] = line.get("text", "")
            if line.get("cut"):
                body["cut"] = True
            else:
                body["start"] = at(line.get("start"))
            body["end"] = at(line.get("end"))
        else:
            body = {"type": "duck", "state": line.get("state"), "db": line.get("db")}
            body["start"], body["end"] = at(line.get("start")), at(line.get("end"))
        with self._trace_lock:
            # ``t`` is when the trace heard of it: the loop's latest moment, so the trace stays
            # in order (``start`` may lie a buffer's length ahead, when it reaches the ear).
            self.trace.record(self.behaviour.now - self.start, body)

    def _status(self) -> str:
        state = self.behaviour.state
        settings = self.behaviour.settings
        if state.mode is Mode.MENU:
            return f"menu: {settings.routines[settings.menu[state.menu_index]].title}"
        routine = state.routine.title if state.routine else ""
        if state.mode is Mode.FINISHED:
            return f"{routine}: {'done' if state.completed else 'ended'}"
        step = state.step
        assert state.routine is not None and step is not None  # a session is on
        where = f"step {state.step_index + 1}/{len(state.routine.steps)} {step.title}"
        return f"{routine}: {where}" + (" (paused)" if state.mode is Mode.PAUSED else "")

    def _apply_reload(self) -> None:
        fresh, self.pending_reload = self.pending_reload, None
        assert fresh is not None  # called only when one is pending
        self.behaviour.reconfigure(fresh.settings, fresh.thresholds, fresh.reminder, fresh.quiet)
        self._carry_out()  # the new contrast among what it carries out
        self.notifier.status(self._status())
        log.info("configuration reloaded")

    def _shutdown(self, reason: str) -> None:
        log.info("stopping: %s", reason)
        self.notifier.stopping()
        # A session running now comes back after the restart.
        self.keeper.after(self.behaviour.state, self.clock.now(), force=True)
        self.voice.silence()
        blank = self.parts.render(Screen(View.DARK))
        self.panel.show(blank, self.clock.now())  # a panel that is gone stays gone: Oled copes
        self.panel.power(False)
