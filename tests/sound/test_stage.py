"""The stage as a real child process, measured at its output: a card made of the clock (which
can drop its first 300 ms, as I2S amplifiers and sleepy USB speakers do) records every frame
with the time it was heard. And ALSA itself, through its null device. What reaches a real
kernel's card (snd-aloop's loopback, recorded) is measured by ``make test-vm``, which has one:
tests/vm/guest/test_sound.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from bedside.sound import chimes, soundscapes
from bedside.sound.alsa import LATENCY
from bedside.sound.wavfile import read_wav, write_wav

from .needs import missing
from .stagekit import R, StageProcess, burst, detector_delay, onsets


@pytest.fixture
def sounds(tmp_path: Path) -> dict[str, Path]:
    write_wav(tmp_path / "chime.wav", chimes.chime("step", R, -28.0), R)
    write_wav(tmp_path / "brown.wav", soundscapes.synthesise("brown", R, 2, 10.0, -20.0), R)
    return {
        "cue": burst(tmp_path / "cue.wav"),
        "chime": tmp_path / "chime.wav",
        "brown": tmp_path / "brown.wav",
    }


def heard_at(stretch: dict, frame: int) -> float:
    return stretch["start"] + frame / stretch["rate"]


def test_ready_names_the_format(tmp_path: Path) -> None:
    stage = StageProcess(tmp_path)
    assert stage.ready["rate"] == 48000 and stage.ready["channels"] == 2
    assert stage.quit() == 0


@pytest.mark.parametrize("ahead", [1.0, 0.0])
def test_preroll_saves_the_first_syllable_from_a_card_that_drops_300ms(
    tmp_path: Path, sounds: dict, ahead: float
) -> None:
    """Asked ahead, or asked for now with the output closed: either way the cue reaches the card
    whole (the card loses only the pre-roll's silence)."""
    stage = StageProcess(tmp_path, "--preroll", "0.5", drop=0.3)
    stage.send(type="cue", file=str(sounds["cue"]), at=time.monotonic() + ahead, text="one")
    stage.wait_for(lambda m: m["type"] == "output" and not m["open"], 10)
    assert stage.quit() == 0
    (stretch,) = stage.capture_stretches()
    played = stretch["samples"][:, 0]
    cue, _ = read_wav(sounds["cue"])
    start = onsets(played)[0] - detector_delay()
    heard = played[start : start + len(cue)]
    assert np.max(np.abs(heard - cue[:, 0])) < 1e-4  # every frame of it, the first included
    assert start >= int(0.3 * R)


def test_without_preroll_the_same_card_eats_the_start(tmp_path: Path, sounds: dict) -> None:
    """The control: pre-roll 0 on a card that drops 500 ms (more than the 200 ms the output
    buffers before anything is placed), and the cue's start is gone."""
    stage = StageProcess(tmp_path, "--preroll", "0", drop=0.5)
    stage.send(type="cue", file=str(sounds["cue"]), text="one")
    stage.wait_for(lambda m: m["type"] == "output" and not m["open"], 10)
    stage.quit()
    (stretch,) = stage.capture_stretches()
    cue, _ = read_wav(sounds["cue"])
    played = stretch["samples"][:, 0]
    assert np.sum(played**2) < 0.8 * np.sum(cue**2)  # a third or more of it never sounded


def test_the_stream_starts_and_ends_in_silence_and_closes(tmp_path: Path, sounds: dict) -> None:
    stage = StageProcess(tmp_path, "--linger", "0.3")
    now = time.monotonic()
    stage.send(type="soundscape", file=str(sounds["brown"]), at=now + 1.0, fade=0.5, name="brown")
    stage.send(type="cue", file=str(sounds["cue"]), at=now + 1.9, text="one")
    stage.send(type="soundscape", off=True, at=now + 2.9, fade=0.5)
    closed = stage.wait_for(lambda m: m["type"] == "output" and not m["open"], 10)
    opened = next(m for m in stage.lines if m["type"] == "output" and m["open"])
    assert stage.quit() == 0
    (stretch,) = stage.capture_stretches()
    x = stretch["samples"]
    assert np.all(x[: int(0.4 * R)] == 0.0)  # the pre-roll: silence
    assert np.all(x[-int(0.25 * R) :] == 0.0)  # the linger: silence
    # No step anywhere beyond the 3 kHz cue's own (0.3 * 2 pi * 3000 / 48000 = 0.118).
    assert np.max(np.abs(np.diff(x[:, 0]))) < 0.12
    # Opened about a pre-roll before the first sound, closed soon after the last.
    assert now + 1.0 - opened["t"] == pytest.approx(0.5 + LATENCY, abs=0.1)
    assert closed["t"] - (now + 3.4) < 1.0


def test_cues_start_on_time_over_a_chime_and_a_soundscape(tmp_path: Path, sounds: dict) -> None:
    """The bar: a cue due with a chime, a soundscape playing, asked ahead as the daemon
    schedules: its first frame at the card within 30 ms of its due time (p99, 20 cues)."""
    stage = StageProcess(tmp_path)
    now = time.monotonic()
    stage.send(type="soundscape", file=str(sounds["brown"]), at=now + 0.6, fade=0.5)
    dues = [now + 1.5 + 0.9 * k for k in range(20)]
    for due in dues:
        stage.send(type="chime", file=str(sounds["chime"]), at=due, text="step")
        stage.send(type="cue", file=str(sounds["cue"]), at=due, text="go")
    time.sleep(dues[-1] - time.monotonic() + 1.0)
    assert stage.quit() == 0
    (stretch,) = stage.capture_stretches()
    found = onsets(stretch["samples"][:, 0]) - detector_delay()
    assert len(found) == 20
    late_ms = np.array(
        [(heard_at(stretch, f) - d) * 1000 for f, d in zip(found, dues, strict=True)]
    )
    assert np.percentile(np.abs(late_ms), 99) <= 30, late_ms
    # The stage's own reports say the same, to within the card's granularity.
    reported = [m["start"] for m in stage.lines if m.get("what") == "cue" and "start" in m]
    assert np.max(np.abs(np.array(reported) - np.array(dues))) < 0.030


@pytest.mark.parametrize("rewinds", [True, False])
def test_a_sound_asked_now_is_not_behind_the_buffer(
    tmp_path: Path, sounds: dict, rewinds: bool
) -> None:
    """A cue asked for now (a press made it due) while a soundscape plays: the frames already
    written are taken back and written again with it, so it is heard within 80 ms of the
    asking, not behind the 200 ms buffer (the control: a card that cannot rewind). The frames
    written again join the stream without a step, and the cue is whole."""
    capture = tmp_path / "capture.raw"
    spec = f"fake:capture={capture}" + ("" if rewinds else ",rewind=no")
    stage = StageProcess(tmp_path, output=spec)
    stage.send(type="soundscape", file=str(sounds["brown"]), fade=0.2, name="brown")
    stage.wait_for(lambda m: m.get("what") == "soundscape" and "start" in m, 10)
    time.sleep(1.0)
    asked = time.monotonic()
    stage.send(type="cue", file=str(sounds["cue"]), text="now")
    stage.wait_for(lambda m: m.get("what") == "cue" and "start" in m, 10)
    time.sleep(1.0)
    assert stage.quit() == 0
    (stretch,) = stage.capture_stretches()
    x = stretch["samples"]
    (found,) = onsets(x[:, 0]) - detector_delay()
    late = heard_at(stretch, found) - asked
    if rewinds:
        assert 0.0 <= late < 0.080, late
    else:
        assert late >= LATENCY - 0.030, late
    # No step where the frames were written again (the 3 kHz cue's own is 0.118 at most).
    assert np.max(np.abs(np.diff(x[:, 0]))) < 0.13
    reported = next(m for m in stage.lines if m.get("what") == "cue" and "start" in m)
    assert reported["start"] == pytest.approx(heard_at(stretch, found), abs=0.005)


@pytest.mark.parametrize("rewinds", [True, False])
def test_a_pause_silences_speech_at_once(tmp_path: Path, rewinds: bool) -> None:
    """A stop (a pause: speech fades in 0.1 s) asked while a long cue speaks: the frames the
    card had queued are taken back and written again faded, so the cue is silent within 0.2 s
    of the asking (the fade, a block, the margin), not the buffer's 200 ms later than that
    (the control: a card that cannot rewind). Its fade has no step, and the stage reports
    the cut where the card has it."""
    capture = tmp_path / "capture.raw"
    spec = f"fake:capture={capture}" + ("" if rewinds else ",rewind=no")
    stage = StageProcess(tmp_path, output=spec)
    long_cue = burst(tmp_path / "long.wav", seconds=3.0)
    stage.send(type="cue", file=str(long_cue), at=time.monotonic() + 1.0, text="long")
    stage.wait_for(lambda m: m.get("what") == "cue" and "start" in m, 10)
    time.sleep(1.5)
    asked = time.monotonic()
    stage.send(type="stop", fade=0.1, soundscape=False)
    cut = stage.wait_for(lambda m: m.get("cut"), 10)
    stage.wait_for(lambda m: m["type"] == "output" and not m["open"], 10)
    assert stage.quit() == 0
    (stretch,) = stage.capture_stretches()
    x = stretch["samples"][:, 0]
    last = int(np.nonzero(np.abs(x) > 0.003)[0][-1])  # -40 dB under the cue's 0.3
    silent = heard_at(stretch, last) - asked
    if rewinds:
        assert 0.0 < silent < 0.2, silent
    else:
        assert silent >= LATENCY + 0.07, silent
    assert np.max(np.abs(np.diff(x))) < 0.12  # no step: the cue's own 3 kHz at most
    assert cut["end"] == pytest.approx(heard_at(stretch, last), abs=0.02)


def test_a_wake_opens_the_output_so_a_sound_after_it_is_prompt(
    tmp_path: Path, sounds: dict
) -> None:
    """The button goes down (a wake), a cue is asked 0.8 s later (its release): the output has
    been open since the wake, its pre-roll played, so the cue is heard at once, every frame
    of it; without the wake it would wait for the output to open and pre-roll (0.5 s)."""
    stage = StageProcess(tmp_path, "--preroll", "0.5", drop=0.3)
    stage.send(type="wake")
    opened = stage.wait_for(lambda m: m["type"] == "output" and m["open"], 10)
    time.sleep(0.8)
    asked = time.monotonic()
    stage.send(type="cue", file=str(sounds["cue"]), text="now")
    closed = stage.wait_for(lambda m: m["type"] == "output" and not m["open"], 10)
    assert stage.quit() == 0
    assert opened["t"] < asked - 0.7
    (stretch,) = stage.capture_stretches()
    played = stretch["samples"][:, 0]
    cue, _ = read_wav(sounds["cue"])
    (start,) = onsets(played) - detector_delay()
    assert np.max(np.abs(played[start : start + len(cue)] - cue[:, 0])) < 1e-4  # whole
    assert heard_at(stretch, start) - asked < 0.080
    # Held open the stage's hold (3 s) after the wake, then closed once the cue was over.
    assert closed["t"] - opened["t"] == pytest.approx(3.0 + LATENCY, abs=0.4)


def test_asleep_when_nothing_is_due(tmp_path: Path, sounds: dict) -> None:
    """Output closed and nothing scheduled: no CPU and no wake-ups at all."""
    stage = StageProcess(tmp_path)
    stage.send(type="cue", file=str(sounds["cue"]), text="one")
    stage.wait_for(lambda m: m["type"] == "output" and not m["open"], 10)
    time.sleep(0.2)
    cpu, wakeups = stage.cpu_seconds(), stage.wakeups()
    time.sleep(3.0)
    assert stage.wakeups() - wakeups == 0
    assert stage.cpu_seconds() - cpu == 0
    assert stage.quit() == 0


def test_a_far_sound_wakes_it_once_not_before(tmp_path: Path, sounds: dict) -> None:
    stage = StageProcess(tmp_path, "--preroll", "0.5")
    time.sleep(0.2)
    wakeups = stage.wakeups()
    due = time.monotonic() + 3.0
    stage.send(type="cue", file=str(sounds["cue"]), at=due, text="later")
    time.sleep(1.5)
    assert stage.wakeups() - wakeups <= 3  # the line read, and nothing else
    opened = stage.wait_for(lambda m: m["type"] == "output" and m["open"], 5)
    assert due - opened["t"] == pytest.approx(0.5 + LATENCY, abs=0.05)
    stage.quit()


def test_cpu_while_a_soundscape_plays_and_ducks(tmp_path: Path, sounds: dict) -> None:
    """At most 3 % of a core for the stage while a soundscape plays under cues that duck it."""
    stage = StageProcess(tmp_path)
    now = time.monotonic()
    stage.send(type="soundscape", file=str(sounds["brown"]), at=now + 0.6, fade=1.0)
    for k in range(6):
        stage.send(type="cue", file=str(sounds["cue"]), at=now + 2 + 1.5 * k, text="go")
    stage.wait_for(lambda m: m.get("what") == "soundscape", 5)
    time.sleep(1.0)
    cpu, started = stage.cpu_seconds(), time.monotonic()
    time.sleep(8.0)
    percent = 100 * (stage.cpu_seconds() - cpu) / (time.monotonic() - started)
    stage.quit()
    assert percent <= 3.0, percent
    assert any(m["type"] == "duck" for m in stage.lines)


def test_it_dies_with_its_parent_and_closes_the_output(tmp_path: Path, sounds: dict) -> None:
    capture = tmp_path / "orphan.raw"
    parent = textwrap.dedent(f"""
        import json, subprocess, sys, time
        stage = subprocess.Popen([sys.executable, "-I", "-m", "bedside.sound.stage",
            "--output", "fake:capture={capture}"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, bufsize=1)
        stage.stdout.readline()
        stage.stdin.write(json.dumps({{"type": "soundscape", "file": "{sounds["brown"]}"}}) + "\\n")
        stage.stdin.flush()
        print(stage.pid, flush=True)
        time.sleep(60)
    """)
    process = subprocess.Popen([sys.executable, "-c", parent], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    child = int(process.stdout.readline())
    time.sleep(1.5)  # the soundscape is playing
    process.kill()
    process.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and Path(f"/proc/{child}").exists():
        status = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if status == "Z":
            break
        time.sleep(0.05)
    gone = not Path(f"/proc/{child}").exists() or status == "Z"
    assert gone, "the stage outlived its parent"
    # It closed the output itself: the card's index was written, ending in silence.
    index = json.loads(Path(str(capture) + ".json").read_text())
    raw = np.fromfile(capture, dtype=np.float32).reshape(-1, 2)
    assert index[0]["frames"] == len(raw)
    assert np.all(raw[-int(0.04 * R) :] == 0.0)


def test_end_of_input_is_a_quit(tmp_path: Path) -> None:
    stage = StageProcess(tmp_path)
    assert stage.process.stdin is not None
    stage.process.stdin.close()
    assert stage.process.wait(timeout=5) == 0


def test_bad_lines_are_answered_and_the_stage_goes_on(tmp_path: Path, sounds: dict) -> None:
    stage = StageProcess(tmp_path)
    assert stage.process.stdin is not None
    for bad in [
        "not json",
        "[1, 2]",
        '{"type": "dance"}',
        '{"type": "cue"}',
        '{"type": "cue", "file": "/nonexistent.wav"}',
        json.dumps({"type": "cue", "file": str(sounds["cue"]), "at": "soon"}),
    ]:
        stage.process.stdin.write(bad + "\n")
    stage.process.stdin.flush()
    stage.send(type="ping", id=1)
    stage.wait_for(lambda m: m["type"] == "pong", 5)
    assert sum(m["type"] == "error" for m in stage.lines) == 6
    assert stage.quit() == 0


def test_a_sound_at_another_rate_still_plays(tmp_path: Path) -> None:
    t = np.arange(22050) / 22050
    write_wav(tmp_path / "old.wav", 0.3 * np.sin(2 * np.pi * 3000 * t), 22050)
    stage = StageProcess(tmp_path)
    stage.send(type="cue", file=str(tmp_path / "old.wav"), text="old")
    stage.wait_for(lambda m: m["type"] == "output" and not m["open"], 10)
    stage.quit()
    assert any("22050 Hz" in m.get("message", "") for m in stage.lines)
    (stretch,) = stage.capture_stretches()
    assert len(onsets(stretch["samples"][:, 0])) == 1


# -- ALSA ---------------------------------------------------------------------------------------
ASOUNDRC = """
pcm.card44 { type plug; slave { pcm "null"; rate 44100; format S32_LE; channels 1 } }
pcm.card48 { type plug; slave { pcm "null"; rate 48000; format S16_LE; channels 2 } }
"""


def alsa_env(tmp_path: Path) -> dict[str, str]:
    conf = tmp_path / "asound.conf"
    conf.write_text(ASOUNDRC)
    return {**os.environ, "ALSA_CONFIG_PATH": f"/usr/share/alsa/alsa.conf:{conf}"}


def libasound_missing() -> bool:
    import ctypes.util

    return ctypes.util.find_library("asound") is None


def need_libasound() -> None:
    if libasound_missing():
        missing("libasound is not installed (alsa-utils brings it)")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("card44", {"rate": 44100, "channels": 1, "format": "S32_LE"}),
        ("card48", {"rate": 48000, "channels": 2, "format": "S16_LE"}),
        ("plug:card44", {"rate": 44100, "channels": 1, "format": "S32_LE"}),
    ],
)
def test_the_native_format_of_any_alsa_name(tmp_path: Path, name: str, expected: dict) -> None:
    """Through plug (as ``default`` is), the rate, channels and format of the device under it."""
    need_libasound()
    run = subprocess.run(
        [sys.executable, "-I", "-m", "bedside.sound.stage", "--format", "--output", f"alsa:{name}"],
        capture_output=True,
        text=True,
        env=alsa_env(tmp_path),
        timeout=30,
        check=False,
    )
    assert json.loads(run.stdout) == expected, run.stderr


