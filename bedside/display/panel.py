"""The panel the daemon draws on: luma.oled's class for the configured controller (SSD1306,
SH1106 or SSD1309, 64 or 32 rows), sending only the part of a frame that changed
(``bedside.display.partial``), on I2C or SPI.

``Oled`` is what the daemon holds: it adds contrast, power, and burn-in care (the whole image
moves by a pixel every few minutes, within a 2 px square, so no pixel is lit all night).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from luma.core.error import Error as LumaError
from PIL import Image

from bedside.closing import Closing
from bedside.config.sections import DisplayConfig
from bedside.display.geometry import WIDTH
from bedside.display.partial import (
    DRIVERS,
    PartialSH1106,
    PartialSSD1306,
    PartialSSD1309,
    PartialUpdates,
    Serial,
    changed_runs,
    changed_windows,
    frame_bytes,
)

__all__ = [
    "DRIVERS",
    "PANEL_ERRORS",
    "Oled",
    "PartialSH1106",
    "PartialSSD1306",
    "PartialSSD1309",
    "PartialUpdates",
    "Serial",
    "changed_runs",
    "changed_windows",
    "frame_bytes",
    "open_panel",
    "panel_serial",
    "shift_for",
    "shifted",
]

log = logging.getLogger("bedside.display")

# What a panel that stops answering raises: OSError from the bus (121 remote I/O, 5 I/O),
# luma's own errors when the bus or the address cannot be opened at all.
PANEL_ERRORS = (OSError, LumaError)

# Burn-in shifts, visited in turn: a small loop around the home position.
SHIFTS = ((0, 0), (1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1))


def shift_for(now: float, every: float) -> tuple[int, int]:
    """The burn-in offset in force at monotonic time ``now``."""
    if every <= 0:
        return (0, 0)
    return SHIFTS[int(now // every) % len(SHIFTS)]


def shifted(image: Image.Image, now: float, every: float) -> Image.Image:
    """``image`` moved by the burn-in offset in force at ``now``."""
    dx, dy = shift_for(now, every)
    if (dx, dy) == (0, 0):
        return image
    moved = Image.new("1", image.size)
    moved.paste(image, (dx, dy))
    return moved


class Oled(Closing):
    """The panel as the daemon uses it: frames, contrast, power, and burn-in shifts.

    A panel that stops answering (OSError 121 or 5 from the I2C bus, a ribbon knocked loose)
    does not stop the routine: frames are kept, the panel is opened again after 1, 2, 4 ...
    up to 60 seconds, and redrawn in full when it answers. An outage is logged when it starts
    and when it ends; on a flaky bus (a write in forty failing, all night) the outages that
    follow a logged one within ``QUIET`` seconds are counted instead, and said as one line
    when that time is up: a few lines an hour, however often the bus fails.
    """

    RETRY_FIRST, RETRY_MAX = 1.0, 60.0
    QUIET = 600.0  # seconds after an outage is logged in which the next ones are only counted

    def __init__(
        self,
        open_device: Callable[[], PartialUpdates],
        contrast: int,
        shift_every: float = 180.0,
        now: float = 0.0,
    ) -> None:
        self.open_device = open_device
        self.shift_every = shift_every
        self.contrast = contrast
        self.on = True
        self.device: PartialUpdates | None = None
        self.image: Image.Image | None = None  # the last frame asked for
        self.retry_at: float | None = None
        self.backoff = self.RETRY_FIRST
        self.outages = 0
        self.said_at: float | None = None  # when an outage was last logged
        self.unsaid = 0  # outages since then, counted, not logged one by one
        self.saying = False  # the outage going on was logged: its end is logged too
        self.closed = False
        self._reopen(now)

    # -- what the loop calls ---------------------------------------------------------------
    def show(self, image: Image.Image, now: float) -> None:
        self.image = image
        if self.on:
            self._guard(lambda d: d.display(shifted(image, now, self.shift_every)), now)

    def power(self, on: bool, contrast: int | None = None, now: float = 0.0) -> None:
        if contrast is not None and contrast != self.contrast:
            self.contrast = contrast
            self._guard(lambda d: d.contrast(contrast), now)
        if on != self.on:
            self.on = on
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
        if self.retry_at is not None and now >= self.retry_at and not self.closed:
            self._reopen(now)

    def close(self) -> None:
        """Switch the panel off and let go of its bus (luma's ``cleanup``); never reopened
        after. Safe to call again, and when the panel never answered."""
        self.closed = True
        self.retry_at = None
        device, self.device = self.device, None
        if device is not None:
            with contextlib.suppress(*PANEL_ERRORS):
                device.cleanup()
            device.forget()  # cleaned up already: luma need not do it again at exit

    # -- faults ----------------------------------------------------------------------------
    def _guard(self, action: Callable[[PartialUpdates], object], now: float) -> None:
        """``action`` on the panel, if it is answering; a bus error is an outage."""
        if self.device is None:
            return
        try:
            action(self.device)
        except PANEL_ERRORS as exc:
            self._lost(exc, now)

    def _lost(self, exc: Exception, now: float) -> None:
        if self.device is not None or self.outages == 0:  # a new outage, not a failed retry
            self.outages += 1
            if self.said_at is None or now - self.said_at >= self.QUIET:
                # The text alone: a record holding the error holds its traceback, and the
                # panel in it.
                log.warning(
                    "display not answering (%s): carrying on without it%s",
                    str(exc),
                    self._since(now),
                )
                self.said_at, self.unsaid, self.saying = now, 0, True
            else:
                self.unsaid += 1
        if self.device is not None:
            _let_go(self.device)
        self.device = None
        self.retry_at = now + self.backoff
        self.backoff = min(self.backoff * 2, self.RETRY_MAX)

    def _reopen(self, now: float) -> None:
        # luma sends the whole init sequence and a blank frame; a panel failing in the middle
        # of it lets go of itself
        try:
            device = self.open_device()
        except PANEL_ERRORS as exc:
            self._lost(exc, now)
            return
        try:
            device.contrast(self.contrast)
            if self.image is not None and self.on:
                device.display(shifted(self.image, now, self.shift_every))
            if not self.on:
                device.hide()
        except PANEL_ERRORS as exc:
            _let_go(device)
            self._lost(exc, now)
            return
        if self.saying:
            log.warning("display answering again: redrawn")
            self.saying = False
        elif self.unsaid and self.said_at is not None and now - self.said_at >= self.QUIET:
            log.warning("display answering again, redrawn after each%s", self._since(now))
            self.said_at, self.unsaid = now, 0
        self.device = device
        self.retry_at = None
        self.backoff = self.RETRY_FIRST

    def _since(self, now: float) -> str:
        """The outages counted since the last one logged, in words; "" when there are none."""
        if not self.unsaid or self.said_at is None:
            return ""
        minutes = (now - self.said_at) / 60
        return (
            f" ({self.unsaid} more short outage(s) in the last {minutes:.0f} min, not logged"
            " one by one: a loose wire or a flaky bus?)"
        )


def _let_go(device: PartialUpdates) -> None:
    """A panel that stopped answering: its bus handle and the object itself let go of, so
    that outages leak neither file descriptors nor memory."""
    with contextlib.suppress(*PANEL_ERRORS):
        device._serial_interface.cleanup()
    device.forget()


def panel_serial(config: DisplayConfig, spi_bus: object = None, gpio: object = None) -> Serial:
    """luma's serial interface for the configured bus. ``spi_bus`` (spidev-like) and ``gpio``
    (RPi.GPIO-like) stand in for the Pi's own on SPI, as luma.core's ``spi`` allows."""
    if config.interface == "spi":
        from luma.core.error import UnsupportedPlatform
        from luma.core.interface.serial import spi

        try:
            serial: Serial = spi(
                spi=spi_bus,
                gpio=gpio,
                port=config.spi_port,
                device=config.spi_device,
                gpio_DC=config.spi_dc,
                gpio_RST=config.spi_reset,
            )
        except ImportError as exc:  # luma imports spidev and RPi.GPIO only when it needs them
            raise UnsupportedPlatform(
                f"an SPI panel needs spidev, and RPi.GPIO from rpi-lgpio; {exc.name!r} is "
                "missing: pip install spidev rpi-lgpio (on the Pi)"
            ) from None
        return serial
    from luma.core.interface.serial import i2c

    serial = i2c(port=config.i2c_bus, address=config.i2c_address)
    return serial


def open_panel(config: DisplayConfig, serial: Serial | None = None) -> PartialUpdates:
    """The configured panel on its I2C or SPI bus, or on ``serial`` when one is given."""
    if serial is None:
        serial = panel_serial(config)
    driver = DRIVERS[config.driver]
    return driver(serial, width=WIDTH, height=config.height, rotate=config.rotate)
