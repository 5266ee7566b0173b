"""Shared fixtures: the shipped configuration, and a private copy of it to break."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

# Hypothesis times each example against a deadline on the wall clock, which a loaded machine
# (the suite beside stress-ng, or the other tests) stalls now and then for a second: an example
# of a pure rule then "exceeds" 200 ms it never used. These properties promise nothing about
# speed (the bench measures that), so no deadline; everything else is Hypothesis's default.
settings.register_profile("bedside", deadline=None)
settings.load_profile("bedside")

REPO = Path(__file__).resolve().parent.parent
SHIPPED_CONFIG = REPO / "config" / "bedside.toml"


@pytest.fixture(autouse=True)
def own_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test (and every process it starts) has a home of its own: nothing reads or
    writes the real ~/.local/state/bedside or ~/.cache/bedside."""
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
    for name in ("STATE_DIRECTORY", "CACHE_DIRECTORY", "XDG_CACHE_HOME", "BEDSIDE_CONFIG"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def shipped_config() -> Path:
    """The repository's own config/bedside.toml (read it, never write it)."""
    return SHIPPED_CONFIG


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    """bedside.toml and routines/ copied into tmp_path/config; returns the bedside.toml path."""
    folder = tmp_path / "config"
    folder.mkdir()
    shutil.copy(SHIPPED_CONFIG, folder / "bedside.toml")
    shutil.copytree(SHIPPED_CONFIG.parent / "routines", folder / "routines")
    return folder / "bedside.toml"


# Under qemu-user (make test-arm64 sets BEDSIDE_EMULATOR), every instruction is emulated: what
# measures real time against the emulator's slowness, or runs a neural network, is left to the
# x86 suite and to a real Pi. Each such test is skipped there alone, and says why.
EMULATED = os.environ.get("BEDSIDE_EMULATOR") == "qemu-user"
_PIPER = (
    "Piper's neural voice, emulated instruction by instruction, takes tens of minutes;"
    " it is tested on x86 in make test"
)
_FAST = (
    "the real daemon run 10 to 20 times fast presses for milliseconds, which under emulation"
    " it cannot tell apart; make test runs it"
)
_PROMPT = (
    "how soon a sound asked for now is heard (a block, 25 ms, the daemon's reaction to a"
    " press) is the stage's and the daemon's speed, which under emulation is qemu's, several"
    " times a Pi's; make test and make test-vm (a real kernel's card) measure it"
)
NOT_UNDER_EMULATION = {  # a part of a test's node id: why it is left out there
    "piper": _PIPER,
    "one_loudness_per_engine_and_between_engines": _PIPER,
    "both_engines": _PIPER,
    "sigterm_during_a_render": _PIPER,
    "test_faults.py": "the cut-and-restart suite times the real daemon at 10 to 40 times"
    " speed, which under emulation measures qemu; it runs in make test and make soak",
    "test_bench.py": "the bench measures speed (Piper's among it), which under emulation is"
    " qemu's; make bench runs on the machine it measures",
    "the_daemon_keeps_the_hold": _FAST,
    "history_at_speed": _FAST,
    "test_layers.py": "the layers and the types are the source's, not the platform's: make test"
    " checks them (lint-imports and mypy, from the dev extra, which is not installed here)",
    "reload_during_a_session": _FAST,
    "test_cpu_while_a_soundscape": "the stage's share of a core, which under emulation is"
    " qemu's (5.5 %, against 1.2 % on this machine); make test and make bench measure it",
    "asked_now_is_not_behind": _PROMPT,
    "asked_for_now_is_not_behind": _PROMPT,
    "wake_opens_the_output": _PROMPT,
    "pause_silences_speech": _PROMPT,
    "press_makes_due": _PROMPT,
    "pause_takes_back_a_cue": _PROMPT,
    "test_clock_history.py": _FAST,
    "a_block_of_mixing_costs_little": "the mixer's CPU time, which under emulation is qemu's;"
    " make test and make bench measure it",
    "a_stage_flooding_one_endless_line": "200 MB through a pipe, emulated instruction by"
    " instruction, takes minutes; the bound is the same Python on x86, where make test runs it",
    "a_stages_end_heard_late": "its case is a cue sent to a new stage within the half second"
    " an old stage's end is held back: the daemon's threads against the clock, which under"
    " emulation are qemu's; make test runs it",
    "test_times_of_day.py": "the tests it runs again at 02:06 and 14:06 under libfaketime run"
    " here at the time it is; which nights they mean is the source's, not the platform's",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not EMULATED:
        return
    for item in items:
        for marker, why in NOT_UNDER_EMULATION.items():
            if marker in item.nodeid.lower():
                item.add_marker(pytest.mark.skip(reason=f"under emulation: {why}"))


# make test runs on four workers (pytest-xdist): most of the suite waits on real processes and
# real time rather than computing, so two cores keep four busy. What times a real process in real
# seconds (the daemon at speed, a latency, a deadline) keeps to a lane of its own, one test at a
# time as it always ran; the lanes run beside each other, and every such test holds to its
# timings under load (make test is proven green with stress-ng beside it). What only computes
# shares the other workers. The voices rendered once a session (test_voice_render's render_all)
# are one unit too, so that they are rendered once.
LANES = [  # (a part of a test's node id, its lane; None: shared), the first that matches
    *(
        (part, None)  # in the files below, but timing nothing real (virtual time, files, usage)
        for part in (
            "test_soak.py::test_twelve_simulated_hours",
            "test_faults.py::test_a_config_written_to_hurt_is_refused",
            "test_faults.py::test_rows_and_tables",
            "test_faults.py::test_a_current_table_of_another_shape",
            "test_faults.py::test_a_session_saved_by_the_earlier_schema",
            "test_faults.py::test_a_file_named_as_a_folder",
            "test_faults.py::test_a_state_folder_in_proc",
            "test_faults.py::test_history_",
            "test_faults.py::test_signals_while_the_devices_open",
            "test_faults.py::test_simulate_at_the_edge",
            "test_faults.py::test_a_huge_script_line",
            "test_faults.py::test_run_without_gpio",
            "test_faults.py::test_progress_of_the_right_shape",
        )
    ),
    ("test_stage_link.py::test_a_stages_end_heard_late", "real time: voice"),
    ("test_voice_render.py::test_a_render_that_makes_no_progress", "real time: voice"),
    ("test_voice_render.py::test_close_kills_a_render_at_once", "real time: voice"),
    ("test_voice_render.py::test_a_render_child_that_floods", "real time: voice"),
    ("test_voice_render.py", "voices"),
    *(
        (part, f"real time: {lane}")
        for part, lane in (
            ("test_faults.py", "cuts"),
            ("test_reliability.py::test_kill_9", "cuts"),
            ("test_soak.py", "soak"),
            ("test_voice.py", "voice"),
            ("test_voice_daemon.py", "voice"),
            ("test_sound_in_the_daemon.py", "voice"),
            ("test_button.py", "daemon"),
            ("test_clocks.py", "daemon"),
            ("test_daemon.py", "daemon"),
            ("test_demo.py", "daemon"),
            ("test_hold.py::test_the_daemon_keeps_the_hold", "daemon"),
            ("test_new_user.py::test_history_at_speed", "daemon"),
            ("test_flaky_bus.py::test_the_daemon", "daemon"),
            # The stage as a real child, timed at a card made of the clock (its onsets, its
            # pre-roll, its wake-ups and its CPU while a soundscape plays).
            ("sound/test_stage.py", "stage"),
        )
    ),
]


def lane_of(nodeid: str) -> str | None:
    return next((lane for part, lane in LANES if part in nodeid), None)


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist's, when it runs the suite
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """Each lane one unit of work (one worker, in order); every other test a unit of its own.
    Not xdist_group marks: --dist loadgroup finds them in rewritten node ids, which pytest 9.2
    no longer lets it rewrite (pytest-xdist issue 1386), so they are silently ignored."""
    if config.getvalue("dist") != "load":  # another distribution, asked for by name
        return None
    from xdist.scheduler import LoadScopeScheduling

    class Lanes(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return lane_of(nodeid) or nodeid

    return Lanes(config, log)
