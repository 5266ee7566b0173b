"""Picking up a session a restart interrupted: found again in a routine that may have been
edited since, back paused where it was if it was recent, else closed and kept in the history."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bedside.config.sections import Config
from bedside.core.behaviour import Behaviour
from bedside.core.routines import Routine
from bedside.history.keeper import Keeper
from bedside.history.rows import Progress, Session, step_key
from bedside.history.store import Store

log = logging.getLogger("bedside")


def find_step(routine: Routine, progress: Progress) -> int | None:
    """Where the interrupted step is in ``routine`` now, which may have been edited since:
    the same step (by its fingerprint) nearest the index it had, or None if it is gone."""
    steps = routine.steps
    if not progress.step_key:  # saved before fingerprints were kept: trust the index
        return progress.step_index if progress.step_index < len(steps) else None
    same = [i for i, step in enumerate(steps) if step_key(step) == progress.step_key]
    return min(same, key=lambda i: abs(i - progress.step_index), default=None)


def restore(
    store: Store,
    keeper: Keeper,
    behaviour: Behaviour,
    config: Config,
    known: Callable[[], bool] = lambda: True,
) -> None:
    """A session a restart interrupted: back where it was and paused, if it was recent."""
    progress = store.current()
    if progress is None:
        return
    routine = config.routines.get(progress.routine)
    age = store.wall() - progress.updated
    index = find_step(routine, progress) if routine is not None else None
    # A wall clock not known yet (no real-time clock, no network yet: it may read a year ago or
    # last night) says nothing of how long ago it was, nor does one behind the last write: the
    # session comes back, and the person can still end it with a long hold.
    recent = age <= config.resume_within or not known()
    if index is not None and recent:
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
    # what it ran before the cut (monotonic), not the wall clock's say, which may have jumped
    ended = progress.started + progress.session_elapsed
    session = Session(progress.routine, progress.started, ended, False, done, steps, progress.night)
    store.record(session)
