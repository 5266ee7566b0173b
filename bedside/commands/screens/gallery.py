"""The gallery's folder: every kind of screen as PNGs, a folder that can be written again.

The README's gallery (docs/screens, docs/screens-32) is regenerated in place by the same
command that made it, so the folder keeps a manifest, ``.bedside-gallery``, in the format of
``sha256sum`` (it checks with ``sha256sum -c``): the files bedside wrote and what they held.
A file in the folder is bedside's only while it is listed there and unchanged. Writing again
replaces bedside's own files and removes those the new gallery no longer has; anything else
in the folder is left alone, and if a picture would land on a file that is not bedside's,
nothing is written at all and the message says which file.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
from pathlib import Path

from PIL import Image

from bedside.commands.screens.evening import gallery_screens
from bedside.core.errors import UsageError
from bedside.core.settings import Settings
from bedside.display.enlarge import enlarge
from bedside.display.picture import picture
from bedside.folders import is_regular, read_file

MANIFEST = ".bedside-gallery"


class GalleryError(UsageError):
    """The folder cannot take the gallery; the message names the file and what to do."""


def pictures(settings: Settings, size: tuple[int, int]) -> list[tuple[str, bytes]]:
    """``NN-name.png`` (as the panel shows it) and ``NN-name@4x.png`` for each screen, as PNG
    bytes, in gallery order."""
    files: list[tuple[str, bytes]] = []
    for number, (name, screen) in enumerate(gallery_screens(settings), start=1):
        image = picture(screen, size)
        stem = f"{number:02d}-{name}"
        files.append((f"{stem}.png", _png(image)))
        files.append((f"{stem}@4x.png", _png(enlarge(image))))
    return files


def write_gallery(settings: Settings, directory: Path, size: tuple[int, int]) -> list[Path]:
    """Writes the gallery into ``directory`` (made if missing); returns the pictures' paths."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise GalleryError(f"{directory} is a file; give a folder for the pictures")
    files = pictures(settings, size)
    ours = _ours(directory)
    manifest = directory / MANIFEST
    if (manifest.exists() or manifest.is_symlink()) and not is_regular(manifest):
        raise GalleryError(f"{manifest} is not a file bedside wrote; move it away")
    for name, _ in files:
        path = directory / name
        if (path.exists() or path.is_symlink()) and name not in ours:
            raise GalleryError(
                f"{path} is not a picture bedside wrote (or it was changed since); "
                "move it away, or give a new or empty folder"
            )
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name in set(ours) - {name for name, _ in files}:
            (directory / name).unlink()  # a screen the gallery no longer has
        paths = [_write(directory / name, data) for name, data in files]
        listing = "".join(f"{_digest(data)}  {name}\n" for name, data in files)
        _write(directory / MANIFEST, listing.encode())
    except OSError as exc:
        raise GalleryError(f"cannot write into {directory}: {exc.strerror or exc}") from None
    return paths


def drawn_size(directory: Path) -> tuple[int, int] | None:
    """The size of the pictures bedside last drew into ``directory``, if it drew any."""
    for name in sorted(_ours(directory)):
        if name.endswith(".png") and not name.endswith("@4x.png"):
            try:
                with Image.open(directory / name) as image:
                    return image.size
            except OSError:
                continue
    return None


def _ours(directory: Path) -> set[str]:
    """The files in ``directory`` that bedside wrote and nobody has changed since."""
    try:  # a FIFO in its place is never opened; a listing of 64 kB is thousands of pictures
        listing = read_file(directory / MANIFEST, 1 << 16).decode("utf-8")
    except (OSError, ValueError):  # missing, not a file, too long, not UTF-8
        return set()
    ours = set()
    for line in listing.splitlines():
        digest, _, name = line.partition("  ")
        # Only a plain file name: a manifest must never reach outside its own folder.
        if not name or name != Path(name).name or name in (MANIFEST, ".", ".."):
            continue
        path = directory / name
        with contextlib.suppress(OSError):
            if not path.is_symlink() and path.is_file() and _digest(path.read_bytes()) == digest:
                ours.add(name)
    return ours


def _write(path: Path, data: bytes) -> Path:
    """Writes ``data`` whole or not at all: a new file renamed over the old."""
    handle, part = tempfile.mkstemp(dir=path.parent, prefix=".bedside-", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.chmod(part, 0o644)  # a picture for the README, not a secret: as git would check it out
        os.replace(part, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(part)
        raise
    return path


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
