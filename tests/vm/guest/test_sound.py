"""The sound stage at a real kernel's card: the installed bedside's stage (its venv's python,
``-I -m bedside.sound.stage``, as the daemon starts it) plays into snd-aloop's loopback while
arecord records the other end, and what reached the card is compared with what was meant:

- a cue, asked for a monotonic time, is found whole (cross-correlation, then sample by sample)
  with its first frame heard at that time, within a few ms, as the stage itself reported it
  (the card's delay counted), on ``hw:``, through ``plughw:`` and through ``default`` (plug,
  softvol, dmix: what ``[voice] device`` names);
- the stream is silence before and after it, the opening and the closing inside the recording
  (no step at either);
- the output opens at the card's native rate, which ``--format`` tells;
- a chime and a cue due together are mixed, the cue on its frame;
- a cue asked for now (after a wake) takes back what the card had queued and comes at once;
- the soundscape dips under speech by the set depth;
- an idle stage leaves the card closed.

The daemon is stopped for these (it plays through ``default`` on the same card).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import vmkit
from soundkit import (
    LSB,
    Recording,
    Stage,
    bedside_renders,
    chirp_cue,
    db,
    find,
    gain,
    stage_format,
    substream_status,
    wait_for_open_params,
    wait_while_closed,
)

R = 48000
# The onset at the card against the time asked: the loopback moves its streams a jiffy at a time
# (HZ=250: 4 ms), the stage reads the card's position as of the last jiffy, and the recording's
# first frame belongs to the jiffy before its start stamp: two steps of 4 ms at most. And the
# stage pairs the card's delay with the clock read after it (snd_pcm_delay, then monotonic): a
# preemption between the two places a cue early by its length (-8.6 ms seen, the host loaded by
# another session's suite; snd_pcm_htimestamp would give both at once). 10 ms in all.
ONSET_MS = 10.0
SUB = 1  # the playback substream hw:/plughw: use (snd-aloop has 2); default takes the first free
# Each ALSA name with the playback substream it lands on: hw:, plughw:, and default (plug,
# softvol, dmix: what [voice] device names).
DEVICES = [(f"hw:Loopback,0,{SUB}", SUB), (f"plughw:Loopback,0,{SUB}", SUB), ("default", 0)]


@pytest.fixture(scope="module", autouse=True)
def card_to_ourselves():
    """The daemon stopped, so nothing else plays on the card while these record it."""
    vmkit.sh("systemctl", "stop", "bedside", timeout=60)
    for sub in (0, 1):
        assert substream_status("p", sub)["state"] == "closed"
    yield
    vmkit.sh("systemctl", "start", "bedside", timeout=120, check=False)


@pytest.fixture
def cue(tmp_path: Path) -> tuple[Path, np.ndarray]:
    path = tmp_path / "cue.wav"
    return path, chirp_cue(path, R)


def onset_error(stage: Stage, recording: Recording, lag: int, at: float, name: str) -> None:
    """The cue's first frame at the card against the time asked and the time the stage said."""
    heard = recording.time_of(lag)
    error_ms = (heard - at) * 1000
    said_ms = (stage.sound("cue")["start"] - heard) * 1000
    vmkit.figure(f"{name}: cue onset at the card less its asked time", error_ms, "ms")
    vmkit.figure(f"{name}: the stage's reported start less the onset at the card", said_ms, "ms")
    assert abs(error_ms) <= ONSET_MS, f"the cue began {error_ms:+.1f} ms from its time"
    assert abs(said_ms) <= ONSET_MS, f"the stage said it began {said_ms:+.1f} ms off"


def test_an_idle_stage_writes_nothing(tmp_path: Path) -> None:
    recording = Recording(SUB, R, tmp_path / "heard.raw")
    stage = Stage(f"hw:Loopback,0,{SUB}", cwd=tmp_path)
    assert wait_while_closed(SUB, 3.0) == 0, "the stage opened the card with nothing to play"
    assert stage.quit() == 0
    heard = recording.stop()
    assert not [m for m in stage.lines if m["type"] == "output"]
    assert len(heard) > 2 * R and not np.any(heard), "the card carried sound from an idle stage"


