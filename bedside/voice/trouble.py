"""Trouble said once: one WARNING per kind (no engine, a render failing, no sound output) until
that thing works again, on the ``bedside.voice`` logger: a log, not a flood."""

from __future__ import annotations

import logging
import threading

__all__ = ["LOG", "Trouble"]

LOG = logging.getLogger("bedside.voice")


class Trouble:
    """One WARNING per kind of trouble until that thing works again: a log, not a flood."""

    def __init__(self, log: logging.Logger) -> None:
        self.log = log
        self._active: set[str] = set()
        self._lock = threading.Lock()

    def warn(self, kind: str, message: str, *args: object) -> None:
        with self._lock:
            if kind in self._active:
                return
            self._active.add(kind)
        self.log.warning(message, *args)

    def clear(self, kind: str, message: str, *args: object) -> None:
        with self._lock:
            if kind not in self._active:
                return
            self._active.discard(kind)
        self.log.info(message, *args)
