"""The event loop: one queue, one deadline, and the effects carried out on the devices.

Everything that happens from outside (a button edge from gpiozero's thread, a signal, the end
of a script) is put on one queue. The loop waits on it with a timeout that runs to the next
deadline (a cue, the end of a step, the next second of a countdown, a watchdog ping), so it
wakes only when there is something to do: no polling, and nothing at all while the display is
dark and no watchdog asks. Deadlines come from the behaviour, computed from when each step began on
the monotonic clock, so no sleep adds drift.
"""

from __future__ import annotations

import collections
import logging
import math
import queue
import threading
from typing import Any, TextIO

from bedside.app.assembly import Parts
from bedside.app.events import Arrival, Edge, Events, Reload, Stop, WallMoved
from bedside.app.reloads import Reconfiguration, Reloaded, Reloader
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
from bedside.core.screens import Screen, View
from bedside.core.state import Mode
from bedside.core.trace import Trace
from bedside.history.rows import completed_nights, growth_nights

log = logging.getLogger("bedside")

AHEAD_MODES = (Mode.RUNNING, Mode.AWAITING)  # a session's own time runs: its cues can be known
STALE_ASKED = 60.0  # seconds: long past what any cue waits ([cues] stale_after)
CHIME = "\x00chime"  # the step chime, among the texts asked ahead (no cue's text has a NUL)