def test_an_unknown_alsa_name_is_a_plain_error(tmp_path: Path) -> None:
    need_libasound()
    run = subprocess.run(
        [sys.executable, "-I", "-m", "bedside.sound.stage", "--format", "--output", "alsa:nope"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert run.returncode == 1 and "nope" in json.loads(run.stdout)["error"]


def test_playing_through_libasound(tmp_path: Path, sounds: dict) -> None:
    """The real write path (ctypes, snd_pcm_writei) into ALSA's null device (which takes frames
    as fast as they come: no timing here, only that the stream goes through and closes)."""
    need_libasound()
    env = alsa_env(tmp_path)
    process = subprocess.run(
        [sys.executable, "-I", "-m", "bedside.sound.stage", "--output", "alsa:card48"],
        input=json.dumps({"type": "cue", "file": str(sounds["cue"]), "text": "x"})
        + '\n{"type": "quit", "drain": true}\n',
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )
    lines = [json.loads(line) for line in process.stdout.splitlines()]
    kinds = [(m["type"], m.get("open", m.get("what"))) for m in lines]
    assert kinds[0] == ("ready", None) and ("output", True) in kinds and ("sound", "cue") in kinds
    assert kinds[-1] == ("output", False)
    assert process.returncode == 0


def test_a_change_that_fails_after_a_rewind_leaves_the_stream_whole(tmp_path: Path) -> None:
    """The frames taken back for a late sound are written again even when placing it fails
    (the mixer is full): the card is not left short of them (a skip of up to 175 ms)."""
    import io

    from bedside.sound.stage import Stage

    write_wav(tmp_path / "chime.wav", chimes.chime("step", 48000, -28.0), 48000)
    stage = Stage("fake:", out=io.StringIO(), preroll=0.0)
    assert stage._open()
    for _ in range(8):
        stage._write_block()
    card = stage.output
    written = card.written
    stage.mixer.max_pending = stage.mixer.pending()  # full: the next sound cannot be placed
    line = {"type": "chime", "file": str(tmp_path / "chime.wav"), "text": "step"}
    with pytest.raises(OverflowError):
        stage._reach_back(line, stage.mixer.position - 4800)
    assert card.written == written  # what was taken back was written again
    assert len(stage._tail) == min(written, stage._tail_size)
