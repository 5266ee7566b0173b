"""Letters beyond ASCII on the panel (issue 19, item 14): drawn as themselves, looked at as
pixels; a letter the panel's font lacks is a check-config warning naming file, line and
character; the font is DejaVu Sans from Debian's fonts-dejavu-core, installed by the Makefile."""

from __future__ import annotations

import re
import subprocess
import sys
import unicodedata
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw
from screenkit import KINDS, SAMPLES

from bedside.commands import check_config
from bedside.commands.cli import main
from bedside.core.screens import Screen, View
from bedside.display.fonts import DEJAVU_SANS, PACKAGE, Face, find_face, panel_face
from bedside.display.picture import SIZES, picture
from bedside.display.text import draw_text, font

ROOT = Path(__file__).resolve().parent.parent
NOTDEF = "\uffff"  # a noncharacter: every font draws its missing-glyph box for it
SMALL_SIZES = (9, 10, 11, 12)  # the footers, the streak, the 32-row lines, running titles

# Each word with the ASCII word it would look like were its marks and letters lost.
WORDS = {
    "Füße": "Fusse",
    "Ελλάδα": "EAAaba",
    "Привет": "Npubet",
    "Łódź": "Lodz",
    "ñç": "nc",
}


def bitmap(character: str, size: int) -> tuple[tuple[int, int], tuple[int, int], bytes]:
    mask, offset = font(size).getmask2(character, mode="1", anchor="ls")
    return mask.size, offset, bytes(mask)


def drawn(text: str, size: int) -> Image.Image:
    image = Image.new("1", (128, 32))
    draw_text(ImageDraw.Draw(image), 22, text, size)
    return image


# -- the font ------------------------------------------------------------------------------------
def test_the_panel_draws_in_dejavu_sans_from_debians_package() -> None:
    face = panel_face()
    assert face.path == DEJAVU_SANS, (
        f"the panel's font is {face.name}: install {PACKAGE} (make system-deps does)"
    )


def test_the_makefile_installs_the_font_the_panel_looks_for() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(rf"^FONT\s*:= {re.escape(str(DEJAVU_SANS))}$", makefile, re.MULTILINE)
    assert f"$(FONT):{PACKAGE}" in makefile
    # The root filesystems of make test-systemd and make test-arm64 have no apt-get to reach.
    for script in ("tests/systemd/run.sh", "tests/arm64/run.sh"):
        packages = next(
            line
            for line in (ROOT / script).read_text(encoding="utf-8").splitlines()
            if line.startswith("PACKAGES=")
        )
        assert PACKAGE in re.split(r"[=,\" ]", packages), script


def test_the_font_covers_latin_1_latin_extended_a_greek_and_cyrillic() -> None:
    ranges = {
        "Latin-1": range(0xA1, 0x100),
        "Latin Extended-A": range(0x100, 0x180),
        "Greek": range(0x384, 0x3CF),
        "Cyrillic": range(0x400, 0x460),
    }
    for name, codes in ranges.items():
        letters = "".join(chr(c) for c in codes if unicodedata.category(chr(c))[0] != "C")
        assert panel_face().missing(letters) == [], name


def test_without_the_font_file_the_panel_falls_back_to_ascii_and_knows_it(
    tmp_path: Path,
) -> None:
    not_a_font = tmp_path / "DejaVuSans.ttf"
    not_a_font.write_bytes(b"not a font")
    face = find_face([tmp_path / "missing.ttf", not_a_font])
    assert face == Face(None)
    assert face.missing("Füße hoch") == ["ü", "ß"]
    assert face.missing("Fusse hoch") == []
    assert face.at(11).getlength("Fusse") > 0


# -- as pixels -----------------------------------------------------------------------------------
@pytest.mark.parametrize("size", SMALL_SIZES)
@pytest.mark.parametrize("word", list(WORDS))
def test_each_letter_is_drawn_as_itself_not_as_the_missing_glyph_box(word: str, size: int) -> None:
    box = bitmap(NOTDEF, size)
    for letter in word:
        assert bitmap(letter, size) != box, letter
    assert drawn(word, size).getbbox() is not None
    assert drawn(word, size).tobytes() != drawn(WORDS[word], size).tobytes()


