"""What the layouts of both heights draw with besides a line of text: blocks of text stacked
and centred in a band of rows, and the progress bar.

Blocks are spaced by their letters, not by their boxes: under a block come its descenders,
then a few dark rows (more for larger letters), then the next block's tall letters.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from PIL import ImageDraw

from bedside.display.geometry import LEFT, RIGHT
from bedside.display.text import Block, above, below, draw_block, draw_text, metrics

Piece = tuple[str, int, str]  # a text on a line of several: the text, its size, its alignment


def lead(lower: Block) -> int:
    """Dark rows above a block under another: more for larger letters, never less than 3."""
    return max(3, metrics(lower.size).ascent // 3)


def _gap(upper: Block, lower: Block) -> int:
    """Rows from the baseline of ``upper`` to the top of ``lower``: its descenders, then air."""
    return metrics(upper.size).descent + lead(lower)


def stack_depth(blocks: Sequence[Block]) -> int:
    """Rows ``stack`` needs for ``blocks``, descenders of the last line included."""
    blocks = [b for b in blocks if b.lines]
    if not blocks:
        return 0
    gaps = sum(_gap(a, b) for a, b in itertools.pairwise(blocks))
    return sum(b.height for b in blocks[:-1]) + gaps + blocks[-1].depth


def stack(draw: ImageDraw.ImageDraw, blocks: Sequence[Block], top: int, bottom: int) -> None:
    """Blocks one under another, the group centred in rows ``top`` up to ``bottom``."""
    blocks = [b for b in blocks if b.lines]
    total = stack_depth(blocks)
    # Centre on the letters, not the descenders, but never push descenders past the bottom.
    y = max(top, min((top + bottom - total) // 2 + 1, bottom - total))
    for upper, lower in itertools.pairwise(blocks):
        draw_block(draw, upper, y)
        y += upper.height + _gap(upper, lower)
    if blocks:
        draw_block(draw, blocks[-1], y)


def pieces_above(pieces: Sequence[Piece]) -> int:
    """Rows above their shared baseline that ``pieces`` may light."""
    return max((above(text, size) for text, size, _ in pieces if text), default=0)


def pieces_below(pieces: Sequence[Piece]) -> int:
    """Rows below their shared baseline that ``pieces`` may light."""
    return max((below(text, size) for text, size, _ in pieces if text), default=0)


def draw_pieces(
    draw: ImageDraw.ImageDraw, baseline: int, pieces: Sequence[Piece], left: int = LEFT
) -> None:
    """Texts sharing one baseline, each aligned as it says between ``left`` and the margin."""
    for text, size, align in pieces:
        draw_text(draw, baseline, text, size, align, left=left)


def bar(
    draw: ImageDraw.ImageDraw, top: int, progress: float, left: int = LEFT, right: int = RIGHT
) -> None:
    """A hairline track with a 3-row fill up to ``progress``: readable, but little light."""
    progress = min(1.0, max(0.0, progress))
    draw.line((left, top + 1, right - 1, top + 1), fill=1)
    end = left + round(progress * (right - left - 1))
    if progress > 0:
        draw.rectangle((left, top, end, top + 2), fill=1)
    # Ticks at both ends, so an empty bar still reads as a bar and not an underline.
    draw.line((left, top, left, top + 2), fill=1)
    draw.line((right - 1, top, right - 1, top + 2), fill=1)
