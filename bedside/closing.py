"""One life cycle for everything bedside opens: ``close()``, safe to call twice, and ``with``."""

from __future__ import annotations

from typing import Self


class Closing:
    """A part that lets go of what it holds in ``close()``; ``with`` closes it on the way out.
    A subclass's ``close()`` must be safe to call again, and after an open that failed."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
