"""The screens laid out for a 128x32 panel (the 0.91" ones): half the rows, so fewer lines.

The same ``Screen`` values as at 128x64 (``bedside.display.layouts64``), with the same text and
primitives, arranged for 28 usable rows. Each screen is a headline and one small line under
it; while a step runs the countdown takes the left of the panel, as large as the rows allow,
with what goes with it (the foot, the lift, the bar, the breathing guide) in a column to its
right. What gives way for the rows: the menu's and the finished screen's "press to..." line
(a press there does the obvious), and the position while holding.
"""

from __future__ import annotations

from PIL import ImageDraw

from bedside.core.screens import BREATH_LEVELS, Screen
from bedside.display.geometry import INNER, LEFT, MARGIN, RIGHT, TOP
from bedside.display.layout import layout_table
from bedside.display.primitives import (
    Piece,
    bar,
    draw_pieces,
    pieces_above,
    pieces_below,
    stack,
    stack_depth,
)
from bedside.display.text import (
    Block,
    draw_text,
    ellipsize,
    fit,
    font,
    ink_box,
    metrics,
    shrunk,
    text_width,
)

HEIGHT = 32
BOTTOM = HEIGHT - MARGIN  # the first row below the layout
SMALL = 11  # the small lines: 9 rows above the baseline, 2 below, as at 64 rows
SMALLER = (11, 10, 9)  # a small line too long for its room tries these before it is cut
HEADLINE = ((14, 1), (13, 1), (12, 1), (11, 1), (10, 1), (9, 1))
CLOCK_SIZES = (22, 20, 18)  # 22 gives digits 16 px tall, half the panel's height
GUTTER = 7  # between the clock and the column to its right
COLUMN = 54  # the least the column needs: the pause sign and "paused" (53 px)


