"""Playing: one WAV at a time through a player process (``aplay``) that ``stop()`` ends at once.

pyttsx3's own say() plays through a blocking ``aplay`` that cannot be interrupted; bedside plays
the cached WAVs itself, so skipping a step or stopping the daemon silences the speaker at once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from bedside.voice.output import CHUNK, Lines, Tail, follow
from bedside.voice.processes import kill_group, signal_group
from bedside.voice.wav import UNREADABLE, wav_seconds

__all__ = ["APLAY", "NULL_PLAYER", "Player", "Trouble", "sound_cards"]

LOG = logging.getLogger("bedside.voice")

APLAY = ["aplay", "-q", "-D", "{device}", "{file}"]
# A sound card stand-in for mock-hardware runs and tests: sleeps for as long as the WAV lasts.
NULL_PLAYER = [sys.executable, "-P", "-m", "bedside.voice.null_player", "{file}"]


LISTING_MOST = 1 << 20  # bytes of ``aplay -l`` read at most: a machine's cards make a few kB
LISTING_WAIT = 5.0  # seconds


def sound_cards() -> list[str]:
    """The ALSA cards ``aplay -l`` lists (none without aplay, or without a card). Its output is
    read in bounded pieces, for at most ``LISTING_WAIT`` seconds and ``LISTING_MOST`` bytes: an
    ``aplay`` that floods or never ends costs a few kB and a few seconds, then it is killed."""
    try:
        child = subprocess.Popen(
            ["aplay", "-l"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError:
        return []
    assert child.stdout is not None
    lines, cards, read = Lines(200), list[str](), 0
    deadline = time.monotonic() + LISTING_WAIT
    with child.stdout:
        fd = child.stdout.fileno()
        while read < LISTING_MOST:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                break
            chunk = os.read(fd, CHUNK)
            if not chunk:
                break
            read += len(chunk)
            cards += [
                line.decode("utf-8", "replace")
                for line in lines.feed(chunk)
                if line.startswith(b"card ")
            ]
    # Its output closed: a flooding aplay ends at its next write; one that hangs is killed.
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(timeout=max(0.0, deadline - time.monotonic()))
    kill_group(child)
    return cards


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


class Player:
    """Plays one WAV at a time through a command such as ``aplay``; ``stop()`` ends it at once.

    ``command`` is a list in which ``{file}`` and ``{device}`` are replaced. A player that is
    missing or exits non-zero is logged once (until it works again), never raised. One still
    running ``hang_margin`` seconds after its WAV's end has hung, and is killed.
    """

    grace = 0.05  # seconds between SIGTERM and SIGKILL: stop() returns within about 0.1 s

    def __init__(
        self,
        command: list[str] | None = None,
        device: str = "default",
        log: logging.Logger | None = None,
        *,
        hang_margin: float = 10.0,
    ) -> None:
        self.command = list(command or APLAY)
        self.device = device
        self.hang_margin = hang_margin
        self.process: subprocess.Popen[bytes] | None = None  # the one playing, or the last
        self._trouble = Trouble(log or LOG)
        self._stopping = False
        self._limit: float | None = None
        self._lock = threading.Lock()

    def argv(self, path: Path) -> list[str]:
        return [
            arg.replace("{device}", self.device).replace("{file}", str(path))
            for arg in self.command
        ]

    def start(self, path: Path) -> bool:
        """Start playing ``path``; False if the player could not be started."""
        try:
            process = subprocess.Popen(
                self.argv(path),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # stdout belongs to the daemon's JSON Lines
                stderr=subprocess.PIPE,
                # Its own process group, so stop() reaches whatever a wrapper script started
                # (sh -c "aplay ..."), not only the shell.
                start_new_session=True,
            )
        except OSError as e:
            self._trouble.warn("player", "cannot run the player %r: %s", self.command[0], e)
            return False
        with self._lock:
            self.process = process
            self._stopping = False
            self._limit = _seconds(path) + self.hang_margin
        return True

    def wait(self) -> bool:
        """Wait until the playback started last ends; True if it played to the end.

        What the player says on stderr is read as it comes, a few lines kept (a player that
        floods it costs nothing); once the player exits, a process it started that still holds
        its stderr (having left its session) is not waited for, and is warned about once."""
        process = self.process
        if process is None:
            return False
        assert process.stderr is not None
        said = Tail()
        exited, held = follow(process, process.stderr, said, self._limit)
        if not exited:
            # A player that hangs (a sound card gone away) is killed; the next cue tries again.
            signal_group(process, signal.SIGKILL)
            process.wait()
            process.stderr.close()
            self._trouble.warn("player", "the player %r hung and was stopped", self.command[0])
            return False
        if held:
            self._trouble.warn(
                "held",
                "the player %r left a process running that holds its output open: "
                "not waiting for it",
                self.command[0],
            )
        else:
            self._trouble.clear(
                "held", "the player %r leaves nothing running again", self.command[0]
            )
        process.stderr.close()
        with self._lock:
            stopped = self._stopping
        if process.returncode == 0:
            self._trouble.clear("player", "the player %r works again", self.command[0])
            return True
        if not stopped:
            self._trouble.warn(
                "player",
                "the player %r failed (exit status %s): %s",
                self.command[0],
                process.returncode,
                said.last() or "no message",
            )
        return False

    def stop(self) -> None:
        """End the playback now: SIGTERM, then SIGKILL after ``grace``; returns once it exited."""
        with self._lock:
            process = self.process
            self._stopping = True
        if process is None or process.poll() is not None:
            return
        signal_group(process, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(self.grace)
        # Whatever is left of the group (the player ignoring SIGTERM, or a child of a wrapper
        # that outlived it and would keep the sound and the stderr pipe going) is killed.
        signal_group(process, signal.SIGKILL)
        process.wait()


def _seconds(path: Path) -> float:
    """How long ``path`` plays; 0 for what is not a WAV (the player itself will say so)."""
    try:
        return wav_seconds(path)
    except UNREADABLE:
        return 0.0
