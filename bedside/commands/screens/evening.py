"""The screens an evening passes through, picked from real engine states: the gallery's shots.

``gallery_screens`` drives a real ``Engine`` through sessions of the configured routines and
keeps one screen of each kind, which ``bedside screens DIR`` saves as PNGs
(``screens.gallery``) and the tests look at, so a layout can be seen without a Pi.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from bedside.core.engine import Engine
from bedside.core.events import Event, Gestured, HoldPending, Tick
from bedside.core.gestures import Gesture
from bedside.core.nights import Streak
from bedside.core.routines import Step, StepKind
from bedside.core.screens import Screen, describe
from bedside.core.settings import Settings
from bedside.core.state import Mode, State


@dataclass
class _Session:
    """An engine and its state, driven by events at chosen moments, as the daemon would."""

    engine: Engine
    state: State
    now: float = 0.0
    streak: Streak | None = None  # the night's routine's, as ``Behaviour`` keeps it

    @classmethod
    def start(cls, settings: Settings, routine: str | None = None) -> _Session:
        engine = Engine(settings)
        state, _ = engine.start(0.0, routine)
        return cls(engine, state)

    def at(self, now: float, event: Event | None = None) -> _Session:
        self.now = now
        self.state, _ = self.engine.handle(self.state, event or Tick(), now)
        return self

    def fork(self) -> _Session:
        """A copy to drive down another path; states are frozen, so sharing them is safe."""
        return replace(self)

    def later(self, seconds: float, event: Event | None = None) -> _Session:
        return self.at(self.now + seconds, event)

    def press(self, gesture: Gesture = Gesture.PRESS, after: float = 2.0) -> _Session:
        return self.later(after, Gestured(gesture))

    def screen(self) -> Screen:
        return describe(self.state, self.engine.settings, self.now, self.streak)

    def go_to_step(self, index: int) -> _Session:
        """From the menu: start the routine, then skip (hold) until step ``index`` is on."""
        self.press()
        while self.state.mode is not Mode.FINISHED and self.state.step_index < index:
            self.press(Gesture.HOLD)
        return self

    def run_to_end(self) -> _Session:
        """Let every timed step run out and press through every wait, like a real evening.

        The last step is skipped a few seconds before its end instead: the engine counts
        the finished screen's minute from the last press, so a routine run to its end
        untouched goes dark the moment it finishes, and there would be nothing to show.
        """
        while self.state.mode is not Mode.FINISHED:
            routine, step = self.state.routine, self.state.step
            assert routine is not None and step is not None
            if self.state.mode is Mode.AWAITING:
                self.press(after=30.0)  # a press on a dark display only wakes it: loop again
            elif self.state.step_index == len(routine.steps) - 1 and step.duration:
                left = self.state.remaining(self.now) or 0.0
                self.press(Gesture.HOLD, after=max(0.0, left - 3.0))
            else:
                due = self.engine.deadline(self.state)
                assert due is not None
                self.at(due)
        return self


def _find(settings: Settings, wanted: Callable[[Step], bool]) -> tuple[str, int, Step] | None:
    """The first step, across the menu's routines, that is ``wanted``."""
    for name in settings.menu:
        for index, step in enumerate(settings.routines[name].steps):
            if wanted(step):
                return name, index, step
    return None


def _longest(found: Iterable[tuple[str, int, Step]]) -> tuple[str, int, Step] | None:
    return max(found, key=lambda item: len(item[2].title), default=None)


def gallery_screens(settings: Settings) -> list[tuple[str, Screen]]:
    """Representative screens from real engine states, in the order an evening meets them.

    Each is found in ``settings``' own routines, so the gallery shows this configuration's
    titles; a kind of screen the configuration never produces is left out.
    """
    shots: list[tuple[str, Screen]] = []
    first = settings.menu[0]
    shots.append(("menu", _Session.start(settings, first).screen()))
    profiled = next((n for n in settings.menu if settings.routines[n].profile_title), None)
    if profiled is not None and profiled != first:
        shots.append(("menu-profile", _Session.start(settings, profiled).screen()))
    if settings.night_routine in settings.menu:
        week = (True, False, True, True, True, True, True)  # five nights running, one missed
        night = _Session.start(settings, settings.night_routine)
        night.streak = Streak(5, week)  # as Behaviour hands it to the screen
        shots.append(("menu-streak", night.screen()))
    shots.append(
        ("menu-holding", _Session.start(settings, first).later(1.0, HoldPending()).screen())
    )

    wait = _find(settings, lambda s: s.kind is StepKind.WAIT)
    if wait is not None:
        name, index, _ = wait
        shots.append(("awaiting", _Session.start(settings, name).go_to_step(index).screen()))

    running: _Session | None = None
    timed = _find(settings, lambda s: s.kind is StepKind.TIMED and not s.side)
    if timed is not None:
        name, index, step = timed
        assert step.duration is not None
        # A third of the way in, just after a second ticked over: a typical, settled frame.
        running = _Session.start(settings, name).go_to_step(index).later(step.duration / 3 + 0.3)
        shots.append(("running", running.screen()))

    # The longest title with a side: the hardest fit for the running screen.
    sided = _longest(
        (name, i, s)
        for name in settings.menu
        for i, s in enumerate(settings.routines[name].steps)
        if s.side and s.kind is not StepKind.WAIT
    )
    if sided is not None:
        name, index, _ = sided
        session = _Session.start(settings, name).go_to_step(index).later(11.6)
        shots.append(("running-side", session.screen()))

    paced = _find(settings, lambda s: s.pacer)
    if paced is not None and settings.pacer:
        name, index, _ = paced
        # Two and a half seconds into a breath: the guide is growing, past half way.
        session = _Session.start(settings, name).go_to_step(index).later(62.5)
        shots.append(("running-pacer", session.screen()))

    reps = _find(settings, lambda s: s.kind is StepKind.REPS and bool(s.seconds_per_rep))
    if reps is not None:
        name, index, step = reps
        assert step.seconds_per_rep is not None
        # Into the seventh lift, so the detail reads "lift 7 of ...".
        session = _Session.start(settings, name).go_to_step(index)
        shots.append(("running-reps", session.later(6.4 * step.seconds_per_rep).screen()))

    if running is not None:
        # A press pauses; forty seconds later the clock is still where it stopped.
        shots.append(("paused", running.fork().press(after=0.2).later(40.0).screen()))
        shots.append(("running-holding", running.fork().later(0.5, HoldPending()).screen()))
        ended = running.fork().press(Gesture.LONG_HOLD, after=0.5)
        shots.append(("ended", ended.screen()))

    # The shortest routine in the menu, run to its end as a person would.
    shortest = min(settings.menu, key=lambda n: settings.routines[n].total_seconds)
    done = _Session.start(settings, shortest).press().run_to_end().later(1.0)
    shots.append(("finished", done.screen()))
    shots.append(("finished-holding", done.later(1.0, HoldPending()).screen()))

    idle = _Session.start(settings, first).at(settings.off_after + 1.0)
    shots.append(("dark", idle.screen()))

    # The same screen twice (a configuration with one routine, say) is shown once.
    unique: list[tuple[str, Screen]] = []
    for name, screen in shots:
        if all(screen != seen for _, seen in unique):
            unique.append((name, screen))
    return unique