@pytest.mark.parametrize(("device", "sub"), DEVICES)
def test_a_cue_reaches_the_card_whole_on_its_time(
    tmp_path: Path, cue: tuple[Path, np.ndarray], device: str, sub: int
) -> None:
    path, meant = cue
    recording = Recording(sub, R, tmp_path / "heard.raw")
    stage = Stage(device, cwd=tmp_path)
    assert (stage.ready["rate"], stage.ready["channels"], stage.ready["format"]) == (
        R,
        2,
        "S16_LE",
    )
    assert wait_while_closed(sub, 1.0) == 0  # nothing due yet: the card stays closed
    at = time.monotonic() + 1.5
    stage.send(type="cue", file=str(path), at=at, text="go")
    params = wait_for_open_params(sub, 10)
    closed = stage.closed()
    assert wait_while_closed(sub, 0.5) == 0, "the card stayed open after the stage closed it"
    heard = recording.stop()
    assert stage.quit() == 0, stage.stderr
    assert not stage.errors(), stage.errors()

    # The card ran at the stage's format (nothing converted it on the way).
    assert params["format"] == "S16_LE" and params["channels"] == "2"
    assert params["rate"].split()[0] == str(R), params
    # The cue, whole: found by correlation, then every sample of it on both channels.
    lag, score = find(heard[:, 0], meant)
    vmkit.figure(f"{device}: the cue's correlation with the card", score, "")
    assert score > 0.9999, f"the card's sound is not the cue (correlation {score:.5f})"
    got = heard[lag : lag + len(meant)]
    steps = np.max(np.abs(got - meant[:, None])) / LSB
    vmkit.figure(f"{device}: the card's cue against the WAV, largest difference", steps, "LSB")
    assert steps <= 2
    # Silence before and after it, the stream's opening and closing among them: no step. After
    # the close the stage has no say (and arecord, stopped by a signal, may end its file with a
    # stale chunk), so the stretch judged ends a tenth of a second past it.
    opened = stage.opened()
    until = recording.frame_of(closed["t"]) + R // 10
    assert recording.start < opened["t"] and until < len(heard)
    described = keep_if_not_silent(recording, lag, len(meant), until, device, stage)
    assert not np.any(heard[:lag]), "sound on the card before the cue"
    onset_error(stage, recording, lag, at, device)
    # Once, with a 1 s capture ring, 142 frames here were the recording of 1 s before: the
    # loopback's capture end, not the stage (soundkit.CAPTURE_RING_S says why and how it is
    # kept out).
    assert not np.any(heard[lag + len(meant) : until]), described


# A cue asked for now (a press made it due): the stage reads the line within a block (43 ms),
# takes back all but 25 ms of what the card has queued and writes it again with the cue; the
# loopback's jiffy and the TCG guest's slowness do the rest. Without the rewind: 200 ms.
NOW_MS = 100.0


@pytest.mark.parametrize(("device", "sub"), DEVICES)
def test_a_cue_asked_for_now_is_not_behind_the_buffer(
    tmp_path: Path, cue: tuple[Path, np.ndarray], device: str, sub: int
) -> None:
    """The button goes down (a wake: the card opens, its pre-roll plays), and a second later a
    cue is asked for now: the frames the card had queued are taken back (snd_pcm_rewind, on
    hw:, through plug, and through default's softvol and dmix) and written again with it, so
    it reaches the card within NOW_MS of the asking, whole, with only zeros before it."""
    path, meant = cue
    recording = Recording(sub, R, tmp_path / "heard.raw")
    stage = Stage(device, cwd=tmp_path)
    stage.send(type="wake")
    wait_for_open_params(sub, 10)
    time.sleep(1.0)
    asked = time.monotonic()
    stage.send(type="cue", file=str(path), text="now")
    closed = stage.closed()
    assert wait_while_closed(sub, 0.3) == 0  # and the recording runs on past the close
    heard = recording.stop()
    assert stage.quit() == 0, stage.stderr
    assert not stage.errors(), stage.errors()
    lag, score = find(heard[:, 0], meant)
    assert score > 0.9999, f"the card's sound is not the cue (correlation {score:.5f})"
    steps = np.max(np.abs(heard[lag : lag + len(meant)] - meant[:, None])) / LSB
    assert steps <= 2, f"the cue differs from its WAV by up to {steps:.0f} LSB"
    assert not np.any(heard[:lag]), "sound on the card before the cue"
    until = recording.frame_of(closed["t"]) + R // 10
    assert until < len(heard) and not np.any(heard[lag + len(meant) : until]), (
        "sound on the card after the cue, up to the close"
    )
    late_ms = (recording.time_of(lag) - asked) * 1000
    said_ms = (stage.sound("cue")["start"] - recording.time_of(lag)) * 1000
    vmkit.figure(f"{device}: a cue asked for now, at the card after the asking", late_ms, "ms")
    vmkit.figure(f"{device}: the stage's reported start less the onset at the card", said_ms, "ms")
    assert 0 <= late_ms <= NOW_MS, f"the cue began {late_ms:.1f} ms after it was asked"
    assert abs(said_ms) <= ONSET_MS, f"the stage said it began {said_ms:+.1f} ms off"


