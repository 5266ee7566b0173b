"""The picture of bedside's layers in docs/building.md, made from what enforces them: the
layers contract in pyproject.toml (import-linter's) and the files in each folder. ``make test``
checks that the picture is current (tests/test_layers.py); ``python tests/layers.py --write``
redraws it in place after a module is added, moved or renamed."""

from __future__ import annotations

import sys
import textwrap
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "building.md"
START = "<!-- layers: python tests/layers.py --write draws this picture -->"
END = "<!-- end of layers -->"
ARROW = "        ▼"
WIDTH = 96


def layers() -> list[list[str]]:
    """The layers contract, top first: each layer's packages or modules, by dotted name."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    (contract,) = [c for c in contracts if c["type"] == "layers"]
    return [[name.strip() for name in layer.split("|")] for layer in contract["layers"]]


def modules(dotted: str) -> tuple[str, list[str]]:
    """``bedside.core`` -> ("core/", its modules); ``bedside.button`` -> ("button.py", [])."""
    path = ROOT / Path(*dotted.split("."))
    if path.is_dir():
        names = sorted(p.stem for p in path.glob("*.py") if p.stem != "__init__")
        names += sorted(f"{p.name}/" for p in path.iterdir() if (p / "__init__.py").exists())
        return f"{path.name}/", names
    return f"{path.name}.py", []


def picture() -> str:
    rows: list[str] = []
    for i, layer in enumerate(layers()):
        if i:
            rows.append(ARROW)
        for dotted in layer:
            name, inside = modules(dotted)
            text = " ".join(inside)
            lines = textwrap.wrap(text, WIDTH - 14) or [""]
            rows.append(f"  {name:<12}{lines[0]}".rstrip())
            rows += [f"  {'':<12}{line}" for line in lines[1:]]
        if len(layer) > 1:
            rows.append(f"  {'':<12}(side by side: none of these imports another)")
    legend = "bedside/    (each layer may import the layers below it, never one above)"
    return legend + "\n" + "\n".join(rows)


def block() -> str:
    return f"{START}\n```\n{picture()}\n```\n{END}"


def current(text: str) -> str:
    """What ``text`` (docs/building.md) holds between the markers."""
    return text[text.index(START) : text.index(END) + len(END)]


if __name__ == "__main__":
    if "--write" in sys.argv:
        doc = DOC.read_text()
        DOC.write_text(doc.replace(current(doc), block()))
    else:
        print(picture())
