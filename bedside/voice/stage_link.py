"""The daemon's end of the sound stage: one child process (``python -I -m bedside.sound.stage``)
that owns the output, fed JSON lines, its answers read on a thread of its own.

The stage is started on first use, by the thread that will use it for as long as it runs (the
Speaker's worker: the kernel's parent-death signal follows the thread that started a child), and
again after it died. Its own lines (``ready``, ``sound``, ``duck``, ``error``, ``output``) go to
``hear``. It dies with its parent (``PR_SET_PDEATHSIG``), and an end of its stdin is a quit, so
a daemon killed with -9 leaves no sound playing. With nothing due its output is closed and it
sleeps in ``select``: no wake-ups.
"""

from __future__ import annotations

import contextlib
import json
import logging
import subprocess
import threading
from collections.abc import Callable
from typing import IO, Any

from bedside.voice.output_rate import stage_command
from bedside.voice.processes import kill_group

__all__ = ["StageLink"]

LOG = logging.getLogger("bedside.voice")

Hear = Callable[[dict[str, Any]], None]


class StageLink:
    """``send`` a line (starting the stage when it is not running); ``hear`` gets each of its
    answers, on the reader's thread. ``options``: the stage's own (pre-roll, duck, level)."""

    def __init__(
        self,
        output: str,
        options: list[str],
        hear: Hear,
        log: logging.Logger | None = None,
        command: list[str] | None = None,
    ) -> None:
        self.command = command or stage_command(output, *options)
        self.hear = hear
        self.log = log or LOG
        self.process: subprocess.Popen[str] | None = None
        self.started = 0  # how many stages were started (one, unless one died)
        self._lock = threading.Lock()
        self._closed = False
        self._reader: threading.Thread | None = None

    @property
    def running(self) -> bool:
        with self._lock:
            return self.process is not None and self.process.poll() is None

    def send(self, line: dict[str, Any]) -> bool:
        """Write ``line``, starting the stage first when it is not running; False when it
        cannot be started (said once by the caller, from the error)."""
        with self._lock:
            if self._closed:
                return False
            if self.process is None or self.process.poll() is not None:
                self._start()
            return self._write(line)

    def tell(self, line: dict[str, Any]) -> None:
        """Write ``line`` to a stage that is running (a stop, from any thread); nothing if none."""
        with self._lock:
            if self.process is not None and self.process.poll() is None:
                self._write(line)

    def close(self, grace: float = 1.0) -> None:
        """Quit the stage (it fades out and closes the output), killed if it takes too long."""
        with self._lock:
            self._closed = True
            process = self.process
            if process is not None and process.poll() is None:
                self._write({"type": "quit"})
                with contextlib.suppress(OSError):
                    assert process.stdin is not None
                    process.stdin.close()
        if process is None:
            return
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            kill_group(process)  # type: ignore[arg-type]
        if self._reader is not None:  # it ends with the stage's stdout: nothing left behind
            self._reader.join(grace)

    # -- under the lock ------------------------------------------------------------------------
    def _start(self) -> None:
        self.process = subprocess.Popen(
            self.command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # ALSA's own chatter; the stage says its errors on stdout
            text=True,
            encoding="utf-8",
            bufsize=1,
            start_new_session=True,  # a signal to the daemon's terminal is the daemon's
        )
        self.started += 1
        assert self.process.stdout is not None
        self._reader = threading.Thread(
            target=self._read, args=(self.process.stdout,), name="bedside-stage", daemon=True
        )
        self._reader.start()

    def _write(self, line: dict[str, Any]) -> bool:
        process = self.process
        if process is None or process.stdin is None:
            return False
        try:
            process.stdin.write(json.dumps(line) + "\n")
            process.stdin.flush()
        except (OSError, ValueError):  # it died: the next send starts another
            return False
        return True

    # -- the reader's thread -------------------------------------------------------------------
    def _read(self, out: IO[str]) -> None:
        for text in out:
            try:
                line = json.loads(text)
            except ValueError:
                continue
            if isinstance(line, dict):
                try:
                    self.hear(line)
                except Exception:  # the reader must outlive a listener's surprise
                    self.log.exception("unexpected trouble hearing the stage: %r", line)
        with contextlib.suppress(Exception):
            self.hear({"type": "gone"})