class Loop:
    """The daemon running: ``behaviour`` worked by ``parts`` until a Stop arrives on their
    events queue. ``reloader`` reads the configuration again when a SIGHUP asks, off this
    thread, and hands it back as a ``Reloaded``; ``trace`` takes the JSON trace, ``watchdog``
    is how often systemd wants a ping. The wall clock, once known, is watched by the kernel's
    notice that it was set (a ``WallMoved``); until it is known, the loop looks again every
    ``RECHECK`` seconds."""

    RECHECK = 60.0
    RELOAD_BEFORE_STOP = 1.0  # seconds a stop waits for a reload under way: SIGTERM ends in 2 s

    def __init__(
        self,
        behaviour: Behaviour,
        parts: Parts,
        *,
        reloader: Reloader | None = None,
        trace: TextIO | None = None,
        watchdog: float | None = None,
        ahead: float = 1.0,
    ) -> None:
        self.behaviour = behaviour
        # Cues and chimes are asked of the sound stage this long (in the device's seconds)
        # before they fall due, so that the output is awake (its pre-roll) and each starts on
        # its time, not a buffer or a pre-roll late. ``asked``: those asked ahead, by time.
        self.ahead = ahead
        self.asked: set[tuple[float, str]] = set()
        self.looked = -math.inf  # the session's moments up to this one were looked through
        self.parts = parts
        self.clock = parts.clock
        self.panel = parts.panel
        self.voice = parts.voice
        self.notifier = parts.notifier
        self.keeper = parts.keeper
        self.events: Events = parts.events
        # What was taken off the queue with a notice and waits its turn: the edges first.
        self.held: collections.deque[Arrival] = collections.deque()
        self.reloader = reloader
        self.trace = None if trace is None else Trace(trace, flush=True)
        # The stage's reports come on its reader's thread: one trace line at a time.
        self._trace_lock = threading.Lock()
        self.traced = 0.0  # the latest time the trace has written, from the loop's start
        if self.trace is not None:
            self.voice.listen(self._heard)
        self.watchdog = watchdog
        self.known = parts.wall.known()  # the wall clock, at the last look
        self.start = behaviour.now
        self.next_ping = self.clock.now() + watchdog if watchdog else None
        self.next_shift: float | None = None
        # A reloaded configuration waits for the menu: a session runs to its end as it began.
        self.pending_reload: Reconfiguration | None = None
        self.reload_asked = False  # a SIGHUP taken, and nothing read for it yet

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
                self._reload_before_stop()
                self._shutdown(item.reason)
                return item.reason
            if isinstance(item, Edge):
                log.debug("button %s at %.3f", "down" if item.pressed else "up", item.at)
                if item.pressed:
                    self.voice.wake()  # what the release asks for is then heard at once
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
            elif isinstance(item, Reload) and self.reloader is not None:
                self.reloader.request()  # read on its own thread: back as a Reloaded
                self.reload_asked = True
            elif isinstance(item, Reloaded):
                self.pending_reload, self.reload_asked = item.fresh, False
                if self.behaviour.state.mode is not Mode.MENU:
                    log.info("reload: read; it takes over at the menu, when this session ends")
            if not self.known and self.parts.wall.known():  # set without a jump the kernel told
                log.info("the wall clock is known now: %s", self._wall_said())
                self.behaviour.wall_moved(now)
            self.known = self.parts.wall.known()
            self.behaviour.advance(now)
            self._carry_out()
            self._ask_ahead(now)
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
            self._next_ahead(),
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
        if self.held:
            return self.held.popleft()
        try:
            item = self.events.get(timeout=timeout)
        except queue.Empty:
            return None
        if isinstance(item, Edge):
            return item
        return self._edges_first(item)

    def _edges_first(self, notice: Arrival) -> Arrival:
        """``notice`` (not an edge) and all that queued behind it, the edges first. Any turn
        but an edge's moves the core on to the loop's now; edges queued behind a notice the
        loop came to late happened before that, and taken after it they would all be pushed
        to that one moment: a press of no length, noise, lost. Their order among themselves,
        and the notices', is kept."""
        queued: list[Arrival] = [notice]
        while True:
            try:
                queued.append(self.events.get_nowait())
            except queue.Empty:
                break
        edges = [item for item in queued if isinstance(item, Edge)]
        self.held.extend(edges + [item for item in queued if not isinstance(item, Edge)])
        return self.held.popleft()

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
                if (t, text) in self.asked:  # asked for ahead: on its way, on time
                    self.asked.discard((t, text))
                else:
                    self.voice.say(text, volume)
            case Silence():
                self.voice.silence()
                self.asked.clear()
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
                if (t, CHIME) in self.asked:
                    self.asked.discard((t, CHIME))
                else:
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
                if self.asked:
                    # A press may change what comes next and when: what was asked ahead is
                    # taken back, and asked again as it now stands (speech under way goes on).
                    self.voice.withdraw()
                    self.asked.clear()
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

    def _ask_ahead(self, now: float) -> None:
        """Ask the voice now for each cue and step chime falling due within ``ahead``, with
        the moment it is due, once each."""
        if self.behaviour.state.mode not in AHEAD_MODES:
            return
        self.looked = now + self.ahead
        if self.asked:  # one the session did not say after all (dropped as stale) is let go
            self.asked = {(t, text) for t, text in self.asked if t > now - STALE_ASKED}
        for t, output in self.behaviour.coming(self.looked):
            if t <= now:
                continue
            at = self.clock.real(t)
            if isinstance(output, Say) and (t, output.text) not in self.asked:
                self.asked.add((t, output.text))
                self.voice.say(output.text, output.volume, at=at)
            elif isinstance(output, StepStarted) and (t, CHIME) not in self.asked:
                self.asked.add((t, CHIME))
                self.voice.chime("step", at=at)

    def _next_ahead(self) -> float | None:
        """When the next thing to ask for ahead comes within reach: ``ahead`` before the next
        moment the session does something by itself (a cue, a step's end)."""
        if self.behaviour.state.mode not in AHEAD_MODES:
            return None
        due = self.behaviour.engine.deadline(self.behaviour.state)
        if due is None or due <= self.looked:  # asked for already, or nothing to ask
            return None
        return due - self.ahead

    def _trace(self, t: float, output: Output) -> None:
        if self.trace is None:
            return
        with self._trace_lock:
            self.traced = max(self.traced, t - self.start)
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
            # ``t`` is when the trace heard of it: the latest moment the trace has written, so
            # the trace stays in order (``start`` may lie a buffer's length ahead, when it
            # reaches the ear). Not the core's now: the loop moves that on before it writes
            # what fell due on the way, and a report heard between the two would come first.
            self.trace.record(self.traced, body)

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

    def _reload_before_stop(self) -> None:
        """A reload asked for before the stop is still read (for a moment at most) and taken,
        at the menu: signals are answered in the order they came (a SIGHUP, then a SIGTERM)."""
        if not self.reload_asked or self.reloader is None:
            return
        if not self.reloader.settle(self.RELOAD_BEFORE_STOP):
            return
        while True:  # what came after the stop is moot, but for what the reload read
            try:
                arrival = self.events.get_nowait()
            except queue.Empty:
                break
            if isinstance(arrival, Reloaded):
                self.pending_reload = arrival.fresh
        if self.pending_reload is not None and self.behaviour.state.mode is Mode.MENU:
            self._apply_reload()

    def _apply_reload(self) -> None:
        fresh, self.pending_reload = self.pending_reload, None
        assert fresh is not None  # called only when one is pending
        self.behaviour.reconfigure(fresh.settings, fresh.thresholds, fresh.reminder, fresh.quiet)
        # The voice with it, at the menu as the rest: a session ends with the voice it began
        # with, and the sounds of the new one, rendered since the reload was read, are ready.
        self.voice.reconfigure(fresh.voice)
        self.voice.prepare(fresh.texts, fresh.volumes)
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
