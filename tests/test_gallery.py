"""``bedside screens DIR``: the README's gallery regenerated in place, on a copy of the real
one; bedside's own files replaced, nothing of anyone else's touched."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from PIL import Image

from bedside.commands.cli import main
from bedside.commands.screens import first_night
from bedside.commands.screens.gallery import MANIFEST, pictures, write_gallery
from bedside.config import core_terms
from bedside.config.load import load_config

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_CONFIG = ROOT / "config" / "bedside.toml"
GALLERIES = {64: ROOT / "docs" / "screens", 32: ROOT / "docs" / "screens-32"}


def screens(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    code = main(["screens", *map(str, args), "--config", str(SHIPPED_CONFIG)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("height", [64, 32])
def test_the_readmes_gallery_is_what_bedside_draws_today(height: int) -> None:
    # The committed pictures are the current layouts, on a first night: regenerate them after
    # changing one.
    settings = first_night(load_config(SHIPPED_CONFIG))
    folder = GALLERIES[height]
    expected = dict(pictures(settings, (128, height)))
    shown = {p.name: p.read_bytes() for p in folder.glob("*.png")}
    assert shown == expected
    listing = (folder / MANIFEST).read_text(encoding="utf-8").splitlines()
    assert listing == [
        f"{hashlib.sha256(data).hexdigest()}  {name}" for name, data in expected.items()
    ]


@pytest.mark.parametrize("height", [64, 32])
def test_regenerating_a_copy_of_the_gallery_in_place(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, height: int
) -> None:
    folder = tmp_path / "screens"
    shutil.copytree(GALLERIES[height], folder)
    (folder / "notes.md").write_text("the person's own", encoding="utf-8")
    stale = folder / "99-retired.png"  # a screen an older bedside drew, listed as its own
    stale.write_bytes(b"old picture")
    digest = hashlib.sha256(b"old picture").hexdigest()
    with (folder / MANIFEST).open("a", encoding="utf-8") as manifest:
        manifest.write(f"{digest}  99-retired.png\n")
    before = contents(folder)

    code, out, err = screens(capsys, folder, "--height", height)
    assert code == 0 and err == "", err
    assert f"({128}x{height})" in out
    after = contents(folder)
    assert after["notes.md"] == b"the person's own"
    assert "99-retired.png" not in after  # bedside's own, and no longer drawn
    assert {n: d for n, d in after.items() if n != "notes.md"} == {
        n: d for n, d in before.items() if n not in ("notes.md", "99-retired.png", MANIFEST)
    } | {MANIFEST: (GALLERIES[height] / MANIFEST).read_bytes()}
    assert not [p for p in folder.iterdir() if p.name.endswith(".part")]

    # And again: the same command over its own output is as good as the first time.
    code, _, err = screens(capsys, folder, "--height", height)
    assert code == 0 and err == ""
    assert contents(folder) == after


def test_a_picture_someone_changed_is_not_written_over(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "screens"
    shutil.copytree(GALLERIES[64], folder)
    edited = folder / "06-running@4x.png"
    edited.write_bytes(edited.read_bytes() + b"edited")
    before = contents(folder)
    code, out, err = screens(capsys, folder, "--height", 64)
    assert code == 2 and out == ""
    assert "06-running@4x.png is not a picture bedside wrote (or it was changed since)" in err
    assert contents(folder) == before


def test_a_manifest_cannot_reach_outside_its_folder(tmp_path: Path) -> None:
    outside = tmp_path / "precious.png"
    outside.write_bytes(b"keep")
    folder = tmp_path / "screens"
    folder.mkdir()
    digest = hashlib.sha256(b"keep").hexdigest()
    (folder / MANIFEST).write_text(f"{digest}  ../precious.png\n", encoding="utf-8")
    settings = core_terms.settings(load_config(SHIPPED_CONFIG))
    write_gallery(settings, folder, (128, 64))
    assert outside.read_bytes() == b"keep"


def test_screens_draws_at_the_configured_height(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "config"
    shutil.copytree(SHIPPED_CONFIG.parent, config)
    toml = config / "bedside.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace("[display]\n", "[display]\nheight = 32\n", 1),
        encoding="utf-8",
    )
    folder = tmp_path / "out"
    code = main(["screens", str(folder), "--config", str(toml)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    with Image.open(folder / "06-running.png") as image:
        assert image.size == (128, 32)
    with Image.open(folder / "06-running@4x.png") as image:
        assert image.size == (512, 128)


def test_a_file_where_the_folder_should_be(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "screens"
    target.write_bytes(b"not a folder")
    code, out, err = screens(capsys, target)
    assert out == ""
    assert code == 2 and "is a file" in err
    assert target.read_bytes() == b"not a folder"


def test_a_gallery_of_the_other_size_is_not_redrawn_without_saying_which(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "screens-32"
    shutil.copytree(GALLERIES[32], folder)
    before = contents(folder)
    code, out, err = screens(capsys, folder)  # the shipped configuration: 64 rows
    assert code == 2 and out == ""
    assert "holds bedside's 128x32 pictures" in err and "--height 32" in err
    assert contents(folder) == before
    code, _, err = screens(capsys, folder, "--height", 32)
    assert code == 0 and err == "" and contents(folder) == before
