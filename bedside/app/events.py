"""What the daemon's loop waits on: one queue, put on from any thread or a signal handler
(``SimpleQueue.put`` is reentrant). The way in from outside is ``put(Stop(...))``."""

from __future__ import annotations

import queue
from dataclasses import dataclass

from bedside.app.reloads import Reloaded
from bedside.button import Edge

__all__ = ["Arrival", "Edge", "Events", "Reload", "Reloaded", "Stop", "Wake", "WallMoved"]


@dataclass(frozen=True)
class Stop:
    reason: str


@dataclass(frozen=True)
class Reload:
    """Read the configuration again (SIGHUP)."""


@dataclass(frozen=True)
class Wake:
    """Nothing to do but wake up: a signal's handler waits to run on this thread."""


@dataclass(frozen=True)
class WallMoved:
    """The wall clock was set (the network, a person, a script): the nights follow it now."""


Arrival = Edge | Stop | Reload | Reloaded | Wake | WallMoved  # anything the loop is woken by
Events = queue.SimpleQueue[Arrival]
