"""A panel's picture enlarged for people: each pixel a square, lit ones in the panel's colour.

The galleries (``bedside screens``) put one beside each picture, since a 128x64 image is too
small to judge on a screen.
"""

from __future__ import annotations

from PIL import Image, ImageOps

OLED_TINT = (200, 240, 255)  # the soft blue-white of a lit SSD1306 pixel


def enlarge(image: Image.Image, factor: int = 4) -> Image.Image:
    """``image`` scaled up ``factor`` times with hard pixel edges, lit pixels in ``OLED_TINT``."""
    big = image.convert("L").resize(
        (image.width * factor, image.height * factor), Image.Resampling.NEAREST
    )
    return ImageOps.colorize(big, black=(0, 0, 0), white=OLED_TINT)