def keep_if_not_silent(
    recording: Recording, lag: int, length: int, until: int, name: str, stage: Stage
) -> str:
    """Sound outside the cue, anywhere in the recording: where it is, said, and the recording
    kept in the results folder (with the stage's lines) to be looked at."""
    heard = recording.samples
    outside = np.any(heard != 0, axis=1)
    outside[lag : lag + length] = False
    frames = np.flatnonzero(outside)
    if not len(frames):
        return ""
    end = lag + length
    described = (
        f"{name}: sound outside the cue at {len(frames)} frames, from "
        f"{(frames[0] - end) / R * 1000:+.1f} to {(frames[-1] - end) / R * 1000:+.1f} ms after "
        f"its end (the close: {(until - R // 10 - end) / R * 1000:+.1f} ms), largest "
        f"{np.max(np.abs(heard[frames])) / LSB:.0f} LSB; the recording ends "
        f"{(len(heard) - end) / R * 1000:+.1f} ms after the cue"
    )
    print(described)
    safe = "".join(c if c.isalnum() else "-" for c in name)
    kept = vmkit.RESULTS / f"sound-{safe}-heard.raw"
    kept.write_bytes(recording.path.read_bytes())
    kept.with_suffix(".json").write_text(
        json.dumps({"start": recording.start, "rate": R, "lag": lag, "lines": stage.lines})
    )
    return described


def test_the_output_opens_at_the_native_rate_format_tells(tmp_path: Path) -> None:
    """snd-aloop takes any rate until one side of the cable runs; then only that one. So with
    the recording running at 44.1 kHz, --format says 44.1 kHz (through plug too: what the card
    takes, not what plug could convert), the stage opens the card at it, the cue rendered at
    it plays whole and on time."""
    device = f"plughw:Loopback,0,{SUB}"
    assert stage_format(f"hw:Loopback,0,{SUB}") == {"rate": R, "channels": 2, "format": "S16_LE"}
    rate = 44100
    path = tmp_path / "cue44.wav"
    meant = chirp_cue(path, rate)
    recording = Recording(SUB, rate, tmp_path / "heard.raw")
    native = {"rate": rate, "channels": 2, "format": "S16_LE"}
    assert stage_format(f"hw:Loopback,0,{SUB}") == native
    assert stage_format(device) == native
    stage = Stage(device, cwd=tmp_path)
    assert stage.ready["rate"] == rate
    at = time.monotonic() + 1.5
    stage.send(type="cue", file=str(path), at=at, text="go")
    params = wait_for_open_params(SUB, 10)
    stage.closed()
    heard = recording.stop()
    assert stage.quit() == 0, stage.stderr
    assert params["rate"].split()[0] == str(rate), params
    assert not stage.errors(), stage.errors()  # no "resampled at play time"
    lag, score = find(heard[:, 0], meant)
    assert score > 0.9999
    assert np.max(np.abs(heard[lag : lag + len(meant)] - meant[:, None])) <= 2 * LSB
    onset_error(stage, recording, lag, at, f"{device} at {rate} Hz")


