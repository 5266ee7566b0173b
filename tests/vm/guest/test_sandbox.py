"""The unit's device sandbox on real device nodes, and devices that come late."""

import json
import os
import re
import time
from pathlib import Path

import pytest
from vmkit import (
    BOARD,
    Button,
    chip_info,
    cursor,
    gestures,
    main_pid,
    sh,
    status_text,
    wait_for,
    wait_ready,
)

INSTALLED = Path("/etc/systemd/system/bedside.service")
PROBE = Path(__file__).with_name("probe_open.py")
# What a probe does not take over from the unit: how it runs, and what it shares with the
# running service.
NOT_PROBED = {
    "Type", "NotifyAccess", "ExecStart", "ExecReload", "WatchdogSec", "Restart", "RestartSec",
    "RuntimeDirectory", "RuntimeDirectoryMode", "RemoveIPC", "StartLimitIntervalSec",
    "StartLimitBurst",
}  # fmt: skip
HARMLESS = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"}


def daemon_reload():
    sh("systemctl", "daemon-reload", timeout=60)


def probe(name: str, paths: list[str], without=frozenset(), extra: str = "", wait_for_path=""):
    """The unit's own sandbox (less ``without``, plus ``extra`` lines) around probe_open.py."""
    kept = [
        line
        for line in INSTALLED.read_text().splitlines()
        if line.split("=", 1)[0] not in NOT_PROBED | set(without)
    ]
    out = Path(f"/run/bedside-vm-probe-{name}.json")
    out.unlink(missing_ok=True)
    python = "/opt/bedside/venv/bin/python3"
    args = " ".join(paths)
    service = "\n".join(kept).replace(
        "[Service]",
        f"[Service]\nType=oneshot\nExecStart={python} {PROBE} {wait_for_path or '-'} {args}\n"
        f"StandardOutput=file:{out}\n{extra}",
    )
    unit = f"bedside-vm-probe-{name}.service"
    Path("/run/systemd/system", unit).write_text(service)
    daemon_reload()
    return unit, out


def run_probe(name, paths, **kw) -> dict:
    unit, out = probe(name, paths, **kw)
    try:
        sh("systemctl", "start", unit, timeout=120)
        return json.loads(out.read_text())
    finally:
        Path("/run/systemd/system", unit).unlink()
        daemon_reload()


def device_fds(pid: int) -> set[str]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if (
            target.startswith("/dev/")
            and target not in HARMLESS
            and not target.startswith("/dev/pts")
        ):
            found.add(target)
    return found


def pi_card_nodes() -> list[str]:
    return sorted(str(p) for p in Path("/dev/snd").glob("*C0*"))


def test_the_daemon_holds_its_chip_and_its_bus_and_nothing_else(fresh_daemon):
    assert device_fds(fresh_daemon) == {"/dev/gpiochip0", "/dev/i2c-1"}
    assert chip_info("/dev/gpiochip0")[1:] == ("pinctrl-bcm2711", 58)  # the Pi's chip


def test_the_player_under_the_unit_opens_the_card():
    # The player is the daemon's child: while a cue plays it holds the card's PCM node.
    button = Button()
    button.down()
    time.sleep(1.3)
    button.up()
    pid = main_pid()

    def card_open():
        for child in Path("/proc").glob("[0-9]*"):
            try:
                if Path(child, "stat").read_text().split()[3] != str(pid):
                    continue
            except OSError:
                continue
            nodes = device_fds(int(child.name))
            if any(n.startswith("/dev/snd/pcmC0") for n in nodes):
                return nodes
        return None

    nodes = wait_for("the player holding the card", card_open, 20, every=0.02)
    assert {n for n in nodes if not n.startswith("/dev/snd/")} == set(), nodes


def test_the_sandbox_lets_the_service_user_open_only_its_devices():
    paths = [
        "/dev/gpiochip0",
        "/dev/i2c-1",
        *pi_card_nodes(),
        "/dev/mem",
        "/dev/rtc0",
        "/dev/vda",
        "/dev/ttyS0",
        "/dev/kmsg",
        "/dev/net/tun",
    ]
    got = run_probe("user", paths)
    assert got["user"] != 0
    for node in ["/dev/gpiochip0", "/dev/i2c-1", *pi_card_nodes()]:
        assert got[node] == "ok", (node, got)
    for node in ["/dev/mem", "/dev/rtc0", "/dev/vda", "/dev/ttyS0", "/dev/kmsg", "/dev/net/tun"]:
        assert got[node] in ("EPERM", "EACCES"), (node, got)


