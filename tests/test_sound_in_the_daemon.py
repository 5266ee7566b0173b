"""The sound stage as the daemon's one output (issue 21): a cue due with a chime starts with it,
the soundscape plays under a marked step, dips under speech, plays on after the routine and
fades out (the sleep timer), a press stops it with a fade; ``--trace`` reports each sound as
it reaches the output, and the stage goes with the daemon."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from test_voice_daemon import Daemon, descendants
from voicekit import alive, bedside

from bedside.config.sections import SoundscapeConfig, SoundsConfig, VoiceConfig
from bedside.voice import Speaker

NAP = """title = "Nap"
finish = "Sleep well."

[[steps]]
title = "Lie down"
kind = "wait"
cues = [{ at = "start", text = "Lie down." }]

[[steps]]
title = "Rest"
kind = "timed"
duration = "6s"
soundscape = true
cues = [{ at = "start", text = "Breathe slowly." }]
"""


def heard(voice: Speaker, what: str) -> list[dict]:
    return [line for line in voice.heard if line.get("what") == what]


def dips(voice: Speaker) -> list[dict]:
    return [line for line in voice.heard if line.get("type") == "duck"]


def until(condition, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


def closed(voice: Speaker, after: float) -> bool:
    return any(
        line.get("type") == "output" and not line["open"] and line["t"] > after
        for line in voice.heard
    )


def test_a_cue_due_with_a_chime_starts_with_it(tmp_path: Path) -> None:
    """Before issue 21 the chime (1.35 s) played whole before the cue: now the cue starts as
    it falls due, over the chime's decay."""
    with Speaker(VoiceConfig(), tmp_path, "null", sounds=SoundsConfig()) as voice:
        voice.prepare(["Breathe slowly."])
        assert voice.wait_until_idle(60)
        voice.chime("step")
        voice.say("Breathe slowly.")
        assert voice.wait_until_idle(30)
        (chime,), (cue,) = heard(voice, "chime"), heard(voice, "cue")
        assert cue["start"] - chime["start"] < 0.030, (chime, cue)
        assert cue["start"] < chime["end"]  # over the chime's decay


def test_the_bed_plays_dips_under_speech_and_the_sleep_timer_fades_it(tmp_path: Path) -> None:
    scape = SoundscapeConfig(sound="pink", after=0.5)
    with Speaker(VoiceConfig(), tmp_path, "null", soundscape=scape, sleep_fade=1.0) as voice:
        voice.prepare(["Halfway."])
        assert voice.wait_until_idle(60)
        voice.soundscape(True)
        until(lambda: heard(voice, "soundscape"))
        voice.say("Halfway.")
        # The dip is placed a ramp ahead of the cue, so it can be reported a block before
        # the cue reaches the output: wait for both (CI's run of stop 26 judged between).
        until(lambda: dips(voice) and heard(voice, "cue"))
        (dip,) = dips(voice)[:1]
        (cue,) = heard(voice, "cue")
        assert dip["state"] == "down" and dip["db"] == 12.0 and dip["start"] <= cue["start"]
        started = time.monotonic()
        voice.sleep_timer()  # plays on 0.5 s, then fades over 1 s: the output closes
        until(lambda: closed(voice, started), timeout=10)
        assert time.monotonic() - started >= 1.5
        # A press after the routine: the bed fades at once.
        voice.soundscape(True)
        until(lambda: len(heard(voice, "soundscape")) == 2)
        pressed = time.monotonic()
        voice.soundscape(False, fade=0.5)
        until(lambda: closed(voice, pressed), timeout=10)
        assert time.monotonic() - pressed < 0.5 + 1.5  # the fade, the linger, the buffer


