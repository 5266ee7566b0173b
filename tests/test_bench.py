"""``make bench`` runs and writes every figure; the figures themselves are for the bench to
report, not for tests to assert (these machines are noisy)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

KEYS = {
    "display_bytes_ratio",
    "display_bytes_ratio_to_floor",
    "display_bytes_floor",
    "display_cpu_ms_per_frame",
    "display_cpu_ms_per_frame_stock",
    "display_sh1106_bytes_ratio",
    "display_sh1106_bytes_stock",
    "display_sh1106_cpu_ms_per_frame_stock",
    "press_to_frame_ms_p50",
    "press_to_frame_ms_p99",
    "idle_cpu_percent",
    "idle_cpu_percent_polling_reference",
    "running_cpu_percent",
    "timer_error_ms_max",
    "timer_error_ms_max_sleeping_reference",
    "cue_latency_ms_p50",
    "cue_latency_ms_p50_pyttsx3_say",
    "cue_latency_ratio",
    "startup_s",
    "rss_mb",
    "simulate_s_per_hour",
    "pacer_cpu_percent",
    "pacer_bytes_per_s",
    "voice_piper_cue_latency_ms_p50",
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


def test_the_bench_runs_and_writes_every_figure(tmp_path):
    results = ROOT / "bench" / "results.json"
    kept = results.read_bytes() if results.exists() else None
    try:
        result = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "bench.py")],
            env={**os.environ, "BENCH_QUICK": "1", "XDG_CACHE_HOME": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=600,
            cwd=ROOT,
        )
        assert result.returncode == 0, result.stderr
        figures = json.loads(results.read_text())
        assert set(figures) >= KEYS
        assert all(isinstance(figures[k], int | float) and figures[k] >= 0 for k in KEYS)
        for key in KEYS:
            assert key in result.stdout  # the table shows what the file holds
    finally:
        if kept is not None:  # a full run's figures are not replaced by the quick ones
            results.write_bytes(kept)
