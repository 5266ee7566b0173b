"""The pictures ``bedside.display.picture`` makes at 128x64: size, margins, legibility, the
gallery; and the text engine under every layout.

Everything here renders with the real Pillow and the panel's font, and looks at pixels.
"""

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
from bedside.core.settings import Settings
from bedside.display import layouts32, layouts64
from bedside.display.enlarge import OLED_TINT, enlarge
from bedside.display.geometry import INNER, MARGIN, WIDTH
from bedside.display.layouts64 import CLOCK_SIZES, HEIGHT, MENU_TITLE
from bedside.display.picture import SIZES, picture
from bedside.display.text import ELLIPSIS, fit, font, text_width, wrap

REPO_CONFIG = Path(__file__).resolve().parent.parent / "config" / "bedside.toml"


def assert_inside_margins(image: Image.Image) -> None:
    box = image.getbbox()
    if box is None:
        return
    left, top, right, bottom = box
    assert left >= MARGIN and top >= MARGIN, box
    assert right <= WIDTH - MARGIN and bottom <= HEIGHT - MARGIN, box


def difference(a: Image.Image, b: Image.Image) -> tuple[int, int, int, int] | None:
    """The box of the pixels lit in one image and not the other."""
    return ImageChops.logical_xor(a, b).getbbox()


def lit_count(image: Image.Image) -> int:
    # Through "L": Pillow versions differ in which bin a mode "1" histogram counts lit pixels.
    return image.convert("L").histogram()[255]


def rows_lit(image: Image.Image, least: int) -> int:
    """How many rows have at least ``least`` lit pixels."""
    pixels = image.load()
    return sum(
        1
        for y in range(image.height)
        if sum(1 for x in range(image.width) if pixels[x, y]) >= least
    )


@pytest.fixture(scope="module")
def config_settings() -> Settings:
    return core_terms.settings(load_config(REPO_CONFIG))


# -- every screen --------------------------------------------------------------------------------
@pytest.mark.parametrize("size", SIZES)
def test_every_kind_draws_a_picture_of_its_own_and_dark_draws_nothing(size) -> None:
    pictures = {kind: picture(SAMPLES[kind], size).tobytes() for kind in KINDS}
    assert picture(SAMPLES["dark"], size).getbbox() is None
    assert len(set(pictures.values())) == len(KINDS)  # no two kinds look the same


@pytest.mark.parametrize("size", [(128, 48), (64, 32), (64, 128)])
def test_a_panel_size_it_has_no_layout_for_is_refused(size) -> None:
    with pytest.raises(ValueError, match="128x64 and 128x32"):
        picture(SAMPLES["menu"], size)


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "dark"])
def test_every_kind_but_dark_lights_something_and_keeps_inside_the_margins(kind: str) -> None:
    image = picture(SAMPLES[kind], clip=False)
    assert image.getbbox() is not None
    assert_inside_margins(image)


def test_dark_is_all_black() -> None:
    image = picture(Screen(View.DARK, "ignored", "ignored", "12:00", 0.5, "1/2", "ignored"))
    assert image.getbbox() is None
    assert lit_count(image) == 0


def test_every_kind_looks_different_with_the_same_texts() -> None:
    fields = {"title": "Toe tips", "detail": "left foot", "clock": "00:30", "progress": 0.5}
    more = {"position": "5/17", "hint": "press"}
    images = {kind: picture(Screen(kind, **fields, **more)).tobytes() for kind in KINDS}
    assert len(set(images.values())) == len(KINDS)


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "dark"])
def test_every_text_of_a_screen_is_drawn(kind: str) -> None:
    """``Screen.lines`` is the content: leaving any one of its texts out changes the picture."""
    screen = SAMPLES[kind]
    full = picture(screen).tobytes()
    for name in ("title", "detail", "clock", "position", "hint"):
        value = getattr(screen, name)
        if value and value in screen.lines:
            assert picture(replace(screen, **{name: ""})).tobytes() != full, name


@pytest.mark.parametrize("kind", ["running", "paused"])
def test_the_progress_bar_fills_with_progress(kind: str) -> None:
    def lit(progress: float) -> int:
        return lit_count(picture(replace(SAMPLES[kind], progress=progress)))

    counts = [lit(p) for p in (0.0, 0.25, 0.5, 0.75, 1.0)]
    assert counts == sorted(counts) and counts[0] < counts[-1]


