"""The screens laid out for a 128x64 panel: the picture each kind of ``Screen`` makes.

The design is for a dark bedroom, read from the pillow: few lit pixels, one big number while
a step runs, and every screen saying what a press will do. The content is ``Screen.lines``;
this module only decides where each line goes and how large it is. At the bottom of most
screens is the footer: small text on the left, the position on the right.
"""

from __future__ import annotations

from collections.abc import Sequence

from PIL import ImageDraw

from bedside.core.screens import Screen
from bedside.display.geometry import INNER, LEFT, MARGIN, RIGHT, TOP
from bedside.display.layout import layout_table
from bedside.display.primitives import (
    Piece,
    bar,
    draw_pieces,
    lead,
    pieces_below,
    stack,
    stack_depth,
)
from bedside.display.text import (
    Block,
    below,
    draw_block,
    draw_text,
    ellipsize,
    fit,
    font,
    ink_box,
    metrics,
    shrunk,
    text_width,
    wrap,
)

HEIGHT = 64
BOTTOM = HEIGHT - MARGIN  # the first row below the layout

CLOCK_SIZES = (36, 34, 32, 28, 24)  # 36 gives digits 26 px tall; smaller only if it won't fit
PAUSED_CLOCK = (22, 20, 18)  # the frozen clock, smaller: as large as the rows above the bar allow
SMALL = 11  # the size of the bottom line: hints, positions, which foot
FOOTER_SIZES = (SMALL, 10)  # a hint too long beside the position tries these before it is cut
WEEK_SIZE = 9  # the streak's words; its seven marks are smaller still

# Candidate (font size, most lines) pairs, best first: a title is as large as fits, and
# prefers one line at a slightly smaller size to two lines at a larger one.
RUNNING_TITLE = ((12, 1), (11, 1), (10, 1), (9, 1))
MENU_TITLE = ((20, 1), (18, 1), (16, 1), (16, 2), (14, 2), (12, 2), (11, 3))
AWAIT_TITLE = ((16, 1), (16, 2), (14, 2), (13, 2), (12, 3), (11, 3), (10, 3))
DONE_TITLE = ((18, 1), (16, 1), (14, 1), (14, 2), (12, 2))
DETAIL = ((12, 1), (11, 1), (10, 1), (11, 2), (10, 2))
HOLD_TEXT = ((14, 1), (13, 1), (12, 1), (11, 1), (11, 2), (10, 2))


# -- the parts of a screen -----------------------------------------------------------------------
def _clock(
    draw: ImageDraw.ImageDraw, top: int, text: str, sizes: Sequence[int] = CLOCK_SIZES
) -> None:
    """The countdown, centred, in the first of ``sizes`` it fits, digits from row ``top``."""
    size = next((s for s in sizes if text_width(text, s) <= INNER), sizes[-1])
    # Centred by advance width, not ink: the digits are all the same width, so the colon
    # stays put as they change instead of the whole clock shifting a pixel each second.
    advance = font(size).getlength(text, mode="1")
    x0, _, x1, _ = ink_box(text, size)
    x = max(LEFT - x0, min(round((LEFT + RIGHT - advance) / 2), RIGHT - x1))
    draw.text((x, top + metrics(size).digits), text, font=font(size), fill=1, anchor="ls")


