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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

from bedside.behaviour import Behaviour, ButtonStuck, HoldRecorded, Output, ScreenChanged
from bedside.clock import Clock
from bedside.devices.button import Edge
from bedside.history import Keeper
from bedside.routine_engine import (
    Display,
    Finished,
    GestureTaken,
    Mode,
    Say,
    Silence,
    StateChanged,
    StepStarted,
)
from bedside.screens import Screen, View
from bedside.service import Notifier
from bedside.trace import Trace

log = logging.getLogger("bedside")


@dataclass(frozen=True)
class Stop:
    reason: str


@dataclass(frozen=True)
class Reload:
    """Read the configuration again (SIGHUP)."""


@dataclass(frozen=True)
class Wake:
    """Nothing to do but wake up: a signal's handler waits to run on this thread."""


class Voice(Protocol):
    def say(self, text: str, volume: float | None = None) -> None: ...
    def silence(self) -> None: ...
    def chime(self, kind: str) -> None: ...


class Panel(Protocol):
    on: bool

    def show(self, image: Any, now: float) -> None: ...
    def power(self, on: bool, contrast: int | None = None, now: float = 0.0) -> None: ...
    def next_shift(self, now: float) -> float | None: ...
    def deadline(self) -> float | None: ...
    def retry(self, now: float) -> None: ...


