"""The panel's width and the margin kept dark: what every layout, the panel classes and the
recording bus share.

Every panel bedside drives is 128 pixels wide, with 64 or 32 rows (the heights are the
layouts', ``bedside.display.picture.SIZES``). Nothing is lit within ``MARGIN`` pixels of the
edge: panels sit behind a bezel that can hide the outermost rows, and a frame drawn right at
the edge looks cramped.
"""

from __future__ import annotations

WIDTH = 128
MARGIN = 2
# The columns a layout may light: from LEFT up to, not including, RIGHT; from row TOP down.
LEFT, TOP, RIGHT = MARGIN, MARGIN, WIDTH - MARGIN
INNER = RIGHT - LEFT
