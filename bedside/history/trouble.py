"""Trouble with the database file: whether SQLite calls it damaged, and any error in plain words.

Only damage sets a file aside; a full disk, a read-only file or a lock is trouble that passes,
and the file is kept. SQLite names its errors (``sqlite_errorname``); a person reads them here
in words of their own, in the daemon's one warning and in ``bedside history``'s message.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

# SQLite's own words for a file that is not a usable database, as opposed to one it could
# not write (full, read-only, locked), which is not damage.
_DAMAGED = {"SQLITE_CORRUPT", "SQLITE_NOTADB"}

_WORDS = {
    "SQLITE_FULL": "the disk is full",
    "SQLITE_READONLY": "it is read-only",
    "SQLITE_CANTOPEN": "it cannot be opened here",
    "SQLITE_PERM": "no permission",
    "SQLITE_BUSY": "another program holds it",
    "SQLITE_CORRUPT": "it is damaged",
    "SQLITE_NOTADB": "it is not a database",
}


def _sqlite_name(exc: BaseException | None) -> str:
    name = getattr(exc, "sqlite_errorname", "")
    return name if isinstance(name, str) else ""


def means_damage(exc: BaseException | None) -> bool:
    """Whether SQLite raised ``exc`` because the file is not a usable database."""
    return _sqlite_name(exc) in _DAMAGED


def passes(exc: BaseException | None) -> bool:
    """Whether ``exc`` is trouble that passes (a full disk, a failing write, a read-only file,
    a lock): never taken for damage, whatever a file it left half-made looks like."""
    name = _sqlite_name(exc)
    return name in ("SQLITE_FULL", "SQLITE_BUSY", "SQLITE_PERM") or name.startswith(
        ("SQLITE_IOERR", "SQLITE_READONLY", "SQLITE_CANTOPEN")
    )


def damaged(path: Path) -> bool:
    """Whether SQLite itself calls the file at ``path`` damaged.

    It looks through a read-only, immutable view, which needs no space, no lock and no
    write access: a healthy file on a full disk or in a read-only folder passes.
    """
    try:
        if not path.is_file() or path.stat().st_size == 0:
            return False
        db = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    except (OSError, sqlite3.Error):
        return False
    try:
        result = db.execute("PRAGMA quick_check").fetchall()
        return result != [("ok",)]
    except sqlite3.DatabaseError as exc:
        return means_damage(exc)
    finally:
        db.close()


def in_plain_words(exc: BaseException | None) -> str:
    """An OS or SQLite error in a person's words: "the disk is full", not SQLITE_FULL."""
    if isinstance(exc, OSError):
        return (exc.strerror or "cannot be used").lower()
    name = _sqlite_name(exc)
    if name in _WORDS:
        return _WORDS[name]
    # SQLite's extended codes (SQLITE_IOERR_WRITE, SQLITE_READONLY_DBMOVED, ...) by family
    if name.startswith("SQLITE_IOERR"):
        return "the disk would not take the write (full, or failing)"
    if name.startswith("SQLITE_READONLY"):
        return "it is read-only"
    if name.startswith("SQLITE_CANTOPEN"):
        return "it cannot be opened here"
    return str(exc) if exc is not None else "unknown trouble"