def test_the_device_policy_itself_refuses_what_file_permissions_would_allow():
    # As root (no User=), only the unit's device policy stands between the probe and a node
    # root may open: refused with it, opened without it (enforced, not only configured).
    nodes = ["/dev/rtc0", "/dev/vda", "/dev/ttyS0"]
    strict = run_probe(
        "root", ["/dev/gpiochip0", "/dev/i2c-1", "/dev/mem", *nodes], without={"User", "Group"}
    )
    assert strict["user"] == 0
    assert strict["/dev/gpiochip0"] == "ok" and strict["/dev/i2c-1"] == "ok", strict
    assert strict["/dev/mem"] == "EPERM", strict  # the policy, and CAP_SYS_RAWIO besides
    for node in nodes:
        assert strict[node] == "EPERM", (node, strict)
    loose = run_probe("loose", nodes, without={"User", "Group", "DevicePolicy", "DeviceAllow"})
    for node in nodes:
        assert loose[node] == "ok", (node, loose)


@pytest.fixture
def second_chip():
    """Another GPIO chip, as a HAT's expander would be: gpio-sim's chip 'other'."""
    base = Path("/sys/kernel/config/gpio-sim/other")
    yield base
    if base.exists():
        (base / "live").write_text("0")
        for d in sorted(base.glob("bank*/line*")) + sorted(base.glob("bank*")) + [base]:
            d.rmdir()


def make_chip(base: Path) -> str:
    before = set(Path("/dev").glob("gpiochip*"))
    base.mkdir()
    (base / "bank0").mkdir()
    (base / "bank0" / "num_lines").write_text("8")
    (base / "bank0" / "label").write_text("other-chip")
    (base / "live").write_text("1")
    sh("udevadm", "settle", "--timeout=20")
    (new,) = set(Path("/dev").glob("gpiochip*")) - before
    return str(new)


def test_a_device_allowed_by_path_that_is_late_is_silently_refused(second_chip):
    """The trap: a DeviceAllow= path that does not exist when a unit starts is dropped (systemd
    logs it and goes on), so the node is refused even once it appears. The shipped unit names
    device classes instead, which holds for nodes made after the start."""
    node = "/dev/gpiochip1"
    assert not Path(node).exists()
    by_path, out = probe(
        "late-path",
        [node],
        without={"User", "Group", "DeviceAllow"},
        extra=f"DeviceAllow={node} rw\n",
        wait_for_path=node,
    )
    by_class, out2 = probe("late-class", [node], without={"User", "Group"}, wait_for_path=node)
    try:
        sh("systemctl", "start", "--no-block", by_path, by_class)
        time.sleep(3)
        assert make_chip(second_chip) == node
        for unit in (by_path, by_class):
            wait_for(
                f"{unit} done",
                lambda u=unit: (
                    sh("systemctl", "is-active", u, check=False).stdout.strip()
                    in ("inactive", "failed")
                ),
                60,
                every=0.3,
            )
        late_path, late_class = json.loads(out.read_text()), json.loads(out2.read_text())
    finally:
        for unit in (by_path, by_class):
            Path("/run/systemd/system", unit).unlink(missing_ok=True)
        daemon_reload()
    assert late_path[node] == "EPERM", late_path
    assert late_class[node] == "ok", late_class
    # The class lets every chip through, a HAT's as much as the Pi's: the unit's DeviceAllow=
    # is per class (char-gpiochip), as it must be to hold for nodes made after its start.
    journal = sh("journalctl", "-b", "--no-pager", "-g", "gpiochip1", check=False).stdout
    print("the journal on the late path:", journal.splitlines()[-3:])


def test_the_service_started_before_its_devices_comes_up_when_they_do(fresh_daemon):
    """The unit waits for its devices by restarting (Restart=on-failure, RestartSec=5s) until
    the chip is there; the panel's bus it picks up by itself when it appears."""
    sh("systemctl", "stop", "bedside", timeout=60)
    sh(BOARD, "bus", "down")
    sh(BOARD, "chip", "down")
    try:
        sh("systemctl", "reset-failed", "bedside", check=False)
        sh("systemctl", "start", "--no-block", "bedside")
        time.sleep(4)
    finally:
        sh(BOARD, "chip", "up")
        sh("udevadm", "settle", "--timeout=20")
    time.sleep(3)
    sh(BOARD, "bus", "up")
    wait_ready(timeout=90)
    assert device_fds(main_pid()) >= {"/dev/gpiochip0"}
    wait_for(
        "the panel's bus opened", lambda: "/dev/i2c-1" in device_fds(main_pid()), 90, every=0.5
    )
    mark, menu = cursor(), status_text()
    Button().press(0.25)
    assert wait_for("a press", lambda: gestures(mark), 15) == ["press"]
    assert menu != status_text()
    restarts = sh("systemctl", "show", "-p", "NRestarts", "--value", "bedside").stdout.strip()
    print(f"came up after {restarts} restart(s)")
    assert re.fullmatch(r"\d+", restarts)
