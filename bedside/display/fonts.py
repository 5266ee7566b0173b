"""The panel's font, where it is found, and which characters it can draw.

The panel draws in DejaVu Sans, from Debian's ``fonts-dejavu-core`` (``make system-deps``
installs it, and so ``make test``, ``make demo`` and ``make install`` do; Raspberry Pi OS has the
same package, on bookworm and trixie alike). It covers Latin-1, Latin Extended-A, Greek and
Cyrillic and more, and its hinting was made by hand for small sizes: drawn in one bit with no
anti-aliasing, as a one-bit panel must be, its letters stay whole and even at 9 to 12 px.
The others looked at lose there: Noto Sans (on PyPI as a package of its own, 4 MB) is not
hinted, and at 10 px its accents smear and its letters run together; Terminus is a bitmap font
from 12 px up only, and fixed-width, too wide for a 128-pixel line. A Debian package is kept up
to date by Debian, and a font is never fetched at run time.

Where the file is missing (bedside installed with pip alone, on a system without the package),
the panel falls back to Pillow's built-in font, which has ASCII only: the log and
``check-config`` say so, since every other letter would be drawn as a box.
"""

from __future__ import annotations

import functools
import logging
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageFont

log = logging.getLogger("bedside.display")

# Debian's and Raspberry Pi OS's fonts-dejavu-core first (the Makefile's system-deps checks for
# this file), then where other systems' packages of the same font put it.
DEJAVU_SANS = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
FONT_FILES = (
    DEJAVU_SANS,
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),  # Arch's ttf-dejavu
    Path("/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf"),  # Fedora's dejavu-sans-fonts
)
PACKAGE = "fonts-dejavu-core"

# A code point no font maps to a glyph (a Unicode noncharacter): what it draws is the font's
# missing-glyph box, ".notdef", which any character the font lacks draws too.
_NOTDEF = "\uffff"
_PROBE_SIZE = 24  # large enough that no real glyph draws the same bitmap as the box


@dataclass(frozen=True)
class Face:
    """One font file (or Pillow's built-in font when ``path`` is None), at any size."""

    path: Path | None

    @property
    def name(self) -> str:
        return str(self.path) if self.path else "Pillow's built-in font (ASCII only)"

    def at(self, size: int) -> ImageFont.FreeTypeFont:
        """The face at ``size`` px, laid out by FreeType alone (Pillow's basic layout), so that
        a Pi and a test machine place every letter alike whichever libraries they have."""
        if self.path is not None:
            # FreeTypeFont, not truetype(): that would look for a file of the same name
            # elsewhere when this one is not a font.
            return ImageFont.FreeTypeFont(
                str(self.path), size, layout_engine=ImageFont.Layout.BASIC
            )
        loaded = ImageFont.load_default(size=size)
        if not isinstance(loaded, ImageFont.FreeTypeFont):
            # Without FreeType Pillow falls back to a fixed 6x11 bitmap font and ignores the size.
            raise RuntimeError("bedside needs Pillow built with FreeType to draw the display")
        return loaded

    def missing(self, text: str) -> list[str]:
        """The characters of ``text`` (as drawn: composed, NFC) this face has no glyph for,
        each once, in the order they come; whitespace is never missing (it is not drawn)."""
        found = dict.fromkeys(
            c for c in unicodedata.normalize("NFC", text) if not c.isspace() and not self.has(c)
        )
        return list(found)

    def has(self, character: str) -> bool:
        """Whether the face draws ``character`` as itself, not as its missing-glyph box."""
        return _has(self, character)


@functools.lru_cache(maxsize=4096)
def _has(face: Face, character: str) -> bool:
    return _bitmap(face, character) != _bitmap(face, _NOTDEF)


@functools.lru_cache(maxsize=4096)
def _bitmap(face: Face, character: str) -> tuple[tuple[int, int], tuple[int, int], bytes]:
    mask, offset = face.at(_PROBE_SIZE).getmask2(character, mode="1", anchor="ls")
    return mask.size, offset, bytes(mask)


def find_face(files: Sequence[Path] = FONT_FILES) -> Face:
    """The first of ``files`` that FreeType can open, else Pillow's built-in font."""
    for path in files:
        try:
            Face(path).at(_PROBE_SIZE)
        except OSError:  # missing, unreadable, or not a font
            continue
        return Face(path)
    return Face(None)


@functools.lru_cache(maxsize=1)
def panel_face() -> Face:
    """The face the panel draws in: found once, on first use (said in the log when missing)."""
    face = find_face()
    if face.path is None:
        log.warning(
            "the panel's font %s is missing: letters beyond ASCII show as boxes "
            "(install it with `sudo apt-get install %s`)",
            DEJAVU_SANS,
            PACKAGE,
        )
    return face


def describe_character(character: str) -> str:
    """``"☃" (U+2603 SNOWMAN)``: a character as a person can find it in their file."""
    name = unicodedata.name(character, "")
    shown = character if character.isprintable() else ""
    code = f"U+{ord(character):04X}"
    return f'"{shown}" ({code} {name})' if shown else f"{code} {name}".strip()
