"""Partial updates for each panel controller: luma.oled's own classes, sending only what changed.

luma's stock ``display()`` sends every byte of every frame (1024 for a 128x64 panel): about
23 ms of a 400 kHz I2C bus, once a second, for a countdown where one digit changed. Each class
here is luma.oled's real device class for its controller (its init sequence, contrast and
power untouched) whose ``display()`` keeps the last frame it sent and sends only the bytes
that differ, addressed the way that controller can be addressed:

- ``PartialSSD1306`` and ``PartialSSD1309``: a column and page window (0x21, 0x22) around the
  changed bytes, in the cheapest set of windows; the SSD1309 takes the SSD1306's commands
  (luma's ``ssd1309`` is its ``ssd1306`` unchanged).
- ``PartialSH1106``: the SH1106 has page addressing only (no windows): each run of changed
  bytes is sent after setting its page (0xB0 + page) and its column (low and high nibble),
  counted from column 2 of the SH1106's 132-column RAM, where a 128-pixel panel begins.

After any (re)initialisation, or a send that failed half way, the next frame goes whole, since
the panel's RAM can no longer be trusted.
"""

from __future__ import annotations

import atexit
import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from types import CellType
from typing import TYPE_CHECKING, Protocol

from luma.oled.device import sh1106, ssd1306, ssd1309
from PIL import Image

from bedside.display.geometry import WIDTH

COLUMNADDR, PAGEADDR = 0x21, 0x22
WINDOW_COST = 6  # command bytes to set an SSD1306 column and page window
SH1106_RUN_COST = 3  # command bytes to set an SH1106 page and column (0xB0+p, low, high)


class Serial(Protocol):
    """luma's serial interface, what a panel class sends through: luma.core's ``i2c`` and
    ``spi``, or ``bedside.display.recording_bus.RecordingSerial``."""

    def command(self, *cmd: int) -> None: ...
    def data(self, data: Iterable[int]) -> None: ...
    def cleanup(self) -> None: ...


if TYPE_CHECKING:

    class _Device:
        """What bedside uses of luma.core's ``device``, declared for mypy alone: luma has no
        types, and at run time each class below gets the real one from luma.oled's class."""

        mode: str
        size: tuple[int, int]
        _w: int  # the panel's width, whatever the rotation
        _serial_interface: Serial

        def __init__(
            self,
            serial_interface: Serial | None = None,
            width: int = ...,
            height: int = ...,
            **kwargs: object,
        ) -> None: ...
        def preprocess(self, image: Image.Image) -> Image.Image: ...
        def command(self, *cmd: int) -> None: ...
        def data(self, data: list[int]) -> None: ...
        def contrast(self, level: int) -> None: ...
        def show(self) -> None: ...
        def hide(self) -> None: ...
        def cleanup(self) -> None: ...

else:
    _Device = object


def frame_bytes(image: Image.Image) -> bytes:
    """A mode "1" image (``WIDTH`` wide) in the controllers' page order: a page per 8 rows, each a
    byte per column with the top pixel in bit 0."""
    height = image.size[1]
    columns = image.transpose(Image.Transpose.ROTATE_270).tobytes()  # a row per column
    pages = height // 8
    return b"".join(columns[pages - 1 - page :: pages] for page in range(pages))


@dataclass(frozen=True)
class Window:
    col_start: int
    col_end: int
    page_start: int
    page_end: int

    @property
    def cost(self) -> int:
        width = self.col_end - self.col_start + 1
        return WINDOW_COST + width * (self.page_end - self.page_start + 1)


