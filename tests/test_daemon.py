"""The daemon from outside, as systemd and a person see it: ``bedside run --mock-hardware``
under a real NOTIFY_SOCKET, driven by a script through gpiozero's MockPin, stopped by signals.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


class SystemdSocket:
    """The listening end of sd_notify, as systemd holds it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.messages: list[tuple[float, str]] = []

    def wait_for(self, field: str, timeout: float) -> float:
        """Seconds (monotonic) at which a datagram holding ``field`` arrived."""
        end = time.monotonic() + timeout
        for at, message in self.messages:
            if field in message.splitlines():
                return at
        while (left := end - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096).decode()
            except TimeoutError:
                break
            at = time.monotonic()
            self.messages.append((at, data))
            if field in data.splitlines():
                return at
        raise AssertionError(f"no {field} within {timeout} s; got {self.messages}")

    def drain(self) -> str:
        """Everything sent so far, as one text."""
        self.sock.setblocking(False)
        try:
            while True:
                self.messages.append((time.monotonic(), self.sock.recv(4096).decode()))
        except BlockingIOError:
            pass
        finally:
            self.sock.setblocking(True)
        return "\n".join(m for _, m in self.messages)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def systemd(tmp_path):
    sock = SystemdSocket(tmp_path / "notify")
    yield sock
    sock.close()


