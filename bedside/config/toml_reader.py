"""Reading user-edited TOML with every mistake collected, each named by file, line and key.

A person editing ``bedside.toml`` on a Pi over SSH deserves the whole list of what is wrong
at once, each with the line to go to, what was expected and what was found. ``Source`` parses
one file; ``Table`` reads the keys of one table from it, records a ``Problem`` for anything
off and hands back a safe default so reading can go on.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any

from bedside.config.key_lines import Path, key_lines, line_of
from bedside.core.durations import DURATION_HELP, parse_duration
from bedside.core.errors import UsageError
from bedside.core.printable import controls_in, printable
from bedside.folders import NotAFile, TooLarge, read_file


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    key: str
    expected: str
    found: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        key = f" {self.key}:" if self.key else ""
        found = f", found {self.found}" if self.found else ""
        # what the file holds is quoted, never played: an ESC in a key or a name is shown
        return printable(f"{where}:{key} expected {self.expected}{found}")


class ConfigError(UsageError):
    """One or more problems in the user's files; ``str()`` lists them all, one a line."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        return [f"{len(self.problems)} problem(s) in the configuration:"] + [
            f"  {problem}" for problem in self.problems
        ]


def show(value: Any) -> str:
    """A value as it would be written in TOML, for 'found ...' in messages."""
    try:
        text = json.dumps(value, default=str, ensure_ascii=False)
    except ValueError:
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def key_name(path: Path) -> str:
    """``("steps", 2, "duration")`` -> ``steps[3].duration`` (element numbers count from 1)."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        else:
            out += f".{part}" if out else part
    return out


class Source:
    """One TOML file: its name for messages, its parsed data and where each key sits."""

    LARGEST = 1 << 20  # bytes: settings and routines are a few kB; more is not a config file

    def __init__(self, name: str, text: str, problems: list[Problem]) -> None:
        self.name = name
        self.problems = problems
        self.text = text
        self.data: dict[str, Any] = {}
        self.lines: dict[Path, int] = {}
        try:
            self.data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            message = str(exc)
            match = re.search(r"\(at line (\d+), column \d+\)", message)
            line = int(match.group(1)) if match else None
            detail = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", message)
            self.add((), *_toml_words(detail), line=line)
            self.ok = False
            return
        except RecursionError:
            self.add((), "arrays and tables nested at most a few levels deep", "far deeper")
            self.ok = False
            return
        self.ok = True
        try:
            self.lines = key_lines(text)
        except RecursionError:  # tomllib took it; the messages go without line numbers
            self.lines = {}

    @classmethod
    def read(cls, path: FsPath, problems: list[Problem], name: str | None = None) -> Source:
        name = name or str(path)
        found: str | None = None
        line: int | None = None
        expected = "a readable UTF-8 text file"
        data = b""
        try:
            data = read_file(path, cls.LARGEST)
            return cls(name, data.decode("utf-8"), problems)
        except FileNotFoundError:
            expected, found = "a file here", "none"
        except NotAFile as exc:  # a FIFO or a device would never end: told by stat, unopened
            expected, found = "a file", exc.kind
        except TooLarge:
            expected = f"a file of at most {cls.LARGEST // 1024} kB"
            found = "a larger one"
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            found = f"a byte that is not UTF-8 (0x{data[exc.start]:02x})"
        except (OSError, ValueError) as exc:  # no permission, a name with a NUL in it
            found = (getattr(exc, "strerror", None) or "an unreadable file").lower()
        source = cls(name, "", problems)
        source.add((), expected, found, line=line)
        source.ok = False
        return source

    def add(self, path: Path, expected: str, found: str, line: int | None = None) -> None:
        line = line if line is not None else line_of(self.lines, path)
        self.problems.append(Problem(self.name, line, key_name(path), expected, found))

    def table(self) -> Table:
        return Table(self, (), self.data)


def _toml_words(detail: str) -> tuple[str, str]:
    """tomllib's message as (expected, found), in words a person editing the file knows."""
    twice = re.match(r"Cannot declare \((.*)\) twice", detail)
    if twice:
        table = ".".join(part.strip(" '\"") for part in twice.group(1).split(",") if part.strip())
        return "each [table] written once", f"[{table}] a second time"
    if detail.startswith("Cannot overwrite a value"):
        return "each key set once", "a key set again"
    return "valid TOML", detail


_MISSING = object()


