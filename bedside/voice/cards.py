"""The machine's sound cards, as ALSA lists them: whether ``[voice] device`` has anything to play
on (``bedside voice say``, ``selftest``, the demo)."""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import time

from bedside.voice.output import CHUNK, Lines
from bedside.voice.processes import kill_group

__all__ = ["NULL_OUTPUT", "sound_cards"]

# The sound stage's output where there is no card to play on: a card made of the clock, which
# takes as long as a speaker and keeps nothing (mock-hardware runs, the demo, tests).
NULL_OUTPUT = "null"


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
