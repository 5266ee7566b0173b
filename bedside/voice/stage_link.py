"""The daemon's end of the sound stage: one child process (``python -I -m bedside.sound.stage``)
that owns the output, fed JSON lines, its answers read on a thread of its own.

The stage is started on first use, by the thread that will use it for as long as it runs (the
Speaker's worker: the kernel's parent-death signal follows the thread that started a child), and
again after it died. Its own lines (``ready``, ``sound``, ``duck``, ``error``, ``output``) go to
``hear``. It dies with its parent (``PR_SET_PDEATHSIG``), and an end of its stdin is a quit, so
a daemon killed with -9 leaves no sound playing. With nothing due its output is closed and it
sleeps in ``select``: no wake-ups.

What it says is read in bounded amounts and never kept whole (``bedside.voice.output``): a line
longer than ``LONGEST`` is dropped, said once, so a stage printing one endless line costs the
daemon a line's width, not its memory. The reader watches the stage itself, not the end of its
output: a process the stage started that left its session may hold the pipe open after the
stage is gone, and that is waited on for half a second at most (said once), so the stage's
going is heard and the next sound starts another; ``close`` never waits on such a pipe either.
"""

from __future__ import annotations

import contextlib
import json
import logging
import subprocess
import threading
from collections.abc import Callable
from typing import Any

from bedside.voice.output import Lines, follow
from bedside.voice.output_rate import stage_command
from bedside.voice.processes import kill_group
from bedside.voice.trouble import Trouble

__all__ = ["StageLink"]

LOG = logging.getLogger("bedside.voice")

Hear = Callable[[dict[str, Any]], None]

# bytes: the longest answer line heard. An answer is a few hundred bytes; the longest quotes one
# cue's text, and a cue of 64 kB would be ten thousand words, an hour of speech. Longer is not
# an answer (a stage gone wrong), and this much is all one link's reader ever holds.
LONGEST = 1 << 16


class StageLink:
    """``send`` a line (starting the stage when it is not running); ``hear`` gets each of its
    answers, on the reader's thread, and at a stage's end ``{"type": "gone", "stage": n}``,
    ``n`` the number ``send`` gave for it. ``options``: the stage's own (pre-roll, duck,
    level)."""

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
        self.process: subprocess.Popen[bytes] | None = None
        self.started = 0  # stages started (one, unless one died): the latest's number
        self._lock = threading.Lock()
        self._closed = False
        self._reader: threading.Thread | None = None
        # A stage that misbehaves every time it is started again ("long", "held") is one
        # warning, not one a sound. Trouble has its own lock: a reader must never wait for
        # ``_lock``, which a send holds while it writes to a stage that may be stuck.
        self._trouble = Trouble(self.log)

    @property
    def running(self) -> bool:
        with self._lock:
            return self.process is not None and self.process.poll() is None

    def send(self, line: dict[str, Any]) -> int:
        """Write ``line``, starting the stage first when it is not running: the number of the
        stage it went to (1 for the first), as its ``gone`` will name it; 0 when it could not
        be written (a stage that cannot be started raises ``OSError``, said once by the
        caller)."""
        with self._lock:
            if self._closed:
                return 0
            if self.process is None or self.process.poll() is not None:
                self._start()
            return self.started if self._write(line) else 0

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
            kill_group(process)
        # The reader ends at most half a second after the stage (even with its stdout held
        # open by a process it started): bounded, and nothing left behind.
        if self._reader is not None:
            self._reader.join(grace)

    # -- under the lock ------------------------------------------------------------------------
    def _start(self) -> None:
        # Bytes both ways: its answers are read a chunk at a time (never a line at a time,
        # which has no end on a line with none), and a byte that is not UTF-8 is a line that is
        # not an answer, not the reader's end.
        self.process = subprocess.Popen(
            self.command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # ALSA's own chatter; the stage says its errors on stdout
            start_new_session=True,  # a signal to the daemon's terminal is the daemon's
        )
        self.started += 1
        self._reader = threading.Thread(
            target=self._read,
            args=(self.process, self.started),
            name="bedside-stage",
            daemon=True,
        )
        self._reader.start()

    def _write(self, line: dict[str, Any]) -> bool:
        process = self.process
        if process is None or process.stdin is None:
            return False
        try:
            process.stdin.write((json.dumps(line) + "\n").encode("utf-8"))
            process.stdin.flush()
        except (OSError, ValueError):  # it died: the next send starts another
            return False
        return True

    # -- the reader's thread -------------------------------------------------------------------
    def _read(self, process: subprocess.Popen[bytes], number: int) -> None:
        """Hear ``process``'s answers until it exits (and its last ones after), then its end,
        by its ``number``: with its output held, that end is heard up to half a second after
        it, when the next stage may have started and been sent sounds already."""
        out = process.stdout
        assert out is not None
        answers = _Answers(self._heard)
        try:
            # Until the stage exits, however long that is (it sleeps in select, and so does
            # this); then what it left in the pipe, for half a second at most.
            _, held = follow(process, out, answers, None)
            answers.end()
            if held:
                self._trouble.warn(
                    "held",
                    "the sound stage exited but a process it started holds its output open:"
                    " not waited for; a new stage starts with the next sound",
                )
        except Exception:  # the stage's end must be heard whatever went wrong here
            self.log.exception("unexpected trouble reading the sound stage")
        finally:
            with contextlib.suppress(OSError):
                out.close()
            with contextlib.suppress(Exception):
                self.hear({"type": "gone", "stage": number})

    def _heard(self, text: bytes) -> None:
        if len(text) > LONGEST:
            self._trouble.warn(
                "long",
                f"the sound stage said a line over {LONGEST // 1024} kB: dropped, as any more"
                " will be (said once)",
            )
            return
        try:
            line = json.loads(text)
        except ValueError:  # not JSON, or not UTF-8: not an answer
            return
        if isinstance(line, dict):
            try:
                self.hear(line)
            except Exception:  # the reader must outlive a listener's surprise
                self.log.exception("unexpected trouble hearing the stage: %.200r", line)


class _Answers:
    """The stage's stdout, fed in chunks, heard line by line. ``Lines`` holds one more byte
    than ``LONGEST``: a line that fills it was longer, and is dropped whole (a line cut short
    might still parse)."""

    def __init__(self, heard: Callable[[bytes], None]) -> None:
        self._heard = heard
        self._lines = Lines(LONGEST + 1)

    def feed(self, chunk: bytes) -> None:
        for text in self._lines.feed(chunk):
            self._heard(text)

    def end(self) -> None:
        """The last line, if the stage ended without its newline."""
        self._heard(self._lines.rest())
