"""Text a person wrote (a routine's title, a file's name, a row of the history), made safe to
print on a terminal: every control character (ESC, BEL, a newline, a tab, DEL, the C1 codes)
shown as its escape, ``\\x1b``, so it can be seen and never acts on the terminal.

``bedside check-config`` refuses control characters in what it reads; this is for whatever
reaches the terminal from elsewhere, and for the messages that quote what was refused.
"""

from __future__ import annotations

import unicodedata


def is_control(character: str) -> bool:
    """A C0 or C1 control character, or DEL: what a terminal may act on instead of showing."""
    return unicodedata.category(character) == "Cc"


def controls_in(text: str) -> list[str]:
    """The control characters in ``text``, each once, as escapes: ``["\\x1b", "\\n"]``."""
    return list(dict.fromkeys(_escape(c) for c in text if is_control(c)))


def printable(text: str) -> str:
    """``text`` with each control character written as its escape (``\\x07``, ``\\n``)."""
    if not any(is_control(c) for c in text):
        return text
    return "".join(_escape(c) if is_control(c) else c for c in text)


def _escape(character: str) -> str:
    return repr(character)[1:-1]  # "\x1b", "\n", "\t", "\x7f", "\x9b"
