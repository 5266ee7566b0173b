"""Text on the panel: the font, measuring as drawn, fitting a text to a space, drawing it.

Everything is drawn with Pillow's built-in scalable font, so a Pi needs no font files and a
test sees exactly what the panel will. Text is measured the way it is drawn (one bit, hinted
for monochrome, words a gap apart), so what is measured to fit does fit. ``fit`` finds the
largest size a text fits in whole, wrapping it; what fits nowhere is cut with an ellipsis.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import ImageDraw, ImageFont

from bedside.display.geometry import LEFT, RIGHT

ELLIPSIS = "\u2026"


# -- fonts and measuring -------------------------------------------------------------------------
@functools.lru_cache(maxsize=64)  # a handful of sizes are used; bounded all the same
def font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's built-in scalable font at ``size`` px; loaded once, then shared."""
    loaded = ImageFont.load_default(size=size)
    if not isinstance(loaded, ImageFont.FreeTypeFont):
        # Without FreeType Pillow falls back to a fixed 6x11 bitmap font and ignores the size.
        raise RuntimeError("bedside needs Pillow built with FreeType to draw the display")
    return loaded


@dataclass(frozen=True)
class Metrics:
    """The rows the font's letters take at one size, measured from the baseline."""

    ascent: int  # rows above the baseline that tall letters (H, b, l) and digits reach
    descent: int  # rows below it that g, p, y reach
    digits: int  # rows above it that digits reach: the clock's height

    @property
    def pitch(self) -> int:
        """Baseline to baseline for wrapped lines: descenders never touch the next line."""
        return self.ascent + self.descent + max(1, self.ascent // 5)


@functools.lru_cache(maxsize=64)
def metrics(size: int) -> Metrics:
    """The font's ``Metrics`` at ``size`` px."""
    # Every printable ASCII character stays within these; i, j, $ and | reach highest at some
    # sizes, so they are in the set although capitals would do for most text.
    top = min(ink_box(c, size)[1] for c in "Hbdfhklt(/0ij$|")
    bottom = max(ink_box(c, size)[3] for c in "gjpqy,(/")
    digits = -min(ink_box(c, size)[1] for c in "0123456789")
    return Metrics(-top, bottom, digits)


def _space(size: int) -> int:
    """The gap between words. The font's own space is 2 px at the small sizes once hinted
    for monochrome, which runs "left foot" together into "leftfoot"."""
    return max(3, round(size * 0.28))


@functools.lru_cache(maxsize=4096)
def _words(text: str, size: int) -> tuple[tuple[int, str], ...]:
    """Each word of ``text`` with its x from the start of the line, ``_space`` apart.

    Any run of whitespace is one space: a newline or tab from a routine file must not make
    Pillow draw several lines where the layout planned one.
    """
    placed: list[tuple[int, str]] = []
    x = 0
    for word in text.split():
        placed.append((x, word))
        x += round(font(size).getlength(word, mode="1")) + _space(size)
    return tuple(placed)


@functools.lru_cache(maxsize=4096)
def ink_box(text: str, size: int) -> tuple[int, int, int, int]:
    """The lit pixels of ``text`` as ``draw_text`` draws it, from its baseline start: left,
    top, right and bottom, right and bottom exclusive.

    Cached: the same few strings (titles, hints, positions) are measured on every frame.
    Measured as drawn: in mode "1" FreeType hints for monochrome, which spaces letters
    wider than the anti-aliased default, so measuring the default way lets text overflow.
    """
    boxes = [
        (x + int(x0), int(y0), x + int(x1), int(y1))  # whole pixels already, in mode "1"
        for x, word in _words(text, size)
        for x0, y0, x1, y1 in [font(size).getbbox(word, mode="1", anchor="ls")]
    ]
    if not boxes:
        return (0, 0, 0, 0)
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def text_width(text: str, size: int) -> int:
    """The width of the lit pixels of ``text``, which is what must fit between the margins."""
    left, _, right, _ = ink_box(text, size)
    return right - left if text else 0


# -- fitting text --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Block:
    """Lines of text in one size, laid out as a unit."""

    size: int
    lines: tuple[str, ...]

    @property
    def height(self) -> int:
        """From the top of the first line's tall letters to the last line's baseline."""
        if not self.lines:
            return 0
        m = metrics(self.size)
        return m.ascent + (len(self.lines) - 1) * m.pitch

    @property
    def depth(self) -> int:
        """The height plus the last line's descenders: the rows the block may light."""
        return self.height + metrics(self.size).descent if self.lines else 0


def ellipsize(text: str, size: int, width: int) -> str:
    """``text`` if it fits in ``width``, else as much of it as fits followed by an ellipsis."""
    if text_width(text, size) <= width:
        return text
    cut = len(text)
    while cut > 0:
        cut -= 1
        # Cut at a word end where there is one nearby, so "Below the ball…" not "Below the b…".
        shorter = text[:cut].rstrip(" ,;:-")
        if shorter and text_width(shorter + ELLIPSIS, size) <= width:
            return shorter + ELLIPSIS
    return ELLIPSIS


def _unbreakable(text: str) -> list[str]:
    """The words of ``text``, a number kept with the word after it: "11 min" is not split."""
    words: list[str] = []
    for word in text.split():
        if words and words[-1].isdigit():
            words[-1] += " " + word
        else:
            words.append(word)
    return words


def wrap(text: str, size: int, width: int) -> list[str]:
    """Greedy word wrap; a single word wider than ``width`` stays whole on its own line."""
    lines: list[str] = []
    current = ""
    for word in _unbreakable(text):
        trial = f"{current} {word}" if current else word
        if current and text_width(trial, size) > width:
            lines.append(current)
            current = word
        else:
            current = trial
    if current:
        lines.append(current)
    return lines


def fit(
    text: str, candidates: Sequence[tuple[int, int]], width: int, height: int | None = None
) -> Block:
    """The first (size, most lines) candidate ``text`` fits whole, else the last, truncated.

    Fitting means every line is within ``width`` and, when given, the block with its
    descenders is within ``height``.
    """
    if not text:
        return Block(candidates[-1][0], ())
    for size, most in candidates:
        lines = wrap(text, size, width)
        block = Block(size, tuple(lines))
        if (
            len(lines) <= most
            and all(text_width(line, size) <= width for line in lines)
            and (height is None or block.depth <= height)
        ):
            return block
    size, most = candidates[-1]
    lines = wrap(text, size, width)
    if height is not None:
        # Fewer lines than allowed when the space is short: a cut line beats an overlap.
        while most > 1 and Block(size, tuple(lines[:most])).depth > height:
            most -= 1
    kept = lines[: most - 1]
    rest = " ".join(lines[most - 1 :])
    kept.append(ellipsize(rest, size, width))
    return Block(size, tuple(ellipsize(line, size, width) for line in kept))


# -- drawing text --------------------------------------------------------------------------------
def _start(text: str, size: int, align: str, left: int, right: int) -> int:
    """The x to draw ``text`` at so its lit pixels start, end or centre as asked."""
    x0, _, x1, _ = ink_box(text, size)
    if align == "left":
        return left - x0
    if align == "right":
        return right - x1
    return (left + right - x0 - x1) // 2


def draw_text(
    draw: ImageDraw.ImageDraw,
    baseline: int,
    text: str,
    size: int,
    align: str = "center",
    left: int = LEFT,
    right: int = RIGHT,
) -> None:
    """One line of ``text`` on ``baseline``, its lit pixels aligned "left", "right" or
    "center" between columns ``left`` and ``right`` (the margins unless given)."""
    if text:
        x = _start(text, size, align, left, right)
        for offset, word in _words(text, size):
            draw.text((x + offset, baseline), word, font=font(size), fill=1, anchor="ls")


def draw_block(draw: ImageDraw.ImageDraw, block: Block, top: int) -> int:
    """Draws ``block``, each line centred, with its tall letters starting at row ``top``;
    returns the last baseline."""
    m = metrics(block.size)
    baseline = top + m.ascent
    for i, line in enumerate(block.lines):
        baseline = top + m.ascent + i * m.pitch
        draw_text(draw, baseline, line, block.size)
    return baseline
