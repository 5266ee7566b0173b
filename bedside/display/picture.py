"""The picture of a ``Screen``: the one-bit image a 128x64 or 128x32 panel shows for it.

``picture(screen, size)`` is pure: the same ``Screen`` always gives the same image. It picks
the layouts for the panel's height (``bedside.display.layouts64``, ``layouts32``), lets the
one for the screen's kind draw, and clears the margins.
"""

from __future__ import annotations

from PIL import Image, ImageDraw

from bedside.core.screens import Screen, View
from bedside.display import layouts32, layouts64
from bedside.display.geometry import LEFT, MARGIN, RIGHT, TOP, WIDTH
from bedside.display.layout import Layout

# The panels bedside lays its screens out for, each with its layouts.
_LAYOUTS: dict[tuple[int, int], dict[View | None, Layout]] = {
    (WIDTH, layouts64.HEIGHT): layouts64.LAYOUTS,
    (WIDTH, layouts32.HEIGHT): layouts32.LAYOUTS,
}
SIZES = tuple(_LAYOUTS)


def picture(
    screen: Screen, size: tuple[int, int] = (WIDTH, layouts64.HEIGHT), *, clip: bool = True
) -> Image.Image:
    """``screen`` as a panel of ``size`` shows it: 128x64 or 128x32, mode "1", lit pixels white.

    ``clip=False`` skips clearing the margins at the end, to see (or test) whether the layout
    itself kept inside them.
    """
    if size not in _LAYOUTS:
        sizes = " and ".join(f"{width}x{height}" for width, height in SIZES)
        raise ValueError(f"bedside lays out screens for {sizes} panels, not {size}")
    width, height = size
    image = Image.new("1", size, 0)
    if screen.kind is View.DARK:
        return image
    table = _LAYOUTS[size]
    draw = ImageDraw.Draw(image)
    table.get(screen.kind, table[None])(draw, screen)
    if not clip:
        return image
    # The layouts keep inside the margins for every letter they draw, marks and all; should
    # one ever reach beyond, it is clipped here, not lit under the bezel.
    bottom = height - MARGIN
    draw.rectangle((0, 0, width - 1, TOP - 1), fill=0)
    draw.rectangle((0, bottom, width - 1, height - 1), fill=0)
    draw.rectangle((0, 0, LEFT - 1, height - 1), fill=0)
    draw.rectangle((RIGHT, 0, width - 1, height - 1), fill=0)
    return image
