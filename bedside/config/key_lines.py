"""Where a key sits in a TOML file, so that error messages can name its line.

tomllib gives values, not positions. This module scans the same text once and records, for
every key path it meets (``("display", "contrast")``, ``("steps", 3, "cues", 0, "at")``), the
line it starts on. It understands tables, arrays of tables, dotted keys, inline tables and
arrays, strings and comments: enough to point a person at the right line of a file that
tomllib has already accepted.
"""

from __future__ import annotations

Path = tuple[str | int, ...]

_BARE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.line = 1
        self.lines: dict[Path, int] = {}
        self.array_counts: dict[Path, int] = {}

    # -- low level -------------------------------------------------------------------------
    def peek(self, n: int = 0) -> str:
        j = self.i + n
        return self.text[j] if j < len(self.text) else ""

    def advance(self, n: int = 1) -> None:
        for _ in range(n):
            if self.i < len(self.text):
                if self.text[self.i] == "\n":
                    self.line += 1
                self.i += 1

    def skip_blank(self, newlines: bool) -> None:
        while self.i < len(self.text):
            c = self.peek()
            if c in " \t\r" or (newlines and c == "\n"):
                self.advance()
            elif c == "#":
                while self.i < len(self.text) and self.peek() != "\n":
                    self.advance()
            else:
                return

    def skip_to_eol(self) -> None:
        while self.i < len(self.text) and self.peek() != "\n":
            self.advance()

    def read_string(self) -> str:
        quote = self.peek()
        triple = self.text.startswith(quote * 3, self.i)
        if triple:
            self.advance(3)
            start = self.i
            while self.i < len(self.text) and not self.text.startswith(quote * 3, self.i):
                if quote == '"' and self.peek() == "\\":
                    self.advance()  # an escaped character, such as \", never ends the string
                self.advance()
            while self.text.startswith(quote * 4, self.i):  # """a"""" is 'a"'
                self.advance()
            value = self.text[start : self.i]
            self.advance(3)
            return value
        self.advance()
        out = []
        while self.i < len(self.text) and self.peek() not in (quote, "\n"):
            if quote == '"' and self.peek() == "\\":
                self.advance()
            out.append(self.peek())
            self.advance()
        self.advance()
        return "".join(out)

    def read_key(self) -> list[str]:
        parts: list[str] = []
        while True:
            self.skip_blank(newlines=False)
            c = self.peek()
            if c in "\"'":
                parts.append(self.read_string())
            else:
                start = self.i
                while self.peek() and self.peek() in _BARE:
                    self.advance()
                parts.append(self.text[start : self.i])
            self.skip_blank(newlines=False)
            if self.peek() == ".":
                self.advance()
                continue
            return parts

    # -- structure ---------------------------------------------------------------------------
    def resolve(self, keys: list[str]) -> Path:
        """A header's keys as a concrete path: arrays of tables resolve to their last element."""
        path: Path = ()
        for key in keys:
            path = (*path, key)
            if path in self.array_counts:
                path = (*path, self.array_counts[path] - 1)
        return path

    def record(self, path: Path, line: int) -> None:
        self.lines.setdefault(path, line)

    def scan(self) -> dict[Path, int]:
        table: Path = ()
        while True:
            self.skip_blank(newlines=True)
            if self.i >= len(self.text):
                return self.lines
            line = self.line
            if self.peek() == "[":
                is_array = self.peek(1) == "["
                self.advance(2 if is_array else 1)
                keys = self.read_key()
                if is_array:
                    parent = self.resolve(keys[:-1])
                    array = (*parent, keys[-1])
                    index = self.array_counts.get(array, 0)
                    self.array_counts[array] = index + 1
                    self.record(array, line)
                    table = (*array, index)
                else:
                    table = self.resolve(keys)
                self.record(table, line)
                self.skip_to_eol()
                continue
            keys = self.read_key()
            path = (*table, *keys)
            self.record(path, line)
            if self.peek() == "=":
                self.advance()
                self.skip_blank(newlines=False)
                self.value(path)
            self.skip_to_eol()

    def value(self, path: Path) -> None:
        c = self.peek()
        if c in "\"'":
            self.read_string()
        elif c == "[":
            self.advance()
            index = 0
            while True:
                self.skip_blank(newlines=True)
                if self.peek() in ("]", ""):
                    self.advance()
                    return
                if self.peek() == ",":
                    self.advance()
                    continue
                self.record((*path, index), self.line)
                self.value((*path, index))
                index += 1
        elif c == "{":
            self.advance()
            while True:
                self.skip_blank(newlines=True)
                if self.peek() in ("}", ""):
                    self.advance()
                    return
                if self.peek() == ",":
                    self.advance()
                    continue
                line = self.line
                keys = self.read_key()
                self.record((*path, *keys), line)
                if self.peek() == "=":
                    self.advance()
                    self.skip_blank(newlines=False)
                    self.value((*path, *keys))
                else:
                    return  # not TOML we understand; stop rather than loop
        else:
            while self.peek() and self.peek() not in ",]}\n#":
                self.advance()


def key_lines(text: str) -> dict[Path, int]:
    """Every key path in ``text`` mapped to the line (from 1) where it starts."""
    return _Scanner(text).scan()


def line_of(lines: dict[Path, int], path: Path) -> int | None:
    """The line of ``path``, or of its nearest ancestor that has one."""
    for end in range(len(path), 0, -1):
        found = lines.get(path[:end])
        if found is not None:
            return found
    return None
