"""Reloads: read on a thread of their own and coalesced, the keys only a restart applies named,
and the voice taking new settings (``Speaker.reconfigure``). The daemon from outside, a storm
of SIGHUPs and every [voice] and [sounds] setting: test_voice_daemon.py."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace

from bedside.app.reloads import Reconfiguration, Reloaded, Reloader, at_start
from bedside.config.keys import AT_START, SETTINGS
from bedside.config.load import load_config
from bedside.config.sections import VoiceConfig
from bedside.voice import NULL_OUTPUT, Speaker, VoiceSettings


def test_the_keys_a_reload_cannot_apply_are_named():
    assert set(AT_START) <= set(SETTINGS)
    config = load_config()
    moved = replace(
        config,
        display=replace(config.display, driver="sh1106", contrast=10),
        button=replace(config.button, pin=5, hold=1.5),
        resume_within=60.0,
        voice=replace(config.voice, volume=0.2),
    )
    assert at_start(config, moved) == ["button.pin", "display.driver", "sessions.resume_within"]
    assert at_start(config, config) == []


def test_a_storm_of_reloads_is_one_reading_at_a_time_and_one_more_behind_it():
    config = load_config()
    reading = threading.Event()
    release = threading.Event()
    reads: list[int] = []

    def read() -> Reconfiguration:
        reads.append(threading.active_count())
        reading.set()
        release.wait(10)
        return Reconfiguration.from_config(config)

    taken: list[Reloaded] = []
    with Reloader(read, taken.append) as reloader:
        reloader.request()
        assert reading.wait(10)
        threads = threading.active_count()
        for _ in range(500):
            reloader.request()
        assert threading.active_count() == threads
        release.set()
        end = time.monotonic() + 10
        while len(taken) < 2:
            assert time.monotonic() < end
            time.sleep(0.01)
        time.sleep(0.2)
    assert len(reads) == 2 and len(taken) == 2


def test_a_voice_turned_on_and_off_by_a_reload(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="bedside.voice")
    before = threading.active_count()
    off = VoiceSettings(VoiceConfig(enabled=False))
    # (stale_after: on a loaded machine the first render of a cold cue can pass the 5 s after
    # which a cue is dropped, not said late)
    with Speaker(off.voice, tmp_path, NULL_OUTPUT, stale_after=300) as voice:
        assert threading.active_count() == before  # off: nothing runs
        voice.reconfigure(VoiceSettings(VoiceConfig(volume=0.3), stale_after=300))
        voice.say("Halfway.")
        assert voice.wait_until_idle(30)
        assert list(voice.played) == ["Halfway."]
        assert (tmp_path / voice.sound("Halfway.").path).is_file()
        voice.reconfigure(off)
        voice.say("Breathe slowly.")
        assert voice.wait_until_idle(5)
        assert list(voice.played) == ["Halfway."]
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("the voice:")]
    assert said == ["the voice: pyttsx3, volume 0.3, no chimes", "the voice: off"]


def test_sounds_rendered_ahead_of_a_reload_keep_those_in_use(tmp_path):
    # A reload read during a session renders its sounds at once, and the running voice's
    # sounds stay in the cache until the new one takes over.
    now, later = VoiceSettings(VoiceConfig()), VoiceSettings(VoiceConfig(volume=0.2))
    with Speaker(now.voice, tmp_path, NULL_OUTPUT) as voice:
        voice.prepare(["Halfway."])
        assert voice.wait_until_idle(30)
        running = voice.sound("Halfway.").path
        voice.prepare(["Halfway.", "Done."], [None], later)
        assert voice.wait_until_idle(30)
        assert (tmp_path / running).is_file()
        voice.reconfigure(later)
        new = [voice.sound(text).path for text in ("Halfway.", "Done.")]
        assert all((tmp_path / path).is_file() for path in new)
        voice.prepare(["Halfway.", "Done."])
        assert voice.wait_until_idle(30)
        assert sorted(p.name for p in tmp_path.glob("*.wav")) == sorted(
            (tmp_path / path).name for path in new
        )
        assert voice.synthesised == 3  # nothing rendered twice
