"""The routine engine: a pure state machine, ``(state, event, now) -> (state, effects)``.

It never reads a clock, sleeps or touches a device. ``now`` is monotonic seconds handed in by
whoever drives it (the daemon's loop, ``simulate``'s virtual clock, a test). Time-based work
(cues, the end of a step, the display going dark) happens when ``handle`` is called at or
after ``deadline(state)``; each is processed at the moment it was due, not when it was
noticed, so a late wake-up never stretches a step and a pause moves the end of the step by
exactly the length of the pause.
"""

from __future__ import annotations

from dataclasses import replace
from enum import IntEnum

from bedside.core.effects import (
    Display,
    Effect,
    Finished,
    GestureTaken,
    GrowingStepEnded,
    Say,
    Silence,
    StateChanged,
    StepStarted,
)
from bedside.core.events import Event, HoldPending, Remind, Tick
from bedside.core.gestures import Gesture
from bedside.core.routines import Step, StepKind
from bedside.core.settings import Settings
from bedside.core.state import Mode, State


def _say(text: str) -> list[Effect]:
    return [Say(text)] if text else []


def _menu_name(settings: Settings, state: State) -> str:
    return settings.menu[state.menu_index]


def _menu_index(settings: Settings, routine: str | None) -> int:
    """Where ``routine`` stands in the menu; the first entry for one the menu lacks."""
    return settings.menu.index(routine) if routine in settings.menu else 0


def _mode_of(step: Step) -> Mode:
    """The mode a step runs in: waiting for a press, or counting down."""
    return Mode.AWAITING if step.kind is StepKind.WAIT else Mode.RUNNING


def routine_name(settings: Settings, state: State) -> str:
    """The routine a state is about: the one running, or the one the menu shows."""
    if state.routine is not None and state.mode is not Mode.MENU:
        return state.routine.name
    return _menu_name(settings, state)


