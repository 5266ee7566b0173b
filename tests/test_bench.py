"""``make bench`` runs, writes every figure with the machine it ran on, and judges them: exit 1
naming each figure that misses its bar, 0 when none does. The figures themselves are for the
bench to report, not for tests to assert (these machines are noisy), so the quick run may pass
or miss; what is checked is that its verdict agrees with its own figures."""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench():
    """bench/bench.py, loaded from beside the tests when a test asks for it: it is a script,
    not part of the package, and the suite may run from anywhere (make test-arm64 runs it
    against the installed bedside, and leaves these tests out)."""
    spec = importlib.util.spec_from_file_location("bench_script", ROOT / "bench" / "bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


REPO_RESULTS = ROOT / "bench" / "results.json"

KEYS = {
    "display_bytes_ratio",
    "display_bytes_ratio_to_floor",
    "display_bytes_floor",
    "display_cpu_ms_per_frame",
    "display_cpu_ms_per_frame_stock",
    "display_transactions_per_frame",
    "display_transactions_per_frame_stock",
    "display_bus_ms_per_frame",
    "display_bus_ms_per_frame_with_transactions",
    "display_bus_ms_per_frame_with_transactions_stock",
    "display_bus_ratio_with_transactions",
    "display_sh1106_bytes_ratio",
    "display_sh1106_bytes_stock",
    "display_sh1106_cpu_ms_per_frame_stock",
    "display_sh1106_transactions_per_frame_stock",
    "display_sh1106_bus_ratio_with_transactions",
    "press_to_frame_ms_p50",
    "press_to_frame_ms_p99",
    "press_to_frame_ms_p50_polling_reference",
    "press_to_frame_ms_p99_polling_reference",
    "idle_cpu_percent",
    "idle_cpu_percent_polling_reference",
    "idle_wakeups_per_s",
    "idle_wakeups_per_s_polling_reference",
    "running_cpu_percent",
    "running_wakeups_per_s",
    "timer_error_ms_max",
    "timer_error_ms_max_sleeping_reference",
    "timer_error_ms_max_deadline_reference",
    "cue_latency_ms_p50",
    "cue_latency_ms_p50_pyttsx3_say",
    "cue_latency_ratio",
    "startup_s",
    "rss_mb",
    "simulate_s_per_hour",
    "pacer_cpu_percent",
    "pacer_wakeups_per_s",
    "pacer_bytes_per_s",
    "pacer_transactions_per_s",
    "pacer_bus_percent_with_transactions",
    "voice_piper_cue_latency_ms_p50",
    "sound_cue_start_ms_p50",
    "sound_cue_start_ms_p99",
    "sound_cue_asked_at_due_ms",
    "soundscape_cpu_percent",
    "premixed_writer_cpu_percent",
    "stage_idle_wakeups_per_s",
    "stage_card_underruns",
    *(
        f"voice_{engine}_{figure}"
        for engine in ("pyttsx3", "piper")
        for figure in (
            "render_s",
            "real_time_factor",
            "daemon_rss_mb",
            "render_child_rss_mb",
            "loudness_spread_db",
            "trailing_silence_ms_max",
        )
    ),
}


def state_of(path: Path) -> tuple[bytes, int] | None:
    return (path.read_bytes(), path.stat().st_mtime_ns) if path.exists() else None


def test_the_bench_runs_writes_every_figure_and_its_verdict_agrees(bench, tmp_path):
    before = state_of(REPO_RESULTS)
    out = tmp_path / "results.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench.py")],
        env={
            **os.environ,
            "BENCH_QUICK": "1",
            "BENCH_RESULTS": str(out),
            "XDG_CACHE_HOME": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    # The repository's own results (a full run's, or none) are neither made nor touched.
    assert state_of(REPO_RESULTS) == before
    assert result.returncode in (0, 1), result.stderr
    written = json.loads(out.read_text())
    assert set(written) >= KEYS
    assert all(isinstance(written[k], int | float) and written[k] >= 0 for k in KEYS)
    for key in KEYS:
        assert key in result.stdout  # the table shows what the file holds
    assert written["quick"] is True

    host = written["machine"]
    assert host["cpu"] and host["cpu"] != "unknown"
    assert host["cores"] == os.cpu_count() and host["cores"] >= 1
    assert host["python"] == f"{platform.python_implementation()} {platform.python_version()}"
    assert host["kernel"] == os.uname().release
    assert host["architecture"] == platform.machine()

    # The verdict is the bars applied to the figures written: exit 1 and a line for each miss.
    misses = bench.missed(written, bench.BARS)
    assert result.returncode == (1 if misses else 0), result.stdout
    for line in misses:
        assert f"  {line}\n" in result.stdout
    if not misses:
        assert "every figure within its bar" in result.stdout


FIGURES = {"idle_wakeups_per_s": 0.05, "display_bytes_ratio": 0.09, "speed": 40.0}
BARS = {
    "idle_wakeups_per_s": ("<=", 0.2),
    "display_bytes_ratio": ("<=", 0.15),
    "speed": (">=", 30.0),
}


def test_figures_within_their_bars_exit_0(bench, tmp_path, capsys):
    path = tmp_path / "results.json"
    assert bench.report(dict(FIGURES), BARS, path) == 0
    printed = capsys.readouterr().out
    assert "every figure within its bar" in printed
    assert "MISSED" not in printed
    assert json.loads(path.read_text())["idle_wakeups_per_s"] == 0.05


def test_a_figure_over_its_bar_exits_1_and_is_named_with_its_value_and_bar(bench, tmp_path, capsys):
    figures = {**FIGURES, "idle_wakeups_per_s": 10.2}
    assert bench.report(figures, BARS, tmp_path / "results.json") == 1
    printed = capsys.readouterr().out
    assert "1 figure(s) missed the bar:\n  idle_wakeups_per_s: 10.200, bar <= 0.2\n" in printed
    assert "display_bytes_ratio:" not in printed.split("missed the bar:")[1]


def test_every_miss_is_named_a_bar_from_below_and_a_figure_never_measured_too(
    bench, tmp_path, capsys
):
    figures = {"idle_wakeups_per_s": 0.2000001, "speed": 29.9}  # display_bytes_ratio is absent
    assert bench.report(figures, BARS, tmp_path / "results.json") == 1
    tail = capsys.readouterr().out.split("missed the bar:")[1]
    assert "idle_wakeups_per_s: 0.200, bar <= 0.2" in tail
    assert "speed: 29.900, bar >= 30" in tail
    assert "display_bytes_ratio: not measured (bar <= 0.15)" in tail
    assert bench.missed({"idle_wakeups_per_s": 0.2}, {"idle_wakeups_per_s": ("<=", 0.2)}) == []


def test_the_machine_is_written_beside_the_figures(bench, tmp_path, capsys):
    path = tmp_path / "results.json"
    bench.report(dict(FIGURES), BARS, path)
    written = json.loads(path.read_text())
    assert {"cpu", "cores", "python", "kernel"} <= set(written["machine"])
    assert written["machine"]["cpu"] in Path("/proc/cpuinfo").read_text()
    assert f"{written['machine']['cores']} cores" in capsys.readouterr().out


def test_transactions_are_counted_as_lumas_i2c_makes_them(bench):
    """The bus model's transactions: one a command() or data() call of luma's real devices."""
    from luma.oled.device import sh1106, ssd1306
    from PIL import Image

    from bedside.display.recording_bus import RecordingSerial

    frame = Image.new("1", (128, 64), 1)
    for device, driver, per_frame in ((ssd1306, "ssd1306", 2), (sh1106, "sh1106", 16)):
        serial = RecordingSerial(driver=driver)
        panel = device(serial)
        before, sent = serial.transactions, serial.bytes_sent
        panel.display(frame)
        # ssd1306: the window (6 command bytes), then the frame; sh1106: a page at a time.
        assert serial.transactions - before == per_frame, driver
        framed = bench.i2c_seconds(serial.bytes_sent - sent, per_frame)
        assert framed > bench.i2c_seconds(serial.bytes_sent - sent) > 0.02  # 23 ms a frame
