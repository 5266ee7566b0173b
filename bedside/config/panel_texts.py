"""The texts of the routine files that the panel draws, each with where it is written.

The panel shows every ``title`` a routine file has: the routine's (on the menu and when it is
done), each step's (while it runs) and each profile's (beside the routine's length on the
menu). ``check-config`` looks at each of them with the panel's font
(``bedside.display.fonts``), so that a letter the font has no glyph for is a warning naming the
file, the line and the character, not a box first seen at bedtime. What is spoken (a cue's
``text``) is not drawn, and the rest is words bedside writes itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bedside.config.key_lines import Path as KeyPath
from bedside.config.key_lines import line_of
from bedside.config.toml_reader import Problem, Source, key_name

DRAWN_KEYS = frozenset({"title"})
_NEXT_KEY = re.compile(r"\s*(\[|[A-Za-z0-9_\"'.-]+\s*=)")


@dataclass(frozen=True)
class Written:
    """A text the panel draws, as a routine file has it."""

    file: str
    line: int | None  # the line its key is on
    key: str  # as messages name keys: steps[3].title
    text: str
    source: tuple[str, ...] = ()  # the file's lines, shared by all its texts

    def line_of(self, character: str) -> int | None:
        """The line ``character`` is written on: a title may run over several lines of its
        file (a line that ends in a backslash goes on). The key's line when the file spells
        it as an escape (``\\u5E8A``) or its lines are not known."""
        if self.line is None:
            return None
        for number in range(self.line, len(self.source) + 1):
            written = self.source[number - 1]
            if number > self.line and _NEXT_KEY.match(written):
                break  # the value ended before this line: another key or table begins
            if character in written:
                return number
        return self.line


def panel_texts(routines_dir: Path) -> list[Written]:
    """Every text the panel may draw from the routine files in ``routines_dir``, file by file,
    each from the top down. Files that do not read are left out: loading reports them."""
    problems: list[Problem] = []  # loading the configuration has said all of these already
    try:
        paths = sorted(routines_dir.glob("*.toml"))
    except OSError:
        return []
    found: list[Written] = []
    for path in paths:
        source = Source.read(path, problems, name=str(path))
        if source.ok:
            lines = tuple(source.text.splitlines())
            found += (replace(w, source=lines) for w in _drawn(source, (), source.data))
    return found


def _drawn(source: Source, path: KeyPath, value: Any) -> Iterator[Written]:
    if isinstance(value, dict):
        for key, item in value.items():
            where = (*path, key)
            if key in DRAWN_KEYS and isinstance(item, str):
                yield Written(source.name, line_of(source.lines, where), key_name(where), item)
            else:
                yield from _drawn(source, where, item)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _drawn(source, (*path, i), item)
