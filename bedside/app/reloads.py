"""Reading the configuration again (SIGHUP) on a thread of its own: the loop never waits for it.

A reload reads files (a big routine folder takes seconds on an SD card) and gathers every text
the device may say; done on the loop's thread, the countdown would stop meanwhile. The
``Reloader`` does it on one thread and hands the result to the loop as a ``Reloaded`` event. Reloads
coalesce: a SIGHUP while one is being read asks for one more reading after it, however many
arrive, so a storm of them is one thread, one reading at a time, and one more behind it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from bedside.closing import Closing
from bedside.config import core_terms
from bedside.config.keys import AT_START, SETTINGS
from bedside.config.sections import Config
from bedside.config.spoken import cue_texts, volumes_of
from bedside.core.gestures import Thresholds
from bedside.core.nights import Quiet, Reminder
from bedside.core.settings import Settings
from bedside.voice import VoiceSettings

__all__ = ["Reconfiguration", "Reloaded", "Reloader", "at_start"]

log = logging.getLogger("bedside")


@dataclass(frozen=True)
class Reconfiguration:
    """A configuration read again, in the terms ``Behaviour.reconfigure`` takes it, with what
    the voice speaks with (``Speaker.reconfigure``) and every text it may say, at each volume."""

    settings: Settings
    thresholds: Thresholds
    reminder: Reminder | None
    quiet: Quiet | None
    voice: VoiceSettings
    texts: list[str]
    volumes: list[float | None]

    @classmethod
    def from_config(cls, config: Config) -> Reconfiguration:
        return cls(
            core_terms.settings(config),
            core_terms.thresholds(config.button),
            config.reminder,
            config.quiet,
            VoiceSettings(
                config.voice, config.sounds, config.stale_cue, config.sound, config.soundscape
            ),
            cue_texts(config),
            volumes_of(config),
        )


def at_start(old: Config, new: Config) -> list[str]:
    """The keys changed from ``old`` to ``new`` that only a restart applies (keys.AT_START)."""
    return [name for name in AT_START if _value(old, name) != _value(new, name)]


def _value(config: Config, name: str) -> object:
    setting = SETTINGS[name]
    section = getattr(config, setting.section, None)
    if section is not None and hasattr(section, setting.key):
        return getattr(section, setting.key)
    return getattr(config, setting.key)  # a section of one key, kept in Config by its key


@dataclass(frozen=True)
class Reloaded:
    """A configuration read again, for the loop to take over (at the menu)."""

    fresh: Reconfiguration


class Reloader(Closing):
    """Calls ``read`` on a thread of its own each time a reload is ``request``-ed, and ``put``s
    what it returns (None: nothing to take over, the reading said why) as a ``Reloaded``."""

    def __init__(
        self, read: Callable[[], Reconfiguration | None], put: Callable[[Reloaded], None]
    ) -> None:
        self._read = read
        self._put = put
        self._cond = threading.Condition()
        self._wanted = False  # a reading asked for and not begun: later asks are the same one
        self._reading = False  # a reading under way, until what it read is put
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="bedside-reload", daemon=True)
        self._thread.start()

    def request(self) -> None:
        """Read the configuration again, after the reading under way if there is one; at once."""
        with self._cond:
            self._wanted = True
            self._cond.notify_all()

    def settle(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for every reading asked for to be read and put;
        whether they were (a stop answers a SIGHUP that came before it)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._wanted and not self._reading, timeout)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout=2)  # a reading under way is left to end with the process

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._wanted and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                self._wanted, self._reading = False, True
            try:
                fresh = self._read()
                if fresh is not None:
                    self._put(Reloaded(fresh))
            except Exception:  # the reloader must outlive any surprise, or no reload again
                log.exception("reload: unexpected trouble; keeping the configuration running")
            finally:
                with self._cond:
                    self._reading = False
                    self._cond.notify_all()
