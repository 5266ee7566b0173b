"""The rendered-sound cache: one mastered WAV per cue (or chime), named for what made it.

A name is the SHA-256 of everything that changes the sound: the engine, its version, the voice
file's hash, the engine's settings, the mastering, the volume and the text. Writes are atomic
(a temporary name in the same folder, fsync, rename), so a power cut leaves a whole WAV or
nothing; temporary names carry the writer's pid, so what a killed render left is recognised
and removed. Files are created with the process's umask (``UMask=0077`` under systemd makes
them private to the service), never chmod-ed. What bedside never makes (a FIFO, a device,
a socket) is never opened, replaced or removed: it is skipped, with one warning.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import stat
import wave
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

from bedside.folders import NotAFile, kind_of
from bedside.voice.wav import Sound, write_wav

__all__ = [
    "cache_key",
    "open_cache",
    "prune",
    "remove_leftovers",
    "temporary",
    "write_atomically",
    "write_pcm_atomically",
]

LOG = logging.getLogger("bedside.voice")

FORMAT = 3  # bump when the way a text becomes sound changes, so old WAVs are not reused
# (3: BS.1770 levelling, at the output's own rate)
# Leftovers: ".<anything>.<pid>.tmp" files and ".work-<pid>" folders.
_LEFTOVER = re.compile(r"^\..*\.(\d+)\.tmp$|^\.work-(\d+)$")


def cache_key(*parts: object) -> str:
    """The cache name for a sound made from ``parts`` (all JSON-serialisable)."""
    blob = json.dumps([FORMAT, *parts], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def open_cache(path: Path, log: logging.Logger = LOG) -> Path | None:
    """``path`` made if need be; None, with one warning, when it cannot be used.

    The cache is optional: without it the device keeps going, showing what it would say. A
    file in its place is never moved or removed: bedside did not make it.
    """
    try:
        path.mkdir(parents=True, exist_ok=True)
        if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
            raise PermissionError(f"cannot read and write {path}")
    except OSError as e:
        log.warning("no voice: the cache folder %s cannot be used (%s)", path, e.strerror or e)
        return None
    return path


def _alive(pid: int, since: float | None = None) -> bool:
    """Running, and the owner of what was last written at ``since``: a zombie no one has
    reaped yet has exited, and a process that started after it is another one that was given
    the same pid again (a busy machine goes round its pids in minutes)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] == "Z":
        return False
    started = _started(int(fields[19]))
    return since is None or started is None or started <= since + 1.0  # btime is whole seconds


def _started(ticks: int) -> float | None:
    """When a process started, from its start time in clock ticks since boot."""
    try:
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
    except (OSError, StopIteration, ValueError, IndexError):
        return None
    return boot + ticks / os.sysconf("SC_CLK_TCK")


def remove_leftovers(folder: Path, pid: int | None = None, log: logging.Logger = LOG) -> int:
    """Remove what an interrupted render left: of ``pid``, or of every process gone. Only
    files and folders a render makes are removed: anything else under such a name (a FIFO, a
    device) bedside did not make, and is skipped with one warning."""
    removed = 0
    strangers: list[str] = []
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            match = _LEFTOVER.match(entry.name)
            if match is None:
                continue
            owner = int(match.group(1) or match.group(2))
            if pid is not None and owner != pid:
                continue
            with contextlib.suppress(OSError):
                if pid is None and _alive(owner, entry.stat(follow_symlinks=False).st_mtime):
                    continue
            with contextlib.suppress(OSError):
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                elif _made_here(entry):
                    os.unlink(entry.path)
                else:
                    strangers.append(entry.name)
                    continue
                removed += 1
    _skipped(folder, strangers, log)
    return removed


def temporary(folder: Path, stem: str) -> Path:
    """A temporary name in ``folder`` that ``remove_leftovers`` knows as this process's."""
    return folder / f".{stem[:16]}.{os.getpid()}.tmp"


def write_atomically(sound: Sound, path: Path) -> None:
    """Write ``sound`` to ``path``: a whole WAV under that name, or nothing (OSError)."""
    _write(path, lambda out: write_wav(sound, out))


def write_pcm_atomically(pcm: bytes, channels: int, rate: int, path: Path) -> None:
    """16-bit little-endian ``pcm`` of ``channels`` at ``rate`` to ``path`` as a WAV, whole or
    not at all (OSError): what the render child writes, numpy's samples as bytes."""

    def write(out: BinaryIO) -> None:
        with wave.open(out, "wb") as w:
            w.setnchannels(channels)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(pcm)

    _write(path, write)


def _write(path: Path, write: Callable[[BinaryIO], None]) -> None:
    temp = temporary(path.parent, path.stem)
    try:
        # os.open with 0o666 leaves the mode to the umask, as any file a program makes;
        # tempfile.mkstemp would force 0600 whatever the umask says.
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        with os.fdopen(fd, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        _in_the_way(path)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise


def _in_the_way(path: Path) -> None:
    """Nothing, unless something bedside never makes (a FIFO, a device) holds ``path``: then
    NotAFile, and it is left where it is."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
        raise NotAFile(path, kind_of(mode))


def prune(folder: Path, keep: Iterable[Path | str], log: logging.Logger = LOG) -> int:
    """Remove the cached WAVs not in ``keep`` (a changed cue, an old voice): a bounded cache.
    What is not a file or a link (a FIFO, a device) bedside did not make: it is skipped, with
    one warning."""
    wanted = {Path(p).name for p in keep}
    removed = 0
    strangers: list[str] = []
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith(".") or not entry.name.endswith(".wav"):
                continue
            if entry.name in wanted:
                continue
            with contextlib.suppress(OSError):
                if not _made_here(entry):
                    strangers.append(entry.name)
                    continue
                os.unlink(entry.path)
                removed += 1
    _skipped(folder, strangers, log)
    return removed


def _made_here(entry: os.DirEntry[str]) -> bool:
    """A file or a symbolic link (itself, not what it points to): the kinds of thing a cache
    holds. A FIFO, a device or a socket is someone else's, and never opened or removed."""
    return entry.is_symlink() or entry.is_file(follow_symlinks=False)


def _skipped(folder: Path, names: list[str], log: logging.Logger) -> None:
    if names:
        more = f" and {len(names) - 1} more" if len(names) > 1 else ""
        log.warning(
            "the voice cache %s holds %s%s that bedside did not make (not files): skipped",
            folder,
            names[0],
            more,
        )
