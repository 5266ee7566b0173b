"""What the display shows, decided from the engine's state: pure, and the same everywhere.

``describe(state, settings, now, streak)`` gives a ``Screen``: a small frozen value holding only
what is visible (the countdown in whole seconds, the step title, which foot, the streak...). Two
equal screens look identical, so the daemon redraws, and ``simulate`` reports a ``screen``
event, only when the value changes. ``Screen.lines`` is the same screen as text;
``bedside.display.picture`` turns it into the panel's picture.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from enum import StrEnum

from bedside.core.durations import whole_minutes
from bedside.core.engine import routine_name
from bedside.core.growth import growing_length
from bedside.core.nights import Streak
from bedside.core.routines import StepKind
from bedside.core.settings import Settings
from bedside.core.state import Mode, State


class View(StrEnum):
    """Which of the screens is showing: each is laid out in its own way."""

    NONE = "none"  # nothing drawn yet
    DARK = "dark"
    MENU = "menu"
    RUNNING = "running"
    PAUSED = "paused"
    AWAITING = "awaiting"  # a step that waits for a press
    HOLDING = "holding"  # the button held: what letting go will do
    FINISHED = "finished"


@dataclass(frozen=True)
class Screen:
    kind: View
    title: str = ""
    detail: str = ""  # a second line: the routine's length, which foot, what to do
    clock: str = ""  # MM:SS
    progress: float = 0.0  # 0..1 of the step, from the shown clock
    position: str = ""  # "2/4" in the menu, "3/17" in a routine
    hint: str = ""  # what the button does now
    breath: int = -1  # the breathing guide's size, 0..BREATH_LEVELS; -1: not shown
    breathing: str = ""  # "in" or "out"
    nights: str = ""  # the streak, in the menu: "5 nights"
    week: tuple[bool, ...] = ()  # the last seven nights, oldest first, done or not

    @property
    def lines(self) -> list[str]:
        """The screen as text, top to bottom, leaving out what is empty."""
        if self.kind is View.DARK:
            return []
        parts = [self.title, self.detail, self.clock]
        if self.kind in (View.RUNNING, View.PAUSED):
            parts.append(_bar(self.progress))
        parts += [f"breathe {self.breathing}" if self.breathing else ""]
        if self.nights or self.week:
            marks = "".join("\u25cf" if done else "\u25cb" for done in self.week)
            parts.append(" ".join(p for p in (self.nights, marks) if p))
        parts += [self.position, self.hint]
        return [p for p in parts if p]


def clock(seconds: float) -> str:
    """Whole seconds left, rounded up so 00:00 only shows at the very end: 754.2 -> "12:35"."""
    whole = max(0, math.ceil(seconds - 1e-9))
    return f"{whole // 60:02d}:{whole % 60:02d}" if whole < 6000 else f"{whole // 60}m"


def minutes(seconds: float) -> str:
    return f"{max(1, whole_minutes(seconds))} min"


def describe(state: State, settings: Settings, now: float, streak: Streak | None = None) -> Screen:
    """What the display shows of ``state`` at ``now``; ``streak`` (the night's routine's, kept
    by ``bedside.core.behaviour``) is shown on that routine's menu entry."""
    if not state.display_on:
        return Screen(View.DARK)
    if state.mode is Mode.MENU:
        name = routine_name(settings, state)
        routine = settings.routines[name]
        if state.holding:
            return Screen(View.HOLDING, "Release:", "next routine", hint="")
        detail = minutes(routine.total_seconds)
        if routine.profile_title:
            detail += ", " + routine.profile_title
        hold = growing_length(routine)
        if hold is not None and settings.growth.grow:
            detail += f", hold {minutes(hold)}"  # tonight's: it grows night by night
        nights, seven = "", tuple[bool, ...]()
        if streak is not None and name == settings.night_routine and any(streak.week):
            nights = f"{streak.nights} night{'s' if streak.nights != 1 else ''}"
            seven = streak.week
        position = f"{state.menu_index + 1}/{len(settings.menu)}"
        return Screen(
            View.MENU,
            routine.title,
            detail,
            position=position,
            hint="press to start",
            nights=nights,
            week=seven,
        )
    if state.mode is Mode.FINISHED:
        if state.holding:
            return Screen(View.HOLDING, "Release:", "back to menu")
        took = minutes(state.finished_at - state.session_start)
        title = "All done" if state.completed else "Session ended"
        which = state.routine.title if state.routine else ""
        return Screen(View.FINISHED, title, f"{which}, {took}", hint="press for menu")
    step = state.step
    assert step is not None and state.routine is not None
    position = f"{state.step_index + 1}/{len(state.routine.steps)}"
    if state.holding:
        return Screen(View.HOLDING, "Release: skip step", "Keep holding: end", position=position)
    detail = f"{step.side} foot" if step.side else ""
    if state.mode is Mode.AWAITING:
        return Screen(
            View.AWAITING, step.title, detail, position=position, hint="press to continue"
        )
    assert step.duration is not None
    left = step.duration - state.elapsed(now)
    shown = clock(left)
    done = step.duration - max(0, math.ceil(left - 1e-9))
    if step.kind is StepKind.REPS and step.seconds_per_rep and step.reps:
        rep = min(step.reps, int(done // step.seconds_per_rep) + 1)
        detail = f"lift {rep} of {step.reps}"
    progress = min(1.0, max(0.0, done / step.duration))
    if state.mode is Mode.PAUSED:
        return Screen(
            View.PAUSED, "Paused", step.title, shown, progress, position, "press to carry on"
        )
    breath, breathing = -1, ""
    if step.pacer and settings.pacer:
        breath, breathing = breath_level(state.elapsed(now), settings)
    return Screen(
        View.RUNNING, step.title, detail, shown, progress, position, "", breath, breathing
    )


BREATH_LEVELS = 27  # a pixel a side per level: the shape grows from 6 to 60 px wide


def _ease(x: float) -> float:
    return (1 - math.cos(math.pi * x)) / 2


def _uneased(y: float) -> float:
    return math.acos(1 - 2 * y) / math.pi


def breath_level(elapsed: float, settings: Settings) -> tuple[int, str]:
    """The guide's size and direction ``elapsed`` seconds into a step: it grows over the
    in-breath and shrinks over the out-breath, eased so that it slows at each turn."""
    cycle = settings.breathe_in + settings.breathe_out
    phase = elapsed % cycle
    if phase < settings.breathe_in:
        return round(_ease(phase / settings.breathe_in) * BREATH_LEVELS), "in"
    out = (phase - settings.breathe_in) / settings.breathe_out
    return round((1 - _ease(out)) * BREATH_LEVELS), "out"


def next_breath(elapsed: float, settings: Settings) -> float:
    """Seconds from ``elapsed`` until ``breath_level`` may next change."""
    cycle = settings.breathe_in + settings.breathe_out
    phase = elapsed % cycle
    # Woken a microsecond after each edge, so that rounding never shows the old size there.
    for edge in _breath_edges(settings.breathe_in, settings.breathe_out):
        if edge + 1e-6 > phase + 1e-9:
            return edge + 1e-6 - phase
    return cycle - phase + _breath_edges(settings.breathe_in, settings.breathe_out)[0] + 1e-6


@functools.lru_cache(maxsize=8)
def _breath_edges(breathe_in: float, breathe_out: float) -> tuple[float, ...]:
    """The moments in a breath (from the start of the in-breath) at which the size changes."""
    levels = BREATH_LEVELS
    growing = [breathe_in * _uneased((k + 0.5) / levels) for k in range(levels)]
    shrinking = [
        breathe_in + breathe_out * _uneased(1 - (k - 0.5) / levels) for k in range(levels, 0, -1)
    ]
    return (*growing, breathe_in, *shrinking, breathe_in + breathe_out)


def next_change(state: State, now: float, settings: Settings) -> float | None:
    """When the screen of ``state`` next changes by itself (the countdown ticking), if ever."""
    if state.mode is not Mode.RUNNING or not state.display_on or state.holding:
        return None
    left = state.remaining(now)
    if left is None or left <= 0:
        return None
    shown = math.ceil(left - 1e-9)
    tick = now + (left - (shown - 1))
    step = state.step
    if step is not None and step.pacer and settings.pacer:
        return min(tick, now + next_breath(state.elapsed(now), settings))
    return tick


def _bar(progress: float, width: int = 16) -> str:
    filled = round(progress * width)
    return "[" + "#" * filled + "-" * (width - filled) + "]"
