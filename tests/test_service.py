"""The systemd side: the unit's sandbox score, what it must allow, sd_notify, and that pyttsx3's
ctypes callback still works where writable memory is never made executable."""

from __future__ import annotations

import errno
import os
import re
import shutil
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bedside.app.notify import Notifier, watchdog_interval

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "systemd" / "bedside.service"


def unit_settings() -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


def test_the_sandbox_scores_1_5_or_lower_where_a_bare_unit_scores_9_6(tmp_path):
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is installed by `make test` (Debian package systemd)"

    def score(path: Path) -> float:
        result = subprocess.run(
            [analyze, "security", "--offline=yes", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
        assert match, result.stdout + result.stderr
        return float(match.group(1))

    bare = tmp_path / "bare.service"
    bare.write_text("[Service]\nExecStart=/bin/true\n")
    assert score(bare) > 9.0
    assert score(UNIT) <= 1.5


def test_the_unit_reaches_the_devices_and_nothing_else():
    s = unit_settings()
    assert s["Type"] == ["notify"] and s["Restart"] == ["on-failure"]
    assert s["WatchdogSec"] and s["User"] == ["bedside"]
    # Groups come with User= from the user database (make install makes them where missing):
    # naming them here would stop the unit with 216/GROUP wherever one does not exist.
    assert "SupplementaryGroups" not in s
    assert s["StateDirectory"] == ["bedside"] and s["CacheDirectory"] == ["bedside"]
    assert s["DevicePolicy"] == ["closed"]
    assert {d.split()[0] for d in s["DeviceAllow"]} == {"char-gpiochip", "char-i2c", "char-alsa"}
    assert s["PrivateNetwork"] == ["yes"] and s["IPAddressDeny"] == ["any"]
    assert s["RestrictAddressFamilies"] == ["AF_UNIX"]  # sd_notify only
    assert s["MemoryDenyWriteExecute"] == ["yes"]
    assert s["WorkingDirectory"] == ["/var/lib/bedside"]  # lgpio writes its pipes here
    assert "ProcSubset" not in s  # gpiozero reads the board revision from /proc
    # Bounded, and a crash loop that stops (make test-systemd checks both under systemd).
    assert s["MemoryMax"] and s["TasksMax"]
    assert s["StartLimitIntervalSec"] and s["StartLimitBurst"]


PR_SET_MDWE = 65  # Linux 6.3+


def _mdwe_refused_by_the_emulator() -> bool:
    """True only under `make test-arm64` (it sets BEDSIDE_EMULATOR=qemu-user) and only when the
    prctl is really refused there: qemu-user answers PR_SET_MDWE with EINVAL, whatever the host
    kernel, while a Pi's kernel (6.6 and later) has it. Probed in a child, never in pytest."""
    if os.environ.get("BEDSIDE_EMULATOR") != "qemu-user":
        return False
    probe = (
        "import ctypes, sys; libc = ctypes.CDLL(None, use_errno=True); "
        f"sys.exit(0 if libc.prctl({PR_SET_MDWE}, 1, 0, 0, 0) == 0 else ctypes.get_errno())"
    )
    return subprocess.run([sys.executable, "-c", probe], timeout=60).returncode == errno.EINVAL


@pytest.mark.skipif(
    _mdwe_refused_by_the_emulator(),
    reason="qemu-user refuses prctl(PR_SET_MDWE), which a Pi's kernel has: checked on real kernels",
)
def test_pyttsx3_synthesises_with_writable_memory_never_made_executable(tmp_path):
    # PR_SET_MDWE (Linux 6.3+) is the kernel's own form of systemd's MemoryDenyWriteExecute.
    wav = tmp_path / "cue.wav"
    program = textwrap.dedent(
        f"""
        import ctypes, sys, wave
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl({PR_SET_MDWE}, 1, 0, 0, 0) != 0:
            sys.exit("prctl(PR_SET_MDWE) refused: errno %d" % ctypes.get_errno())
        import pyttsx3
        engine = pyttsx3.init("espeak")
        engine.save_to_file("Sandbox check.", {str(wav)!r})
        engine.runAndWait()
        print(wave.open({str(wav)!r}).getnframes())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    frames = int(result.stdout.strip().splitlines()[-1])
    assert frames > 22050 * 0.3


def test_notifier_sends_datagrams_to_a_path_and_to_the_abstract_namespace(tmp_path):
    path = tmp_path / "notify"
    plain = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    plain.bind(str(path))
    abstract = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    abstract.bind(f"\0bedside-test-{path.stat().st_ino}")
    try:
        notifier = Notifier(str(path))
        notifier.ready("menu: Bedtime")
        assert plain.recv(100) == b"READY=1\nSTATUS=menu: Bedtime"
        notifier = Notifier(f"@bedside-test-{path.stat().st_ino}")
        notifier.watchdog()
        assert abstract.recv(100) == b"WATCHDOG=1"
    finally:
        plain.close()
        abstract.close()


def test_outside_systemd_notifying_does_nothing_and_the_watchdog_is_off(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    notifier = Notifier()
    assert not notifier.enabled
    notifier.ready()
    assert watchdog_interval() is None
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    assert watchdog_interval() == 15.0
    monkeypatch.setenv("WATCHDOG_PID", "1")  # meant for another process
    assert watchdog_interval() is None


def test_install_files_never_overwrite_a_users_settings(tmp_path):
    make = ["make", "-s", "-C", str(ROOT), "install-files", f"DESTDIR={tmp_path}"]
    subprocess.run(make, check=True, capture_output=True)
    settings = tmp_path / "etc" / "bedside" / "bedside.toml"
    assert (tmp_path / "etc/systemd/system/bedside.service").read_text() == UNIT.read_text()
    assert (tmp_path / "etc/bedside/routines/bedtime.toml").exists()
    edited = settings.read_text().replace("contrast = 40", "contrast = 8")
    settings.write_text(edited)
    result = subprocess.run(make, check=True, capture_output=True, text=True)
    assert settings.read_text() == edited
    assert (tmp_path / "etc/bedside/bedside.toml.dist").read_text() == (
        ROOT / "config" / "bedside.toml"
    ).read_text()
    assert "kept your" in result.stdout