class Loop:
    def __init__(
        self,
        behaviour: Behaviour,
        clock: Clock,
        oled: Panel,
        voice: Voice,
        render: Callable[[Any], Any],
        notifier: Notifier | None = None,
        trace: TextIO | None = None,
        watchdog: float | None = None,
        reload: Callable[[], tuple | None] | None = None,  # (settings, thresholds, ...)
        events: queue.SimpleQueue | None = None,
        keeper: Keeper | None = None,
        recheck: float | None = None,
    ) -> None:
        self.behaviour = behaviour
        self.clock = clock
        self.oled = oled
        self.voice = voice
        self.render = render
        self.notifier = notifier or Notifier("")
        self.trace = None if trace is None else Trace(trace, flush=True)
        self.watchdog = watchdog
        self.reload = reload
        self.keeper = keeper
        self.recheck = recheck
        self.events: queue.SimpleQueue[Edge | Stop | Reload | Wake] = events or queue.SimpleQueue()
        self.start = behaviour.now
        self.next_ping = clock.now() + watchdog if watchdog else None
        self.next_shift: float | None = None
        # A reloaded configuration waits for the menu: a session runs to its end as it began.
        self.pending_reload: tuple | None = None
        self.on_frame: Callable[[Any], None] | None = None  # the demo redraws the terminal here

    def put(self, item: Edge | Stop | Reload | Wake) -> None:
        """Thread-safe and signal-safe (SimpleQueue.put is reentrant)."""
        self.events.put(item)

    # -- running -----------------------------------------------------------------------------
    def run(self) -> str:
        """Until a Stop arrives; returns its reason."""
        self._carry_out()
        if self.keeper is not None:
            self.keeper.after(self.behaviour.state, self.behaviour.now)
        self._redraw(self.clock.now())
        self.notifier.ready(self._status())
        log.info("ready: %s", self._status())
        while True:
            item = self._wait()
            now = self.clock.now()
            if isinstance(item, Stop):
                self._shutdown(item.reason)
                return item.reason
            if isinstance(item, Edge):
                log.debug("button %s at %.3f", "down" if item.pressed else "up", item.at)
                self.behaviour.edge(item.pressed, item.at)
                # Not on to `now` yet: an edge queued behind this one (the loop came late)
                # happened before it, and is taken first at its own time; the next turn waits
                # for nothing, since what fell due meanwhile is already past.
                now = self.behaviour.now
            elif isinstance(item, Reload) and self.reload is not None:
                fresh = self.reload()  # None: it logged every problem; the old one stays
                self.pending_reload = fresh or self.pending_reload
                if fresh is not None and self.behaviour.state.mode is not Mode.MENU:
                    log.info("reload: read; it takes over at the menu, when this session ends")
            self.behaviour.advance(now)
            self._carry_out()
            if self.keeper is not None:
                self.keeper.after(self.behaviour.state, now)
            if self.pending_reload is not None and self.behaviour.state.mode is Mode.MENU:
                self._apply_reload()
            self.oled.retry(now)
            if self.next_shift is not None and now >= self.next_shift:
                self._redraw(now)
            if self.next_ping is not None and now >= self.next_ping:
                self.notifier.watchdog()
                self.next_ping = now + (self.watchdog or 0)

    def _wait(self) -> Edge | Stop | Reload | Wake | None:
        times = [self.behaviour.deadline(), self.next_ping, self.next_shift, self.oled.deadline()]
        if self.keeper is not None:
            times.append(self.keeper.deadline(self.behaviour.state))
        if self.recheck is not None:
            times.append(self.clock.now() + self.recheck)
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

    def _effect(self, t: float, output: Output) -> None:
        match output:
            case Say(text=text, volume=volume):
                log.info("say: %s", text)
                self.voice.say(text, volume)
            case Silence():
                self.voice.silence()
            case Display(on=on, contrast=contrast):
                self.oled.power(on, contrast, t)
                self.next_shift = self.oled.next_shift(t) if on else None
            case ScreenChanged(screen=screen):
                if screen.kind is not View.DARK:
                    self._show(screen, t)
                elif self.on_frame is not None:
                    self.on_frame(screen)
            case StepStarted(routine=routine, index=index, count=count, step=step):
                side = f" ({step.side})" if step.side else ""
                log.info("%s: step %d/%d %s%s", routine, index + 1, count, step.title, side)
                self.notifier.status(self._status())
                self.voice.chime("step")
            case StateChanged(mode=mode, routine=routine):
                log.info("%s: %s", mode.value, routine)
                self.notifier.status(self._status())
            case Finished(routine=routine, completed=completed):
                log.info("%s: %s", routine, "completed" if completed else "ended early")
                if completed:
                    self.voice.chime("finish")
            case ButtonStuck():
                log.warning("the button has been down too long: ignored until it is released")
            case GestureTaken(gesture=gesture):
                log.debug("gesture: %s", gesture)
            case HoldRecorded():
                log.info(
                    "the hold: %s (%.0f of %.0f s); the next one: %.0f s",
                    "held" if output.outcome.held else "ended early",
                    output.seconds,
                    output.length,
                    self.behaviour.hold_tonight or 0.0,
                )
                if self.keeper is not None:
                    self.keeper.hold(output)

    def _show(self, screen: Any, now: float) -> None:
        self.oled.show(self.render(screen), now)
        self.next_shift = self.oled.next_shift(now)
        if self.on_frame is not None:
            self.on_frame(screen)

    def _redraw(self, now: float) -> None:
        if self.oled.on and self.behaviour.screen.kind is not View.DARK:
            self._show(self.behaviour.screen, now)

    def _trace(self, t: float, output: Output) -> None:
        if self.trace is None:
            return
        self.trace.write(t - self.start, output)

    def _status(self) -> str:
        state = self.behaviour.state
        settings = self.behaviour.settings
        if state.mode is Mode.MENU:
            return f"menu: {settings.routines[settings.menu[state.menu_index]].title}"
        routine = state.routine.title if state.routine else ""
        if state.mode is Mode.FINISHED:
            return f"{routine}: {'done' if state.completed else 'ended'}"
        step = state.step
        where = f"step {state.step_index + 1}/{len(state.routine.steps)} {step.title}"
        return f"{routine}: {where}" + (" (paused)" if state.mode is Mode.PAUSED else "")

    def _apply_reload(self) -> None:
        fresh, self.pending_reload = self.pending_reload, None
        self.behaviour.reconfigure(*fresh)
        self._carry_out()  # the new contrast among what it carries out
        self.notifier.status(self._status())
        log.info("configuration reloaded")

    def _shutdown(self, reason: str) -> None:
        log.info("stopping: %s", reason)
        self.notifier.stopping()
        if self.keeper is not None:  # a session running now comes back after the restart
            self.keeper.after(self.behaviour.state, self.clock.now(), force=True)
        self.voice.silence()
        blank = self.render(Screen(View.DARK))
        self.oled.show(blank, self.clock.now())  # a panel that is gone stays gone: Oled copes
        self.oled.power(False)