def test_the_daemon_traces_each_sound_as_it_reaches_the_output(tmp_path: Path) -> None:
    routines = tmp_path / "routines"
    routines.mkdir()
    (routines / "nap.toml").write_text(NAP)
    config = tmp_path / "bedside.toml"
    config.write_text('[menu]\nroutines = ["nap"]\n\n[soundscape]\nsound = "brown"\nafter = "1s"\n')
    # Every sound (the loop among them) rendered first, as `make install` does: the routine
    # then starts on a cache that is ready. A daemon left to render them itself within a wait
    # of the script's was still rendering under qemu-user when the cues fell due, and dropped
    # them as stale (a test of the trace, not of how fast a render is).
    cache = tmp_path / "cache"
    env = {"CACHE_DIRECTORY": str(cache)}
    render = bedside("voice", "render", "--config", str(config), env=env, timeout=600)
    assert render.returncode == 0, render.stderr
    daemon = Daemon(tmp_path, config, cache, "wait 2\npress\nwait 2\npress\nwait 30\n")
    try:
        daemon.wait_for(lambda: any(e["type"] == "finished" for e in daemon.events), 60)
        daemon.wait_for(
            lambda: (
                any(e.get("what") == "soundscape" and e.get("cut") for e in daemon.events)
                or sum(e.get("what") == "cue" for e in daemon.events) >= 3
            ),
            30,  # the stage's reports of the end; under qemu-user they come seconds late
        )
        under = descendants(daemon.process.pid)
    finally:
        daemon.terminate()
    err = daemon.finish()
    assert daemon.process.returncode == 0, err
    assert "dropped a stale cue" not in err, err  # every sound was ready in time
    sounds = [e for e in daemon.events if e["type"] == "sound"]
    cues = [e for e in sounds if e["what"] == "cue"]
    assert [e["text"] for e in cues][:2] == ["Lie down.", "Breathe slowly."], sounds
    chimes = [e for e in sounds if e["what"] == "chime"]
    assert len(chimes) >= 2
    # The step's chime and its first cue fell due together: they start together.
    rest = next(e for e in daemon.events if e["type"] == "step" and e["title"] == "Rest")
    breathe = cues[1]
    chime = min(
        (c for c in chimes if not c.get("cut") and c["start"] >= rest["t"] - 0.1),
        key=lambda c: c["start"],
    )
    assert chime["start"] <= breathe["start"] < chime["end"], (chime, breathe)  # not queued
    if os.environ.get("BEDSIDE_EMULATOR") != "qemu-user":
        # Within 50 ms is the daemon's and the stage's speed, which under qemu-user is qemu's
        # (a trixie run of stop 27: 58 ms); test_what_a_press_makes_due_is_heard_as_it_comes_up
        # is left out there for the same reason (conftest.NOT_UNDER_EMULATION).
        assert abs(breathe["start"] - chime["start"]) < 0.05, (chime, breathe)
    assert breathe["end"] > breathe["start"] and breathe["t"] <= breathe["start"] + 0.01
    bed = [e for e in sounds if e["what"] == "soundscape" and not e.get("cut")]
    assert bed and bed[0]["text"] == "brown" and bed[0]["start"] >= rest["t"]
    assert any(e["type"] == "duck" and e["state"] == "down" for e in daemon.events)
    assert not [pid for pid in under if alive(pid)]  # the stage went with the daemon
    assert "Traceback" not in err


REST = """title = "Rest"
finish = "Sleep well."

[[steps]]
title = "Lie down"
kind = "wait"
cues = [{ at = "start", text = "Lie down." }]

[[steps]]
title = "Rest"
kind = "timed"
duration = "12s"
cues = [{ at = "start", text = "Breathe slowly." }, { at = "6s", text = "Nearly there." }]
"""


def rest_daemon(tmp_path: Path, script: str) -> Daemon:
    routines = tmp_path / "routines"
    routines.mkdir(parents=True)
    (routines / "rest.toml").write_text(REST)
    config = tmp_path / "bedside.toml"
    config.write_text('[menu]\nroutines = ["rest"]\n')
    return Daemon(tmp_path, config, tmp_path / "cache", script)


def finished(daemon: Daemon) -> list[dict]:
    """The trace of a run whose script ends after the routine's last word."""
    daemon.wait_for(lambda: any(e["type"] == "finished" for e in daemon.events), 90)
    err = daemon.finish()
    assert daemon.process.returncode == 0, err
    assert [e for e in daemon.events if e.get("text") == "Sleep well." and "start" in e], err
    assert not [e for e in daemon.events if e.get("cut") and e["text"] == "Sleep well."], err
    return daemon.events


def sounds(daemon: Daemon) -> list[dict]:
    return [e for e in list(daemon.events) if e["type"] == "sound" and not e.get("cut")]


