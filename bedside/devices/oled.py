"""The SSD1306 panel: luma.oled's ``ssd1306``, sending only the part of a frame that changed.

luma's stock ``display()`` sends all 1024 bytes of every frame: about 23 ms of a 400 kHz I2C
bus, once a second, for a countdown where one digit changed. ``PartialSSD1306`` keeps the last
frame it sent, finds the pages and columns that differ, and sets the controller's column and
page window around just those bytes. After any (re)initialisation it sends a full frame, since
the panel's RAM can no longer be trusted.

``Oled`` is what the daemon holds: it adds contrast, power, and burn-in care (the whole image
moves by a pixel every few minutes, within a 2 px square, so no pixel is lit all night).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from luma.core.error import Error as LumaError
from luma.oled.device import ssd1306
from PIL import Image

from bedside.config import DisplayConfig

log = logging.getLogger("bedside.display")

# What a panel that stops answering raises: OSError from the bus (121 remote I/O, 5 I/O),
# luma's own errors when the bus or the address cannot be opened at all.
PANEL_ERRORS = (OSError, LumaError)

COLUMNADDR, PAGEADDR = 0x21, 0x22
WINDOW_COST = 6  # command bytes to set a column and page window

# Burn-in shifts, visited in turn: a small loop around the home position.
SHIFTS = ((0, 0), (1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1))


def frame_bytes(image: Image.Image) -> bytes:
    """A 128x64 mode "1" image in the SSD1306's page order: 8 pages of 128 column bytes, the
    top pixel of each column byte in bit 0."""
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


def changed_windows(old: bytes | None, new: bytes, width: int = 128) -> list[Window]:
    """The cheapest set of windows that covers every byte that differs between two frames."""
    pages = len(new) // width
    if old is None or len(old) != len(new):
        return [Window(0, width - 1, 0, pages - 1)]
    spans: dict[int, tuple[int, int]] = {}
    for page in range(pages):
        a = old[page * width : (page + 1) * width]
        b = new[page * width : (page + 1) * width]
        if a == b:
            continue
        first = next(i for i in range(width) if a[i] != b[i])
        last = next(i for i in range(width - 1, -1, -1) if a[i] != b[i])
        spans[page] = (first, last)
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


class PartialSSD1306(ssd1306):
    """luma.oled's ssd1306 whose ``display()`` sends only what changed since the last frame."""

    def __init__(self, serial_interface=None, width: int = 128, height: int = 64, **kwargs):
        self._last: bytes | None = None  # luma's __init__ draws a blank frame through display()
        super().__init__(serial_interface, width=width, height=height, **kwargs)

    def invalidate(self) -> None:
        """Forget the last frame: the next one is sent whole (after a reset or a bus error)."""
        self._last = None

    def display(self, image: Image.Image) -> None:
        assert image.mode == self.mode and image.size == self.size
        frame = frame_bytes(self.preprocess(image))
        windows = changed_windows(self._last, frame, self._w)
        # Until every window is sent, the panel holds part old and part new: if sending fails,
        # the next frame must go whole.
        self._last = None
        for w in windows:
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
        self._last = frame


def shift_for(now: float, every: float) -> tuple[int, int]:
    """The burn-in offset in force at monotonic time ``now``."""
    if every <= 0:
        return (0, 0)
    return SHIFTS[int(now // every) % len(SHIFTS)]


class Oled:
    """The panel as the daemon uses it: frames, contrast, power, and burn-in shifts.

    A panel that stops answering (OSError 121 or 5 from the I2C bus, a ribbon knocked loose)
    does not stop the routine: frames are kept, the panel is opened again after 1, 2, 4 ...
    up to 60 seconds, and redrawn in full when it answers. One log line an outage.
    """

    RETRY_FIRST, RETRY_MAX = 1.0, 60.0

    def __init__(
        self,
        open_device: Callable[[], PartialSSD1306],
        contrast: int,
        shift_every: float = 180.0,
        now: float = 0.0,
    ) -> None:
        self.open_device = open_device
        self.shift_every = shift_every
        self.contrast = contrast
        self.on = True
        self.device: PartialSSD1306 | None = None
        self.image: Image.Image | None = None  # the last frame asked for
        self.retry_at: float | None = None
        self.backoff = self.RETRY_FIRST
        self.outages = 0
        self._reopen(now)

    # -- what the loop calls ---------------------------------------------------------------
    def show(self, image: Image.Image, now: float) -> None:
        self.image = image
        if self.device is not None and self.on:
            self._guard(lambda d: d.display(self._shifted(image, now)), now)

    def power(self, on: bool, contrast: int | None = None, now: float = 0.0) -> None:
        if contrast is not None and contrast != self.contrast:
            self.contrast = contrast
            if self.device is not None:
                self._guard(lambda d: d.contrast(contrast), now)
        if on != self.on:
            self.on = on
            if self.device is not None:
                self._guard(lambda d: d.show() if on else d.hide(), now)

    def next_shift(self, now: float) -> float | None:
        """When the burn-in offset next changes, so a still screen is redrawn then."""
        if self.shift_every <= 0:
            return None
        return (now // self.shift_every + 1) * self.shift_every

    def deadline(self) -> float | None:
        """When to try a panel that stopped answering again."""
        return self.retry_at

    def retry(self, now: float) -> None:
        if self.retry_at is not None and now >= self.retry_at:
            self._reopen(now)

    # -- faults ----------------------------------------------------------------------------
    def _shifted(self, image: Image.Image, now: float) -> Image.Image:
        dx, dy = shift_for(now, self.shift_every)
        if (dx, dy) == (0, 0):
            return image
        moved = Image.new("1", image.size)
        moved.paste(image, (dx, dy))
        return moved

    def _guard(self, action: Callable[[PartialSSD1306], object], now: float) -> None:
        try:
            action(self.device)
        except PANEL_ERRORS as exc:
            self._lost(exc, now)

    def _lost(self, exc: Exception, now: float) -> None:
        if self.device is not None or self.outages == 0:
            self.outages += 1
            log.warning("display not answering (%s): carrying on without it", exc)
        if self.device is not None:
            # Let go of the bus handle, so that outages do not leak file descriptors.
            with contextlib.suppress(*PANEL_ERRORS):
                self.device._serial_interface.cleanup()
        self.device = None
        self.retry_at = now + self.backoff
        self.backoff = min(self.backoff * 2, self.RETRY_MAX)

    def _reopen(self, now: float) -> None:
        try:
            device = self.open_device()  # luma sends the whole init sequence and a blank frame
            device.contrast(self.contrast)
            if self.image is not None and self.on:
                device.display(self._shifted(self.image, now))
            if not self.on:
                device.hide()
        except PANEL_ERRORS as exc:
            self._lost(exc, now)
            return
        if self.outages:
            log.warning("display answering again: redrawn")
        self.device = device
        self.retry_at = None
        self.backoff = self.RETRY_FIRST


def open_panel(config: DisplayConfig, serial=None) -> PartialSSD1306:
    """The real panel on I2C or SPI as configured, or on ``serial`` when one is given."""
    if serial is None:
        if config.interface == "spi":
            from luma.core.interface.serial import spi

            serial = spi(
                port=config.spi_port,
                device=config.spi_device,
                gpio_DC=config.spi_dc,
                gpio_RST=config.spi_reset,
            )
        else:
            from luma.core.interface.serial import i2c

            serial = i2c(port=config.i2c_bus, address=config.i2c_address)
    return PartialSSD1306(serial, rotate=config.rotate)