def start(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    environment = {
        **os.environ,
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    command = [sys.executable, "-m", "bedside", "run", "--mock-hardware"]
    command += ["--state-dir", str(tmp_path / "state"), *args]
    return subprocess.Popen(
        command,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def test_under_systemd_it_is_ready_pings_the_watchdog_reports_status_and_stops_on_sigterm(
    tmp_path, systemd
):
    started = time.monotonic()
    daemon = start(tmp_path, env={"NOTIFY_SOCKET": str(systemd.path), "WATCHDOG_USEC": "600000"})
    try:
        ready = systemd.wait_for("READY=1", timeout=10)
        assert "STATUS=menu: Bedtime" in _all(systemd)  # sent with READY=1
        print(f"READY=1 after {ready - started:.2f} s")  # the bar (1.5 s) is checked by the bench
        first = systemd.wait_for("WATCHDOG=1", timeout=2)
        systemd.messages = [m for m in systemd.messages if m[0] > first]
        second = systemd.wait_for("WATCHDOG=1", timeout=2)
        assert 0.2 < second - first < 1.0  # half of WATCHDOG_USEC (0.3 s), with room for a busy CI
        daemon.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        assert daemon.wait(timeout=5) == 0
        assert time.monotonic() - stopped < 2.0
        systemd.wait_for("STOPPING=1", timeout=1)
    finally:
        daemon.kill()
        _, err = daemon.communicate()
    assert "Traceback" not in err
    assert "stopping: SIGTERM" in err


def _all(systemd: SystemdSocket) -> str:
    return "\n".join(m for _, m in systemd.messages)


def test_a_scripted_run_drives_a_routine_end_to_end_through_the_mock_pin(tmp_path, systemd):
    script = tmp_path / "script.txt"
    # Start leg lifts' neighbour in the menu, start it, confirm the wait step, skip through.
    script.write_text("press\nwait 0.5\npress\nwait 0.5\nhold 1.2\nwait 0.3\nhold 1.2\nwait 1\n")
    daemon = start(
        tmp_path,
        "--routine",
        "legs-up-wall",
        "--script",
        str(script),
        "--trace",
        env={"NOTIFY_SOCKET": str(systemd.path)},
    )
    out, err = daemon.communicate(timeout=60)
    assert daemon.returncode == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    kinds = [(e["type"], e.get("state") or e.get("gesture") or e.get("index")) for e in events]
    assert ("state", "menu") in kinds
    steps = [e["index"] for e in events if e["type"] == "step"]
    assert steps == [0, 1, 2]
    finished = [e for e in events if e["type"] == "finished"]
    began = next(e["t"] for e in events if e["type"] == "state" and e["state"] == "awaiting")
    minutes = round((finished[0]["t"] - began) / 60, 1)  # as the history keeps it
    assert finished == [
        {
            "t": finished[0]["t"],
            "type": "finished",
            "routine": "legs-up-wall",
            "completed": True,
            "minutes": minutes,
        }
    ]
    gestures = [e["gesture"] for e in events if e["type"] == "gesture"]
    assert gestures == ["press", "press", "hold", "hold"]
    assert any(e["type"] == "say" for e in events)
    times = [e["t"] for e in events]
    assert times == sorted(times)
    statuses = systemd.drain()
    assert "STATUS=Legs up the wall: step 2/3 Legs up the wall" in statuses
    assert "script done" in err


def test_sighup_with_a_broken_config_keeps_the_old_one_and_logs_every_problem(tmp_path):
    from faults import Daemon, quiet_config

    config = quiet_config(tmp_path / "config")
    daemon = Daemon(tmp_path / "state", config, "wait 60\n")
    daemon.wait_for(lambda e: e["type"] == "screen")
    text = config.read_text()
    config.write_text(
        text.replace("contrast = 40", "contrast = 300").replace("pin = 17", "pin = 99")
    )
    daemon.process.send_signal(signal.SIGHUP)
    # the daemon's own word that it is done, not a sleep and a hope
    daemon.wait_for_log("reload: keeping the configuration already running")
    config.write_text(text.replace("contrast = 40", "contrast = 12"))
    daemon.process.send_signal(signal.SIGHUP)
    daemon.wait_for_log("configuration reloaded")
    shown = daemon.wait_for(lambda e: e["type"] == "display" and e["contrast"] == 12)
    assert shown["on"] is True
    daemon.stop(signal.SIGTERM)
    assert daemon.finish(timeout=5) == 0
    err = daemon.stderr
    assert "display.contrast: expected a whole number from 0 to 255, found 300" in err
    assert "button.pin: expected a whole number from 0 to 27, found 99" in err
    assert "Traceback" not in err


def test_a_reload_during_a_session_waits_for_the_menu(tmp_path):
    """As the README promises: a session already running finishes as it began; the new
    settings take over at the menu."""
    from faults import Daemon, quiet_config

    config = quiet_config(tmp_path / "config")
    routine = config.parent / "routines" / "legs-up-wall.toml"
    script = "press\nwait 0.5\npress\nwait 3\nhold 1.5\nwait 1\nhold 1.5\nwait 1\npress\nwait 1\n"
    script += "press\nwait 0.5\npress\nwait 0.5\nhold 1.5\nwait 1\n"  # the next session, to step 3
    daemon = Daemon(tmp_path / "state", config, script, "--routine", "legs-up-wall", speed=2)
    daemon.wait_for(lambda e: e["type"] == "step" and e["index"] == 1)
    routine.write_text(routine.read_text().replace('title = "Coming down"', 'title = "Down"'))
    daemon.process.send_signal(signal.SIGHUP)
    daemon.wait_for_log("reload: read; it takes over at the menu")
    assert daemon.finish() == 0, daemon.stderr
    titles = [e["title"] for e in daemon.of("step")]
    assert titles[:3] == ["Lie down by a wall", "Legs up the wall", "Coming down"]
    assert "configuration reloaded" in daemon.stderr  # once back at the menu
    assert titles[3:] == ["Lie down by a wall", "Legs up the wall", "Down"]  # and it holds


def test_script_without_mock_hardware_is_a_usage_error(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bedside", "run", "--script", "x.txt"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert "--mock-hardware" in result.stderr and "Traceback" not in result.stderr


def test_a_display_only_device_runs_a_routine_without_any_voice(tmp_path):
    config_dir = tmp_path / "config"
    shutil.copytree(ROOT / "config", config_dir)
    config = config_dir / "bedside.toml"
    config.write_text(
        config.read_text().replace("[voice]\nenabled = true", "[voice]\nenabled = false")
    )
    assert "[voice]\nenabled = false" in config.read_text()
    script = tmp_path / "script.txt"
    script.write_text("press\nwait 0.3\npress\nwait 1.5\nhold 1.2\nwait 0.3\nhold 1.2\nwait 0.5\n")
    daemon = start(
        tmp_path,
        "--config",
        str(config),
        "--routine",
        "legs-up-wall",
        "--script",
        str(script),
        "--trace",
    )
    out, err = daemon.communicate(timeout=60)
    assert daemon.returncode == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    assert [e["index"] for e in events if e["type"] == "step"] == [0, 1, 2]
    assert any(e["type"] == "screen" and "Legs up the wall" in e["lines"] for e in events)
    assert not (tmp_path / "cache" / "bedside" / "voice").exists() or not any(
        (tmp_path / "cache" / "bedside" / "voice").iterdir()
    )  # nothing synthesised
    assert "Traceback" not in err


def test_a_signal_caught_by_another_thread_still_stops_the_daemon_at_once(tmp_path):
    # The kernel may deliver SIGTERM to any thread; the main thread, asleep on its queue with
    # no deadline for a minute, must wake for it all the same.
    import threading

    from bedside.app.assembly import Driver, mock_parts
    from bedside.app.daemon import Options, run

    sent: list[float] = []

    def other_thread() -> None:  # the signal is delivered to this thread, not the main one
        time.sleep(1.0)
        sent.append(time.monotonic())
        signal.pthread_kill(threading.get_ident(), signal.SIGTERM)

    def build(config, state_dir, events):
        parts, _ = mock_parts(config, state_dir, events, cache=tmp_path / "cache")
        return parts.watched_by(Driver(other_thread))

    assert run(Options(state_dir=tmp_path / "state"), build) == 0
    assert sent and time.monotonic() - sent[0] < 2.0
