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

from dataclasses import dataclass

from luma.oled.device import ssd1306
from PIL import Image

from bedside.config import DisplayConfig

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
    """The panel as the daemon uses it: frames, contrast, power, and burn-in shifts."""

    def __init__(self, device: PartialSSD1306, contrast: int, shift_every: float = 180.0):
        self.device = device
        self.shift_every = shift_every
        self.contrast = contrast
        self.on = True
        device.contrast(contrast)

    def show(self, image: Image.Image, now: float) -> None:
        dx, dy = shift_for(now, self.shift_every)
        if (dx, dy) != (0, 0):
            moved = Image.new("1", image.size)
            moved.paste(image, (dx, dy))
            image = moved
        self.device.display(image)

    def next_shift(self, now: float) -> float | None:
        """When the burn-in offset next changes, so a still screen is redrawn then."""
        if self.shift_every <= 0:
            return None
        return (now // self.shift_every + 1) * self.shift_every

    def power(self, on: bool, contrast: int | None = None) -> None:
        if contrast is not None and contrast != self.contrast:
            self.device.contrast(contrast)
            self.contrast = contrast
        if on != self.on:
            if on:
                self.device.show()
            else:
                self.device.hide()
            self.on = on


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