def _footer(draw: ImageDraw.ImageDraw, left_text: str, right_text: str) -> None:
    """The bottom line: small text on the left (or centred when alone), position on the right."""
    pieces: list[Piece] = []
    room = INNER
    if right_text:
        right_text = ellipsize(right_text, SMALL, INNER // 2)
        pieces.append((right_text, SMALL, "right"))
        room -= text_width(right_text, SMALL) + 6
    size, left_text = shrunk(left_text, FOOTER_SIZES, room)
    pieces.append((left_text, size, "left" if right_text else "center"))
    # On the bottom margin: an underscore reaching below the descenders lifts the line.
    draw_pieces(draw, BOTTOM - pieces_below(pieces), pieces)


def _footer_top() -> int:
    """The first row the bottom line may light."""
    m = metrics(SMALL)
    return BOTTOM - m.descent - m.ascent


def _breath(draw: ImageDraw.ImageDraw, level: int) -> None:
    """The breathing guide: a soft pill in the middle of the bottom line, 6 px wide when the
    lungs are empty and a pixel more each side per level, up to 60 px when they are full."""
    half = 3 + level
    middle = (LEFT + RIGHT) // 2
    bottom = BOTTOM - 1
    draw.rounded_rectangle((middle - half, bottom - 6, middle + half - 1, bottom), 3, fill=1)


def _titled(
    draw: ImageDraw.ImageDraw,
    screen: Screen,
    titles: Sequence[tuple[int, int]],
    details: Sequence[tuple[int, int]] = DETAIL,
    bottom: int | None = None,
) -> None:
    """A title over its detail, centred in the space above the footer (or ``bottom``)."""
    bottom = bottom if bottom is not None else _footer_top() - 4
    detail = fit(screen.detail, details, INNER)
    # The title gets whatever the detail leaves, so a long title wraps or shrinks, not overlaps.
    reserve = lead(detail) + detail.depth if detail.lines else 0
    title = fit(screen.title, titles, INNER, bottom - TOP - reserve)
    stack(draw, [title, detail], TOP, bottom)
    _footer(draw, screen.hint, screen.position)


# -- the screens ---------------------------------------------------------------------------------
def _running(draw: ImageDraw.ImageDraw, screen: Screen) -> None:
    title = fit(screen.title, RUNNING_TITLE, INNER)
    # A title that had to shrink sits in the middle of the band the full size would take.
    band = metrics(RUNNING_TITLE[0][0]).ascent
    baseline = draw_block(draw, title, TOP + (band - metrics(title.size).ascent) // 2)
    # The clock goes between the title and the bar, a little nearer the title so the bar and
    # the footer read as one group under it; a title set lower for the marks over its
    # capitals takes it down with it, a dark row under the title's descenders.
    under_title = baseline + below(title.lines[-1], title.size) + 1 if title.lines else TOP
    _clock(draw, max(TOP + 14, under_title), screen.clock)
    bar(draw, _footer_top() - 6, screen.progress)
    _footer(draw, screen.detail, screen.position)
    if screen.breath >= 0:
        _breath(draw, screen.breath)


def _paused(draw: ImageDraw.ImageDraw, screen: Screen) -> None:
    # A pause sign and the word, lit on dark like everything else: a paused screen can stay
    # up for a quarter of an hour in a dark room, so it must never be brighter than the
    # countdown it stands for (an inverted banner lit a quarter of the panel).
    label_size = 9
    label_ascent = metrics(label_size).ascent
    banner_bottom = TOP + label_ascent + 3
    sign = 7  # two bars two wide, two apart, then a gap of three
    label = ellipsize(screen.title.upper(), label_size, INNER - sign - 8)
    x = (LEFT + RIGHT - sign - text_width(label, label_size)) // 2
    sign_top, sign_bottom = TOP + 2, banner_bottom - 2
    draw.rectangle((x, sign_top, x + 1, sign_bottom), fill=1)
    draw.rectangle((x + 4, sign_top, x + 5, sign_bottom), fill=1)
    baseline = TOP + 2 + label_ascent
    draw_text(draw, baseline, label, label_size, "left", left=x + sign + 2)
    # Then what was paused and where it stands, smaller than when running: the frozen clock
    # is for reference, the banner and the hint are what matter now.
    step = fit(screen.detail, ((11, 1), (10, 1), (9, 1)), INNER)
    # Bottom up: the footer, the bar two rows above it, the clock three rows above that.
    bar_top = _footer_top() - 5
    below = draw_block(draw, step, banner_bottom + 3) + metrics(step.size).descent + 1
    rows = bar_top - 3 - below  # a dark row under the step's descenders, three over the bar
    clock_size = next((s for s in PAUSED_CLOCK if metrics(s).digits <= rows), PAUSED_CLOCK[-1])
    _clock(draw, bar_top - 3 - metrics(clock_size).digits, screen.clock, (clock_size, 18))
    bar(draw, bar_top, screen.progress)
    _footer(draw, screen.hint, screen.position)


def _awaiting(draw: ImageDraw.ImageDraw, screen: Screen) -> None:
    # What to do now, as large as it fits: this is read once, from the pillow, then done.
    _titled(draw, screen, AWAIT_TITLE, [c for c in DETAIL if c[1] == 1])


def _menu(draw: ImageDraw.ImageDraw, screen: Screen) -> None:
    if not (screen.nights or screen.week):
        _titled(draw, screen, MENU_TITLE)
        return
    # The streak and the week, small and dim, in a row of their own above the footer: a
    # filled 3-pixel square for a night done, a single lit pixel for one not.
    baseline = _footer_top() - 3
    text = screen.nights
    marks = 6 * len(screen.week) - 3 if screen.week else 0
    width = text_width(text, WEEK_SIZE) + (5 if text and marks else 0) + marks
    x = (LEFT + RIGHT - width) // 2
    if text:
        draw_text(draw, baseline, text, WEEK_SIZE, "left", left=x)
        x += text_width(text, WEEK_SIZE) + 5
    middle = baseline - metrics(WEEK_SIZE).ascent // 2
    for done in screen.week:
        if done:
            draw.rectangle((x, middle - 1, x + 2, middle + 1), fill=1)
        else:
            draw.point((x + 1, middle), fill=1)
        x += 6
    _titled(draw, screen, MENU_TITLE, bottom=baseline - metrics(WEEK_SIZE).ascent - 3)


def _holding(draw: ImageDraw.ImageDraw, screen: Screen) -> None:
    # A frame says "something is about to happen" without adding words; the text inside is
    # what letting go (and holding on) will do, both lines the same size, as large as fits.
    draw.rounded_rectangle((LEFT, TOP, RIGHT - 1, BOTTOM - 1), radius=4, outline=1)
    pad = 5
    width = INNER - 2 * pad
    top, bottom = TOP + pad, BOTTOM - pad
    position = ellipsize(screen.position, SMALL, width)
    if position:
        bottom = _footer_top() - 3
    texts = [t for t in (screen.title, screen.detail) if t]
    blocks = [fit(t, [(HOLD_TEXT[-1][0], 1)], width) for t in texts]
    for size, most in HOLD_TEXT:
        trial = [Block(size, tuple(wrap(t, size, width))) for t in texts]
        if (
            all(len(b.lines) <= most for b in trial)
            and all(text_width(line, size) <= width for b in trial for line in b.lines)
            and stack_depth(trial) <= bottom - top
        ):
            blocks = trial
            break
    stack(draw, blocks, top, bottom)
    if position:
        baseline = BOTTOM - 3 - metrics(SMALL).descent
        draw_text(draw, baseline, position, SMALL, "right", right=RIGHT - pad)


def _finished(draw: ImageDraw.ImageDraw, screen: Screen) -> None:
    _titled(draw, screen, DONE_TITLE)


def _fallback(draw: ImageDraw.ImageDraw, screen: Screen) -> None:
    # A kind this module does not know yet still shows its text rather than nothing: as many
    # lines as fit, each cut to the width.
    lines: tuple[str, ...] = ()
    for line in screen.lines:
        more = Block(10, (*lines, ellipsize(line, 10, INNER)))
        if more.depth > BOTTOM - TOP:
            break
        lines = more.lines
    draw_block(draw, Block(10, lines), TOP)


LAYOUTS = layout_table(_running, _paused, _awaiting, _menu, _finished, _holding, _fallback)
