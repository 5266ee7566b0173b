"""How far a long job has got, said to a person: a bar redrawn in place on a terminal, a line
a minute elsewhere (the journal, a log file), so that a render of three minutes with Piper is
never three minutes of silence. The count and the time at the end are the command's to say.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["ProgressLine"]


class ProgressLine:
    """``update(done)`` as each of ``total`` things is done: on a ``terminal``, a bar drawn
    over itself at most every ``redraw`` seconds; elsewhere a line every ``every`` seconds
    (none for a job over sooner). ``close()`` ends the bar's line."""

    def __init__(
        self,
        total: int,
        what: str,
        stream: TextIO,
        terminal: bool,
        clock: Callable[[], float] = time.monotonic,
        every: float = 60.0,
        redraw: float = 0.25,
    ) -> None:
        self.total, self.what, self.stream, self.terminal = total, what, stream, terminal
        self.clock, self.every, self.redraw = clock, every, redraw
        self.start = self._said = clock()
        self._shown: int | None = None  # the count the bar shows

    def update(self, done: int) -> None:
        now = self.clock()
        if self.terminal:
            final = done >= self.total and self._shown != done  # the full bar, once
            if final or (now - self._said >= self.redraw and self._shown != done):
                self._said, self._shown = now, done
                self.stream.write(f"\r{self._bar(done, now)}\x1b[K")
                self.stream.flush()
        elif now - self._said >= self.every:
            self._said = now
            elapsed = _clock(now - self.start)
            print(
                f"bedside: {done} of {self.total} {self.what} done, {elapsed} so far",
                file=self.stream,
                flush=True,
            )

    def close(self) -> None:
        if self._shown is not None:
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self) -> ProgressLine:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _bar(self, done: int, now: float, width: int = 24) -> str:
        filled = round(width * done / self.total) if self.total else width
        elapsed = now - self.start
        left = ""
        if 0 < done < self.total:
            left = f", about {_clock(elapsed / done * (self.total - done))} left"
        bar = "#" * filled + "." * (width - filled)
        return f"[{bar}] {done}/{self.total} {self.what}, {_clock(elapsed)}{left}"


def _clock(seconds: float) -> str:
    """A length as a clock shows it: "2:05"."""
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}:{rest:02d}"
