"""A serial interface that records what an SSD1306 is sent, and the panel RAM it would hold.

It stands where luma.core's ``i2c`` or ``spi`` would, so luma.oled's real ``ssd1306`` class
talks to it unchanged. Every command and data byte is kept count of, and ``PanelModel``
replays them the way the controller does (addressing window, auto-increment, display on/off,
contrast), so a test can check that the RAM equals the last image and the bench can count the
bytes a real bus would have carried. ``bedside run --mock-hardware`` uses it as its panel.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

WIDTH, PAGES = 128, 8

# Argument counts of the SSD1306 commands that take any (datasheet, section 9).
_ARGS = {
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


@dataclass
class PanelModel:
    """The controller's state, rebuilt from the bytes it was sent."""

    ram: bytearray = field(default_factory=lambda: bytearray(WIDTH * PAGES))
    on: bool = False
    contrast: int = 0x7F
    mode: int = 0  # 0: horizontal addressing, which is what luma uses
    col_start: int = 0
    col_end: int = WIDTH - 1
    page_start: int = 0
    page_end: int = PAGES - 1
    col: int = 0
    page: int = 0
    _pending: list[int] = field(default_factory=list)

    def command(self, data: Iterable[int]) -> None:
        for byte in data:
            self._pending.append(byte)
            need = _ARGS.get(self._pending[0], 0)
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
        elif op == 0x20:
            self.mode = cmd[1] & 0x03
        elif op == 0x21:
            self.col_start, self.col_end = cmd[1] & 0x7F, cmd[2] & 0x7F
            self.col = self.col_start
        elif op == 0x22:
            self.page_start, self.page_end = cmd[1] & 0x07, cmd[2] & 0x07
            self.page = self.page_start

    def data(self, data: Iterable[int]) -> None:
        for byte in data:
            self.ram[self.page * WIDTH + self.col] = byte
            if self.col < self.col_end:
                self.col += 1
            else:
                self.col = self.col_start
                self.page = self.page + 1 if self.page < self.page_end else self.page_start

    def pixels(self) -> list[list[bool]]:
        """The RAM as rows of pixels, top to bottom (what a lit panel would show)."""
        return [
            [bool(self.ram[(y // 8) * WIDTH + x] >> (y % 8) & 1) for x in range(WIDTH)]
            for y in range(PAGES * 8)
        ]


class RecordingSerial:
    """luma's serial interface (``command``, ``data``, ``cleanup``) that records and models."""

    def __init__(self, on_write: Callable[[str, bytes], None] | None = None) -> None:
        self.panel = PanelModel()
        self.command_bytes = 0
        self.data_bytes = 0
        self.transactions = 0
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
        self.transactions += 1
        self.panel.data(block)
        if self.on_write is not None:
            self.on_write("data", block)

    def cleanup(self) -> None:
        pass