def test_a_cue_after_a_silence_starts_on_its_time(tmp_path: Path) -> None:
    """ "Nearly there." falls due 6 s into the step, long after the output closed: the daemon
    asks the stage for it ahead of its time (past the pre-roll), so it is heard on its time.
    Asked when it fell due, it came the pre-roll (0.5 s) late."""
    events = finished(rest_daemon(tmp_path, "wait 15\npress\nwait 2\npress\nwait 16\n"))
    (said,) = [e for e in events if e["type"] == "say" and e["text"] == "Nearly there."]
    (heard,) = [e for e in events if e["type"] == "sound" and e["text"] == "Nearly there."]
    assert abs(heard["start"] - said["t"]) <= 0.03, (said, heard)  # issue 21's bar: 30 ms
    assert heard["start"] - said["t"] >= -0.005  # never before its time
    opened = [e for e in events if e["type"] == "sound" and e["text"] == "Breathe slowly."]
    assert opened and opened[0]["end"] < said["t"] - 1  # the output had gone quiet between


def test_what_a_press_makes_due_is_heard_as_it_comes_up(tmp_path: Path) -> None:
    """A press that starts a step: its chime and first cue cannot be asked ahead. The button
    going down wakes the output, closed at the menu, so its pre-roll runs while the finger is
    down (0.6 s here); a press while the output plays (the chime's tail) finds frames queued
    (200 ms) that the step's sounds take back. Either way they are heard within 0.1 s of the
    release. Before: the pre-roll (0.5 s) after a silence, the buffer (0.2 s) when open."""
    script = "wait 15\nhold 0.6\nwait 1\npress\nwait 16\n"
    events = finished(rest_daemon(tmp_path, script))
    presses = [e["t"] for e in events if e["type"] == "gesture" and e["gesture"] == "press"]
    assert len(presses) == 2, presses  # the menu's (held 0.6 s), and the wait step's
    heard = [e for e in events if e["type"] == "sound" and "start" in e]
    assert min(e["start"] for e in heard) > presses[0]  # nothing sounded before the first
    for press, text in zip(presses, ["Lie down.", "Breathe slowly."], strict=True):
        (chime,) = [e for e in heard if e["what"] == "chime" and 0 <= e["start"] - press < 1]
        (cue,) = [e for e in heard if e["text"] == text]
        assert chime["start"] - press <= 0.1, (press, chime)
        assert cue["start"] - press <= 0.1, (press, cue)


def test_a_pause_takes_back_a_cue_asked_ahead(tmp_path: Path) -> None:
    """A pause 0.2 s before "Nearly there." falls due (asked of the stage 0.8 s before, and
    already in the card's buffer of 0.2 s): none of it is heard then (the stage takes back the
    frames it had queued and writes them again without it), but once, whole, after the resume,
    at the time the step now gives it."""
    script = "wait 15\npress\nwait 2\npress\nwait 5.7\npress\nwait 4\npress\nwait 12\n"
    tries = []
    for attempt in range(3):
        events = finished(rest_daemon(tmp_path / str(attempt), script))
        presses = [e["t"] for e in events if e["type"] == "gesture" and e["gesture"] == "press"]
        resumed = presses[3]  # after the menu's, the wait's and the pause
        running = next(e["t"] for e in events if e["type"] == "state" and e["state"] == "running")
        nearly = [e for e in events if e["type"] == "sound" and e["text"] == "Nearly there."]
        whole = [e for e in nearly if "start" in e and not cut_short(events, e)]
        assert len(whole) == 1 and whole[0]["start"] > resumed, (presses, nearly)
        early = [e for e in nearly if "start" in e and e["start"] < resumed]
        if early:  # it was written to the card before the pause: the case in question
            break
        # The pause came before the stage had written it (a loaded machine is late by more
        # than the 0.2 s the case stands on): taken back whole, right too, but not the case.
        tries.append(nearly)
    else:
        pytest.fail(f"the cue was never in the card's buffer at the pause: {tries}")
    for e in early:
        assert e["start"] >= running + 6 - 0.005, e  # not before its time
        assert cut_short(events, e) == e["start"], e  # cut where it began: not heard


def cut_short(events: list[dict], sound: dict) -> float:
    """Where ``sound`` was cut (the end its cut event gives), or 0 when it played whole."""
    cuts = [
        e["end"]
        for e in events
        if e.get("cut") and e["text"] == sound["text"] and sound["start"] <= e["end"] < sound["end"]
    ]
    return min(cuts, default=0.0)