# -- the running screen --------------------------------------------------------------------------
def test_the_countdown_is_at_least_24_pixels_tall_and_centred() -> None:
    with_clock = picture(SAMPLES["running"])
    without = picture(replace(SAMPLES["running"], clock=""))
    box = difference(with_clock, without)
    assert box is not None
    left, top, right, bottom = box
    assert bottom - top >= 24
    assert abs(left - (WIDTH - right)) <= 3


def test_the_countdown_glyphs_measure_at_least_24_pixels() -> None:
    clock_font = font(CLOCK_SIZES[0])
    _, top, _, bottom = clock_font.getbbox("0123456789", mode="1", anchor="ls")
    assert bottom - top >= 24


def test_the_running_screen_parts_do_not_overlap() -> None:
    """Title, clock, bar and bottom line each keep to their own rows."""
    base = Screen(View.RUNNING, progress=0.0)
    bar = picture(base)
    parts = {
        "title": picture(replace(base, title="Below the ball of the foot")),
        "clock": picture(replace(base, clock="88:88")),
        "footer": picture(replace(base, detail="lift 17 of 20", position="17/17")),
    }
    boxes = {name: difference(image, bar) for name, image in parts.items()}
    boxes["bar"] = bar.getbbox()
    for (a, box_a), (b, box_b) in itertools.combinations(boxes.items(), 2):
        assert box_a is not None and box_b is not None
        assert box_a[3] <= box_b[1] or box_b[3] <= box_a[1], (a, box_a, b, box_b)


def test_the_detail_and_the_position_share_the_bottom_line_without_touching() -> None:
    base = Screen(View.RUNNING, progress=0.0)
    bar = picture(base)
    detail = difference(picture(replace(base, detail="lift 17 of 20")), bar)
    position = difference(picture(replace(base, position="17/17")), bar)
    assert detail is not None and position is not None
    assert detail[2] < position[0]
    assert position[2] == WIDTH - MARGIN  # right-aligned to the margin


# -- the other screens ---------------------------------------------------------------------------
def test_paused_shows_a_pause_sign_and_no_lit_band() -> None:
    # A paused screen may stay up a quarter of an hour in the dark: no inverted banner, just
    # the sign (two bars, two wide, two apart) beside the word.
    image = picture(SAMPLES["paused"])
    assert rows_lit(image, least=100) <= 3  # the progress bar's hairline, as elsewhere
    pixels = image.load()
    top = MARGIN + 2
    bars = [
        x
        for x in range(WIDTH - 5)
        if all(pixels[x + dx, y] for dx in (0, 1, 4, 5) for y in range(top, top + 6))
        and not any(pixels[x + 2, y] or pixels[x + 3, y] for y in range(top, top + 6))
    ]
    assert len(bars) == 1, bars
    for kind in KINDS:
        assert rows_lit(picture(SAMPLES[kind]), least=100) <= 3, kind


def test_holding_is_framed() -> None:
    image = picture(SAMPLES["holding"])
    pixels = image.load()
    for x in (MARGIN, WIDTH - MARGIN - 1):
        assert sum(1 for y in range(HEIGHT) if pixels[x, y]) >= HEIGHT - 2 * MARGIN - 10


# -- long and odd texts --------------------------------------------------------------------------
@pytest.mark.parametrize("kind", [k for k in KINDS if k != "dark"])
def test_a_60_character_title_stays_on_screen(kind: str) -> None:
    assert len(LONG) == 60
    screen = replace(SAMPLES[kind], title=LONG, detail=LONG if kind == "paused" else "")
    image = picture(screen, clip=False)
    assert_inside_margins(image)
    assert image.tobytes() != picture(SAMPLES[kind]).tobytes()


@pytest.mark.parametrize("kind", ["menu", "running", "paused", "awaiting", "finished"])
def test_a_long_bottom_line_is_cut_before_the_position(kind: str) -> None:
    field = "detail" if kind == "running" else "hint"
    base = replace(SAMPLES[kind], position="", **{field: ""})
    plain = picture(base)
    with_position = picture(replace(base, position="12/17"))
    position = difference(with_position, plain)
    both = picture(replace(base, position="12/17", **{field: LONG}), clip=False)
    text = difference(both, with_position)
    assert text is not None and position is not None
    assert text[2] < position[0]
    assert_inside_margins(both)
    # With no position the text may use the whole width, and still stops at the margin.
    assert_inside_margins(picture(replace(base, **{field: LONG}), clip=False))


def test_fit_wraps_then_cuts_with_an_ellipsis() -> None:
    block = fit(LONG, [(14, 2), (12, 2)], INNER)
    assert block.size == 12 and len(block.lines) == 2
    assert block.lines[-1].endswith(ELLIPSIS)
    assert all(text_width(line, 12) <= INNER for line in block.lines)
    # What is shown is the start of the text, word for word.
    shown = " ".join(block.lines).removesuffix(ELLIPSIS)
    assert LONG.startswith(shown)


