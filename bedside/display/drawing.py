"""How a ``Screen`` looks in pixels: the 128x64 one-bit picture the OLED shows.

``render(screen)`` is pure: the same ``Screen`` always gives the same image, drawn with nothing
but Pillow's built-in scalable font, so a Pi needs no font files and a test sees exactly what
the panel will. The design is for a dark bedroom, read from the pillow: few lit pixels, one
big number while a step runs, and every screen saying what a press will do. The content is
``Screen.lines``; this module only decides where each line goes and how large it is.

``enlarge`` and ``save_frame`` are for people looking at a frame (``bedside.commands.shots`` picks
the screens an evening passes through). A 128x32 panel gets its own layouts, from
``bedside.display.layouts32``.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

from bedside.core.screens import Screen, View

WIDTH, HEIGHT = 128, 64
# Nothing is lit within MARGIN pixels of the edge: panels sit behind a bezel that can hide
# the outermost rows, and a frame drawn right at the edge looks cramped.
MARGIN = 2
LEFT, TOP, RIGHT, BOTTOM = MARGIN, MARGIN, WIDTH - MARGIN, HEIGHT - MARGIN  # RIGHT/BOTTOM: ends
INNER = RIGHT - LEFT

ELLIPSIS = "\u2026"
CLOCK_SIZES = (36, 34, 32, 28, 24)  # 36 gives digits 26 px tall; smaller only if it won't fit
SMALL = 11  # the size of the bottom line: hints, positions, which foot

# Candidate (font size, most lines) pairs, best first: a title is as large as fits, and
# prefers one line at a slightly smaller size to two lines at a larger one.
RUNNING_TITLE = ((12, 1), (11, 1), (10, 1), (9, 1))
MENU_TITLE = ((20, 1), (18, 1), (16, 1), (16, 2), (14, 2), (12, 2), (11, 3))
AWAIT_TITLE = ((16, 1), (16, 2), (14, 2), (13, 2), (12, 3), (11, 3), (10, 3))
DONE_TITLE = ((18, 1), (16, 1), (14, 1), (14, 2), (12, 2))
DETAIL = ((12, 1), (11, 1), (10, 1), (11, 2), (10, 2))
HOLD_TEXT = ((14, 1), (13, 1), (12, 1), (11, 1), (11, 2), (10, 2))


# -- fonts ---------------------------------------------------------------------------------------
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
    ascent: int  # rows above the baseline that tall letters (H, b, l) and digits reach
    descent: int  # rows below it that g, p, y reach
    digits: int  # rows above it that digits reach: the clock's height

    @property
    def pitch(self) -> int:
        """Baseline to baseline for wrapped lines: descenders never touch the next line."""
        return self.ascent + self.descent + max(1, self.ascent // 5)


@functools.lru_cache(maxsize=64)
def metrics(size: int) -> Metrics:
    # Every printable ASCII character stays within these; i, j, $ and | reach highest at some
    # sizes, so they are in the set although capitals would do for most text.
    top = min(_bbox(c, size)[1] for c in "Hbdfhklt(/0ij$|")
    bottom = max(_bbox(c, size)[3] for c in "gjpqy,(/")
    digits = -min(_bbox(c, size)[1] for c in "0123456789")
    return Metrics(-top, bottom, digits)


def space(size: int) -> int:
    """The gap between words. The font's own space is 2 px at the small sizes once hinted
    for monochrome, which runs "left foot" together into "leftfoot"."""
    return max(3, round(size * 0.28))


@functools.lru_cache(maxsize=4096)
def _words(text: str, size: int) -> tuple[tuple[int, str], ...]:
    """Each word of ``text`` with its x from the start of the line, ``space`` apart.

    Any run of whitespace is one space: a newline or tab from a routine file must not make
    Pillow draw several lines where the layout planned one.
    """
    placed: list[tuple[int, str]] = []
    x = 0
    for word in text.split():
        placed.append((x, word))
        x += round(font(size).getlength(word, mode="1")) + space(size)
    return tuple(placed)


@functools.lru_cache(maxsize=4096)
def _bbox(text: str, size: int) -> tuple[int, int, int, int]:
    """The lit pixels of ``text`` as drawn by ``_text``, from its baseline start.

    Cached: the same few strings (titles, hints, positions) are measured on every frame.
    Measured as drawn: in mode "1" FreeType hints for monochrome, which spaces letters
    wider than the anti-aliased default, so measuring the default way lets text overflow.
    """
    boxes = [
        (x + x0, y0, x + x1, y1)
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
    left, _, right, _ = _bbox(text, size)
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


# -- drawing primitives --------------------------------------------------------------------------
def _x(text: str, size: int, align: str, left: int = LEFT, right: int = RIGHT) -> int:
    """The x to draw ``text`` at so its lit pixels start, end or centre as asked."""
    x0, _, x1, _ = _bbox(text, size)
    if align == "left":
        return left - x0
    if align == "right":
        return right - x1
    return (left + right - x0 - x1) // 2


def _text(
    draw: ImageDraw.ImageDraw,
    baseline: int,
    text: str,
    size: int,
    align: str = "center",
    fill: int = 1,
    left: int = LEFT,
    right: int = RIGHT,
) -> None:
    if text:
        x = _x(text, size, align, left, right)
        for offset, word in _words(text, size):
            draw.text((x + offset, baseline), word, font=font(size), fill=fill, anchor="ls")


def _block(draw: ImageDraw.ImageDraw, block: Block, top: int, align: str = "center") -> int:
    """Draws ``block`` with its tall letters starting at row ``top``; returns the last baseline."""
    m = metrics(block.size)
    baseline = top + m.ascent
    for i, line in enumerate(block.lines):
        baseline = top + m.ascent + i * m.pitch
        _text(draw, baseline, line, block.size, align)
    return baseline


def _stack_depth(blocks: Sequence[Block]) -> int:
    """Rows ``_stack`` needs for ``blocks``, descenders of the last line included."""
    blocks = [b for b in blocks if b.lines]
    if not blocks:
        return 0
    gaps = sum(_gap(a, b) for a, b in itertools.pairwise(blocks))
    return sum(b.height for b in blocks[:-1]) + gaps + blocks[-1].depth


def _stack(draw: ImageDraw.ImageDraw, blocks: Sequence[Block], top: int, bottom: int) -> None:
    """Blocks one under another, the group centred in rows ``top`` up to ``bottom``."""
    blocks = [b for b in blocks if b.lines]
    total = _stack_depth(blocks)
    # Centre on the letters, not the descenders, but never push descenders past the bottom.
    y = max(top, min((top + bottom - total) // 2 + 1, bottom - total))
    for upper, lower in itertools.pairwise([*blocks, None]):
        _block(draw, upper, y)
        if lower is not None:
            y += upper.height + _gap(upper, lower)


def _gap(upper: Block, lower: Block) -> int:
    """Rows from the baseline of ``upper`` to the top of ``lower``: its descenders, then air."""
    return metrics(upper.size).descent + _lead(lower)


def _lead(lower: Block) -> int:
    """Dark rows above a block under another: more for larger letters, never less than 3."""
    return max(3, metrics(lower.size).ascent // 3)


def _clock(
    draw: ImageDraw.ImageDraw, top: int, text: str, sizes: Sequence[int] = CLOCK_SIZES
) -> None:
    """The countdown, centred, in the first of ``sizes`` it fits, digits from row ``top``."""
    size = next((s for s in sizes if text_width(text, s) <= INNER), sizes[-1])
    # Centred by advance width, not ink: the digits are all the same width, so the colon
    # stays put as they change instead of the whole clock shifting a pixel each second.
    advance = font(size).getlength(text, mode="1")
    x0, _, x1, _ = _bbox(text, size)
    x = max(LEFT - x0, min(round((LEFT + RIGHT - advance) / 2), RIGHT - x1))
    draw.text((x, top + metrics(size).digits), text, font=font(size), fill=1, anchor="ls")


def _bar(
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


def _footer(draw: ImageDraw.ImageDraw, left_text: str, right_text: str) -> None:
    """The bottom line: small text on the left (or centred when alone), position on the right."""
    baseline = BOTTOM - metrics(SMALL).descent
    if not right_text:
        _text(draw, baseline, ellipsize(left_text, SMALL, INNER), SMALL)
        return
    right_text = ellipsize(right_text, SMALL, INNER // 2)
    _text(draw, baseline, right_text, SMALL, "right")
    room = INNER - text_width(right_text, SMALL) - 6
    _text(draw, baseline, ellipsize(left_text, SMALL, room), SMALL, "left")


def footer_top() -> int:
    """The first row the bottom line may light."""
    m = metrics(SMALL)
    return BOTTOM - m.descent - m.ascent


# -- the screens ---------------------------------------------------------------------------------
def _running(draw: ImageDraw.ImageDraw, screen: Screen) -> None:
    title = fit(screen.title, RUNNING_TITLE, INNER)
    # A title that had to shrink sits in the middle of the band the full size would take.
    band = metrics(RUNNING_TITLE[0][0]).ascent
    _block(draw, title, TOP + (band - metrics(title.size).ascent) // 2)
    # The clock goes between the title and the bar, a little nearer the title so the bar and
    # the footer read as one group under it.
    _clock(draw, TOP + 14, screen.clock)
    _bar(draw, footer_top() - 6, screen.progress)
    _footer(draw, screen.detail, screen.position)
    if screen.breath >= 0:
        _breath(draw, screen.breath)


def _breath(draw: ImageDraw.ImageDraw, level: int) -> None:
    """The breathing guide: a soft pill in the middle of the bottom line, 6 px wide when the
    lungs are empty and a pixel more each side per level, up to 60 px when they are full."""
    half = 3 + level
    middle = (LEFT + RIGHT) // 2
    bottom = BOTTOM - 1
    draw.rounded_rectangle((middle - half, bottom - 6, middle + half - 1, bottom), 3, fill=1)


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
    _text(draw, baseline, label, label_size, "left", left=x + sign + 2)
    # Then what was paused and where it stands, smaller than when running: the frozen clock
    # is for reference, the banner and the hint are what matter now.
    step = fit(screen.detail, ((11, 1), (10, 1), (9, 1)), INNER)
    _block(draw, step, banner_bottom + 3)
    # Bottom up: the footer, the bar two rows above it, the clock three rows above that.
    bar_top = footer_top() - 5
    clock_size = 22
    _clock(draw, bar_top - 3 - metrics(clock_size).digits, screen.clock, (clock_size, 18))
    _bar(draw, bar_top, screen.progress)
    _footer(draw, screen.hint, screen.position)


def _awaiting(draw: ImageDraw.ImageDraw, screen: Screen) -> None:
    # What to do now, as large as it fits: this is read once, from the pillow, then done.
    _titled(draw, screen, AWAIT_TITLE, [c for c in DETAIL if c[1] == 1])


WEEK_SIZE = 9  # the streak's words; its seven marks are smaller still


def _menu(draw: ImageDraw.ImageDraw, screen: Screen) -> None:
    if not (screen.nights or screen.week):
        _titled(draw, screen, MENU_TITLE)
        return
    # The streak and the week, small and dim, in a row of their own above the footer: a
    # filled 3-pixel square for a night done, a single lit pixel for one not.
    baseline = footer_top() - 3
    text = screen.nights
    marks = 6 * len(screen.week) - 3 if screen.week else 0
    width = text_width(text, WEEK_SIZE) + (5 if text and marks else 0) + marks
    x = (LEFT + RIGHT - width) // 2
    if text:
        _text(draw, baseline, text, WEEK_SIZE, "left", left=x)
        x += text_width(text, WEEK_SIZE) + 5
    middle = baseline - metrics(WEEK_SIZE).ascent // 2
    for done in screen.week:
        if done:
            draw.rectangle((x, middle - 1, x + 2, middle + 1), fill=1)
        else:
            draw.point((x + 1, middle), fill=1)
        x += 6
    _titled(draw, screen, MENU_TITLE, bottom=baseline - metrics(WEEK_SIZE).ascent - 3)


def _titled(
    draw: ImageDraw.ImageDraw,
    screen: Screen,
    titles: Sequence[tuple[int, int]],
    details: Sequence[tuple[int, int]] = DETAIL,
    bottom: int | None = None,
) -> None:
    """A title over its detail, centred in the space above the footer (or ``bottom``)."""
    bottom = bottom if bottom is not None else footer_top() - 4
    detail = fit(screen.detail, details, INNER)
    # The title gets whatever the detail leaves, so a long title wraps or shrinks, not overlaps.
    reserve = _lead(detail) + detail.depth if detail.lines else 0
    title = fit(screen.title, titles, INNER, bottom - TOP - reserve)
    _stack(draw, [title, detail], TOP, bottom)
    _footer(draw, screen.hint, screen.position)


def _holding(draw: ImageDraw.ImageDraw, screen: Screen) -> None:
    # A frame says "something is about to happen" without adding words; the text inside is
    # what letting go (and holding on) will do, both lines the same size, as large as fits.
    draw.rounded_rectangle((LEFT, TOP, RIGHT - 1, BOTTOM - 1), radius=4, outline=1)
    pad = 5
    width = INNER - 2 * pad
    top, bottom = TOP + pad, BOTTOM - pad
    position = ellipsize(screen.position, SMALL, width)
    if position:
        bottom = footer_top() - 3
    texts = [t for t in (screen.title, screen.detail) if t]
    blocks = [fit(t, [(HOLD_TEXT[-1][0], 1)], width) for t in texts]
    for size, most in HOLD_TEXT:
        trial = [Block(size, tuple(wrap(t, size, width))) for t in texts]
        if (
            all(len(b.lines) <= most for b in trial)
            and all(text_width(line, size) <= width for b in trial for line in b.lines)
            and _stack_depth(trial) <= bottom - top
        ):
            blocks = trial
            break
    _stack(draw, blocks, top, bottom)
    if position:
        baseline = BOTTOM - 3 - metrics(SMALL).descent
        _text(draw, baseline, position, SMALL, "right", right=RIGHT - pad)


def _finished(draw: ImageDraw.ImageDraw, screen: Screen) -> None:
    _titled(draw, screen, DONE_TITLE)


def _fallback(draw: ImageDraw.ImageDraw, screen: Screen) -> None:
    # A kind this module does not know yet still shows its text rather than nothing: as many
    # lines as fit, each cut to the width.
    m = metrics(10)
    for i, line in enumerate(screen.lines[: (BOTTOM - TOP - m.descent - m.ascent) // m.pitch + 1]):
        _text(draw, TOP + m.ascent + i * m.pitch, ellipsize(line, 10, INNER), 10)


Layout = Callable[[ImageDraw.ImageDraw, Screen], None]


def layouts(
    running: Layout,
    paused: Layout,
    awaiting: Layout,
    menu: Layout,
    finished: Layout,
    holding: Layout,
    fallback: Layout,
) -> dict[View | None, Layout]:
    """Which layout draws each kind of screen, for one size of panel; the one under None draws
    any kind not laid out yet. A dark screen is drawn by nothing at all."""
    return {
        View.RUNNING: running,
        View.PAUSED: paused,
        View.AWAITING: awaiting,
        View.MENU: menu,
        View.FINISHED: finished,
        View.HOLDING: holding,
        None: fallback,
    }


LAYOUTS = layouts(_running, _paused, _awaiting, _menu, _finished, _holding, _fallback)


SIZES = ((128, 64), (128, 32))  # the panels bedside lays its screens out for


def render(
    screen: Screen, size: tuple[int, int] = (WIDTH, HEIGHT), *, clip: bool = True
) -> Image.Image:
    """``screen`` as a panel of ``size`` shows it: 128x64 or 128x32, mode "1", lit pixels white.

    ``clip=False`` skips clearing the margins at the end, to see (or test) whether the layout
    itself kept inside them.
    """
    if size not in SIZES:
        raise ValueError(f"bedside lays out screens for 128x64 and 128x32 panels, not {size}")
    width, height = size
    image = Image.new("1", size, 0)
    if screen.kind is View.DARK:
        return image
    table = LAYOUTS
    if height == 32:
        from bedside.display import layouts32 as drawing32  # it builds on this module's primitives

        table = drawing32.LAYOUTS
    draw = ImageDraw.Draw(image)
    table.get(screen.kind, table[None])(draw, screen)
    if not clip:
        return image
    # The layouts keep inside the margins for every letter they measure; a glyph beyond
    # those (a character the built-in font lacks) is clipped here, not lit under the bezel.
    bottom = height - MARGIN
    draw.rectangle((0, 0, width - 1, TOP - 1), fill=0)
    draw.rectangle((0, bottom, width - 1, height - 1), fill=0)
    draw.rectangle((0, 0, LEFT - 1, height - 1), fill=0)
    draw.rectangle((RIGHT, 0, width - 1, height - 1), fill=0)
    return image


# -- for people ----------------------------------------------------------------------------------
OLED_TINT = (200, 240, 255)  # the soft blue-white of a lit SSD1306 pixel


def enlarge(
    image: Image.Image, factor: int = 4, tint: tuple[int, int, int] | None = OLED_TINT
) -> Image.Image:
    """``image`` scaled up with hard pixel edges, lit pixels in ``tint`` (None: plain grey)."""
    big = image.convert("L").resize((image.width * factor, image.height * factor), Image.NEAREST)
    if tint is None:
        return big
    return ImageOps.colorize(big, black=(0, 0, 0), white=tint)


def save_frame(image: Image.Image, path: Path | str) -> Path:
    """Writes ``image`` to ``path`` as PNG, whatever the suffix says; returns the path."""
    path = Path(path)
    image.save(path, format="PNG")
    return path
