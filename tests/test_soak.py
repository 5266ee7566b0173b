"""Soak: twelve simulated hours of random gestures through the behaviour and the drawing, and a
real-time run of the daemon on mock hardware with random presses and injected device faults.

The real-time run lasts ``BEDSIDE_SOAK_SECONDS`` (15 in ``make test``, 600 in ``make soak``),
its clock at twice speed: a gesture about every 0.5 s and, on a thread of their own, a panel or
player fault about every 0.45 s, so 15 s hold more of both than a minute at a person's pace."""

from __future__ import annotations

import os
import random
import threading
import time
import tracemalloc
from dataclasses import replace
from pathlib import Path

from bedside.app.assembly import Driver, MockControls, Parts, mock_parts
from bedside.app.daemon import Options, run
from bedside.app.events import Stop
from bedside.config import core_terms
from bedside.config.core_terms import defaults
from bedside.config.load import load_config
from bedside.core.behaviour import Behaviour, ScreenChanged
from bedside.core.gestures import Thresholds
from bedside.core.state import Mode
from bedside.display.picture import picture
from bedside.voice import Speaker

CONFIG = load_config()
SPEED = 2.0  # the daemon's clock runs twice as fast: twice the gestures and steps a second


def test_twelve_simulated_hours_of_random_gestures():
    rng = random.Random(2026)
    fixed = replace(CONFIG, hold=replace(CONFIG.hold, grow=False))  # the files' own lengths
    behaviour = Behaviour(core_terms.settings(fixed), defaults(Thresholds), now=0.0)
    t, frames, sessions = 0.0, 0, 0
    tracemalloc.start()
    baseline = None
    while t < 12 * 3600:
        roll = rng.random()
        if roll < 0.6:
            t += rng.expovariate(1 / 120)
            behaviour.advance(t)
        else:
            held = rng.choice([0.1, 0.3, 1.5, 2.5, 3.5, 40.0])
            behaviour.edge(True, t)
            t += held
            behaviour.edge(False, t)
            t += 0.1  # the finger lifts: a press taken once let go for the bounce time
            behaviour.advance(t)
        for _, output in behaviour.take():
            if isinstance(output, ScreenChanged):
                image = picture(output.screen)
                assert image.size == (128, 64)
                frames += 1
        state = behaviour.state
        if state.mode is Mode.FINISHED:
            sessions += 1
        if state.step is not None:
            assert 0 <= state.step_index < len(state.routine.steps)
            left = state.remaining(t)
            assert left is None or left >= 0
        assert not behaviour.pending
        if baseline is None and t > 6 * 3600:
            baseline = tracemalloc.get_traced_memory()[0]
    used = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert frames > 2_000 and sessions > 10
    # Nothing accumulates over the night: the drawing's text caches are bounded (LRU, 4096
    # entries) and by now mostly full.
    assert used < baseline + 1024 * 1024, (baseline, used)


def sample() -> dict[str, float]:
    status = Path("/proc/self/status").read_text()
    rss_kb = int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1])
    return {
        "threads": threading.active_count(),
        "fds": len(os.listdir("/proc/self/fd")),
        "rss_mb": rss_kb / 1024,
    }


def settled(start: dict[str, float], timeout: float) -> dict[str, float]:
    """A sample once threads and file descriptors are back to ``start`` (players and timers
    end a moment after the silence), or the last one taken when ``timeout`` runs out."""
    end = time.monotonic() + timeout
    while True:
        now = sample()
        if (now["threads"], now["fds"]) == (start["threads"], start["fds"]):
            return now
        if time.monotonic() > end:
            return now
        time.sleep(0.1)


def test_the_daemon_in_real_time_with_random_presses_and_device_faults(tmp_path, caplog):
    seconds = float(os.environ.get("BEDSIDE_SOAK_SECONDS", "15"))
    found: dict[str, object] = {"queue": 0, "faults": 0, "gestures": 0}

    def drive(parts: Parts, controls: MockControls) -> None:
        pin, serial, voice = controls.pin, controls.serial, parts.voice
        assert isinstance(voice, Speaker)
        rng = random.Random(7)

        def unplugged() -> None:
            raise OSError(121, "Remote I/O error")

        def press(held: float) -> None:  # held: seconds on the daemon's clock
            pin.drive_low()
            time.sleep(held / SPEED)
            pin.drive_high()
            found["gestures"] += 1

        def faults(end: float) -> None:  # meanwhile, often in the middle of a gesture
            while time.monotonic() < end:
                if rng.random() < 0.5:
                    serial.fail = unplugged if serial.fail is None else None
                elif unplugged_speaker.exists():
                    unplugged_speaker.unlink()
                else:
                    unplugged_speaker.touch()
                found["faults"] += 1
                time.sleep(faulty.uniform(0.1, 0.8))

        voice.wait_until_idle(120)  # start-up, with every cue synthesised
        time.sleep(1.0)
        found["start"] = sample()
        end = time.monotonic() + seconds
        faulty = random.Random(11)
        breaker = threading.Thread(target=faults, args=(end,), name="soak-faults")
        breaker.start()
        while time.monotonic() < end:
            roll = rng.random()
            if roll < 0.6:
                press(0.1)
            elif roll < 0.9:
                press(rng.uniform(1.1, 2.5))
            else:
                press(3.3)
            found["queue"] = max(found["queue"], parts.events.qsize())
            time.sleep(rng.uniform(0.05, 1.0) / SPEED)
        breaker.join()
        serial.fail = None
        unplugged_speaker.unlink(missing_ok=True)
        press(3.3)  # end any session, so the end state is like the start
        time.sleep(1.0)
        voice.silence()
        voice.wait_until_idle(30)
        found["end"] = settled(found["start"], timeout=10)
        parts.events.put(Stop("soak done"))

    # The output is passed in: the stage's card made of the clock, which will not open while
    # the speaker is "unplugged" (the flag file exists).
    unplugged_speaker = tmp_path / "unplugged"
    output = f"fake:unplugged={unplugged_speaker}"

    def build(config, state_dir, events) -> Parts:
        parts, controls = mock_parts(
            config, state_dir, events, speed=SPEED, cache=tmp_path / "cache", output=output
        )
        return parts.watched_by(Driver(drive, parts, controls, name="soak-driver"))

    assert run(Options(state_dir=tmp_path / "state"), build) == 0
    start, end = found["start"], found["end"]
    print(
        f"soak {seconds:.0f} s: {found['gestures']} gestures, {found['faults']} faults,"
        f" start {start}, end {end}, queue max {found['queue']}"
    )
    assert found["faults"] >= seconds / 2 and found["gestures"] >= seconds
    # The faults took: the daemon saw the panel go and come back, and the output fail.
    assert "display not answering" in caplog.text and "answering again" in caplog.text
    assert "the sound output: " in caplog.text and "the speaker is unplugged" in caplog.text
    assert end["threads"] == start["threads"]
    assert end["fds"] == start["fds"]
    assert end["rss_mb"] < start["rss_mb"] + 8
    assert found["queue"] <= 8  # the loop keeps up: edges never pile up