class Engine:
    """The pure rules. One instance holds the settings; every method is a pure function."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    # -- public ----------------------------------------------------------------------------
    def start(self, now: float, routine: str | None = None) -> tuple[State, list[Effect]]:
        state = State(Mode.MENU, menu_index=_menu_index(self.settings, routine), idle_since=now)
        name = _menu_name(self.settings, state)
        return state, [Display(True, self.settings.contrast), StateChanged(Mode.MENU, name)]

    def resume(
        self, now: float, routine: str, step_index: int, elapsed: float, session_elapsed: float
    ) -> tuple[State, list[Effect]]:
        """A session interrupted by a restart, back where it was.

        A countdown comes back paused, cues already due by ``elapsed`` not said again. A step
        that waits for a press has no time to lose: it comes back waiting, from its start, and
        says its instruction again, since the person may not remember where they were.
        """
        chosen = self.settings.routines[routine]
        step = chosen.steps[step_index]
        waiting = step.kind is StepKind.WAIT
        elapsed = 0.0 if waiting else max(0.0, min(elapsed, step.duration or 0.0))
        mode = Mode.AWAITING if waiting else Mode.PAUSED
        state = State(
            mode,
            menu_index=_menu_index(self.settings, routine),
            routine=chosen,
            step_index=step_index,
            step_start=now - elapsed,
            paused_at=None if waiting else now,
            next_cue=0 if waiting else sum(1 for cue in step.cues if cue.at <= elapsed),
            idle_since=now,
            session_start=now - max(session_elapsed, elapsed),
        )
        phrases = self.settings.phrases
        effects: list[Effect] = [
            Display(True, self.settings.contrast),
            StateChanged(mode, routine),
            StepStarted(routine, step_index, len(chosen.steps), step),
            *_say(
                phrases.restored_waiting
                if waiting
                else phrases.restored.format(left=phrases.left((step.duration or 0) - elapsed))
            ),
        ]
        # A waiting step's own cues at its start follow at once, as when it first began.
        state, due = self._catch_up(state, now)
        return state, effects + due

    def deadline(self, state: State) -> float | None:
        """The next moment at which ``handle(state, Tick(), t)`` would change something."""
        due = self._next_due(state)
        return due[0] if due else None

    def handle(self, state: State, event: Event, now: float) -> tuple[State, list[Effect]]:
        state, effects = self._catch_up(state, now)
        if isinstance(event, Tick):
            return state, effects
        if isinstance(event, Remind):
            if state.mode is not Mode.MENU:
                return state, effects  # never during a session, nor over the last screen
            index = _menu_index(self.settings, self.settings.night_routine)
            state = replace(state, menu_index=index, display_on=True, idle_since=now)
            name = _menu_name(self.settings, state)
            effects += [Display(True, self.settings.contrast), StateChanged(Mode.MENU, name)]
            return state, effects + _say(event.text)
        if isinstance(event, HoldPending):
            if state.display_on and not state.holding:
                state = replace(state, holding=True)
            return state, effects
        state = replace(state, holding=False, idle_since=now)
        if not state.display_on:
            state = replace(state, display_on=True)
            return state, [*effects, GestureTaken("wake"), Display(True, self.settings.contrast)]
        effects.append(GestureTaken(event.gesture.value))
        state, more = self._gesture(state, event.gesture, now)
        # What the gesture made due at once (a new step's first cue) happens now, too.
        state, due = self._catch_up(state, now)
        return state, effects + more + due

    # -- gestures --------------------------------------------------------------------------
    def _gesture(self, state: State, gesture: Gesture, now: float) -> tuple[State, list[Effect]]:
        mode = state.mode
        if mode is Mode.MENU:
            if gesture is Gesture.PRESS:
                return self._begin(state, now)
            if gesture is Gesture.HOLD:
                index = (state.menu_index + 1) % len(self.settings.menu)
                state = replace(state, menu_index=index)
                name = _menu_name(self.settings, state)
                effects: list[Effect] = [Silence(), StateChanged(Mode.MENU, name)]
                if self.settings.announce:
                    effects += _say(self.settings.phrases.announce(self.settings.routines[name]))
                return state, effects
            return state, []
        if mode is Mode.FINISHED:
            if gesture is Gesture.LONG_HOLD:
                return state, []
            return self._to_menu(state)
        # running, paused, awaiting
        if gesture is Gesture.LONG_HOLD:
            return self._finish(state, now, completed=False, effects=self._left_hold(state, now))
        if gesture is Gesture.HOLD:
            return self._next_step(state, now, [Silence(), *self._left_hold(state, now)])
        routine, step = state.routine, state.step
        assert routine is not None and step is not None  # a session is on
        if mode is Mode.RUNNING:
            state = replace(state, mode=Mode.PAUSED, paused_at=now)
            effects = [Silence(), StateChanged(Mode.PAUSED, routine.name)]
            left = state.remaining(now) or 0.0
            phrases = self.settings.phrases
            return state, effects + _say(phrases.paused.format(left=phrases.left(left)))
        if mode is Mode.PAUSED:
            assert state.paused_at is not None
            resumed_mode = _mode_of(step)
            state = replace(
                state,
                mode=resumed_mode,
                step_start=state.step_start + (now - state.paused_at),
                paused_at=None,
            )
            effects = [StateChanged(resumed_mode, routine.name)]
            return state, effects + _say(self.settings.phrases.resumed)
        # awaiting: the person has done the thing; carry on
        return self._next_step(state, now, [Silence()])

    # -- transitions -----------------------------------------------------------------------
    def _begin(self, state: State, now: float) -> tuple[State, list[Effect]]:
        routine = self.settings.routines[_menu_name(self.settings, state)]
        state = replace(state, routine=routine, session_start=now, completed=False)
        return self._enter_step(state, 0, now, [], mode_before=Mode.MENU)

    def _enter_step(
        self, state: State, index: int, at: float, effects: list[Effect], mode_before: Mode
    ) -> tuple[State, list[Effect]]:
        routine = state.routine
        assert routine is not None
        step = routine.steps[index]
        mode = _mode_of(step)
        state = replace(
            state, mode=mode, step_index=index, step_start=at, paused_at=None, next_cue=0
        )
        if mode is Mode.AWAITING:  # the person has the full idle time to act on the new step
            state = replace(state, idle_since=max(state.idle_since, at))
        if mode is not mode_before:
            effects.append(StateChanged(mode, routine.name))
        effects.append(StepStarted(routine.name, index, len(routine.steps), step))
        return state, effects

    def _next_step(
        self, state: State, at: float, effects: list[Effect]
    ) -> tuple[State, list[Effect]]:
        routine = state.routine
        assert routine is not None
        if state.step_index + 1 >= len(routine.steps):
            return self._finish(state, at, completed=True, effects=effects)
        return self._enter_step(state, state.step_index + 1, at, effects, mode_before=state.mode)

    def _finish(
        self, state: State, at: float, completed: bool, effects: list[Effect] | None = None
    ) -> tuple[State, list[Effect]]:
        routine = state.routine
        assert routine is not None
        effects = list(effects or [])
        if not completed:
            effects.append(Silence())
        state = replace(
            state,
            mode=Mode.FINISHED,
            paused_at=None,
            finished_at=at,
            completed=completed,
            idle_since=max(state.idle_since, at),
        )
        ran = at - state.session_start
        effects += [
            StateChanged(Mode.FINISHED, routine.name),
            Finished(routine.name, completed, ran),
        ]
        text = routine.finish if completed else self.settings.phrases.ended
        return state, effects + _say(text)

    def _left_hold(self, state: State, at: float, held: bool = False) -> list[Effect]:
        """Leaving the step that grows: whether it was held to its end (for tomorrow's)."""
        step = state.step
        if step is None or not step.grows or state.routine is None:
            return []
        return [GrowingStepEnded(state.routine.name, held, state.elapsed(at), step.duration or 0.0)]

    def _to_menu(self, state: State) -> tuple[State, list[Effect]]:
        state = replace(state, mode=Mode.MENU, routine=None, step_index=0, paused_at=None)
        return state, [StateChanged(Mode.MENU, _menu_name(self.settings, state))]

    # -- time ------------------------------------------------------------------------------
    def _idle_limit(self, state: State) -> float | None:
        if state.mode in (Mode.MENU, Mode.FINISHED):
            return self.settings.off_after
        if state.mode in (Mode.PAUSED, Mode.AWAITING):
            return self.settings.off_after_paused
        return None

    def _next_due(self, state: State) -> tuple[float, _Due] | None:
        """The earliest timed thing and its time; at equal times a cue comes before the end."""
        pending: list[tuple[float, _Due]] = []
        step = state.step
        if step is not None and state.mode in (Mode.RUNNING, Mode.AWAITING):
            if state.next_cue < len(step.cues):
                pending.append((state.step_start + step.cues[state.next_cue].at, _Due.CUE))
            if state.mode is Mode.RUNNING and step.duration is not None:
                pending.append((state.step_start + step.duration, _Due.END))
        idle = self._idle_limit(state)
        if state.display_on and idle is not None:
            pending.append((state.idle_since + idle, _Due.DARK))
        return min(pending, default=None)

    def _catch_up(self, state: State, now: float) -> tuple[State, list[Effect]]:
        """Everything that fell due up to ``now``, each at the moment it was due, in order."""
        effects: list[Effect] = []
        while (due := self._next_due(state)) is not None and due[0] <= now:
            at, what = due
            if what is _Due.CUE:
                assert state.step is not None  # a cue falls due only in a step
                cue = state.step.cues[state.next_cue]
                # A cue that could not be said near its time is dropped, not said late.
                if now - at <= self.settings.stale_cue:
                    effects.append(Say(cue.text))
                state = replace(state, next_cue=state.next_cue + 1)
            elif what is _Due.END:
                effects += self._left_hold(state, at, held=True)
                state, effects = self._next_step(state, at, effects)
            else:
                effects.append(Display(False, self.settings.contrast))
                state = replace(state, display_on=False, holding=False)
                if state.mode is Mode.FINISHED:
                    state, more = self._to_menu(state)
                    effects += more
        return state, effects


class _Due(IntEnum):
    """What falls due, in the order things due at the same moment are done."""

    CUE = 0
    END = 1
    DARK = 2