class Table:
    """The keys of one TOML table, read one at a time; unknown keys are reported at ``done``."""

    def __init__(self, source: Source, path: Path, data: dict[str, Any]) -> None:
        self.source = source
        self.path = path
        self.data = data
        self.seen: set[str] = set()

    def has(self, key: str) -> bool:
        return key in self.data

    def where(self, key: str) -> str:
        """``file:line`` of ``key`` in this table, for a message about what it says."""
        line = line_of(self.source.lines, (*self.path, key))
        return f"{self.source.name}:{line}" if line is not None else self.source.name

    def raw(self, key: str, default: Any = None) -> Any:
        self.seen.add(key)
        return self.data.get(key, default)

    def problem(self, key: str | int | None, expected: str, found: Any = _MISSING) -> None:
        path = self.path if key is None else (*self.path, key)
        shown = "nothing" if found is _MISSING else show(found)
        self.source.add(path, expected, shown)

    def _get(self, key: str, expected: str, required: bool) -> Any:
        self.seen.add(key)
        if key not in self.data:
            if required:
                self.problem(key, expected)
            return _MISSING
        return self.data[key]

    def integer(self, key: str, default: int, lo: int | None = None, hi: int | None = None) -> int:
        value = self._get(key, "", False)
        if value is _MISSING:
            return default
        expected = _range_text("a whole number", lo, hi)
        if isinstance(value, bool) or not isinstance(value, int) or not _in(value, lo, hi):
            self.problem(key, expected, value)
            return default
        return value

    def number(
        self, key: str, default: float, lo: float | None = None, hi: float | None = None
    ) -> float:
        value = self._get(key, "", False)
        if value is _MISSING:
            return default
        expected = _range_text("a number", lo, hi)
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        try:
            ok = ok and math.isfinite(float(value))
        except OverflowError:  # a whole number too large for a float
            ok = False
        if not ok or not _in(value, lo, hi):
            self.problem(key, expected, value)
            return default
        return float(value)

    def duration(
        self, key: str, default: float | None, lo: float = 0.0, hi: float = 24 * 3600
    ) -> float | None:
        value = self._get(key, DURATION_HELP, default is None)
        if value is _MISSING:
            return default
        seconds = parse_duration(value)
        if seconds is None or not lo <= seconds <= hi:
            self.problem(key, f"{DURATION_HELP}, from {_num(lo)} to {_num(hi)} seconds", value)
            return default
        return seconds

    def boolean(self, key: str, default: bool) -> bool:
        value = self._get(key, "", False)
        if value is _MISSING:
            return default
        if not isinstance(value, bool):
            self.problem(key, "true or false", value)
            return default
        return value

    def string(
        self,
        key: str,
        default: str | None,
        choices: Iterable[str] | None = None,
        expected: str = "a text in quotes",
    ) -> str:
        value = self._get(key, expected, default is None)
        if value is _MISSING:
            return default or ""
        options = list(choices) if choices is not None else None
        if options is not None:
            expected = "one of " + ", ".join(f'"{c}"' for c in options)
        if not isinstance(value, str) or (options is not None and value not in options):
            self.problem(key, expected, value)
            return default or ""
        return value

    def text(self, key: str, default: str | None, blank: bool = True) -> str:
        """``string``, for a text shown on the panel or a terminal, or said: without control
        characters (a newline, a tab, ESC, BEL), which would act on a terminal; unless
        ``blank``, with something in it besides spaces."""
        before = len(self.source.problems)
        value = self.string(key, default)
        if len(self.source.problems) > before or key not in self.data:
            return value  # missing or not a text: already said
        bad = controls_in(value)
        if bad:
            self.problem(key, f"a text without control characters ({', '.join(bad)})", value)
        elif not blank and not value.strip():
            self.problem(key, "a text with something in it besides spaces", value)
        return value

    def strings(self, key: str, default: list[str]) -> list[str]:
        value = self._get(key, "", False)
        if value is _MISSING:
            return list(default)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(key, 'a list of texts, like ["a", "b"]', value)
            return list(default)
        return list(value)

    def child(self, key: str, required: bool = False) -> Table | None:
        """The sub-table ``key``: None (after a problem, if required) when absent or not a table."""
        self.seen.add(key)
        value = self.data.get(key, _MISSING)
        if value is _MISSING:
            if required:
                self.problem(key, "a table")
            return None
        if not isinstance(value, dict):
            self.problem(key, "a table", value)
            return None
        return Table(self.source, (*self.path, key), value)

    def tables(self, key: str, required: bool = False) -> list[Table]:
        """The array of tables ``key`` (``[[key]]`` or ``key = [{...}, ...]``)."""
        self.seen.add(key)
        value = self.data.get(key, _MISSING)
        if value is _MISSING:
            if required:
                self.problem(key, "a list of tables")
            return []
        if not isinstance(value, list):
            self.problem(key, "a list of tables", value)
            return []
        out = []
        for i, item in enumerate(value):
            if isinstance(item, dict):
                out.append(Table(self.source, (*self.path, key, i), item))
            else:
                self.source.add((*self.path, key, i), "a table", show(item))
        return out

    def done(self) -> None:
        """Report every key in this table that nothing asked for: a typo, or an old name."""
        for key in self.data:
            if key not in self.seen:
                near = difflib.get_close_matches(key, sorted(self.seen), n=1)
                hint = f'did you mean "{near[0]}"?' if near else "check the spelling"
                self.problem(key, f"a known key ({hint})", key)


def _in(value: float, lo: float | None, hi: float | None) -> bool:
    return (lo is None or value >= lo) and (hi is None or value <= hi)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _range_text(what: str, lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"{what} from {_num(lo)} to {_num(hi)}"
    if lo is not None:
        return f"{what} of at least {_num(lo)}"
    if hi is not None:
        return f"{what} of at most {_num(hi)}"
    return what
