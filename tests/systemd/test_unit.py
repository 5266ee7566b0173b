"""The installed unit under a real systemd, checked from inside the booted container.

tests/systemd/run.sh boots the container, runs `make install` (with one drop-in that adds
--mock-hardware) and then these checks, in file order: they share the one running service,
and each leaves it running as it found it. Figures go to /results/figures.txt for the host
to print.
"""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import subprocess
import threading
import time
import wave
from collections.abc import Callable
from pathlib import Path

import pytest

UNIT = "bedside.service"
SOURCE = Path("/src")
INSTALLED = Path("/etc/systemd/system") / UNIT
DROPINS = Path("/etc/systemd/system/bedside.service.d")
SETTINGS = Path("/etc/bedside/bedside.toml")
STATE = Path("/var/lib/bedside")
VOICE_CACHE = Path("/var/cache/bedside/voice")
FIGURES = Path("/results/figures.txt")
PROBE = Path("/usr/local/lib/bedside-probe.py")
OPEN_FOLDER = Path("/srv/bedside-probe")  # anyone may write here, but for a read-only system


# -- helpers ------------------------------------------------------------------------------------
def run(
    *args: str, check: bool = True, timeout: float = 60, **kwargs
) -> subprocess.CompletedProcess:
    result = subprocess.run(
        args, capture_output=True, text=True, timeout=timeout, check=False, **kwargs
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)}: exit {result.returncode}\n{result.stdout}{result.stderr}"
        )
    return result


def show(unit: str = UNIT, *names: str) -> dict[str, str]:
    out = run("systemctl", "show", unit, *(f"--property={n}" for n in names)).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def prop(name: str, unit: str = UNIT) -> str:
    return show(unit, name)[name]


