"""The Pi's SPI bus and GPIO pins as luma.core's ``spi`` uses them, recorded and modelled: what
the tests of SPI panels (test_panels) open luma's own ``spi`` interface over."""

from __future__ import annotations

from collections.abc import Callable

from bedside.display.recording_bus import PanelModel


class RecordingSpi:
    """The Pi's SPI bus and GPIO pins as luma.core's ``spi`` uses them, recorded and modelled.

    ``bus`` is given to luma as its spidev, ``gpio`` as its RPi.GPIO: what is written to the
    bus goes to the panel model as commands while the D/C pin is low and as data while high.
    """

    OUT, LOW, HIGH = 0, 0, 1

    def __init__(
        self, driver: str = "ssd1306", height: int = 64, dc: int = 24, reset: int = 25
    ) -> None:
        self.panel = PanelModel(driver, height)
        self.opened: tuple[int, int] | None = None
        self.closed = False
        self.max_speed_hz = 0
        self.mode = 0
        self.outputs: list[int] = []  # pins set up as outputs
        self.levels: dict[int, int] = {}
        self.resets = 0  # reset pulses: the pin driven low, then high
        self.dc, self.reset = dc, reset  # the pins luma is expected to drive
        self.bytes_sent = 0
        self.fail: Callable[[], None] | None = None  # raise from here to fake a bus error

    # -- as spidev.SpiDev --------------------------------------------------------------------
    @property
    def bus(self) -> RecordingSpi:
        return self

    @property
    def gpio(self) -> RecordingSpi:
        return self

    def open(self, port: int, device: int) -> None:
        self.opened = (port, device)

    def writebytes(self, data: list[int]) -> None:
        if self.fail is not None:
            self.fail()
        if self.dc not in self.levels:
            raise AssertionError("bytes written before the D/C pin was set")
        self.bytes_sent += len(data)
        if self.levels[self.dc] == self.LOW:
            self.panel.command(data)
        else:
            self.panel.data(data)

    def close(self) -> None:
        self.closed = True

    # -- as RPi.GPIO -------------------------------------------------------------------------
    def setup(self, pin: int, direction: int) -> None:
        self.outputs.append(pin)

    def output(self, pin: int, level: int) -> None:
        if pin not in self.outputs:
            raise AssertionError(f"GPIO {pin} driven before it was set up as an output")
        if pin == self.reset and level and self.levels.get(pin) == self.LOW:
            self.resets += 1
        self.levels[pin] = self.HIGH if level else self.LOW

    def cleanup(self, pins: list[int] | None = None) -> None:
        self.outputs = [p for p in self.outputs if pins is not None and p not in pins]
