"""What the device does, told only button edges and the time: gestures, engine, nights, screens.

``Behaviour`` is what both the daemon's loop and ``simulate`` run, so that what a script shows is
what the device does. It reads no clock and touches no device: it is told when the button
moved and what time it is, and answers with timed outputs (the engine's effects, plus a
``ScreenChanged`` whenever what the display shows changes) for the caller to carry out.

It is the one place for what the engine need not know: the nights (the streak, which only
the screen shows; the reminder) and what contrast the display gets (``Behaviour._contrast``:
the reminder's gentle wake and the quiet hours' cap).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from bedside.core.effects import Display, Effect, Finished, GrowingStepEnded, Say, StepStarted
from bedside.core.engine import Engine
from bedside.core.events import Gestured, HoldPending, Remind, Tick
from bedside.core.gestures import ButtonState, Notice, Recogniser, Signal, Thresholds
from bedside.core.growth import GrowthNight, retimed, tonight
from bedside.core.nights import Done, Quiet, Reminder, Streak, mark_done, next_turn, night_of
from bedside.core.screens import Screen, View, describe, next_change
from bedside.core.settings import Settings
from bedside.core.state import Mode


@dataclass(frozen=True)
class ScreenChanged:
    screen: Screen


@dataclass(frozen=True)
class ButtonStuck:
    """The button has been down far too long (a short, a knocked switch): ignored until up."""


@dataclass(frozen=True)
class GrowthRecorded:
    """A night's hold, for the history: tonight's length follows from these."""

    outcome: GrowthNight
    seconds: float  # how long it ran
    length: float  # how long it was to be


Output = Effect | ScreenChanged | ButtonStuck | GrowthRecorded


class Behaviour:
    """The device's whole conduct, as a pure object: told button edges (``edge``) and the
    passing time (``advance``), it keeps the recogniser's state, the engine's state, the nights
    and the screen, and answers with ``Output``s, each with the monotonic time it is due at.

    Its parts come in with defaults, as gpiozero's devices take a pin factory: ``wall`` (the
    wall clock at a monotonic time, or None while it cannot be trusted), what the history
    knew at start (``done``, ``holds``), and ``recogniser``, the class that reads edges
    (a test hands in one that also records what it gives)."""

    def __init__(
        self,
        settings: Settings,
        thresholds: Thresholds,
        now: float,
        routine: str | None = None,
        wall: Callable[[float], datetime | None] | None = None,
        reminder: Reminder | None = None,
        done: Mapping[str, set[date]] | None = None,
        quiet: Quiet | None = None,
        holds: list[GrowthNight] | None = None,
        recogniser: Callable[[Thresholds], Recogniser] = Recogniser,
    ) -> None:
        self._recogniser = recogniser
        # The wall clock at a monotonic time, or None while it cannot be trusted (not synced).
        self.wall = wall or (lambda _: None)
        self.now = now
        # When the wall clock last jumped. A wall-clock moment (bedtime, noon, the quiet hours)
        # is reached no earlier than that: what the old reading put in the past happens when
        # the jump is seen, not at a moment already gone.
        self.moved_at = now
        self.hushed = False  # whether the quiet hours were on at the last look
        # The nights on which each routine was completed: the night's routine's make the streak
        # (kept here, and only shown by the screen) and quiet the reminder.
        self.done = {routine: set(nights) for routine, nights in (done or {}).items()}
        self.streak = Streak()
        self.fired: set[date] = set()  # nights the reminder has sounded
        self.holds = list(holds or ())  # every night's hold so far, oldest first
        self.night = self._night_at(now)  # the night as last seen; None: not known
        self._configure(settings, thresholds, reminder, quiet)
        self.button = ButtonState()
        self.asked = routine  # the routine the menu was to show, asked for at the start
        self.state, effects = self.engine.start(now, routine)
        self.screen = Screen(View.NONE)
        self.pending: list[tuple[float, Output]] = []
        self._nights(now)
        self.hushed = self._hushed(now)
        self._effects(effects, now)
        self._look(now)

    @property
    def settings(self) -> Settings:
        return self.engine.settings

    @property
    def hold_tonight(self) -> float | None:
        """Tonight's length of the hold that grows; None when it does not grow."""
        plan = self.base.growth
        if not plan.grow:
            return None
        wall = self.wall(self.now)
        return tonight(plan, self.holds, night_of(wall) if wall is not None else None)

    def _tonight(self, settings: Settings) -> Settings:
        length = self.hold_tonight
        if length is None:
            return settings
        routines = {n: retimed(r, length, settings.cues) for n, r in settings.routines.items()}
        return replace(settings, routines=routines)

    def take(self) -> list[tuple[float, Output]]:
        """The outputs produced since the last call, each with the time it happened."""
        out, self.pending = self.pending, []
        return out

    def deadline(self) -> float | None:
        """The next time something happens by itself: a cue, a step's end, a tick, a hold."""
        times = [
            self.engine.deadline(self.state),
            self.recogniser.deadline(self.button),
            next_change(self.state, self.now, self.settings),
            self._reminder_due(),
            self._quiet_due(),
            self._due(next_turn),  # noon: another night, its streak and its hold
        ]
        return min((t for t in times if t is not None), default=None)

    def coming(self, until: float) -> list[tuple[float, Output]]:
        """What the session will say, and the steps it will start, after now and up to
        ``until``, if nothing is pressed meanwhile: each ``Say`` (at the volume it will have)
        and ``StepStarted`` with its time. The shell asks for their sounds ahead, so that each
        starts on its time; a press takes them back. Nothing changes here."""
        state, found = self.state, list[tuple[float, Output]]()
        for _ in range(self.COMING_MOST):
            when = self.engine.deadline(state)
            if when is None or when > until:
                break
            state, effects = self.engine.handle(state, Tick(), when)
            hushed = self._hushed(when)
            found += [
                (when, self._outward(e, hushed, False))
                for e in effects
                if isinstance(e, Say | StepStarted)
            ]
        return found

    COMING_MOST = 100  # moments looked through at most: a few seconds ahead hold a handful

    def advance(self, now: float) -> None:
        """Everything that falls due up to ``now``, in the order it falls due."""
        while (due := self.deadline()) is not None and due <= now:
            self._at(due)
        self._at(now)

    def history_read(
        self, done: Mapping[str, set[date]], holds: list[GrowthNight], now: float
    ) -> None:
        """The history read again (it could not be read whole at the start: the file was
        locked): the streak, the week's marks and tonight's hold follow what it holds."""
        self.advance(now)
        self.done = {routine: set(nights) for routine, nights in done.items()}
        self.holds = list(holds)
        self.engine = Engine(self._tonight(self.base))
        self._nights(now)
        self._look(now)

    def wall_moved(self, now: float) -> None:
        """The wall clock jumped, or became known (the network set it), at ``now``: the night,
        the streak and the week's marks, tonight's hold, bedtime and the quiet hours follow
        it at once."""
        self.moved_at = max(self.moved_at, now)  # what the old reading put before now: now
        self.advance(now)
        self._nights(now)
        self._look(now)

    def edge(self, pressed: bool, at: float) -> None:
        """The button went down (or up) at ``at``."""
        at = max(at, self.now)  # an edge stamped on another thread may trail the core's time
        self.advance(at)
        self.button, signals = self.recogniser.edge(self.button, pressed, at)
        self._signals(signals, at)
        self._look(at)

    def settle(self) -> None:
        """Let a release under way be taken (the bounce time passed after it): what ends a
        button script, whose last press would else wait for a moment that never comes."""
        due = self.recogniser.deadline(self.button)
        if self.button.up_at is not None and due is not None:
            self.advance(due)

    def button_already_down(self) -> None:
        """The button was down when we started: a stuck button, not a gesture."""
        self.button = self.recogniser.already_down(self.now)
        self.pending.append((self.now, ButtonStuck()))

    def resume(self, routine: str, step_index: int, elapsed: float, session_elapsed: float) -> None:
        """Start from a session a restart interrupted (see ``Engine.resume``). A routine asked
        for at the start (``--routine``) waits in the menu behind it, not the resumed one."""
        asked = self.asked is not None and self.asked != routine
        menu = self.state.menu_index
        self.state, effects = self.engine.resume(
            self.now, routine, step_index, elapsed, session_elapsed
        )
        if asked:
            self.state = replace(self.state, menu_index=menu)
        self.pending = []
        self._effects(effects, self.now)
        self._look(self.now)

    def reconfigure(
        self,
        settings: Settings,
        thresholds: Thresholds,
        reminder: Reminder | None = None,
        quiet: Quiet | None = None,
    ) -> None:
        """New settings (a reloaded config), taken between sessions: the menu keeps its place."""
        self._configure(settings, thresholds, reminder, quiet)
        index = min(self.state.menu_index, len(settings.menu) - 1)
        self.state = replace(self.state, menu_index=index, routine=None)
        if self.state.display_on:  # the new contrast, through the quiet hours' cap if on
            self._effects([Display(True, settings.contrast)], self.now)
        self._nights(self.now)  # the night's routine may be another one now
        self._look(self.now)

    def _configure(
        self,
        settings: Settings,
        thresholds: Thresholds,
        reminder: Reminder | None,
        quiet: Quiet | None,
    ) -> None:
        self.reminder, self.quiet = reminder, quiet
        self.base = settings  # as configured; the engine runs them with tonight's hold
        self.engine = Engine(self._tonight(settings))
        self.recogniser = self._recogniser(thresholds)

    def _at(self, when: float) -> None:
        self.now = max(self.now, when)
        self.button, signals = self.recogniser.tick(self.button, when)
        self._signals(signals, when)
        self.state, effects = self.engine.handle(self.state, Tick(), when)
        self._effects(effects, when)
        self._turn(when)
        self._remind(when)
        self._hush(when)
        self._look(when)

    def _effects(self, effects: list[Effect], at: float, gentle: bool = False) -> None:
        """The engine's effects, as the devices are to carry them out; ``gentle``: the reminder
        lit the display."""
        hushed = self._hushed(at)
        self.pending += [(at, self._outward(e, hushed, gentle)) for e in effects]
        for effect in effects:
            if isinstance(effect, GrowingStepEnded):
                self._held(effect, at)
            if isinstance(effect, Finished) and effect.completed:
                started = self.wall(self.state.session_start)
                if started is not None:
                    mark_done(self.done, Done(effect.routine, night_of(started), completed=True))
                self._nights(at)

    def _held(self, ended: GrowingStepEnded, at: float) -> None:
        """A night's hold is over: kept, and the next session's length follows from it. The
        session running goes on as it began."""
        wall = self.wall(at)
        outcome = GrowthNight(night_of(wall) if wall is not None else None, ended.held)
        self.holds.append(outcome)
        self.pending.append((at, GrowthRecorded(outcome, ended.seconds, ended.length)))
        self.engine = Engine(self._tonight(self.base))

    # -- the nights: a quieter night, the streak, the reminder ----------------------------------
    def _hushed(self, at: float) -> bool:
        if self.quiet is None:
            return False
        wall = self.wall(at)
        return wall is not None and self.quiet.applies(wall)

    def _outward(self, effect: Effect, hushed: bool, gentle: bool) -> Effect:
        if hushed and isinstance(effect, Say):
            assert self.quiet is not None
            return Say(effect.text, self.quiet.volume)
        if isinstance(effect, Display) and effect.on:
            return Display(True, self._contrast(effect.contrast, hushed, gentle))
        return effect

    def _contrast(self, configured: int, hushed: bool, gentle: bool) -> int:
        """The contrast a lit display gets, decided here and nowhere else: the configured one
        (which the engine asks for), no brighter than the reminder's when the reminder lit it,
        nor than the quiet hours' while they last."""
        limits = [configured]
        if gentle and self.reminder is not None:
            limits.append(self.reminder.contrast)
        if hushed and self.quiet is not None:
            limits.append(self.quiet.contrast)
        return min(limits)

    def _due(self, next_at: Callable[[datetime], datetime | None]) -> float | None:
        """When, on the monotonic clock, the wall-clock moment ``next_at`` picks from now comes;
        None while the wall clock cannot be trusted, or when ``next_at`` picks none. Never
        before the wall clock last jumped: its old reading's moments are gone."""
        wall = self.wall(self.now)
        due = None if wall is None else next_at(wall)
        if wall is None or due is None:
            return None
        return max(self.moved_at, self.now + (due - wall) / timedelta(seconds=1))

    def _night_at(self, at: float) -> date | None:
        wall = self.wall(at)
        return night_of(wall) if wall is not None else None

    def _turn(self, at: float) -> None:
        """A new night (noon passed, or the wall clock moved to another): tonight's hold, the
        streak and the week's marks are the new night's. A session running goes on as it began."""
        night = self._night_at(at)
        if night != self.night:
            self.night = night
            self.engine = Engine(self._tonight(self.base))
            self._nights(at)

    def _quiet_due(self) -> float | None:
        if self.quiet is None or not self.state.display_on:
            return None
        return self._due(self.quiet.next_change)

    def _hush(self, at: float) -> None:
        """At the start and end of the quiet hours, a lit display changes its contrast."""
        hushed = self._hushed(at)
        if hushed != self.hushed:
            self.hushed = hushed
            if self.state.display_on:
                self._effects([Display(True, self.engine.settings.contrast)], at)

    def _night_done(self) -> set[date]:
        """The nights on which the night's routine was completed."""
        return self.done.get(self.settings.night_routine, set())

    def _nights(self, at: float) -> None:
        """The streak as of ``at``; kept as it was while the wall clock cannot be trusted."""
        wall = self.wall(at)
        if wall is not None:
            self.streak = Streak.of(self._night_done(), wall)

    def _reminder_due(self) -> float | None:
        reminder = self.reminder
        if reminder is None or self.state.mode is not Mode.MENU:
            return None
        return self._due(lambda wall: reminder.next_after(wall, self.fired, self._night_done()))

    def _remind(self, at: float) -> None:
        if self.reminder is None or self.state.mode is not Mode.MENU:
            return
        wall = self.wall(at)
        if wall is None or not self.reminder.fires(wall, self.fired, self._night_done()):
            return
        self.fired.add(night_of(wall))
        self._nights(at)
        self.state, effects = self.engine.handle(self.state, Remind(self.reminder.text), at)
        self._effects(effects, at, gentle=True)

    def _signals(self, signals: list[Signal], at: float) -> None:
        self.now = max(self.now, at)
        for signal in signals:
            if signal is Notice.STUCK:
                self.pending.append((at, ButtonStuck()))
                continue
            event = HoldPending() if signal is Notice.HOLD_PENDING else Gestured(signal)
            dark = not self.state.display_on
            self.state, effects = self.engine.handle(self.state, event, at)
            if dark and self.state.display_on:  # woken: the streak as of now, not of last night
                self._nights(at)
            self._effects(effects, at)

    def _look(self, at: float) -> None:
        screen = describe(self.state, self.settings, at, self.streak)
        if screen != self.screen:
            self.screen = screen
            self.pending.append((at, ScreenChanged(screen)))
