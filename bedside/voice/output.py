"""A child's output, read in bounded amounts and never kept whole: its lines one by one (each
cut at a width) and the last few of them for a message.

A player or an engine that floods its stderr (a broken driver printing the same error in a
loop) must cost the daemon a few kilobytes, not all its memory: ``Lines`` splits what arrives
into lines without ever holding more than one line's ``width``, and ``Tail`` keeps the last
few. ``follow`` reads a child's output until the child exits, watching the child itself (not
the end of its output: a grandchild that left the child's session may hold the pipe open for
ever), and says whether the pipe was left open. It feeds a ``Tail``, or any ``Sink`` (the sound
stage's link hears each answer line as it comes).
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import time
from collections import deque
from collections.abc import Iterator
from typing import IO, Protocol

__all__ = ["Lines", "Sink", "Tail", "follow"]

CHUNK = 4096  # bytes read at a time


class Lines:
    """Bytes in, whole lines out, each at most ``width`` bytes (a longer one is cut, and what
    follows it up to its newline dropped): what is held is never more than one line's width."""

    def __init__(self, width: int = 1000) -> None:
        self.width = width
        self._partial = bytearray()
        self._cut = False  # the line being read ran past width: drop the rest of it

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        """The lines that ``chunk`` completes (without their newlines)."""
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            piece = chunk[start:] if end < 0 else chunk[start:end]
            if not self._cut:
                room = self.width - len(self._partial)
                self._partial += piece[:room]
                self._cut = len(piece) > room
            if end < 0:
                return
            line = bytes(self._partial)
            self._partial.clear()
            self._cut = False
            yield line
            start = end + 1

    def rest(self) -> bytes:
        """What came after the last newline (the end of the stream has no newline of its own)."""
        line = bytes(self._partial)
        self._partial.clear()
        self._cut = False
        return line


class Sink(Protocol):
    """Where ``follow`` puts what it reads, chunk by chunk, as it comes."""

    def feed(self, chunk: bytes) -> None: ...


class Tail:
    """The last ``count`` non-blank lines of a stream fed to it in pieces, each cut at
    ``width`` bytes: what a message about a child quotes."""

    def __init__(self, count: int = 5, width: int = 300) -> None:
        self._lines = Lines(width)
        self._last: deque[str] = deque(maxlen=count)

    def feed(self, chunk: bytes) -> None:
        for line in self._lines.feed(chunk):
            self._keep(line)

    def _keep(self, line: bytes) -> None:
        text = line.decode("utf-8", "replace").strip()
        if text:
            self._last.append(text)

    def lines(self) -> list[str]:
        """The last lines, oldest first (with whatever came after the last newline)."""
        self._keep(self._lines.rest())
        return list(self._last)

    def last(self) -> str | None:
        lines = self.lines()
        return lines[-1] if lines else None


def follow(
    process: subprocess.Popen[bytes],
    stream: IO[bytes],
    tail: Sink,
    timeout: float | None,
    drain: float = 0.5,
) -> tuple[bool, bool]:
    """Read ``stream`` (the child's stderr, or its stdout) into ``tail`` until ``process``
    exits, for at most ``timeout`` seconds (None: no limit); then what is left of it, for at
    most ``drain`` seconds. Returns (exited, held): ``held`` when the stream was still open
    after that (a process the child started keeps it, having left its session); the stream is
    closed then.

    The child's exit is watched through a pidfd where the kernel has them (Linux 5.3), so
    nothing polls; elsewhere, a look every tenth of a second.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    fd = stream.fileno()
    pidfd = _pidfd(process.pid)
    watched = [fd] + ([pidfd] if pidfd is not None else [])
    try:
        while process.poll() is None:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False, False
            wait = remaining if pidfd is not None else min(remaining or 0.1, 0.1)
            if fd not in watched:  # the stream ended before the child: wait for the child
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(wait)
                continue
            ready, _, _ = select.select(watched, [], [], wait)
            if fd in ready and not _read_into(fd, tail):
                watched.remove(fd)
            if pidfd is not None and pidfd in ready:  # it exited: reaped here, or by stop()
                process.wait()
        if fd not in watched:
            return True, False
        end = time.monotonic() + drain
        while (remaining := end - time.monotonic()) > 0:
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready and not _read_into(fd, tail):
                return True, False
        stream.close()  # a grandchild holds it: it gets EPIPE now, and we do not wait for it
        return True, True
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _read_into(fd: int, tail: Sink) -> bool:
    """One chunk of ``fd`` into ``tail``; False at its end."""
    try:
        chunk = os.read(fd, CHUNK)
    except OSError:
        return False
    if chunk:
        tail.feed(chunk)
    return bool(chunk)


def _pidfd(pid: int) -> int | None:
    opener = getattr(os, "pidfd_open", None)
    if opener is None:
        return None
    try:
        fd: int = opener(pid)
    except OSError:  # an old kernel, or the child already reaped
        return None
    return fd
