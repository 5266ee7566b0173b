"""Text on the panel: the font, measuring as drawn, fitting a text to a space, drawing it.

Everything is drawn in the panel's font (``bedside.display.fonts``: DejaVu Sans), in one bit
as the panel shows it, so a test sees exactly what the panel will. Text is measured by its lit
pixels, rendered the way it is drawn, so what is measured to fit does fit, and words are placed
by their lit pixels too: the same gap between any two words, whatever their letters' side
bearings (a "1" has wide ones). ``fit`` finds the largest size a text fits in whole, wrapping
it; what fits nowhere is cut after its last whole word that fits, with an ellipsis.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import ImageDraw, ImageFont

from bedside.display.fonts import panel_face
from bedside.display.geometry import LEFT, RIGHT

ELLIPSIS = "\u2026"
Box = tuple[int, int, int, int]


# -- fonts and measuring -------------------------------------------------------------------------
@functools.lru_cache(maxsize=64)  # a handful of sizes are used; bounded all the same
def font(size: int) -> ImageFont.FreeTypeFont:
    """The panel's font at ``size`` px; loaded once, then shared."""
    return panel_face().at(size)


@functools.lru_cache(maxsize=4096)
def _ink(word: str, size: int) -> Box | None:
    """The lit pixels of ``word`` drawn from (0, baseline 0): left, top, right, bottom, right
    and bottom exclusive; None when it lights nothing.

    Rendered, not asked of the font: FreeType's boxes are its glyphs' outlines, which are
    wider than the ink by the side bearings and, hinted for one bit, a row off at times.
    """
    mask, (dx, dy) = font(size).getmask2(word, mode="1", anchor="ls")
    box = mask.getbbox()
    return None if box is None else (dx + box[0], dy + box[1], dx + box[2], dy + box[3])


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


def _reach(characters: str, size: int) -> tuple[int, int]:
    """The highest top and the lowest bottom the ink of ``characters`` reaches."""
    boxes = [box for c in characters if (box := _ink(c, size))]
    return min(b[1] for b in boxes), max(b[3] for b in boxes)


@functools.lru_cache(maxsize=64)
def metrics(size: int) -> Metrics:
    """The font's ``Metrics`` at ``size`` px."""
    # Every printable ASCII character stays within these; i, j, $ and | reach highest at some
    # sizes, so they are in the set although capitals would do for most text. Letters with
    # marks above (É, Ü, Й) reach higher still: a line holding one rises (``rise``).
    top, _ = _reach("Hbdfhklt(/0ij$|", size)
    _, bottom = _reach("gjpqy,(/", size)
    digits, _ = _reach("0123456789", size)
    return Metrics(-top, bottom, -digits)


def gap(size: int) -> int:
    """The dark columns between two words. The font's own space, once hinted for one bit,
    leaves as little as 2 px at small sizes between the letters, which runs "left foot"
    together into "leftfoot"; and it leaves more after a digit than after a letter."""
    return max(4, round(size * 0.45))


def _composed(text: str) -> str:
    """``text`` with each letter and its marks as one character where Unicode has one (NFC):
    the font's own "é" is drawn, not an "e" with an accent placed over it by guesswork."""
    return unicodedata.normalize("NFC", text)


@functools.lru_cache(maxsize=4096)
def _words(text: str, size: int) -> tuple[tuple[int, str], ...]:
    """Each word of ``text`` with its x from the start of the line, placed so that the lit
    pixels of one word end ``gap`` columns before those of the next begin.

    Any run of whitespace is one space: a newline or tab from a routine file must not make
    Pillow draw several lines where the layout planned one.
    """
    placed: list[tuple[int, str]] = []
    x = 0
    end: int | None = None  # where the last word's ink ends
    for word in _composed(text).split():
        left, _, right, _ = _ink(word, size) or (0, 0, 0, 0)
        if end is not None:
            x = end + gap(size) - left
        placed.append((x, word))
        end = x + right
    return tuple(placed)