@pytest.mark.parametrize("size", SMALL_SIZES)
@pytest.mark.parametrize("word", list(WORDS))
def test_a_word_beyond_ascii_is_not_drawn_as_boxes(word: str, size: int) -> None:
    # The same word with every letter beyond ASCII a box: what the built-in font drew.
    boxed = "".join(c if c.isascii() else NOTDEF for c in word)
    assert drawn(word, size).tobytes() != drawn(boxed, size).tobytes()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("kind", [k for k in KINDS if k != "dark"])
def test_marks_over_capitals_are_drawn_whole_and_inside_the_margins(kind: str, size) -> None:
    """É, Ü, Й reach above the tall letters: each screen sets such a line lower, so its marks
    are neither cut by the margins nor put under the bezel, and an underscore likewise."""
    texts = {"title": "Über Élan Йод", "detail": "Άλφα Ünd_er", "hint": "Éa_"}
    screen = replace(SAMPLES[kind], **texts)
    unclipped = picture(screen, size, clip=False)
    assert picture(screen, size).tobytes() == unclipped.tobytes(), "a mark was cut"
    plain = picture(replace(SAMPLES[kind], title="Uber Elan Nod"), size)
    assert unclipped.tobytes() != plain.tobytes()


# -- the gallery of a routine with such titles, as `bedside screens` draws it --------------------
def test_bedside_screens_draws_a_german_title_with_its_own_letters(
    capsys: pytest.CaptureFixture[str], config_copy: Path
) -> None:
    bedtime = config_copy.parent / "routines" / "bedtime.toml"
    original = bedtime.read_text(encoding="utf-8")

    def menu_with(title: str, folder: Path) -> bytes:
        bedtime.write_text(
            original.replace('title = "Bedtime"', f'title = "{title}"', 1), encoding="utf-8"
        )
        assert main(["screens", str(folder), "--config", str(config_copy)]) == 0
        with Image.open(folder / "01-menu.png") as image:
            return image.tobytes()

    base = config_copy.parent.parent
    german = menu_with("Füße hoch", base / "german")
    assert german != menu_with("F\\uFFFF\\uFFFFe hoch", base / "boxes")
    assert german != menu_with("Fusse hoch", base / "ascii")
    capsys.readouterr()