def _page_spans(old: bytes, new: bytes, width: int) -> dict[int, tuple[int, int]]:
    """The first and last changed column of each page that changed."""
    spans: dict[int, tuple[int, int]] = {}
    for page in range(len(new) // width):
        a = old[page * width : (page + 1) * width]
        b = new[page * width : (page + 1) * width]
        if a == b:
            continue
        first = next(i for i in range(width) if a[i] != b[i])
        last = next(i for i in range(width - 1, -1, -1) if a[i] != b[i])
        spans[page] = (first, last)
    return spans


def changed_windows(old: bytes | None, new: bytes, width: int = WIDTH) -> list[Window]:
    """The cheapest set of SSD1306 windows that covers every byte that differs."""
    pages = len(new) // width
    if old is None or len(old) != len(new):
        return [Window(0, width - 1, 0, pages - 1)]
    spans = _page_spans(old, new, width)
    changed = sorted(spans)
    # best[i]: cheapest cover of the first i changed pages; a window may span unchanged pages.
    best: list[tuple[int, list[Window]]] = [(0, [])]
    for i in range(1, len(changed) + 1):
        options = []
        for j in range(i):
            group = changed[j:i]
            window = Window(
                min(spans[p][0] for p in group),
                max(spans[p][1] for p in group),
                group[0],
                group[-1],
            )
            cost, windows = best[j]
            options.append((cost + window.cost, [*windows, window]))
        best.append(min(options, key=lambda option: option[0]))
    return best[-1][1]


@dataclass(frozen=True)
class Run:
    """Changed bytes in one page, from column ``start`` to ``end`` inclusive (SH1106)."""

    page: int
    start: int
    end: int


def changed_runs(old: bytes | None, new: bytes, width: int = WIDTH) -> list[Run]:
    """The cheapest SH1106 runs covering every byte that differs: within a page, two runs
    are sent as one when the unchanged bytes between them cost less than addressing anew."""
    pages = len(new) // width
    if old is None or len(old) != len(new):
        return [Run(page, 0, width - 1) for page in range(pages)]
    runs: list[Run] = []
    for page in range(pages):
        row = page * width
        run: Run | None = None  # the run being gathered in this page
        for col in range(width):
            if old[row + col] == new[row + col]:
                continue
            if run is not None and col - run.end - 1 <= SH1106_RUN_COST:
                run = Run(page, run.start, col)
                continue
            if run is not None:
                runs.append(run)
            run = Run(page, col, col)
        if run is not None:
            runs.append(run)
    return runs


class PartialUpdates(_Device):
    """What every controller's class shares: the last frame, and when to forget it."""

    def __init__(
        self,
        serial_interface: Serial | None = None,
        width: int = WIDTH,
        height: int = 64,
        **kwargs: object,
    ) -> None:
        self._last: bytes | None = None  # luma's __init__ draws a blank frame through display()
        try:
            super().__init__(serial_interface, width=width, height=height, **kwargs)
        except BaseException:  # a panel that stopped answering during its init sequence
            serial = getattr(self, "_serial_interface", None)
            if serial is not None:
                with contextlib.suppress(Exception):  # the error that matters is on its way
                    serial.cleanup()
            self.forget()
            raise

    def forget(self) -> None:
        """Drop the exit hook luma registers for each panel object (to switch it off when
        Python exits), once this one is done with: the hook holds the object, so every panel
        opened again after an outage, or failing to open, would stay in memory until exit."""
        atexit.unregister(_ExitHook(self))  # type: ignore[arg-type]  # compared, never called

    def display(self, image: Image.Image) -> None:
        assert image.mode == self.mode and image.size == self.size
        frame = frame_bytes(self.preprocess(image))
        # Until every byte is sent, the panel holds part old and part new: if sending fails,
        # the next frame must go whole.
        last, self._last = self._last, None
        self._send(last, frame)
        self._last = frame

    def _send(self, last: bytes | None, frame: bytes) -> None:
        raise NotImplementedError


class _ExitHook:
    """Equal to the hook luma.core's ``device.__init__`` registers for ``device``: a closure
    named ``shutdown_hook`` over it. ``atexit.unregister`` finds hooks by ``==``."""

    __hash__ = None  # type: ignore[assignment]

    def __init__(self, device: object) -> None:
        self.device = device

    def __eq__(self, other: object) -> bool:
        if getattr(other, "__name__", None) != "shutdown_hook":
            return False
        cells = getattr(other, "__closure__", None) or ()
        return any(_contents(cell) is self.device for cell in cells)


def _contents(cell: CellType) -> object:
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return None


class PartialSSD1306(PartialUpdates, ssd1306):  # type: ignore[misc]  # luma has no types
    """luma.oled's ssd1306 whose ``display()`` sends only what changed, in windows."""

    def _send(self, last: bytes | None, frame: bytes) -> None:
        for w in changed_windows(last, frame, self._w):
            self.command(
                COLUMNADDR,
                self._colstart + w.col_start,
                self._colstart + w.col_end,
                PAGEADDR,
                w.page_start,
                w.page_end,
            )
            block = bytearray()
            for page in range(w.page_start, w.page_end + 1):
                row = page * self._w
                block += frame[row + w.col_start : row + w.col_end + 1]
            self.data(list(block))


class PartialSSD1309(PartialSSD1306, ssd1309):  # type: ignore[misc]  # luma has no types
    """luma.oled's ssd1309 (the 2.42" panels): the SSD1306's commands and windows."""


class PartialSH1106(PartialUpdates, sh1106):  # type: ignore[misc]  # luma has no types
    """luma.oled's sh1106 (most 1.3" panels) whose ``display()`` sends only what changed.

    Page addressing only: each run is addressed by page and column; the column is offset by
    luma's ``page_address_offset`` (2: a 128-pixel panel shows RAM columns 2 to 129).
    """

    def _send(self, last: bytes | None, frame: bytes) -> None:
        for run in changed_runs(last, frame, self._w):
            col = self._page_address_offset + run.start
            self.command(0xB0 + run.page, col & 0x0F, 0x10 | col >> 4)
            row = run.page * self._w
            self.data(list(frame[row + run.start : row + run.end + 1]))


DRIVERS: dict[str, type[PartialUpdates]] = {
    "ssd1306": PartialSSD1306,
    "sh1106": PartialSH1106,
    "ssd1309": PartialSSD1309,
}
