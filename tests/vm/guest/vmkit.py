"""What the in-VM tests share (make test-vm; they run as root inside the VM, bedside being a
black box: its unit, its command line, its files, and the kernel's devices).

- ``Button``: the Pi's button as gpio-sim's line 17 on the chip labelled pinctrl-bcm2711: writing
  ``pull-down`` to its ``pull`` attribute is the contact closing (a real edge, an interrupt, a
  line event for lgpio), ``pull-up`` the contact opening.
- ``I2cLog``: every message the kernel's I2C bus 1 carried, with its CLOCK_MONOTONIC time, from
  the bedside-i2c module's debugfs log; ``Panel`` rebuilds the controller's RAM from them.
- the service: its pid, STATUS=, its journal; figures written to the results folder.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import struct
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

RESULTS = Path("/mnt/results")
GROUP = os.environ.get("BEDSIDE_VM_GROUP", "tests")
I2C_LOG = Path("/sys/kernel/debug/bedside-i2c/log")
I2C_PRESENT = Path("/sys/module/bedside_i2c/parameters/present")
BOARD = "/usr/local/lib/bedside-vm/board.sh"
PANEL_ADDRESS = 0x3C  # where the panel is wired to answer (bedside-i2c's addr)
BUTTON_LINE = 17  # where the button is wired (BCM 17: the Pi's pin 11)

T = TypeVar("T")


def sh(
    *args: str, timeout: float = 60, check: bool = True, **kw: Any
) -> subprocess.CompletedProcess:
    return subprocess.run(
        list(args), capture_output=True, text=True, timeout=timeout, check=check, **kw
    )


def wait_for(what: str, probe: Callable[[], T], timeout: float, every: float = 0.05) -> T:
    """``probe()``'s first true value within ``timeout`` seconds, else an AssertionError."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout} s (last: {value!r})")
        time.sleep(every)


# -- the service -------------------------------------------------------------------------------
def show(prop: str, unit: str = "bedside") -> str:
    return sh("systemctl", "show", "-p", prop, "--value", unit).stdout.strip()


def main_pid() -> int:
    return int(show("MainPID"))


def status_text() -> str:
    return show("StatusText")


def wait_ready(timeout: float = 120) -> int:
    """The service active (READY=1 sent: Type=notify) with a STATUS=; its main pid."""
    wait_for(
        "active bedside with a STATUS=",
        lambda: show("ActiveState") == "active" and status_text(),
        timeout,
        every=0.2,
    )
    return main_pid()


def fresh_start() -> int:
    """bedside restarted at its menu with an empty state folder (nothing to resume); its pid."""
    sh("systemctl", "stop", "bedside", timeout=60)
    sh("sh", "-c", "rm -rf /var/lib/bedside/* /var/lib/bedside/.[!.]*", check=False)
    sh("systemctl", "reset-failed", "bedside", check=False)
    sh("systemctl", "start", "bedside", timeout=120)
    pid = wait_ready()
    assert status_text().startswith("menu: "), status_text()
    return pid


def restart(timeout: float = 120) -> int:
    sh("systemctl", "reset-failed", "bedside", check=False)
    sh("systemctl", "restart", "bedside", timeout=timeout)
    return wait_ready(timeout)


def cursor() -> str:
    out = sh("journalctl", "-u", "bedside", "-n", "0", "--show-cursor", "--no-pager").stdout
    found = re.search(r"-- cursor: (\S+)", out)
    return found.group(1) if found else ""


def journal(after: str = "", unit: str = "bedside") -> list[dict[str, Any]]:
    """The unit's journal entries (after a cursor), each with MESSAGE and its monotonic time."""
    args = ["journalctl", "-u", unit, "-o", "json", "--no-pager", "--output-fields=MESSAGE"]
    if after:
        args.append(f"--after-cursor={after}")
    entries = []
    for line in sh(*args).stdout.splitlines():
        entry = json.loads(line)
        message = entry.get("MESSAGE")
        if isinstance(message, list):  # journald gives bytes as a list of numbers
            message = bytes(message).decode("utf-8", "replace")
        entries.append(
            {"message": message or "", "mono": int(entry["__MONOTONIC_TIMESTAMP"]) / 1e6}
        )
    return entries


