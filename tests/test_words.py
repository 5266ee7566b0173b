"""The words of a line on the panel (issue 20, item 13), looked at as pixels: all on one
baseline ("min" a pixel high on the 32-row finished screen), the same gap between any two
("hold  10 min" on the 32-row menu), and a line too long cut after its last whole word that
fits ("Below the ball o…" was cut inside a word)."""

from __future__ import annotations

import itertools
import string
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops

from bedside.core.screens import Screen, View
from bedside.display.geometry import INNER
from bedside.display.picture import picture
from bedside.display.text import ELLIPSIS, ellipsize, text_width

# Letters and marks that reach below the baseline: a word with one has no bottom on it.
DESCENDING = set("gjpqy,;()_|ąęçţДЦщρβγζξχψ")

# Lines each panel draws of more than two words, with the text that makes them.
LINES = {
    "32-row finished": (
        (128, 32),
        Screen(View.FINISHED, "All done", "Legs up the wall, 11 min", hint="press for menu"),
    ),
    "32-row menu": (
        (128, 32),
        Screen(View.MENU, "Bedtime", "42 min, hold 10 min", position="1/4", hint="x"),
    ),
    "32-row menu, a profile": (
        (128, 32),
        Screen(View.MENU, "Leg lifts", "16 min, 5 sets of 20", position="4/4", hint="x"),
    ),
    "64-row menu": (
        (128, 64),
        Screen(View.MENU, "Bedtime", "42 min, hold 10 min", position="1/4", hint="x"),
    ),
    "64-row finished": (
        (128, 64),
        Screen(View.FINISHED, "All done", "Legs up the wall, 11 min", hint="press for menu"),
    ),
    "64-row running": (
        (128, 64),
        Screen(View.RUNNING, "Set 1 of 5", "lift 17 of 20", "01:22", 0.3, "2/12"),
    ),
}


def ink_of_detail(size: tuple[int, int], screen: Screen) -> Image.Image:
    """What the screen's detail line lights, alone: the other texts blank, the bar and the
    breathing guide (the same with the detail or without) taken away."""
    alone = replace(screen, title="", clock="", position="", hint="")
    with_detail = picture(alone, size)
    without = picture(replace(alone, detail=""), size)
    return ImageChops.logical_and(with_detail, ImageChops.logical_xor(with_detail, without))


def words_of(image: Image.Image, count: int) -> list[tuple[int, int, int]]:
    """The ``count`` words of the one line ``image`` lights, split at the ``count - 1``
    widest runs of dark columns: each as its first column, its end and its lowest lit row."""
    box = image.getbbox()
    assert box is not None
    pixels = image.load()
    lit = [x for x in range(box[0], box[2]) if any(pixels[x, y] for y in range(box[1], box[3]))]
    gaps = sorted(
        ((b - a - 1, a, b) for a, b in itertools.pairwise(lit) if b - a > 1),
        reverse=True,
    )[: count - 1]
    cuts = sorted((a, b) for _, a, b in gaps)
    starts = [lit[0]] + [b for _, b in cuts]
    ends = [a + 1 for a, _ in cuts] + [lit[-1] + 1]
    words = []
    for start, end in zip(starts, ends, strict=True):
        rows = [y for y in range(box[1], box[3]) for x in range(start, end) if pixels[x, y]]
        words.append((start, end, max(rows)))
    return words


def dark_runs(image: Image.Image) -> list[int]:
    """The widths of the runs of dark columns between lit ones, left to right."""
    box = image.getbbox()
    assert box is not None
    pixels = image.load()
    lit = [x for x in range(box[0], box[2]) if any(pixels[x, y] for y in range(box[1], box[3]))]
    return [b - a - 1 for a, b in itertools.pairwise(lit) if b - a > 1]


@pytest.mark.parametrize("name", list(LINES))
def test_the_words_of_a_line_sit_on_one_baseline(name: str) -> None:
    size, screen = LINES[name]
    texts = screen.detail.split()
    words = words_of(ink_of_detail(size, screen), len(texts))
    bottoms = {
        text: bottom
        for text, (_, _, bottom) in zip(texts, words, strict=True)
        if not set(text) & DESCENDING
    }
    assert len(bottoms) >= 2, bottoms  # "the", "11", "min": enough words to compare
    assert len(set(bottoms.values())) == 1, bottoms


@pytest.mark.parametrize("name", list(LINES))
def test_the_gap_between_any_two_words_is_the_same(name: str) -> None:
    size, screen = LINES[name]
    count = len(screen.detail.split())
    runs = sorted(dark_runs(ink_of_detail(size, screen)), reverse=True)
    between, within = runs[: count - 1], runs[count - 1 :]
    assert len(set(between)) == 1, runs  # no double space: "hold  10 min"
    assert not within or max(within) < between[0], runs  # and wider than inside a word


@pytest.mark.parametrize(
    ("title", "shown", "not_shown"),
    [
        ("Below the ball of the foot", "Below the ball", "Below the ball o"),
        ("Centre of the sole of the foot", "Centre of the", "Centre of the s"),
        ("Legs up the wall, belly breathing", "Legs up the", "Legs up the wa"),
    ],
)
def test_a_title_too_long_for_the_32_row_top_line_is_cut_after_a_whole_word(
    title: str, shown: str, not_shown: str
) -> None:
    base = Screen(View.RUNNING, title, "left foot", "00:49", 0.2, "8/17")
    drawn = picture(base, (128, 32)).tobytes()
    assert drawn == picture(replace(base, title=shown + ELLIPSIS), (128, 32)).tobytes()
    assert drawn != picture(replace(base, title=not_shown + ELLIPSIS), (128, 32)).tobytes()


words = st.text(alphabet=string.ascii_letters + "éßÜ", min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(
    text=st.lists(words, min_size=1, max_size=8).map(" ".join),
    width=st.integers(8, INNER),
    size=st.sampled_from([9, 10, 11, 12, 14]),
)
def test_ellipsize_keeps_the_most_whole_words_that_fit(text: str, width: int, size: int) -> None:
    shown = ellipsize(text, size, width)
    if shown == text:
        assert text_width(text, size) <= width
        return
    assert shown.endswith(ELLIPSIS)
    kept = shown.removesuffix(ELLIPSIS)
    parts = text.split()
    whole = [" ".join(parts[:n]) for n in range(1, len(parts))]
    if kept in whole:
        assert text_width(shown, size) <= width
        longer = whole[whole.index(kept) + 1 :]
        assert all(text_width(w + ELLIPSIS, size) > width for w in longer), shown
    else:  # not even the first word fits: it alone is cut, as far as fits
        assert all(text_width(w + ELLIPSIS, size) > width for w in whole)
        assert parts[0].startswith(kept) and kept != parts[0]