def test_fit_prefers_the_first_candidate_that_holds_the_whole_text() -> None:
    assert fit("Bedtime", MENU_TITLE, INNER).lines == ("Bedtime",)
    assert fit("Bedtime", MENU_TITLE, INNER).size == 20


def test_a_number_stays_with_its_unit_when_wrapping() -> None:
    # Room for "Legs up the wall, 11" but not for the unit after it: the number goes too.
    width = text_width("Legs up the wall, 11", 12)
    assert text_width("Legs up the wall, 11 min", 12) > width
    lines = wrap("Legs up the wall, 11 min", 12, width)
    assert lines == ["Legs up the wall,", "11 min"]


def test_words_are_spaced_apart() -> None:
    # The font's own space is 2 px at small sizes once hinted for one bit, too little to read.
    assert text_width("left foot", 11) >= text_width("leftfoot", 11) + 3


def test_a_newline_in_a_text_is_a_space() -> None:
    one_line = picture(SAMPLES["running"])
    assert picture(replace(SAMPLES["running"], title="Soak\nyour  feet")).tobytes() == (
        one_line.tobytes()
    )


def test_an_unknown_kind_still_shows_its_text() -> None:
    image = picture(Screen(View.NONE, "Hello", "world", position="1/1"), clip=False)
    assert image.getbbox() is not None
    assert_inside_margins(image)


@settings(max_examples=150, deadline=None)
@given(screen=any_screen)
def test_no_screen_lights_a_pixel_in_the_margins(screen: Screen) -> None:
    image = picture(screen, clip=False)
    assert_inside_margins(image)


# -- for people ----------------------------------------------------------------------------------
def test_enlarge_scales_each_pixel_to_a_tinted_square() -> None:
    image = Image.new("1", (WIDTH, HEIGHT), 0)
    image.putpixel((10, 5), 1)
    big = enlarge(image)
    assert big.size == (512, 256) and big.mode == "RGB"
    assert big.getpixel((40, 20)) == OLED_TINT == big.getpixel((43, 23))
    assert big.getpixel((44, 20)) == (0, 0, 0) == big.getpixel((39, 20))
    small = enlarge(image, factor=2)
    assert small.size == (256, 128) and small.getpixel((21, 11)) == OLED_TINT
    assert small.getpixel((22, 11)) == (0, 0, 0)


def test_gallery_writes_distinct_frames_with_enlargements(
    tmp_path: Path, config_settings: Settings
) -> None:
    paths = write_gallery(config_settings, tmp_path, (WIDTH, HEIGHT))
    assert all(path.parent == tmp_path and path.exists() for path in paths)
    frames = sorted(p for p in tmp_path.glob("*.png") if not p.stem.endswith("@4x"))
    assert len(frames) >= 8
    assert sorted(paths) == sorted(tmp_path.glob("*.png"))  # and the manifest beside them
    pixels = set()
    for frame in frames:
        with Image.open(frame) as image:
            assert image.size == (WIDTH, HEIGHT) and image.mode == "1"
            pixels.add(image.tobytes())
        big = frame.with_name(f"{frame.stem}@4x.png")
        with Image.open(big) as image:
            assert image.size == (512, 256)
    assert len(pixels) == len(frames)
    assert frames[0].name.startswith("01-")


def test_gallery_shows_every_kind_from_real_engine_states(config_settings: Settings) -> None:
    shots = gallery_screens(config_settings)
    kinds = {screen.kind for _, screen in shots}
    assert kinds == set(KINDS)
    by_name = dict(shots)
    assert by_name["running-side"].detail.endswith(" foot")
    assert by_name["running-reps"].detail.startswith("lift ")
    assert by_name["menu-profile"].detail.endswith("5 sets of 20")
    assert by_name["finished"].title == "All done"
    assert by_name["ended"].title == "Session ended"
    assert len({screen for _, screen in shots}) == len(shots)


def test_every_kind_that_lights_has_a_layout_of_its_own_at_each_height():
    lit = {k for k in View if k not in (View.DARK, View.NONE)}
    for table in (layouts64.LAYOUTS, layouts32.LAYOUTS):
        assert set(table) == lit | {None}  # None: the fallback, for a kind not laid out yet
        assert len({table[k] for k in lit}) == len(lit)  # each its own
    assert all(layouts64.LAYOUTS[k] is not layouts32.LAYOUTS[k] for k in (*lit, None))
