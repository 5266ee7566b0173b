"""The daemon's own files: its folders checked, one daemon per state folder, damage set aside,
and the files a person names read safely.

bedside never moves or changes a file it did not make. A folder named for its state that is
really a file is refused with a plain message; a database SQLite calls damaged (one bedside
made) is kept under a timestamped name beside the original, so a person can still look at it.
A file a person names (the settings, a routine, a script) is read only if it is a regular file,
told by ``stat`` before it is opened, and only up to a limit: a FIFO, a device or a socket
never ends or never answers, and would hang whoever opened it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path

from bedside.core.errors import TroubleError, UsageError

log = logging.getLogger("bedside.files")


class NotAFolder(UsageError):
    """A path given as a folder is a file, or lies under one; the message says which."""


class AlreadyRunning(TroubleError):
    """Another bedside holds the state folder's lock; the message names it."""


class NotAFile(OSError):
    """A path named as a file is something else; ``kind`` says what, in words."""

    def __init__(self, path: Path, kind: str) -> None:
        super().__init__(errno.EINVAL, f"{kind}, not a file", str(path))
        self.kind = kind

    def __str__(self) -> str:  # said after the path by whoever names it
        return f"{self.kind}, not a file"


class TooLarge(OSError):
    """A file longer than its reader's limit; ``limit`` is that limit, in bytes."""

    def __init__(self, path: Path, limit: int) -> None:
        super().__init__(errno.EFBIG, f"larger than {limit // 1024} kB", str(path))
        self.limit = limit

    def __str__(self) -> str:
        return f"larger than {self.limit // 1024} kB"


def kind_of(mode: int) -> str:
    """What a file of ``mode`` (``st_mode``) is, in words: "a file", "a folder", "a FIFO"..."""
    kinds = (
        (stat.S_ISREG, "a file"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((words for test, words in kinds if test(mode)), "not a file")


def is_regular(path: Path) -> bool:
    """``path`` (its link followed) is a regular file; told by ``stat``, never by opening it."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):  # gone, not ours to look at, a NUL in the name
        return False


def read_file(path: Path, limit: int) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    Raises FileNotFoundError, NotAFile (a folder, a FIFO, a device: told by ``stat``, so a
    FIFO is never opened), TooLarge, or the OSError that opening or reading gave.
    """
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise NotAFile(path, kind_of(mode))
    # O_NONBLOCK: should a FIFO take the file's place after the stat, opening it still returns
    # at once, and fstat tells it before a byte is read.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as file:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotAFile(path, kind_of(mode))
        data = file.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(path, limit)
    return data


def set_aside(
    path: Path, why: str, suffixes: tuple[str, ...] = ("",), wall: Callable[[], float] = time.time
) -> Path:
    """Rename ``path`` (and ``path`` + each suffix) to ``path.corrupt-YYYYmmdd-HHMMSS``."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(wall()))
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    for suffix in suffixes:
        part = Path(str(path) + suffix)
        if part.exists() or part.is_symlink():
            part.rename(Path(str(aside) + suffix))
    log.warning("%s could not be used (%s): set aside as %s", path, why, aside)
    return aside


def check_folder(path: Path, what: str) -> Path:
    """``path``, unless it (or a folder above it) is something other than a folder.

    A folder that does not exist yet, or cannot be written, is fine here: whoever writes in
    it copes. Only a path that can never be a folder is refused, before anything is touched.
    """
    for part in (path, *path.parents):
        try:
            is_dir = part.is_dir()
            exists = is_dir or part.exists() or part.is_symlink()
        except OSError:
            continue  # not ours to judge (no permission to look): writing will tell
        if exists and not is_dir:
            where = "is" if part == path else f"is under {part}, which is"
            raise NotAFolder(f"{what} {path} {where} a file, not a folder")
        if exists:
            break
    return path


class StateLock:
    """One daemon per state folder: an advisory lock (flock) on ``bedside.lock`` in it.

    The kernel drops the lock when the process ends, however it ends, so a power cut or a
    ``kill -9`` never leaves a stale lock behind. A folder where the lock file cannot be made
    is one where nothing can be saved either: the daemon runs, unlocked, and says so.
    """

    NAME = "bedside.lock"

    def __init__(self, folder: Path) -> None:
        self.path = folder / self.NAME
        self.fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock; False when no lock file can be made. Raises AlreadyRunning."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            log.warning(
                "no lock in %s (%s): not guarding against a second daemon",
                self.path.parent,
                (exc.strerror or "").lower(),
            )
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _read_pid(fd)
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                who = f"process {holder}" if holder else "another process"
                raise AlreadyRunning(
                    f"bedside is already running on {self.path.parent} ({who} holds"
                    f" {self.path}); stop it first (sudo systemctl stop bedside)"
                ) from None
            log.warning("no lock on %s (%s)", self.path, (exc.strerror or "").lower())
            return False
        self.fd = fd
        with contextlib.suppress(OSError):  # a full disk: the lock holds all the same
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return True

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing drops the lock
            self.fd = None

    def __enter__(self) -> StateLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
