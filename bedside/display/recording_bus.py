"""A serial interface that records what a panel is sent, and the RAM its controller would hold.

``RecordingSerial`` stands where luma.core's ``i2c`` would, so luma.oled's real device classes
talk to it unchanged. Every command and data byte is counted, and ``PanelModel`` replays them
the way the controller does, so a test can check that the panel shows the last image and the
bench can count the bytes a real bus would have carried. ``bedside run --mock-hardware`` and
the demo use it as their panel.

The controllers differ where it matters ("SSD1306-compatible" panels are not all alike):

- SSD1306 and SSD1309: 128 columns of RAM, shown from column 0; horizontal addressing
  through a column and page window (0x21, 0x22), as luma sets them up.
- SH1106: 132 columns of RAM with a 128-pixel panel showing columns 2 to 129, and page
  addressing only (0xB0 + page, then the column as a low and a high nibble); it has no
  0x20/0x21/0x22, so those bytes mean something else to it, as they would to the chip.

RAM starts as noise, as a real controller's does at power-up: what a driver never writes
shows as noise (at the right edge of an SH1106 driven as an SSD1306, say).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from bedside.display.geometry import WIDTH

PAGES = 8  # every controller here has 64 rows of RAM, whatever the panel shows
# luma's i2c interface sends each command() as one I2C transaction and data() in transactions
# of at most this many bytes (smbus2's i2c_rdwr; luma.core.interface.serial.i2c).
I2C_DATA_BLOCK = 4096

# Argument counts of the commands that take any (the datasheets' command tables).
_SSD1306_ARGS = {
    0x81: 1,  # contrast
    0x20: 1,  # memory addressing mode
    0x21: 2,  # column address window
    0x22: 2,  # page address window
    0xA8: 1,  # multiplex ratio
    0xD3: 1,  # display offset
    0xD5: 1,  # clock divide
    0x8D: 1,  # charge pump
    0xDA: 1,  # COM pins
    0xD9: 1,  # pre-charge
    0xDB: 1,  # VCOMH deselect
    0xA3: 2,  # vertical scroll area
    0x26: 6,
    0x27: 6,  # horizontal scroll set-up
    0x29: 5,
    0x2A: 5,  # vertical and horizontal scroll set-up
}
_SH1106_ARGS = {
    0x81: 1,  # contrast
    0xA8: 1,  # multiplex ratio
    0xAD: 1,  # DC-DC control
    0xD3: 1,  # display offset
    0xD5: 1,  # clock divide
    0xD9: 1,  # pre-charge
    0xDA: 1,  # COM pins
    0xDB: 1,  # VCOM deselect
}


@dataclass(frozen=True)
class Controller:
    name: str
    ram_columns: int
    first_column: int  # the RAM column at the panel's left edge
    args: dict[int, int]
    windows: bool  # horizontal addressing with 0x20/0x21/0x22; else page addressing only


# The RAM columns are each chip's, from its datasheet: not the panel's width, which is WIDTH
# whatever the chip (an SH1106 has four columns of RAM the panel never shows).
CONTROLLERS = {
    "ssd1306": Controller("ssd1306", 128, 0, _SSD1306_ARGS, windows=True),
    "ssd1309": Controller("ssd1309", 128, 0, _SSD1306_ARGS, windows=True),
    "sh1106": Controller("sh1106", 132, 2, _SH1106_ARGS, windows=False),
}


def _noise(size: int) -> bytearray:
    return bytearray(random.Random(1106).randbytes(size))


@dataclass
class PanelModel:
    """The controller's state, rebuilt from the bytes it was sent; ``height`` is the panel's."""

    driver: str = "ssd1306"
    height: int = 64
    width: int = WIDTH
    ram: bytearray = field(default_factory=bytearray)
    on: bool = False
    contrast: int = 0x7F
    multiplex: int = 0x3F
    com_pins: int = 0x12
    mode: int = 0  # SSD1306: 0 horizontal addressing, which is what luma uses; 2 page
    col_start: int = 0
    col_end: int = 0  # the controller's last RAM column: set in __post_init__
    page_start: int = 0
    page_end: int = PAGES - 1
    col: int = 0
    page: int = 0
    _pending: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.controller = CONTROLLERS[self.driver]
        if not self.ram:
            self.ram = _noise(self.controller.ram_columns * PAGES)
        self.col_end = self.controller.ram_columns - 1

    def command(self, data: Iterable[int]) -> None:
        for byte in data:
            self._pending.append(byte)
            need = self.controller.args.get(self._pending[0], 0)
            if len(self._pending) > need:
                self._execute(self._pending)
                self._pending = []

    def _execute(self, cmd: list[int]) -> None:
        op = cmd[0]
        if op == 0xAE:
            self.on = False
        elif op == 0xAF:
            self.on = True
        elif op == 0x81:
            self.contrast = cmd[1]
        elif op == 0xA8:
            self.multiplex = cmd[1] & 0x3F
        elif op == 0xDA:
            self.com_pins = cmd[1]
        elif self.controller.windows:
            self._execute_ssd1306(cmd)
        else:
            self._execute_sh1106(op)

    def _execute_ssd1306(self, cmd: list[int]) -> None:
        op = cmd[0]
        if op == 0x20:
            self.mode = cmd[1] & 0x03
        elif op == 0x21:
            self.col_start, self.col_end = cmd[1] & 0x7F, cmd[2] & 0x7F
            self.col = self.col_start
        elif op == 0x22:
            self.page_start, self.page_end = cmd[1] & 0x07, cmd[2] & 0x07
            self.page = self.page_start
        elif self.mode == 2 and op < 0x20:  # page addressing: the column, a nibble at a time
            self._set_nibble(op)
        elif self.mode == 2 and 0xB0 <= op <= 0xB7:
            self.page = op & 0x07

    def _execute_sh1106(self, op: int) -> None:
        if op < 0x20:
            self._set_nibble(op)
        elif 0xB0 <= op <= 0xB7:
            self.page = op & 0x07
        # anything else (start line, scan direction, an SSD1306-only byte) leaves RAM alone

    def _set_nibble(self, op: int) -> None:
        if op < 0x10:
            self.col = (self.col & 0xF0) | op
        else:
            self.col = (self.col & 0x0F) | (op & 0x0F) << 4

    def data(self, data: Iterable[int]) -> None:
        columns = self.controller.ram_columns
        for byte in data:
            if self.col < columns:  # past the last column a byte is lost, never wrapped
                self.ram[self.page * columns + self.col] = byte
            if not self.controller.windows or self.mode == 2:
                # Page addressing: the column moves on, the page never does.
                self.col += 1
            elif self.col < self.col_end:
                self.col += 1
            else:
                self.col = self.col_start
                self.page = self.page + 1 if self.page < self.page_end else self.page_start

    def visible(self) -> bytes:
        """The RAM the panel shows, in ``frame_bytes`` order (each page ``width`` columns)."""
        columns, first = self.controller.ram_columns, self.controller.first_column
        return b"".join(
            self.ram[page * columns + first : page * columns + first + self.width]
            for page in range(self.height // 8)
        )

    def pixels(self) -> list[list[bool]]:
        """What a lit panel would show, as rows of pixels top to bottom."""
        shown = self.visible()
        return [
            [bool(shown[(y // 8) * self.width + x] >> (y % 8) & 1) for x in range(self.width)]
            for y in range(self.height)
        ]


class RecordingSerial:
    """luma's serial interface (``command``, ``data``, ``cleanup``) that records and models."""

    def __init__(
        self,
        on_write: Callable[[str, bytes], None] | None = None,
        driver: str = "ssd1306",
        height: int = 64,
    ) -> None:
        self.panel = PanelModel(driver, height)
        self.command_bytes = 0
        self.data_bytes = 0
        self.transactions = 0  # I2C transactions luma's i2c would make: start, address, ..., stop
        self.on_write = on_write  # tests and the bench hook in here
        self.fail: Callable[[], None] | None = None  # raise from here to fake a bus error

    @property
    def bytes_sent(self) -> int:
        return self.command_bytes + self.data_bytes

    def command(self, *cmd: int) -> None:
        if self.fail is not None:
            self.fail()
        self.command_bytes += len(cmd)
        self.transactions += 1
        self.panel.command(cmd)
        if self.on_write is not None:
            self.on_write("command", bytes(cmd))

    def data(self, data: Iterable[int]) -> None:
        if self.fail is not None:
            self.fail()
        block = bytes(data)
        self.data_bytes += len(block)
        self.transactions += -(-len(block) // I2C_DATA_BLOCK)
        self.panel.data(block)
        if self.on_write is not None:
            self.on_write("data", block)

    def cleanup(self) -> None:
        pass