# -- the two lines -------------------------------------------------------------------------------
def _small_line(left: str, right: str, align: str = "center") -> list[Piece]:
    """Small text on the left (centred when alone, unless ``align``), and on the right."""
    pieces: list[Piece] = []
    room = INNER
    if right:
        right = ellipsize(right, SMALL, INNER // 3)
        pieces.append((right, SMALL, "right"))
        room -= text_width(right, SMALL) + 6
        align = "left"
    if left:
        size, left = shrunk(left, SMALLER, room)
        pieces.append((left, size, align))
    return pieces


def _headlined(draw: ImageDraw.ImageDraw, title: str, left: str, right: str) -> None:
    """A headline as large as fits on one line, centred above the small line."""
    small = _small_line(left, right)
    m = metrics(SMALL)
    # On the bottom margin: an underscore reaching below the descenders lifts the line, and
    # marks over its capitals take rows from the headline, not from the line.
    baseline = BOTTOM - max(m.descent, pieces_below(small))
    bottom = baseline - max(m.ascent, pieces_above(small)) - 3 if small else BOTTOM
    headline = fit(title, HEADLINE, INNER, bottom - TOP)
    stack(draw, [headline], TOP, bottom)
    draw_pieces(draw, baseline, small)


# -- a step running ------------------------------------------------------------------------------
def _top_line(draw: ImageDraw.ImageDraw, left: str, right: str) -> int:
    """The small line at the top; returns the first row below its descenders. Marks over its
    capitals set it lower (they are not cut at the margin), and the clock under it smaller."""
    small = _small_line(left, right, "left")
    m = metrics(SMALL)
    baseline = TOP + max(m.ascent, pieces_above(small))
    draw_pieces(draw, baseline, small)
    return baseline + max(m.descent, pieces_below(small))


def _clock(draw: ImageDraw.ImageDraw, text: str, left: int, top: int) -> tuple[int, int, int]:
    """The countdown at the left, its digits from row ``top`` to the bottom margin, as large as
    the rows allow and leaving a column beside it; returns the first column to its right
    (RIGHT when none is left), and its digits' top and baseline."""
    rows, room = BOTTOM - top, RIGHT - left - GUTTER - COLUMN
    # Sized and placed as "00:00" would be, so that neither the size nor the place changes as
    # the digits do (a "1" has wider side bearings than an "8").
    zeros = "".join("0" if c.isdigit() else c for c in text)
    size = next(
        (s for s in CLOCK_SIZES if metrics(s).digits <= rows and text_width(zeros, s) <= room),
        CLOCK_SIZES[-1],
    )
    baseline = top + metrics(size).digits
    x0, _, _, _ = ink_box(zeros, size)
    x = left - x0
    draw.text((x, baseline), text, font=font(size), fill=1, anchor="ls")
    # The column beside it starts after the widest the clock gets ("00:00": fixed-width digits),
    # so the column does not move as the digits change.
    column = x + round(font(size).getlength(text, mode="1")) + GUTTER
    return (column if column <= RIGHT - COLUMN else RIGHT), top, baseline


def _running(draw: ImageDraw.ImageDraw, screen: Screen) -> None:
    below = _top_line(draw, screen.title, screen.position)
    column, digits_top, baseline = _clock(draw, screen.clock, LEFT, below + 1)
    if column >= RIGHT:  # a clock too long for the panel ("1000m") leaves no column
        return
    bar_top = baseline - 3
    bar(draw, bar_top, screen.progress, column, RIGHT)
    if screen.breath >= 0:
        _breath(draw, screen.breath, column, digits_top, bar_top - 3)
    elif screen.detail:
        _beside(draw, screen.detail, column, digits_top)


def _beside(draw: ImageDraw.ImageDraw, text: str, left: int, top: int) -> None:
    """A line in the column beside the clock, level with the top of its digits."""
    size, text = shrunk(text, SMALLER, RIGHT - left)
    draw_text(draw, top + metrics(size).ascent, text, size, "left", left=left)


def _breath(draw: ImageDraw.ImageDraw, level: int, left: int, top: int, bottom: int) -> None:
    """The breathing guide in the column beside the clock: a pill that grows from 6 px to the
    column's width over the in-breath, a pixel at a time each side."""
    width = RIGHT - left
    half = 3 + round(level * (width // 2 - 3) / BREATH_LEVELS)
    middle = (left + RIGHT) // 2
    tall = min(7, bottom - top)
    y = top + (bottom - top - tall) // 2
    draw.rounded_rectangle((middle - half, y, middle + half - 1, y + tall - 1), 3, fill=1)


def _paused(draw: ImageDraw.ImageDraw, screen: Screen) -> None:
    # The clock stays where it was; beside it a pause sign and the word say "paused" without
    # the 64-row screen's banner (a lit band would make this the brightest screen), and the
    # top line says what a press does.
    below = _top_line(draw, screen.hint, screen.position)
    column, digits, baseline = _clock(draw, screen.clock, LEFT, below + 1)
    if column >= RIGHT:
        return
    text_baseline = digits + metrics(SMALL).ascent
    draw.rectangle((column, digits, column + 1, text_baseline - 1), fill=1)
    draw.rectangle((column + 4, digits, column + 5, text_baseline - 1), fill=1)
    draw_text(draw, text_baseline, "paused", SMALL, "left", left=column + 10)
    bar(draw, baseline - 3, screen.progress, column, RIGHT)


# -- holding, and anything else ------------------------------------------------------------------
def _holding(draw: ImageDraw.ImageDraw, screen: Screen) -> None:
    # As at 64 rows: a frame says "something is about to happen", inside it what letting go
    # (and holding on) does; the position gives way.
    draw.rounded_rectangle((LEFT, TOP, RIGHT - 1, BOTTOM - 1), radius=3, outline=1)
    pad = 4
    width = INNER - 2 * pad
    top, bottom = TOP + 1, BOTTOM - 1
    texts = [t for t in (screen.title, screen.detail) if t]
    if len(texts) == 2 and screen.title.endswith(":"):
        texts = [f"{screen.title} {screen.detail}"]  # "Release: next routine" on one line
    for size in (12, *SMALLER):
        blocks = [Block(size, (line,)) for line in texts]
        if all(text_width(t, size) <= width for t in texts) and stack_depth(blocks) <= bottom - top:
            break
    else:
        blocks = [Block(size, (ellipsize(t, size, width),)) for t in texts]
    stack(draw, blocks, top, bottom)


def _fallback(draw: ImageDraw.ImageDraw, screen: Screen) -> None:
    lines = screen.lines[:2]
    blocks = [Block(SMALLER[-1], (ellipsize(line, SMALLER[-1], INNER),)) for line in lines]
    stack(draw, blocks, TOP, BOTTOM)


def _awaiting(draw: ImageDraw.ImageDraw, screen: Screen) -> None:
    _headlined(draw, screen.title, screen.hint, screen.detail or screen.position)


def _menu(draw: ImageDraw.ImageDraw, screen: Screen) -> None:
    # No room for the week's marks: the streak takes the place of the rest of the detail.
    detail = screen.detail
    if screen.nights:
        detail = f"{detail.split(',')[0]}, {screen.nights}"
    _headlined(draw, screen.title, detail, screen.position)


def _finished(draw: ImageDraw.ImageDraw, screen: Screen) -> None:
    _headlined(draw, screen.title, screen.detail, "")


LAYOUTS = layout_table(_running, _paused, _awaiting, _menu, _finished, _holding, _fallback)