def messages(after: str = "") -> list[str]:
    return [e["message"] for e in journal(after)]


def trace_events(after: str = "") -> list[dict[str, Any]]:
    """The daemon's --trace events (JSON Lines on its stdout, so in the journal)."""
    events = []
    for message in messages(after):
        if message.startswith("{"):
            with contextlib.suppress(json.JSONDecodeError):
                events.append(json.loads(message))
    return events


def gestures(after: str = "") -> list[str]:
    return [m.split("gesture: ", 1)[1] for m in messages(after) if "gesture: " in m]


def python_pass_seconds(runs: int = 5) -> float:
    """The reference: the median of `python3 -c pass` in this VM, started as a process."""
    times = []
    for _ in range(runs):
        t0 = time.monotonic()
        subprocess.run(["python3", "-c", "pass"], check=True)
        times.append(time.monotonic() - t0)
    return sorted(times)[len(times) // 2]


def figure(
    name: str, value: float, unit: str, reference: str = "", ratio: float | None = None
) -> None:
    """One measured figure, into the results (the host prints them)."""
    line = f"{name}: {value:.3f} {unit}"
    if reference:
        line += f"; {reference}"
    if ratio is not None:
        line += f"; ratio {ratio:.1f}"
    with open(RESULTS / f"{GROUP}-figures.txt", "a") as out:
        out.write(line + "\n")
    print(line)


# -- the button -----------------------------------------------------------------------------
def chip_info(node: str) -> tuple[str, str, int]:
    """A GPIO character device's name, label and number of lines (GPIO_GET_CHIPINFO_IOCTL)."""
    import fcntl

    buf = bytearray(68)  # struct gpiochip_info: char name[32], label[32]; __u32 lines
    fd = os.open(node, os.O_RDONLY)
    try:
        fcntl.ioctl(fd, 0x8044B401, buf)
    finally:
        os.close(fd)
    name, label = (bytes(buf[i : i + 32]).split(b"\0")[0].decode() for i in (0, 32))
    return name, label, struct.unpack_from("<I", buf, 64)[0]


def pi_chip() -> Path:
    """gpio-sim's chip standing for the Pi's (label pinctrl-bcm2711, 58 lines), in /sys/devices:
    where its lines' sim_gpioN attributes are."""
    bank = Path("/sys/kernel/config/gpio-sim/bedside-pi/bank0")
    chip = (bank / "chip_name").read_text().strip()
    device = (Path(bank).parent / "dev_name").read_text().strip()
    assert chip_info(f"/dev/{chip}")[1:] == ("pinctrl-bcm2711", 58), chip_info(f"/dev/{chip}")
    return Path("/sys/devices/platform", device, chip)


class Button:
    """The button on BCM 17, to ground, with the Pi's pull-up: pull-down is the contact closed."""

    def __init__(self, line: int = BUTTON_LINE) -> None:
        self.pull = pi_chip() / f"sim_gpio{line}" / "pull"
        self.value = pi_chip() / f"sim_gpio{line}" / "value"

    def _set(self, pull: str) -> float:
        with open(self.pull, "w") as f:
            f.write(pull)
        return time.monotonic()

    def down(self) -> float:
        return self._set("pull-down")

    def up(self) -> float:
        return self._set("pull-up")

    def press(self, seconds: float = 0.25) -> float:
        """Down, ``seconds``, up; the time of the release."""
        self.down()
        time.sleep(seconds)
        return self.up()

    def chatter(
        self, count: int, length: float = 0.002, between: float = 0.004, opening: bool = False
    ) -> list[float]:
        """``count`` brief contact closures of ``length`` seconds, ``between`` apart, as a
        contact chatters (``opening``: brief openings of a closed contact, as it chatters
        letting go): the pull file held open and the waits spun, not slept (a sleep of 2 ms in
        the emulated guest took 25 to 77 ms now and then, a press by any measure). Returns
        each one's length as written."""
        first, second = (b"pull-up", b"pull-down") if opening else (b"pull-down", b"pull-up")
        lengths = []
        fd = os.open(self.pull, os.O_WRONLY)
        try:
            for _ in range(count):
                os.pwrite(fd, first, 0)
                begun = time.monotonic()
                _spin_until(begun + length)
                os.pwrite(fd, second, 0)
                ended = time.monotonic()
                lengths.append(ended - begun)
                _spin_until(ended + between)
        finally:
            os.close(fd)
        return lengths


def _spin_until(moment: float) -> None:
    while time.monotonic() < moment:
        pass


TRACING = Path("/sys/kernel/tracing")


def button_irq(line: int = BUTTON_LINE) -> int:
    """The interrupt behind the daemon's edge detection on ``line``: gpio-sim's lines are
    interrupts of an irq_sim domain (hwirq = the line), mapped once a line is asked for edges."""
    for irq in Path("/sys/kernel/irq").iterdir():
        if (
            (irq / "chip_name").read_text().strip() == "irq_sim"
            and (irq / "hwirq").read_text().strip() == str(line)
            and (irq / "actions").read_text().strip()
        ):
            return int(irq.name)
    raise AssertionError(f"no irq_sim interrupt with a handler for line {line}")


class KernelEdges:
    """When the kernel took each of the button's edges, by its own tracer, not by the test's
    clock (which a loaded emulated guest stretches between two writes) and not by the daemon's
    log (the thing under test): ftrace's ``irq_handler_entry`` for the button's interrupt, in
    a tracing instance of its own, on the ``mono`` trace clock (CLOCK_MONOTONIC). gpiolib
    stamps each line event in that same handler, so these are the edges' times as lgpio hands
    them to the daemon, microseconds apart. The button's edges alternate, so the direction of
    each follows from the first."""

    def __init__(self) -> None:
        if not (TRACING / "instances").is_dir():
            sh("mount", "-t", "tracefs", "tracefs", str(TRACING))
        self.root = TRACING / "instances" / "bedside-button"
        with contextlib.suppress(FileExistsError):
            self.root.mkdir()
        (self.root / "trace_clock").write_text("mono")
        self.event = self.root / "events" / "irq" / "irq_handler_entry"
        self.clear()
        (self.event / "enable").write_text("1")

    def __enter__(self) -> KernelEdges:
        return self

    def __exit__(self, *exc: object) -> None:
        (self.event / "enable").write_text("0")
        with contextlib.suppress(OSError):
            self.root.rmdir()

    def clear(self) -> None:
        """Forget what was traced; follow the button's interrupt as it is now (a restarted
        daemon asks for the line again)."""
        (self.event / "filter").write_text(f"irq == {button_irq()}")
        (self.root / "trace").write_text("")  # opened for writing with O_TRUNC: emptied

    def times(self) -> list[float]:
        """Each edge's CLOCK_MONOTONIC time, in seconds, since the last ``clear``."""
        text = (self.root / "trace").read_text()
        return [float(t) for t in re.findall(r"\s(\d+\.\d+): irq_handler_entry: irq=", text)]


def stretches(times: list[float]) -> list[float]:
    """How long the contact stayed each way between consecutive edges."""
    return [round(b - a, 6) for a, b in itertools.pairwise(times)]


def daemon_edges(after: str = "") -> list[tuple[str, float]]:
    """The edges as the daemon took them: its ``button down/up at`` lines (with -v)."""
    edges = []
    for m in messages(after):
        found = re.search(r"button (down|up) at (\d+\.\d+)", m)
        if found:
            edges.append((found.group(1), float(found.group(2))))
    return edges


# -- the panel's bus ------------------------------------------------------------------------
NACKED = 0x8000
I2C_M_RD = 0x0001


@dataclass(frozen=True)
class Message:
    ns: int
    addr: int
    flags: int
    data: bytes

    @property
    def t(self) -> float:
        return self.ns / 1e9

    @property
    def nacked(self) -> bool:
        return bool(self.flags & NACKED)


def read_i2c_log() -> list[Message]:
    raw = I2C_LOG.read_bytes()
    out, at = [], 0
    while at + 16 <= len(raw):
        ns, addr, flags, length = struct.unpack_from("<QHHI", raw, at)
        at += 16
        out.append(Message(ns, addr, flags, raw[at : at + length]))
        at += length
    return out


def clear_i2c_log() -> None:
    I2C_LOG.write_bytes(b"x")


# The project's own controller RAM model (PanelModel), run in the installed bedside's venv: it
# is bedside/display/recording_bus.py since the package's refactor, bedside/devices/recorder.py
# before it. Messages go in as lines "c HEX" (commands) or "d HEX" (display data).
REBUILD = r"""
import json, sys
try:
    from bedside.display.recording_bus import PanelModel
except ImportError:
    from bedside.devices.recorder import PanelModel
model = PanelModel(sys.argv[1], int(sys.argv[2]))
for line in sys.stdin:
    kind, data = line.split()
    (model.command if kind == "c" else model.data)(bytes.fromhex(data))
print(json.dumps({"visible": bytes(model.visible()).hex(), "on": model.on,
                  "contrast": model.contrast}))
"""


@dataclass(frozen=True)
class Rebuilt:
    """What the controller's RAM and registers hold after the messages."""

    shown: bytes
    on: bool
    contrast: int

    def visible(self) -> bytes:
        return self.shown


def rebuild(messages: Iterable[Message], driver: str = "ssd1306", height: int = 64) -> Rebuilt:
    """The controller rebuilt from what the bus carried to the panel, as luma's i2c sends it:
    each message a control byte (0x00: commands follow; 0x40: display data), then bytes."""
    lines = []
    for m in messages:
        if m.addr != PANEL_ADDRESS or m.nacked or m.flags & I2C_M_RD or not m.data:
            continue
        control, body = m.data[0], m.data[1:]
        if control not in (0x00, 0x40):
            raise AssertionError(f"unexpected control byte {control:#04x} in {m}")
        if body:
            lines.append(("c " if control == 0x00 else "d ") + body.hex())
    out = sh(
        "/opt/bedside/venv/bin/python",
        "-c",
        REBUILD,
        driver,
        str(height),
        input="\n".join(lines) + "\n",
        timeout=300,
    ).stdout
    found = json.loads(out)
    return Rebuilt(bytes.fromhex(found["visible"]), found["on"], found["contrast"])


def bits_of_png(path: Path) -> bytes:
    """A 128xH one-bit PNG as the panel's page-ordered bytes (what PanelModel.visible() gives),
    read with bedside's own venv (Pillow is there)."""
    program = (
        "import sys; from PIL import Image\n"
        "im = Image.open(sys.argv[1]).convert('1'); w, h = im.size; px = im.load()\n"
        "out = bytearray()\n"
        "for page in range(h // 8):\n"
        "    for x in range(w):\n"
        "        out.append(sum(1 << b for b in range(8) if px[x, page * 8 + b]))\n"
        "sys.stdout.write(out.hex())\n"
    )
    result = sh("/opt/bedside/venv/bin/python", "-c", program, str(path))
    return bytes.fromhex(result.stdout)


def set_config(key_line: str, value_line: str, path: str = "/etc/bedside/bedside.toml") -> None:
    """Replace the line of /etc/bedside/bedside.toml that starts with ``key_line``."""
    text = Path(path).read_text()
    new, count = re.subn(rf"(?m)^{re.escape(key_line)}.*$", value_line, text, count=1)
    assert count == 1, f"no line starting {key_line!r} in {path}"
    Path(path).write_text(new)