@functools.lru_cache(maxsize=4096)
def ink_box(text: str, size: int) -> Box:
    """The lit pixels of ``text`` as ``draw_text`` draws it, from its baseline start: left,
    top, right and bottom, right and bottom exclusive.

    Cached: the same few strings (titles, hints, positions) are measured on every frame.
    """
    boxes = [
        (x + x0, y0, x + x1, y1)
        for x, word in _words(text, size)
        if (box := _ink(word, size))
        for x0, y0, x1, y1 in [box]
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
    return right - left


def rise(text: str, size: int) -> int:
    """Rows ``text`` reaches above the font's ascent: the marks over É, Ü or Й (and, at large
    sizes, over é or a backquote). A line with a rise is set that much lower, so that nothing
    of it is cut at the top or touches what is above it."""
    return max(0, -ink_box(text, size)[1] - metrics(size).ascent)


def sink(text: str, size: int) -> int:
    """Rows ``text`` reaches below the font's descent (an underscore or a bar does, at some
    sizes): a line with a sink is set that much higher where something is under it."""
    return max(0, ink_box(text, size)[3] - metrics(size).descent)


def above(text: str, size: int) -> int:
    """Rows above the baseline ``text`` may light: the ascent, or its marks' top."""
    return metrics(size).ascent + rise(text, size)


def below(text: str, size: int) -> int:
    """Rows below the baseline ``text`` may light: the descent, or its ink's bottom."""
    return metrics(size).descent + sink(text, size)


# -- fitting text --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Block:
    """Lines of text in one size, laid out as a unit."""

    size: int
    lines: tuple[str, ...]

    def baselines(self, top: int) -> list[int]:
        """Each line's baseline, the block's letters starting at row ``top``. A line that
        rises (marks over its capitals) is set lower by its rise, and the line under one that
        sinks lower by its sink, so nothing is cut and no two lines touch."""
        m = metrics(self.size)
        placed: list[int] = []
        for i, line in enumerate(self.lines):
            if placed:
                above = placed[-1] + m.pitch + sink(self.lines[i - 1], self.size)
            else:
                above = top + m.ascent
            placed.append(above + rise(line, self.size))
        return placed

    @property
    def height(self) -> int:
        """From the top of the first line's tall letters (or its marks) to the last line's
        baseline."""
        return self.baselines(0)[-1] if self.lines else 0

    @property
    def depth(self) -> int:
        """The height plus the last line's descenders: the rows the block may light."""
        if not self.lines:
            return 0
        return self.height + metrics(self.size).descent + sink(self.lines[-1], self.size)


def ellipsize(text: str, size: int, width: int) -> str:
    """``text`` if it fits in ``width``; else its words up to the last whole one that fits,
    then an ellipsis: "Below the ball…", never "Below the ball o…" (and "hold 10…" never
    parts a number from its unit: "hold…"). Only a first word too wide on its own is cut
    inside, at the last letter that fits."""
    if text_width(text, size) <= width:
        return text
    text = _composed(text)
    for words in (_unbreakable(text), text.split()):  # "42 min" whole if it can be, else "42"
        for count in range(len(words) - 1, 0, -1):
            # The punctuation the cut leaves at the end goes: "Legs up the wall…", not "wall,…".
            shorter = " ".join(words[:count]).rstrip(" ,;:-\u2013")
            if shorter and text_width(shorter + ELLIPSIS, size) <= width:
                return shorter + ELLIPSIS
    first = text.split()[0] if text.split() else ""
    for cut in range(len(first) - 1, 0, -1):
        if text_width(first[:cut] + ELLIPSIS, size) <= width:
            return first[:cut] + ELLIPSIS
    return ELLIPSIS


def shrunk(text: str, sizes: Sequence[int], width: int) -> tuple[int, str]:
    """The first of ``sizes`` (largest first) ``text`` fits ``width`` in; else ``text`` cut to
    the first size (a cut line in the smallest size is the hardest of all to read)."""
    size = next((s for s in sizes if text_width(text, s) <= width), sizes[0])
    return size, ellipsize(text, size, width)


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
    baselines = block.baselines(top)
    for baseline, line in zip(baselines, block.lines, strict=True):
        draw_text(draw, baseline, line, block.size)
    return baselines[-1] if baselines else top + metrics(block.size).ascent