def wait_until(predicate: Callable[[], object], timeout: float, what: str, interval=0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        time.sleep(interval)


def figure(text: str) -> None:
    print(text)
    with FIGURES.open("a") as f:
        f.write(text + "\n")


def main_pid() -> int:
    return int(prop("MainPID"))


def running(other_than: int | str | None = None) -> bool:
    """Active and running (ready), in one look; with a daemon other than ``other_than``."""
    s = show(UNIT, "ActiveState", "SubState", "MainPID")
    ready = s["ActiveState"] == "active" and s["SubState"] == "running"
    return ready and s["MainPID"] not in ("0", str(other_than))


def restart_cleanly() -> None:
    """Back to one fresh, ready service; the start counter is reset, as an admin would."""
    run("systemctl", "reset-failed", UNIT, check=False)
    run("systemctl", "restart", UNIT, timeout=60)
    assert running()


def daemon_reload() -> None:
    run("systemctl", "daemon-reload", timeout=60)


class Journal:
    """The service's journal from now on (a cursor at the latest entry)."""

    def __init__(self, unit: str = UNIT) -> None:
        self.unit = unit
        last = run("journalctl", "-q", "--no-pager", "-u", unit, "-n", "1", "-o", "json").stdout
        self.cursor = json.loads(last)["__CURSOR"] if last.strip() else None

    def lines(self) -> list[str]:
        args = ["journalctl", "-q", "--no-pager", "-u", self.unit, "-o", "cat"]
        if self.cursor:
            args.append(f"--after-cursor={self.cursor}")
        return run(*args).stdout.splitlines()

    def wait_for(self, text: str, timeout: float = 30) -> list[str]:
        """Every line so far, once one contains ``text``."""

        def seen():
            lines = self.lines()
            return lines if any(text in line for line in lines) else None

        return wait_until(seen, timeout, f"{text!r} in the journal of {self.unit}")


def status_of(pid: int) -> dict[str, str]:
    text = Path(f"/proc/{pid}/status").read_text()
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def unit_value(key: str) -> str:
    """A setting of the shipped unit, as written."""
    for line in (SOURCE / "systemd" / UNIT).read_text().splitlines():
        if line.startswith(key + "="):
            return line.split("=", 1)[1]
    raise AssertionError(f"{key}= is not in systemd/{UNIT}")


def dropin(name: str, text: str) -> Path:
    path = DROPINS / f"{name}.conf"
    path.write_text(text)
    daemon_reload()
    return path


# -- after `make install` -----------------------------------------------------------------------
def test_make_install_as_a_normal_user_says_it_needs_root_before_doing_anything():
    result = run(
        "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
        "make", "--no-print-directory", "-C", str(SOURCE), "install", check=False,
    )  # fmt: skip
    output = (result.stdout + result.stderr).strip().splitlines()
    assert result.returncode != 0
    assert output[0] == "make install needs root: sudo make install", output
    assert not any("install:" in line or "cannot" in line for line in output), output


def test_the_service_is_active_after_make_install_and_was_ready_quickly():
    s = show(
        UNIT, "ActiveState", "SubState", "Result", "NRestarts", "ExecMainStartTimestampMonotonic",
        "ActiveEnterTimestampMonotonic", "StatusText", "Type",
    )  # fmt: skip
    assert (s["ActiveState"], s["SubState"], s["Result"]) == ("active", "running", "success"), s
    assert s["NRestarts"] == "0", s
    assert s["Type"] == "notify"
    # Type=notify: the unit became active when the daemon sent READY=1.
    ready = int(s["ActiveEnterTimestampMonotonic"]) - int(s["ExecMainStartTimestampMonotonic"])
    ready_s = ready / 1e6
    figure(f"exec to READY=1 under systemd (make install's start): {ready_s:.2f} s")
    assert 0 < ready_s < 30
    assert s["StatusText"], "the daemon sends STATUS="


def test_bedside_is_on_the_path_for_a_normal_user():
    result = run(
        "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
        "sh", "-c", "command -v bedside && bedside check-config", check=False,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/nonexistent", "LANG": "C.UTF-8"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[0] == "/usr/local/bin/bedside"


def test_the_service_has_its_groups_where_debian_had_none_of_gpio_and_i2c():
    groups = {}
    for name in ("gpio", "i2c", "audio"):
        entry = run("getent", "group", name).stdout.strip().split(":")
        assert "bedside" in entry[3].split(","), entry
        groups[name] = entry[2]
    held = set(status_of(main_pid())["Groups"].split())
    assert set(groups.values()) <= held, (groups, held)


def test_the_daemon_runs_with_no_capabilities_its_own_network_and_a_read_only_system():
    pid = main_pid()
    s = status_of(pid)
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(s[cap], 16) == 0, (cap, s[cap])
    assert s["NoNewPrivs"] == "1" and s["Seccomp"] == "2"
    # PrivateNetwork=: a network namespace of its own, with only lo in it.
    assert os.readlink(f"/proc/{pid}/ns/net") != os.readlink("/proc/1/ns/net")
    interfaces = [
        line.split(":")[0].strip()
        for line in Path(f"/proc/{pid}/net/dev").read_text().splitlines()[2:]
    ]
    assert interfaces == ["lo"], interfaces
    # ProtectSystem=strict: / is read-only for it, the state folder is not.
    mounts = {}
    for line in Path(f"/proc/{pid}/mountinfo").read_text().splitlines():
        fields = line.split()
        mounts[fields[4]] = fields[5].split(",")
    assert "ro" in mounts["/"], mounts["/"]
    assert "rw" in mounts[str(STATE)], mounts.get(str(STATE))
    threads = len(os.listdir(f"/proc/{pid}/task"))
    figure(f"daemon: {threads} threads (TasksMax={unit_value('TasksMax')}), "
           f"peak RSS {int(s['VmHWM'].split()[0]) / 1024:.0f} MB "
           f"(MemoryMax={unit_value('MemoryMax')})")  # fmt: skip
    assert threads < int(unit_value("TasksMax")) // 2


def test_the_watchdog_gets_its_pings():
    s = show(UNIT, "WatchdogUSec", "WatchdogTimestampMonotonic")
    assert s["WatchdogUSec"] == "30s"
    first = s["WatchdogTimestampMonotonic"]
    # One ping every 15 s (half of WatchdogSec=): wait for the next one.
    wait_until(lambda: prop("WatchdogTimestampMonotonic") != first, 25, "a watchdog ping")


def test_the_limits_and_the_start_limit_are_in_force():
    s = show(UNIT, "MemoryMax", "TasksMax", "StartLimitBurst", "StartLimitIntervalUSec")
    assert int(s["MemoryMax"]) == 400 * 1024**2 == _bytes(unit_value("MemoryMax")), s
    assert s["TasksMax"] == unit_value("TasksMax"), s
    assert s["StartLimitBurst"] == unit_value("StartLimitBurst"), s
    assert s["StartLimitIntervalUSec"] == unit_value("StartLimitIntervalSec"), s
    controllers = Path("/sys/fs/cgroup/cgroup.controllers").read_text().split()
    enforced = [c for c in ("memory", "pids") if c in controllers]
    figure(
        f"MemoryMax={s['MemoryMax']} TasksMax={s['TasksMax']}; cgroup controllers here: "
        f"{' '.join(enforced) or 'neither memory nor pids (the host keeps them in cgroup v1)'}"
    )


def _bytes(text: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([KMG]?)", text).groups()
    return int(number) * 1024 ** " KMG".index(unit or " ")


def test_systemd_analyze_security_scores_the_running_unit():
    result = run("systemd-analyze", "security", "--no-pager", UNIT, check=False)
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert match, result.stdout + result.stderr
    figure(f"systemd-analyze security bedside (online): {match.group(1)}")
    assert float(match.group(1)) <= 1.5


# -- the sandbox, enforced: probe units with the very same settings ------------------------------
PROBE_CODE = """
import errno, json, os, socket, sys

out = {}
def attempt(name, action):
    try:
        action()
        out[name] = "ok"
    except TimeoutError:
        out[name] = "timeout"
    except OSError as exc:
        out[name] = errno.errorcode.get(exc.errno, str(exc))

def connect():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(3)
        s.connect(("127.0.0.1", int(sys.argv[1])))

attempt("tun", lambda: os.close(os.open("/dev/net/tun", os.O_RDWR)))
attempt("connect", connect)
attempt("write_srv", lambda: open(sys.argv[2] + "/probe", "w").close())
out["user"] = os.getuid()
print(json.dumps(out))
"""

# What a probe does not take over from the unit: how it runs, and what it shares with the
# running service (its runtime folder, which ends with the probe; its user's IPC).
NOT_PROBED = {
    "Type", "NotifyAccess", "ExecStart", "ExecReload", "WatchdogSec", "Restart", "RestartSec",
    "RuntimeDirectory", "RuntimeDirectoryMode", "RemoveIPC", "StartLimitIntervalSec",
    "StartLimitBurst",
}  # fmt: skip


def probe(name: str, port: int, without: set[str] = frozenset()) -> dict:
    """The unit's own sandbox (less the settings ``without``) around PROBE_CODE."""
    kept = [
        line
        for line in INSTALLED.read_text().splitlines()
        if line.split("=", 1)[0] not in NOT_PROBED | without
    ]
    out = Path(f"/run/bedside-probe-{name}.json")
    out.unlink(missing_ok=True)
    service = "\n".join(kept).replace(
        "[Service]",
        f"[Service]\nType=oneshot\nExecStart=/usr/bin/python3 {PROBE} {port} {OPEN_FOLDER}\n"
        f"StandardOutput=file:{out}\n",
    )
    unit = f"bedside-probe-{name}.service"
    Path("/etc/systemd/system", unit).write_text(service)
    daemon_reload()
    try:
        run("systemctl", "start", unit, timeout=60)
        return json.loads(out.read_text())
    finally:
        Path("/etc/systemd/system", unit).unlink()
        daemon_reload()


@pytest.fixture(scope="module")
def listener():
    """A TCP port on the container's lo, counting who got through."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            accepted.append(conn)
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1], accepted
    server.close()


@pytest.fixture(scope="module")
def probe_targets():
    PROBE.parent.mkdir(parents=True, exist_ok=True)
    PROBE.write_text(PROBE_CODE)
    # Open to the service's user, so only the sandbox can stand in the way.
    os.chmod("/dev/net/tun", 0o666)
    OPEN_FOLDER.mkdir(exist_ok=True)
    OPEN_FOLDER.chmod(0o1777)


def test_device_policy_is_enforced_not_only_configured(listener, probe_targets):
    port, _ = listener
    sandboxed = probe("sandbox", port)
    assert sandboxed["user"] != 0
    assert sandboxed["tun"] == "EPERM", sandboxed  # the cgroup's device program said no
    assert sandboxed["connect"] == "EAFNOSUPPORT", sandboxed  # RestrictAddressFamilies=AF_UNIX
    assert sandboxed["write_srv"] == "EROFS", sandboxed  # ProtectSystem=strict
    free = probe("devices", port, without={"DevicePolicy", "DeviceAllow", "ProtectSystem"})
    assert free["tun"] == "ok", free  # the same probe opens it without the device policy
    assert free["write_srv"] == "ok", free


def test_ip_address_deny_is_enforced_not_only_configured(listener, probe_targets):
    port, accepted = listener
    # Without PrivateNetwork= and the address families, IPAddressDeny=any alone must hold.
    network = {"PrivateNetwork", "RestrictAddressFamilies"}
    denied = probe("ipdeny", port, without=network)
    assert denied["connect"] in ("timeout", "EPERM"), denied
    assert not accepted
    allowed = probe("ipallow", port, without=network | {"IPAddressDeny"})
    assert allowed["connect"] == "ok", allowed
    wait_until(lambda: accepted, 5, "the listener sees the connection")


# -- speech under the sandbox ---------------------------------------------------------------------
def test_speech_is_synthesised_under_the_sandbox_into_an_empty_cache():
    run("systemctl", "stop", UNIT, timeout=30)
    for entry in VOICE_CACHE.glob("*"):
        entry.unlink()
    journal = Journal()
    restart_cleanly()

    def settled():
        first = sorted(p.name for p in VOICE_CACHE.iterdir())
        time.sleep(3)
        again = sorted(p.name for p in VOICE_CACHE.iterdir())
        done = first == again and first and not any(n.endswith(".tmp") for n in again)
        return again if done else None

    names = wait_until(settled, 180, "the voice cache filled and settled")
    wavs = [VOICE_CACHE / n for n in names if n.endswith(".wav")]
    assert len(wavs) >= 10, names
    modes = {oct(stat.S_IMODE(w.stat().st_mode)) for w in wavs}
    owners = {w.stat().st_uid for w in wavs}
    figure(f"voice cache under the sandbox: {len(wavs)} WAVs, modes {sorted(modes)}")
    with wave.open(str(wavs[0])) as w:
        assert w.getnframes() > w.getframerate() * 0.2
    assert owners == {int(run("id", "-u", "bedside").stdout)}
    assert modes == {"0o600"}, "UMask=0077: the cache is the service's own"
    problems = [line for line in journal.lines() if "WARNING" in line or "ERROR" in line]
    assert not problems, problems
    # espeak-ng's audio library reaches for PulseAudio; it must leave nothing in the home.
    assert not (STATE / ".config").exists(), list(STATE.rglob("*"))


# -- reload, kill, watchdog, stop -----------------------------------------------------------------
def test_reload_takes_a_good_configuration_and_keeps_running_on_a_broken_one():
    pid = main_pid()
    journal = Journal()
    run("systemctl", "reload", UNIT)
    journal.wait_for("configuration reloaded")
    original = SETTINGS.read_text()
    assert "contrast = 40" in original
    try:
        SETTINGS.write_text(original.replace("contrast = 40", "contrast = 300", 1))
        journal = Journal()
        run("systemctl", "reload", UNIT)
        lines = journal.wait_for("keeping the configuration already running")
        assert any("display.contrast" in line and "300" in line for line in lines), lines
    finally:
        SETTINGS.write_text(original)
    assert running() and main_pid() == pid
    journal = Journal()
    run("systemctl", "reload", UNIT)
    journal.wait_for("configuration reloaded")
    assert main_pid() == pid


def test_kill_9_is_restarted():
    restart_cleanly()
    before = show(UNIT, "MainPID", "NRestarts")
    journal = Journal()
    killed = time.monotonic()
    os.kill(int(before["MainPID"]), 9)
    wait_until(lambda: running(other_than=before["MainPID"]), 30, "a new, ready daemon")
    took = time.monotonic() - killed
    figure(f"kill -9 to ready again: {took:.1f} s (RestartSec={unit_value('RestartSec')})")
    assert took >= 4.5  # restarted by systemd after RestartSec=, not found running by chance
    assert int(prop("NRestarts")) == int(before["NRestarts"]) + 1
    assert any("status=9/KILL" in line for line in journal.lines()), journal.lines()


def test_a_stopped_daemon_is_killed_by_the_watchdog_and_restarted():
    path = dropin("watchdog", "[Service]\nWatchdogSec=2s\n")
    try:
        restart_cleanly()
        # Pings every second: the timestamp keeps moving, and the service stays up.
        seen = set()
        for _ in range(8):
            seen.add(prop("WatchdogTimestampMonotonic"))
            time.sleep(0.5)
        assert len(seen) >= 3, seen
        assert running()
        pid = main_pid()
        journal = Journal()
        stopped = time.monotonic()
        os.kill(pid, 19)  # SIGSTOP: alive, but its loop no longer runs
        journal.wait_for("Watchdog timeout", 15)
        wait_until(lambda: running(other_than=pid), 40, "a restarted daemon")
        figure(f"SIGSTOP to a new ready daemon via the watchdog (2 s): "
               f"{time.monotonic() - stopped:.1f} s")  # fmt: skip
    finally:
        path.unlink()
        daemon_reload()
        restart_cleanly()


def test_systemctl_stop_is_clean_and_quick():
    restart_cleanly()
    journal = Journal()
    began = time.monotonic()
    run("systemctl", "stop", UNIT, timeout=30)
    took = time.monotonic() - began
    s = show(UNIT, "ActiveState", "Result", "ExecMainStatus", "ExecMainCode")
    figure(f"systemctl stop: {took:.2f} s")
    assert (s["ActiveState"], s["Result"]) == ("inactive", "success"), s
    assert s["ExecMainStatus"] == "0", s
    lines = journal.lines()
    assert any("stopping:" in line for line in lines), lines
    assert not any("Killing" in line or "timed out" in line for line in lines), lines
    assert took < 2.5


def test_a_hopeless_crash_loop_reaches_the_start_limit_and_stays_failed():
    # Every start fails at once, as a daemon crashing at start-up would. (Drop-ins apply in
    # the order of their names: this one comes after mock-hardware.conf's ExecStart=.)
    path = dropin("zz-crash-loop", "[Service]\nExecStart=\nExecStart=/bin/false\n")
    try:
        run("systemctl", "reset-failed", UNIT, check=False)
        journal = Journal()
        began = time.monotonic()
        run("systemctl", "start", "--no-block", UNIT)
        burst = int(unit_value("StartLimitBurst"))
        journal.wait_for("Start request repeated too quickly", burst * 10 + 30)
        wait_until(lambda: prop("ActiveState") == "failed", 10, "the unit failed")
        figure(f"crash loop stopped by the start limit after {time.monotonic() - began:.0f} s")
        starts = [line for line in journal.lines() if line.startswith("Starting bedside")]
        assert len(starts) == burst, starts
        restarts = prop("NRestarts")
        assert int(restarts) == burst, restarts  # counting the restart that was refused
        time.sleep(12)  # more than two RestartSec=: nothing starts it again
        assert show(UNIT, "ActiveState", "NRestarts") == {
            "ActiveState": "failed",
            "NRestarts": restarts,
        }
        # A start by hand is refused too: the daemon is not even started.
        journal = Journal()
        assert run("systemctl", "start", UNIT, check=False).returncode != 0
        lines = journal.wait_for("Start request repeated too quickly", 10)
        assert not any(line.startswith("Starting bedside") for line in lines), lines
    finally:
        path.unlink()
        daemon_reload()  # (which also forgets the start count, as reset-failed does)


def test_make_install_again_keeps_edited_settings_and_runs_the_new_install():
    # Left failed at the start limit by the test before: reinstalling brings it back.
    pid = main_pid()
    original = SETTINGS.read_text()
    edited = original.replace("contrast = 40", "contrast = 8", 1)
    dist = SETTINGS.with_name(SETTINGS.name + ".dist")
    SETTINGS.write_text(edited)
    try:
        result = run("make", "--no-print-directory", "-C", str(SOURCE), "install", timeout=600)
        assert f"kept your {SETTINGS}" in result.stdout
        assert SETTINGS.read_text() == edited
        assert dist.read_text() == (SOURCE / "config" / "bedside.toml").read_text()
        assert running(other_than=pid)  # restarted: the new code runs
    finally:
        SETTINGS.write_text(original)
        dist.unlink(missing_ok=True)


def test_make_uninstall_removes_the_service_and_keeps_settings_and_history():
    history = STATE / "bedside.db"
    assert history.exists() and SETTINGS.exists()
    result = run("make", "--no-print-directory", "-C", str(SOURCE), "uninstall", timeout=120)
    assert "kept /etc/bedside" in result.stdout
    assert prop("LoadState") == "not-found"
    assert (
        not Path("/usr/local/bin/bedside").exists()
        and not Path("/usr/local/bin/bedside").is_symlink()
    )
    assert not Path("/opt/bedside").exists()
    assert run("id", "bedside", check=False).returncode != 0
    assert history.exists() and SETTINGS.exists()