def test_the_device_on_a_virtual_clock_draws_each_frame_with_its_own_letters(
    config_copy: Path,
) -> None:
    """`bedside simulate --frames`: the device's own frames, for a routine named in German
    and a step in Greek and Russian, against the same frames with those letters boxed."""
    routines = config_copy.parent / "routines"
    script = config_copy.parent / "press.script"
    script.write_text("wait 1\npress\nwait 1\npress\nwait 2\n", encoding="utf-8")
    bedtime = (routines / "bedtime.toml").read_text(encoding="utf-8")
    massage = (routines / "foot-massage.toml").read_text(encoding="utf-8")

    def frames(title: str, step: str) -> tuple[list[bytes], str]:
        (routines / "bedtime.toml").write_text(
            bedtime.replace('title = "Bedtime"', f'title = "{title}"', 1), encoding="utf-8"
        )
        (routines / "foot-massage.toml").write_text(
            massage.replace('title = "Fill a warm footbath"', f'title = "{step}"', 1),
            encoding="utf-8",
        )
        folder = config_copy.parent / f"frames-{len(title)}-{len(step)}"
        command = ["simulate", "--config", config_copy, "--script", script, "--frames", folder]
        done = subprocess.run(
            [sys.executable, "-m", "bedside", *map(str, command)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        pictures = []
        for path in sorted(folder.glob("*.png")):
            with Image.open(path) as image:
                pictures.append(image.tobytes())
        return pictures, done.stdout

    letters, trace = frames("Füße hoch", "Ελλάδα Привет")
    assert "Füße hoch" in trace and "Ελλάδα Привет" in trace  # the trace always had them right
    # The same titles with the letters the old font lacked as its missing-glyph box.
    boxes, _ = frames("F\\uFFFF\\uFFFFe hoch", "Ελλάδα \\uFFFF\\uFFFF\\u0438\\u0432\\u0435\\u0442")
    assert len(letters) == len(boxes) >= 2
    assert letters[0] != boxes[0]  # the menu: the routine's title
    assert letters[1] != boxes[1]  # the first step's title


def test_the_finished_screen_names_a_greek_routine_in_greek_at_both_heights() -> None:
    for size in SIZES:
        screen = Screen(View.FINISHED, "All done", "Ελλάδα, 11 min")
        boxed = replace(screen, detail=f"{NOTDEF * 6}, 11 min")
        difference = ImageChops.logical_xor(picture(screen, size), picture(boxed, size))
        assert difference.getbbox() is not None, size


# -- check-config --------------------------------------------------------------------------------
def retitled(config_copy: Path, title: str, more: str = "") -> tuple[Path, str]:
    """The copy's legs-up-wall.toml with ``title`` (as TOML writes it) and ``more`` after its
    steps; (the file, its text)."""
    routine = config_copy.parent / "routines" / "legs-up-wall.toml"
    text = routine.read_text(encoding="utf-8")
    text = text.replace('title = "Legs up the wall"', f"title = {title}", 1) + more
    routine.write_text(text, encoding="utf-8")
    return routine, text


def test_check_config_warns_of_a_letter_the_font_lacks_with_file_line_and_character(
    capsys: pytest.CaptureFixture[str], config_copy: Path
) -> None:
    # a title over two lines of the file (a line ending backslash joins them): the letter is
    # found on the line it is written on
    more = '\n[[steps]]\ntitle = """Zwei \\\nZeilen \U0001f6cf"""\nkind = "wait"\n'
    routine, text = retitled(config_copy, '"Beine hoch 床"', more)
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines, 1) if "床" in line)
    second = next(i for i, line in enumerate(lines, 1) if "\U0001f6cf" in line)

    code = main(["check-config", "--config", str(config_copy)])
    out, err = capsys.readouterr()
    assert code == 0 and err == ""  # a warning does not refuse the configuration
    assert out.splitlines()[0].endswith(
        " ok, 4 routines (bedtime, legs-up-wall, foot-massage, leg-lifts)"
    )
    assert f'  warning: {routine}:{first}: title: the panel\'s font has no "床" (U+5E8A' in out
    assert f"  warning: {routine}:{second}: steps[" in out and "(U+1F6CF BED)" in out
    assert out.count("warning:") == 2 and "box" in out


def test_check_config_says_nothing_of_letters_the_font_has(
    capsys: pytest.CaptureFixture[str], config_copy: Path
) -> None:
    routine = config_copy.parent / "routines" / "legs-up-wall.toml"
    text = routine.read_text(encoding="utf-8")
    routine.write_text(text.replace("Legs up the wall", "Füße hoch, Ελλάδα, Привет, Łódź"))
    code = main(["check-config", "--config", str(config_copy)])
    out, err = capsys.readouterr()
    assert code == 0 and err == "" and "warning" not in out


def test_check_config_without_the_font_says_so_and_what_would_be_boxes(
    capsys: pytest.CaptureFixture[str], config_copy: Path
) -> None:
    routine = config_copy.parent / "routines" / "legs-up-wall.toml"
    text = routine.read_text(encoding="utf-8")
    routine.write_text(text.replace("Legs up the wall", "Füße hoch"), encoding="utf-8")
    assert check_config.main(config_copy, face=Face(None)) == 0
    out, err = capsys.readouterr()
    assert err == "" and out.count("warning:") == 3
    assert f"{DEJAVU_SANS} is missing" in out and f"apt-get install {PACKAGE}" in out
    assert '"ü" (U+00FC' in out and '"ß" (U+00DF' in out


def test_a_letter_written_as_an_escape_is_said_at_its_key_not_at_a_later_line(
    capsys: pytest.CaptureFixture[str], config_copy: Path
) -> None:
    more = '\n[[steps]]\ntitle = "Ruhe"\nkind = "wait"\n# 床 in a comment, later\n'
    routine, text = retitled(config_copy, '"Beine hoch \\u5E8A"', more)
    key = next(i for i, line in enumerate(text.splitlines(), 1) if "\\u5E8A" in line)
    assert main(["check-config", "--config", str(config_copy)]) == 0
    out = capsys.readouterr().out
    assert f'  warning: {routine}:{key}: title: the panel\'s font has no "床"' in out
