"""What a layout is, and the table of them that lays out every kind of screen for one height.

A layout draws one kind of ``Screen`` (running, paused, the menu ...) on a blank picture. Each
height of panel has a table of them (``bedside.display.layouts64``, ``layouts32``), made by
``layout_table`` so that none can leave a kind out.
"""

from __future__ import annotations

from collections.abc import Callable

from PIL import ImageDraw

from bedside.core.screens import Screen, View

Layout = Callable[[ImageDraw.ImageDraw, Screen], None]


def layout_table(
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
