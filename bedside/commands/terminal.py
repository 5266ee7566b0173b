"""The panel's pixels as terminal text, and a page that fits the terminal it is drawn on.

A 128x64 panel drawn two pixel rows to a character (half blocks) takes 130 columns by 34 rows
with its frame; a braille character holds two columns by four rows of pixels, every one of
them, so the same panel at half size takes 66 by 18, and fits an 80x24 terminal with the lines
under it. Smaller than that, the panel's words are shown as text. ``fit`` chooses; ``page``
writes the lines in place, each addressed to its row and cut to the width, so that nothing
scrolls or wraps, whatever the terminal's size.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Sequence

# The alternate screen (the scrollback keeps none of the demo's redraws, and the terminal is
# as it was afterwards), no wrapping at the right edge, no cursor; and their undoing.
ENTER = "\x1b[?1049h\x1b[?7l\x1b[?25l\x1b[2J"
LEAVE = "\x1b[?25h\x1b[?7h\x1b[?1049l"
CLEAR = "\x1b[2J"
BELOW = 5  # lines under the panel: its contrast, two subtitles, a note and the keys


class Size(enum.Enum):
    """How large the panel is drawn: at one character a pixel wide, at half that, or as text."""

    FULL = "full"
    HALF = "half"
    TEXT = "text"


def room(size: Size, width: int, height: int) -> tuple[int, int]:
    """Columns and rows a panel of ``width`` x ``height`` pixels takes at ``size``, framed, with
    the lines under it."""
    if size is Size.FULL:
        return width + 2, height // 2 + 2 + BELOW
    return width // 2 + 2, height // 4 + 2 + BELOW


def fit(width: int, height: int, columns: int, rows: int) -> Size:
    """The largest size at which a ``width`` x ``height`` panel, framed, and the lines under
    it fit a terminal of ``columns`` x ``rows``."""
    for size in (Size.FULL, Size.HALF):
        columns_needed, rows_needed = room(size, width, height)
        if columns >= columns_needed and rows >= rows_needed:
            return size
    return Size.TEXT


def half_blocks(pixels: Sequence[Sequence[bool]]) -> list[str]:
    """Rows of pixels as text, two rows a line: full size."""
    lines = []
    for y in range(0, len(pixels), 2):
        top, bottom = pixels[y], pixels[y + 1]
        chars = []
        for t, b in zip(top, bottom, strict=True):
            chars.append("\u2588" if t and b else "\u2580" if t else "\u2584" if b else " ")
        lines.append("".join(chars))
    return lines


# Braille's dots, by (column, row) in the character's 2x4 cell: U+2800 plus these bits.
_DOTS = (
    ((0, 0), 0x01),
    ((0, 1), 0x02),
    ((0, 2), 0x04),
    ((1, 0), 0x08),
    ((1, 1), 0x10),
    ((1, 2), 0x20),
    ((0, 3), 0x40),
    ((1, 3), 0x80),
)


def braille(pixels: Sequence[Sequence[bool]]) -> list[str]:
    """Rows of pixels as braille, two columns and four rows a character: half size, with
    every pixel kept (a blank cell is a space, so that an empty panel reads as empty)."""
    lines = []
    for y in range(0, len(pixels), 4):
        chars = []
        for x in range(0, len(pixels[y]), 2):
            bits = sum(bit for (dx, dy), bit in _DOTS if pixels[y + dy][x + dx])
            chars.append(chr(0x2800 + bits) if bits else " ")
        lines.append("".join(chars))
    return lines


def cells(text: str) -> int:
    """How many columns ``text`` takes: wide characters (the speaker sign) two, combining
    marks none."""
    return sum(_width(c) for c in text)


def _width(char: str) -> int:
    if unicodedata.combining(char) or char in "\u200b\ufe0f":
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def clip(text: str, columns: int) -> str:
    """``text`` cut to ``columns``, with an ellipsis where it was cut."""
    if cells(text) <= columns:
        return text
    kept, used = [], 0
    for char in text:
        if used + _width(char) > columns - 1:
            break
        kept.append(char)
        used += _width(char)
    return "".join(kept).rstrip() + "\u2026" if columns > 0 else ""


def page(lines: Sequence[str], rows: int, fresh: bool = False) -> str:
    """What draws ``lines`` from the terminal's top, each on its own row (addressed, never
    reached by a newline, so nothing scrolls), each row and the rows below cleared. ``fresh``
    clears the whole screen first (its size changed). The lines must fit the width already
    (``clip``): the terminal's wrapping is off, so an overlong line is cut."""
    shown = list(lines[:rows])
    out = [CLEAR] if fresh else []
    # Each row cleared before it is written: cleared after, a line as wide as the terminal
    # would lose its last character (the cursor stays on the last column, wrapping off).
    out += [f"\x1b[{row};1H\x1b[K{line}" for row, line in enumerate(shown, start=1)]
    if len(shown) < rows:
        out.append(f"\x1b[{len(shown) + 1};1H\x1b[J")
    return "".join(out)
