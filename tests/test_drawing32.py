"""The screens at 128x32 (the 0.91" panels): every kind laid out in 28 usable rows, inside the
margins, the countdown still large, and nothing brighter than the countdown."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from PIL import Image, ImageChops
from screenkit import KINDS, LONG, SAMPLES, any_screen

from bedside.commands.screens.evening import gallery_screens
from bedside.commands.screens.gallery import write_gallery
from bedside.config import core_terms
from bedside.config.load import load_config
from bedside.core.screens import Screen, View
from bedside.display.geometry import MARGIN
from bedside.display.picture import picture

SIZE = (128, 32)

# What each kind shows at 32 rows; the rest gives way (see bedside/display/layouts32.py).
SHOWN = {
    "menu": ("title", "detail", "position"),
    "running": ("title", "detail", "clock", "position"),
    "paused": ("clock", "position", "hint"),
    "awaiting": ("title", "position", "hint"),
    "holding": ("title", "detail"),
    "finished": ("title", "detail"),
}


def small(screen: Screen, *, clip: bool = True) -> Image.Image:
    return picture(screen, SIZE, clip=clip)


def inside_margins(image: Image.Image) -> bool:
    box = image.getbbox()
    return box is None or (
        box[0] >= MARGIN and box[1] >= MARGIN and box[2] <= 128 - MARGIN and box[3] <= 32 - MARGIN
    )


def lit(image: Image.Image) -> int:
    return image.convert("L").histogram()[255]


def difference(a: Image.Image, b: Image.Image) -> tuple[int, int, int, int] | None:
    return ImageChops.logical_xor(a, b).getbbox()


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "dark"])
def test_every_kind_is_128x32_lit_and_inside_the_margins(kind: str) -> None:
    image = small(SAMPLES[kind], clip=False)
    assert image.size == SIZE and image.mode == "1"
    assert image.getbbox() is not None and inside_margins(image)


def test_dark_is_dark_and_other_sizes_are_refused() -> None:
    assert small(Screen(View.DARK, "x", "y", "12:00")).getbbox() is None
    with pytest.raises(ValueError, match="128x64 and 128x32"):
        picture(SAMPLES["menu"], (128, 48))


def test_every_kind_looks_different() -> None:
    fields = {"title": "Toe tips", "detail": "left foot", "clock": "00:30", "progress": 0.5}
    images = {k: small(Screen(k, **fields, position="5/17", hint="press")).tobytes() for k in KINDS}
    assert len(set(images.values())) == len(KINDS)


@pytest.mark.parametrize("kind", list(SHOWN))
def test_every_text_a_kind_shows_at_32_rows_is_drawn(kind: str) -> None:
    screen = SAMPLES[kind]
    full = small(screen).tobytes()
    for name in SHOWN[kind]:
        assert getattr(screen, name), name
        assert small(replace(screen, **{name: ""})).tobytes() != full, name


@pytest.mark.parametrize("kind", ["running", "paused"])
def test_the_progress_bar_fills_with_progress(kind: str) -> None:
    counts = [lit(small(replace(SAMPLES[kind], progress=p))) for p in (0, 0.25, 0.5, 0.75, 1)]
    assert counts == sorted(counts) and counts[0] < counts[-1]


def test_the_countdown_is_half_the_panel_tall_and_the_parts_keep_apart() -> None:
    base = Screen(View.RUNNING, clock="88:88", progress=0.0)
    top = replace(base, title="Below the ball of the foot", position="17/17")
    parts = {
        # The clock's digits changing: the bar beside it stays put (the digits are all as wide).
        "clock": difference(small(base), small(replace(base, clock="11:11"))),
        "title": difference(small(top), small(replace(top, title=""))),
        # (placed first, the same with a title or without; the title gets the room it leaves)
        "position": difference(small(replace(base, position="17/17")), small(base)),
        "detail": difference(small(replace(base, detail="lift 17 of 20")), small(base)),
        "breath": difference(small(replace(base, breath=27)), small(base)),
    }
    clock_box = parts["clock"]
    assert clock_box is not None and clock_box[3] - clock_box[1] >= 16
    assert clock_box[0] <= MARGIN + 2  # at the left (within the font's side bearing)
    for (a, box_a), (b, box_b) in itertools.combinations(parts.items(), 2):
        assert box_a is not None and box_b is not None
        if {a, b} == {"detail", "breath"}:
            continue  # the two take turns in the same place
        apart = box_a[3] <= box_b[1] or box_b[3] <= box_a[1]
        assert apart or box_a[2] <= box_b[0] or box_b[2] <= box_a[0], (a, box_a, b, box_b)


def test_no_screen_is_brighter_than_the_countdown() -> None:
    running = lit(small(SAMPLES["running"]))
    for kind in KINDS:
        assert lit(small(SAMPLES[kind])) <= running * 1.3, kind


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "dark"])
def test_a_60_character_text_stays_on_screen(kind: str) -> None:
    screen = replace(SAMPLES[kind], title=LONG, detail=LONG, hint=LONG)
    assert inside_margins(small(screen, clip=False))


@settings(max_examples=150, deadline=None)
@given(screen=any_screen)
def test_no_screen_lights_a_pixel_in_the_margins(screen: Screen) -> None:
    image = small(screen, clip=False)
    assert image.size == SIZE and inside_margins(image)


def test_the_gallery_at_32_rows(tmp_path: Path) -> None:
    config_settings = core_terms.settings(load_config())
    paths = write_gallery(config_settings, tmp_path, SIZE)
    frames = [p for p in paths if not p.stem.endswith("@4x")]
    assert len(frames) == len(gallery_screens(config_settings)) >= 8
    seen = set()
    for frame in frames:
        with Image.open(frame) as image:
            assert image.size == SIZE
            seen.add(image.tobytes())
        with Image.open(frame.with_name(f"{frame.stem}@4x.png")) as big:
            assert big.size == (512, 128)
    assert len(seen) == len(frames)
