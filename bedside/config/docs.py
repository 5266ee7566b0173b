"""The commented ``bedside.toml`` and the README's table of settings, both made from keys.py.

``bedside check-config --defaults`` prints the first. ``python -m bedside.config.docs`` rewrites
``config/bedside.toml`` and the table in README.md (between its two markers) after a change to
keys.py; ``--check`` only says whether they are out of date (tests/test_config.py too).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bedside.config.keys import SECTIONS, SETTINGS, KeyType, Setting, section

HEADER = (
    '# bedside settings. Times take seconds (90) or a text like "90s", "5m", "1m30s".\n'
    "# After an edit: `bedside check-config` lists anything wrong, with its line.\n"
)
README_START = "<!-- settings: python -m bedside.config.docs writes this table -->"
README_END = "<!-- end of settings -->"
ROOT = Path(__file__).resolve().parents[2]  # the source tree: bedside/config/ is two below it


def commented_toml() -> str:
    """bedside.toml with every key at its default and what it does beside it."""
    parts = [HEADER]
    for name, column in SECTIONS.items():
        parts.append(f"\n[{name}]\n")
        parts.extend(_toml_line(s, column) for s in section(name))
    return "".join(parts)


def _toml_line(s: Setting, column: int) -> str:
    mark = "#" if s.commented_out else ""  # left out: the default (or gpiozero's choice) holds
    line = f"{mark + ' ' if mark else ''}{s.key} = {s.toml()}"
    if not s.comment:
        return line + "\n"
    first, *more = s.comment.split("\n")
    out = f"{line.ljust(max(column, len(line) + 2))}# {first}\n"
    return out + "".join(f"{mark.ljust(column)}# {text}\n" for text in more)


def readme_table() -> str:
    """The README's table of settings, one row a key, between its markers."""
    rows = [README_START, "| key | default | allowed | meaning |", "|---|---|---|---|"]
    for s in SETTINGS.values():
        default = s.absent if s.default is None else f"`{s.toml()}`"
        rows.append(f"| `[{s.section}] {s.key}` | {default} | {_allowed(s)} | {s.help} |")
    return "\n".join([*rows, README_END]) + "\n"


def _allowed(s: Setting) -> str:
    if s.allowed:
        return s.allowed
    unit = f" {s.unit}" if s.unit else ""
    match s.kind:
        case KeyType.INTEGER | KeyType.NUMBER:
            number = _hex if s.toml().startswith("0x") else _num
            return f"{number(s.lo)} to {number(s.hi)}{unit}"
        case KeyType.DURATION:
            lo, hi = _span(s.lo or 0), _span(s.hi or 0)
            if lo.endswith(" s") and hi.endswith(" s"):
                lo = lo[:-2]
            return f"{lo} to {hi}"
        case KeyType.BOOLEAN:
            return "`true`, `false`"
        case KeyType.TEXT:
            return "any text"
        case KeyType.TEXTS:
            return "a list of texts"
        case KeyType.CHOICE | KeyType.ONE_OF:
            return ", ".join(f"`{c}`" if isinstance(c, int) else f'`"{c}"`' for c in s.options())
        case KeyType.TIME:
            return 'a time of day, `"HH:MM"`'
        case KeyType.DAYS:
            return 'days among `"mon"` ... `"sun"`'
        case KeyType.FILE:
            return "a file"


def _num(value: float | None) -> str:
    return f"{value:g}"


def _hex(value: float | None) -> str:
    return f"0x{int(value or 0):02X}"


def _span(seconds: float) -> str:
    if seconds == 0:
        return "0"
    for size, unit in ((24 * 3600, "days"), (3600, "h"), (60, "min")):
        if seconds >= size and seconds % size == 0 and (unit != "days" or seconds > size):
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"


def readme_with_table(readme: str) -> str:
    """``readme`` with the text between its two markers made from the declarations."""
    start, end = readme.index(README_START), readme.index(README_END) + len(README_END) + 1
    return readme[:start] + readme_table() + readme[end:]


def main(argv: list[str] | None = None, root: Path = ROOT) -> int:
    """Write (or, with --check, compare) the generated files of the source tree at ``root``."""
    parser = argparse.ArgumentParser(prog="python -m bedside.config.docs", description=__doc__)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    config, readme = root / "config" / "bedside.toml", root / "README.md"
    if not (config.is_file() and readme.is_file()):
        print(
            f"{root} is not bedside's source tree: no config/bedside.toml and README.md",
            file=sys.stderr,
        )
        return 2
    made = {config: commented_toml(), readme: readme_with_table(readme.read_text("utf-8"))}
    stale = [path for path, text in made.items() if path.read_text("utf-8") != text]
    for path in stale:
        if args.check:
            print(f"{path} is not what bedside/config/keys.py declares", file=sys.stderr)
        else:
            path.write_text(made[path], encoding="utf-8")
            print(f"wrote {path}")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
