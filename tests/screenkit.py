"""Screens to draw, shared by the tests of both panel heights (test_drawing, test_drawing32)."""

from __future__ import annotations

import string

from hypothesis import strategies as st

from bedside.core.screens import Screen, View, clock

KINDS = tuple(v for v in View if v is not View.NONE)

# One typical screen of each kind, with the texts describe() gives them.
SAMPLES = {
    "menu": Screen(
        View.MENU, "Leg lifts", "16 min, 5 sets of 20", position="4/4", hint="press to start"
    ),
    "running": Screen(View.RUNNING, "Soak your feet", "left foot", "12:35", 0.37, "2/17"),
    "paused": Screen(
        View.PAUSED, "Paused", "Soak your feet", "12:35", 0.37, "2/17", "press to carry on"
    ),
    "awaiting": Screen(
        View.AWAITING, "Dry and oil your feet", position="3/17", hint="press to continue"
    ),
    "holding": Screen(View.HOLDING, "Release: skip step", "Keep holding: end", position="3/17"),
    "finished": Screen(
        View.FINISHED, "All done", "Legs up the wall, 11 min", hint="press for menu"
    ),
    "dark": Screen(View.DARK),
}

LONG = "Slowly roll your left foot over a tennis ball, heel to toes."  # 60 characters

# Whitespace of every kind too: a newline in a title must not become a second drawn line. And
# letters beyond ASCII: marks over capitals reach above the tall letters (É, Ü, Й, Ά), an
# ogonek or a cedilla below the baseline (ą, ç), and a letter of no font draws a box (床).
BEYOND_ASCII = "\u2013\u2026\u00e9\u00dfÉÜÅŁŚЙЁΆΏąçţßñДщλ床"
printable = st.text(alphabet=string.printable + BEYOND_ASCII, max_size=80)

# Any screen at all, odd texts and out-of-range numbers included: for what must hold of every one.
any_screen = st.builds(
    lambda kind, title, detail, seconds, progress, position, hint, breath: Screen(
        kind, title, detail, clock(seconds), progress, position, hint, breath
    ),
    kind=st.sampled_from(list(View)),
    title=printable,
    detail=printable,
    seconds=st.floats(min_value=0, max_value=1e6),
    progress=st.floats(min_value=-0.5, max_value=1.5),
    position=st.text(alphabet=string.digits + "/", max_size=9),
    hint=printable,
    breath=st.integers(-1, 27),
)
