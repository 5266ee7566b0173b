"""The one root of every error bedside raises for a person to read, and its two kinds.

A ``UsageError`` is the person's to fix (a setting, a script line, a folder that is a file):
the command exits 2. A ``TroubleError`` is the machine's (a disk, a lock another daemon holds,
a missing library): it exits 1. The command line maps by these classes alone, so a new error
says which kind it is where it is defined, and nowhere else. It lives in the core, the bottom
layer, so that every layer can raise it.
"""

from __future__ import annotations

from typing import ClassVar


class BedsideError(Exception):
    """An error with a message for a person. ``lines()`` is what the command line prints."""

    exit_status: ClassVar[int] = 1

    def lines(self) -> list[str]:
        return str(self).splitlines() or [type(self).__name__]


class UsageError(BedsideError):
    """A mistake in what the person asked for or wrote; the message says what to do instead."""

    exit_status: ClassVar[int] = 2


class TroubleError(BedsideError):
    """Not the person's mistake: the machine, the disk, another daemon, a missing library."""

    exit_status: ClassVar[int] = 1
