"""The panel through /dev/i2c-1: luma's own i2c interface (I2C_RDWR) writes to 0x3C on the
kernel's bus 1 (bedside-i2c, which logs every message), and the bytes the kernel carried rebuild
the controller's RAM with the project's own model into the picture the daemon meant: the one
`bedside simulate` draws for the same presses. Then the panel is unplugged (it stops answering,
then its bus goes away with the module) and comes back, and the daemon redraws it."""

import json
import tempfile
import time
from pathlib import Path

from vmkit import (
    BOARD,
    I2C_PRESENT,
    PANEL_ADDRESS,
    Button,
    clear_i2c_log,
    cursor,
    messages,
    read_i2c_log,
    rebuild,
    restart,
    sh,
    status_text,
    wait_for,
)

CONFIG = "/etc/bedside/bedside.toml"

# bedside's burn-in care moves the whole picture by a pixel every few minutes, around its home
# (bedside/devices/oled.py SHIFTS): the picture on the panel is the meant one at one of these.
SHIFTS = ((0, 0), (1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1))

DECODE = r"""
import json, sys
from pathlib import Path
from PIL import Image
shifts = json.loads(sys.argv[2])
out = {}
for png in sorted(Path(sys.argv[1]).glob("*.png")):
    base = Image.open(png).convert("1")
    for dx, dy in shifts:
        im = Image.new("1", base.size)
        im.paste(base, (dx, dy))
        w, h = im.size
        px = im.load()
        data = bytearray()
        for page in range(h // 8):
            for x in range(w):
                data.append(sum(1 << b for b in range(8) if px[x, page * 8 + b]))
        out.setdefault(data.hex(), f"{png.name} shifted {dx},{dy}")
print(json.dumps(out))
"""


def meant(script: str, synced: bool) -> dict[bytes, str]:
    """Every picture `bedside simulate` draws for ``script`` with the device's settings, as the
    panel's page-ordered bytes, at every burn-in shift."""
    with tempfile.TemporaryDirectory() as folder:
        args = ["bedside", "simulate", "--config", CONFIG, "--script", "-", "--frames", folder]
        if synced:  # the wall clock counts as synced in the VM (its RTC): the menu's week shows
            args += ["--at", time.strftime("%Y-%m-%dT%H:%M")]
        sh(*args, input=script, timeout=300)
        found = sh(
            "/opt/bedside/venv/bin/python", "-c", DECODE, folder, json.dumps(SHIFTS), timeout=300
        ).stdout
    return {bytes.fromhex(k): v for k, v in json.loads(found).items()}


def shown(since_ns: int = 0) -> tuple[bytes, object]:
    messages_ = [m for m in read_i2c_log() if m.ns >= since_ns]
    model = rebuild(messages_)
    return bytes(model.visible()), model


def settle(quiet: float = 1.0, timeout: float = 20) -> None:
    """Until the bus has been quiet for ``quiet`` s (a frame fully sent)."""

    def still():
        log = read_i2c_log()
        return not log or time.monotonic() - log[-1].t > quiet

    wait_for("a quiet bus", still, timeout, every=0.2)


def test_the_bytes_on_the_bus_rebuild_the_pictures_the_daemon_meant():
    sh("systemctl", "stop", "bedside", timeout=60)
    sh("sh", "-c", "rm -rf /var/lib/bedside/*", check=False)
    clear_i2c_log()
    restart()
    settle()
    log = read_i2c_log()
    to_panel = [m for m in log if m.addr == PANEL_ADDRESS and not m.nacked]
    assert to_panel, f"nothing reached the panel at {PANEL_ADDRESS:#x}: {log[:3]}"
    assert max(len(m.data) for m in to_panel) > 64  # whole blocks through I2C_RDWR, not SMBus
    picture, model = shown()
    assert model.on, "the daemon never switched the panel on (0xAF)"
    expected = {**meant("wait 1\n", False), **meant("wait 1\n", True)}
    assert picture in expected, "the panel's RAM is not the menu the daemon meant"
    print("menu:", expected[picture], f"; contrast {model.contrast}")

    mark = cursor()
    Button().press(0.25)
    wait_for("the first step", lambda: "step 1/" in status_text(), 15)
    settle()
    picture, model = shown()
    expected = {**meant("wait 1\npress\nwait 2\n", False), **meant("wait 1\npress\nwait 2\n", True)}
    assert picture in expected, "the panel does not show the first step the daemon meant"
    assert "display not answering" not in "\n".join(messages(mark))


def test_the_panel_unplugged_and_back_is_survived():
    button = Button()
    mark = cursor()
    # Unplugged: the panel stops acknowledging (a loose wire): the next frame fails.
    I2C_PRESENT.write_text("N")
    button.press(0.25)  # continue: a countdown, a new frame every second
    wait_for(
        "the daemon noticing", lambda: any("display not answering" in m for m in messages(mark)), 20
    )
    # ...and the bus goes with the module (the daemon let go of /dev/i2c-1, so it can go).
    unplug = lambda: sh(BOARD, "bus", "down", check=False).returncode == 0  # noqa: E731
    wait_for("bedside-i2c removed", unplug, 20)
    assert not Path("/dev/i2c-1").exists()
    time.sleep(3)
    assert sh("systemctl", "is-active", "bedside", check=False).stdout.strip() == "active"
    # Back: a fresh module (its panel answers, its RAM noise as at power-up).
    sh(BOARD, "bus", "up")
    wait_for(
        "the daemon redrawing",
        lambda: any("display answering again" in m for m in messages(mark)),
        90,
        every=0.5,
    )
    settle(quiet=0.3)
    picture, model = shown()
    script = "wait 1\npress\nwait 2\npress\nwait 150\n"
    expected = {**meant(script, False), **meant(script, True)}
    assert model.on and picture in expected, "after the outage the panel is not the countdown"
    assert "step 2/" in status_text()