def test_a_chime_and_a_cue_due_together_are_mixed(
    tmp_path: Path, cue: tuple[Path, np.ndarray]
) -> None:
    """Both start on the frame they are due (the cue is not queued behind the chime); the card
    carries their sum."""
    path, meant = cue
    chime = bedside_renders(tmp_path / "chime.wav", 'chimes.chime("step", rate, -28.0)', R)[:, 0]
    recording = Recording(SUB, R, tmp_path / "heard.raw")
    stage = Stage(f"hw:Loopback,0,{SUB}", cwd=tmp_path)
    at = time.monotonic() + 1.5
    stage.send(type="chime", file=str(tmp_path / "chime.wav"), at=at, text="step")
    stage.send(type="cue", file=str(path), at=at, text="go")
    closed = stage.closed()
    heard = recording.stop()[:, 0]
    assert stage.quit() == 0, stage.stderr
    # Judged up to a tenth of a second past the close, as the lone cue is: after it the stage
    # has no say.
    heard = heard[: recording.frame_of(closed["t"]) + R // 10]

    lag, score = find(heard, meant)
    assert score > 0.5, f"no cue in the card's sound (correlation {score:.3f})"
    without_cue = heard.copy()
    without_cue[lag : lag + len(meant)] -= meant
    chime_lag, chime_score = find(without_cue, chime)
    vmkit.figure("chime and cue: the cue's start less the chime's", chime_lag - lag, "frames")
    assert chime_lag == lag, f"the cue began {(lag - chime_lag) / R * 1000:+.1f} ms after the chime"
    assert chime_score > 0.9999
    residue = without_cue.copy()
    residue[chime_lag : chime_lag + len(chime)] -= chime
    over = max(chime_lag + len(chime), lag + len(meant))
    mixed = np.max(np.abs(residue[:over]))
    assert mixed <= 3 * LSB, "the card's sound is not the chime plus the cue"
    onset_error(stage, recording, lag, at, "a cue with a chime")
    after = np.flatnonzero(residue[over:])
    assert not len(after), (
        f"sound after the chime and the cue, up to the close: {len(after)} frames, from "
        f"+{after[0] / R * 1000:.1f} ms after them, largest "
        f"{np.max(np.abs(residue[over:])) / LSB:.0f} LSB"
    )


def test_the_soundscape_dips_under_speech_by_the_set_depth(
    tmp_path: Path, cue: tuple[Path, np.ndarray]
) -> None:
    """A brown-noise bed at -18 dB, ducked 9 dB (not the default 12) under a cue. The bed in
    the recording (the cue taken out) is the loop times a gain; the gain is measured by least
    squares in a stretch before the cue, during it, and after it."""
    path, meant = cue
    loop = bedside_renders(
        tmp_path / "brown.wav", 'soundscapes.synthesise("brown", rate, 2, 10.0, -20.0)', R
    )
    depth, level = 9.0, -18.0
    recording = Recording(SUB, R, tmp_path / "heard.raw")
    stage = Stage(f"hw:Loopback,0,{SUB}", "--duck", str(depth), "--level", str(level), cwd=tmp_path)
    base = time.monotonic() + 1.5
    stage.send(type="soundscape", file=str(tmp_path / "brown.wav"), at=base, fade=0.5)
    stage.send(type="cue", file=str(path), at=base + 2.5, text="go")
    stage.send(type="soundscape", off=True, at=base + 4.5, fade=0.5)
    stage.closed()
    heard = recording.stop()
    assert stage.quit() == 0, stage.stderr
    dip = next(m for m in stage.lines if m["type"] == "duck" and m["state"] == "down")

    lag, score = find(heard[:, 0], meant)
    assert score > 0.9, f"no cue over the soundscape (correlation {score:.3f})"
    bed = heard.copy()
    bed[lag : lag + len(meant)] -= meant[:, None]
    # Where the loop is in the recording: a second of the bed before the dip, found in it.
    f = recording.frame_of
    a = f(base + 0.8)
    doubled = np.concatenate([loop, loop])[:, 0]
    place, fit = find(doubled, bed[a : a + R, 0])
    assert fit > 0.9999, f"the bed is not the loop (correlation {fit:.5f})"
    index = (np.arange(len(bed)) - a + place) % len(loop)
    aligned = loop[index]

    def level_in(first: int, last: int) -> float:
        g = gain(bed[first:last], aligned[first:last])
        rest = bed[first:last] - g * aligned[first:last]
        assert np.sqrt(np.mean(rest**2)) < 0.03 * np.sqrt(np.mean(bed[first:last] ** 2))
        return db(g)

    before = level_in(f(base + 0.8), f(dip["start"]) - R // 20)
    during = level_in(lag, lag + len(meant))
    after = level_in(lag + len(meant) + R // 4, f(base + 4.4))
    vmkit.figure("the soundscape's level before the cue", before, "dB")
    vmkit.figure(f"the dip under the cue (asked: -{depth:g} dB)", during - before, "dB")
    vmkit.figure("the soundscape's level after the cue", after, "dB")
    assert abs(before - level) < 0.5
    assert abs((during - before) + depth) <= 1.0, f"dipped {during - before:+.2f} dB"
    assert abs(after - before) < 0.5
    assert dip["db"] == depth  # and the stage says so
    onset_error(stage, recording, lag, base + 2.5, "a cue over the soundscape")
