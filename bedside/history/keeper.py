"""When progress is written: the save policy between the daemon's loop and its ``Store``.

A power cut must lose at most a few seconds of a routine, and an SD card must not be written
on every tick. So the session in progress is written when it changes (another step, a pause,
a resume) and every ``SAVE_EVERY`` seconds while a step runs; a session done, and a night's
growing hold, are recorded when they end.

A session's length is what the monotonic clock measured; the wall clock, which may jump when the
network sets it, only places it: its start is the wall clock's latest reading less what the
session has run, and its night that start's, once the clock is known. A clock set during the
session, known at last or set again (set at boot from a real-time clock that lost its time, then
put right by the network), moves the session with it, as it moves the menu's streak
(``Behaviour`` reads the same clock): the history a restart reads says what the menu said. A
session restored after a restart keeps where its earlier life placed it, if the clock was known
then: this life knows only how long it has run, not how long the device was off.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING

from bedside.core.nights import night_of
from bedside.core.state import Mode, State
from bedside.history.rows import GrowthRow, Progress, Session, step_key
from bedside.history.store import Store

if TYPE_CHECKING:  # the core's output, named for the reader; the core imports nothing here
    from bedside.core.behaviour import GrowthRecorded

# What a write was of: (routine, step index, mode, the session's start).
_Written = tuple[str, int, Mode, float]


class Keeper:
    """Watches the engine's state from the loop and writes what a power cut must not lose.

    The loop hands it the time on its own (monotonic) clock at each call; the wall-clock times
    kept are the ``store``'s (``Store.wall``), so that there is one wall clock for history.
    """

    # Seconds of a running step between writes. A power cut loses at most 5 s: the writes
    # come a second more often, so a loop that wakes late on a busy Pi still keeps to it.
    SAVE_EVERY = 4.0

    def __init__(
        self, store: Store, speed: float = 1.0, known: Callable[[], bool] = lambda: True
    ) -> None:
        self.store = store
        # The loop's clock may run fast (the demo, tests): the wall clock's seconds are real.
        self.speed = speed
        self.known = known  # whether the wall clock can be trusted
        self.last: _Written | None = None  # at the last write
        self.saved_at = 0.0
        self.started_wall = 0.0
        self.night: date | None = None  # the session's night, once the clock was known
        self.placed_earlier = False  # restored, placed by an earlier life with the clock known

    def resumed(self, progress: Progress, state: State) -> None:
        """The loop starts on a session restored from ``progress``: keep its start and night."""
        self.started_wall, self.night = progress.started, progress.night
        self.placed_earlier = progress.night is not None
        self.last = (progress.routine, state.step_index, state.mode, state.session_start)

    def deadline(self, state: State) -> float | None:
        """When the loop must call ``after`` again at the latest, for the next periodic write."""
        if state.mode is Mode.RUNNING:
            return self.saved_at + self.SAVE_EVERY
        return None

    def after(self, state: State, now: float, force: bool = False) -> None:
        """Called by the loop after each turn, with the monotonic time; ``force`` writes the
        progress even if little has changed (when stopping)."""
        if state.routine is None or state.mode is Mode.MENU:
            self.last = None
            return
        key = (state.routine.name, state.step_index, state.mode, state.session_start)
        if state.mode is Mode.FINISHED:
            if self.last is not None and self.last[2] is not Mode.FINISHED:
                self._record(state, now)
            self.last = key
            return
        if self.last is None or self.last[3] != state.session_start:  # a new session, begun here
            self.placed_earlier = False
        self._place(state, now)
        changed = force or key != self.last
        # The very sum deadline() gives: now - saved_at may round below SAVE_EVERY at it,
        # and a write that never falls due at its own deadline spins the loop.
        due = state.mode is Mode.RUNNING and now >= self.saved_at + self.SAVE_EVERY
        if changed or due:
            self.store.save(
                Progress(
                    routine=state.routine.name,
                    step_index=state.step_index,
                    step_elapsed=state.elapsed(now),
                    session_elapsed=now - state.session_start,
                    started=self.started_wall,
                    updated=self.store.wall(),
                    step_key=step_key(state.routine.steps[state.step_index]),
                    night=self.night,
                )
            )
            self.saved_at = now
            self.last = key

    def growth_recorded(self, recorded: GrowthRecorded) -> None:
        """A night's growing hold is over: kept, for tonight's length to follow from."""
        outcome = recorded.outcome
        self.store.record_growth(
            GrowthRow(outcome.night, outcome.held, recorded.seconds, recorded.length)
        )

    def _place(self, state: State, now: float) -> None:
        """The session's start on the wall clock, read now, less what it has run; its night,
        if the clock is known. Read at every turn, so that a jump of the clock moves them: the
        time it has run does not move."""
        if self.placed_earlier:
            return
        self.started_wall = self.store.wall() - (now - state.session_start) / self.speed
        known = self.known()
        self.night = night_of(datetime.fromtimestamp(self.started_wall)) if known else None

    def _record(self, state: State, now: float) -> None:
        routine = state.routine
        assert routine is not None
        self._place(state, now)  # the clock may have been set since the last turn
        done = len(routine.steps) if state.completed else state.step_index
        ran = (state.finished_at - state.session_start) / self.speed  # monotonic, real seconds
        session = Session(
            routine.name,
            self.started_wall,
            self.started_wall + ran,
            state.completed,
            done,
            len(routine.steps),
            self.night,
        )
        self.store.record(session)
