"""The mixer, measured from what it mixes: ducking depth, ramps without clicks or splatter,
loops without a seam, the sleep timer's fade, queues, stops."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from bedside.sound import soundscapes
from bedside.sound.mixer import Mixer

from .needs import missing

R = 48000
BLOCK = 1024


def run(mixer: Mixer, seconds: float) -> np.ndarray:
    frames = round(seconds * R)
    out = [mixer.mix(min(BLOCK, frames - i)) for i in range(0, frames, BLOCK)]
    return np.concatenate(out)


def db(x: np.ndarray) -> float:
    return 10 * np.log10(np.mean(np.asarray(x, dtype=np.float64) ** 2) + 1e-30)


def tone_loop(freq: float = 1000.0, seconds: float = 2.0, amplitude: float = 0.25) -> np.ndarray:
    n = int(seconds * R)
    return (amplitude * np.sin(2 * np.pi * freq * np.arange(n) / R)).astype(np.float32)[:, None]


@pytest.fixture(scope="module")
def pink() -> np.ndarray:
    loop = soundscapes.synthesise("pink", R, 2, 10.0, -20.0)
    return np.rint(loop * 32767).astype(np.int16)


def bed_mixer(loop: np.ndarray, duck: float = 12.0, level: float = 0.0) -> Mixer:
    m = Mixer(R, 2, duck_db=duck)
    m.command(0, "soundscape", loop=loop, fade=0.0, name="bed")
    m.command(0, "level", db=level, ramp=0)
    return m


@pytest.mark.parametrize("duck", [6.0, 12.0, 20.0])
def test_ducking_depth_is_the_setting(pink: np.ndarray, duck: float) -> None:
    """A silent cue (it ducks, it adds nothing) from 2 s to 4 s: the bed's level under it, by
    the output alone, is ``duck`` dB under its level before, within 1 dB."""
    m = bed_mixer(pink, duck)
    m.cue(np.zeros(2 * R), 2 * R, "quiet")
    out = run(m, 6.0)
    before, under, after = (
        db(out[R : int(1.8 * R)]),
        db(out[int(2.2 * R) : int(3.8 * R)]),
        db(out[int(4.3 * R) : 6 * R]),
    )
    assert before - under == pytest.approx(duck, abs=1.0)
    assert after == pytest.approx(before, abs=1.0)


def test_the_dip_is_down_before_the_cue_speaks_and_rises_after(pink: np.ndarray) -> None:
    m = bed_mixer(tone_loop())
    m.cue(np.zeros(R), 2 * R)
    out = run(m, 4.0)[:, 0]
    envelope = np.sqrt(2 * np.convolve(out**2, np.ones(480) / 480, mode="same"))
    assert envelope[int(1.8 * R)] == pytest.approx(0.25, rel=0.02)  # not yet
    assert 20 * np.log10(envelope[2 * R + 240] / 0.25) == pytest.approx(-12, abs=0.5)  # down
    assert 20 * np.log10(envelope[3 * R - 240] / 0.25) == pytest.approx(-12, abs=0.5)
    assert envelope[int(3.2 * R)] == pytest.approx(0.25, rel=0.02)  # up again


def test_ramps_have_no_click_and_no_splatter() -> None:
    """A 1 kHz bed ducked and released: no sample step beyond the tone's own, and the spectrum
    around the ramps holds nothing 60 dB under the tone farther than 100 Hz from it."""
    m = bed_mixer(tone_loop())
    m.cue(np.zeros(R // 2), R)  # ramps at 0.85-1.0 s and 1.5-1.65 s
    out = run(m, 2.5)[:, 0]
    own = 0.25 * 2 * np.pi * 1000 / R
    assert np.max(np.abs(np.diff(out))) <= own * 1.001
    piece = out[int(0.6 * R) : int(1.9 * R)]
    spectrum = np.abs(np.fft.rfft(piece * np.blackman(len(piece))))
    f = np.fft.rfftfreq(len(piece), 1 / R)
    far = spectrum[np.abs(f - 1000) > 100].max()
    assert 20 * np.log10(far / spectrum.max()) < -60


def test_a_hard_switch_would_click() -> None:
    """The test above can fail: the same bed switched down 12 dB at once steps past the bound."""
    bed = tone_loop()[:, 0]
    switched = bed[:R].copy()
    switched[R // 2 :] *= 10 ** (-12 / 20)
    phase = np.argmax(np.abs(bed[R // 2 - 24 : R // 2 + 24])) + R // 2 - 24
    switched[phase:] = bed[phase:R] * 10 ** (-12 / 20)
    own = 0.25 * 2 * np.pi * 1000 / R
    assert np.max(np.abs(np.diff(switched))) > own * 1.5


def test_cues_close_together_share_one_dip(pink: np.ndarray) -> None:
    """Two cues 0.5 s apart: the bed stays down between them (no pump)."""
    m = bed_mixer(pink)
    m.cue(np.zeros(R), R)
    m.cue(np.zeros(R), int(2.5 * R))
    out = run(m, 5.0)
    before, gap = db(out[int(0.2 * R) : int(0.8 * R)]), db(out[int(2.05 * R) : int(2.45 * R)])
    assert before - gap == pytest.approx(12, abs=1.0)
    assert [e.what for e in m.events if e.kind == "duck"] == ["down", "up"]


@pytest.mark.parametrize("kind", soundscapes.KINDS)
def test_a_loop_has_no_seam(kind: str) -> None:
    """Across the loop point, the level of 20 ms frames and the spectral flux between them are
    like those anywhere else in the loop (within the loop's own 99.5th percentile)."""
    loop = soundscapes.synthesise(kind, R, 1, 8.0, -20.0)[:, 0]
    twice = np.concatenate([loop, loop])
    size = 960
    start = len(loop) - 25 * size  # frames around the seam, then the whole loop as reference
    frames = twice[start : start + (len(loop) // size) * size].reshape(-1, size)
    window = np.hanning(size)
    spectra = np.log(np.abs(np.fft.rfft(frames * window, axis=1)) + 1e-9)
    flux = np.sqrt(np.mean(np.diff(spectra, axis=0) ** 2, axis=1))
    levels = 10 * np.log10(np.mean(frames**2, axis=1))
    jumps = np.abs(np.diff(levels))
    seam = 24  # flux[24] and jumps[24] compare frame 24 (before the seam) with 25 (after)
    assert flux[seam] <= np.percentile(flux, 99.5)
    assert jumps[seam] <= np.percentile(jumps, 99.5)
    steps = np.abs(np.diff(loop))
    assert abs(loop[0] - loop[-1]) <= np.percentile(steps, 99.9)


def test_a_users_file_is_made_seamless(tmp_path) -> None:
    """A recording whose end does not meet its start (a tone at another phase, louder) comes
    back as a loop whose step across the seam is an ordinary one."""
    import shutil

    if shutil.which("sox") is None:
        missing("sox is not installed (make test installs it)")
    from bedside.sound.wavfile import write_wav

    t = np.arange(44100 * 5) / 44100
    x = 0.3 * np.sin(2 * np.pi * 440 * t) * np.linspace(0.5, 1.0, len(t))
    noise = np.random.default_rng(1).standard_normal(len(t)) * 0.02
    write_wav(tmp_path / "mine.wav", np.stack([x + noise, x - noise], axis=1), 44100)
    loop = soundscapes.load_loop(tmp_path / "mine.wav", R, 2, -20.0)
    steps = np.abs(np.diff(loop[:, 0]))
    assert abs(loop[0, 0] - loop[-1, 0]) <= np.percentile(steps, 99.9)


def test_the_sleep_timer_fades_out_and_stops(pink: np.ndarray) -> None:
    m = bed_mixer(pink)
    m.command(2 * R, "soundscape_off", fade=10.0)
    out = run(m, 14.0)
    levels = [db(out[i * R : (i + 1) * R]) for i in range(14)]
    assert levels[0] == pytest.approx(levels[1], abs=0.5)
    falling = levels[2:12]
    assert all(b < a + 0.2 for a, b in itertools.pairwise(falling))
    assert levels[7] < levels[1] - 20  # well down half way
    assert np.all(out[12 * R :] == 0.0)  # then nothing at all
    assert m.loop is None and m.idle_from() is not None
    assert np.max(np.abs(np.diff(out[:, 0]))) < 0.2


def test_a_cue_never_overlaps_a_cue_and_keeps_its_order() -> None:
    m = Mixer(R, 1)
    a, b, c = (np.full(R, v, dtype=np.float32) for v in (0.1, 0.2, 0.3))
    m.cue(b, int(1.5 * R), "b")  # asked first, due second
    m.cue(a, R, "a")
    m.cue(c, int(1.2 * R), "c")
    out = run(m, 5.0)[:, 0]
    starts = {e.text: e.frame for e in m.events if e.kind == "sound"}
    assert starts == {"a": R, "c": 2 * R, "b": 3 * R}
    assert out[R + 10] == pytest.approx(0.1) and out[2 * R + 10] == pytest.approx(0.3)
    assert np.max(out) == pytest.approx(0.3)  # never two at once


def test_a_cue_due_with_a_chime_starts_with_it() -> None:
    m = Mixer(R, 1)
    m.chime(np.full(int(1.3 * R), 0.05, dtype=np.float32), R, "step")
    m.cue(np.full(R, 0.1, dtype=np.float32), R, "go")
    run(m, 3.0)
    starts = {e.text: e.frame for e in m.events if e.kind == "sound"}
    assert starts == {"step": R, "go": R}


def test_a_stop_fades_what_was_asked_before_it_and_not_what_after(pink: np.ndarray) -> None:
    m = bed_mixer(pink)
    m.cue(np.full(3 * R, 0.2, dtype=np.float32), R, "long")
    m.command(2 * R, "stop", fade=0.3)
    m.cue(np.full(R // 2, 0.1, dtype=np.float32), 3 * R, "after")
    out = run(m, 4.0)[:, 0]
    assert np.max(np.abs(np.diff(out[2 * R - 10 : 3 * R]))) < 0.05  # the fade: no step
    assert np.all(out[int(2.3 * R) + 1 : 3 * R] == 0.0)
    assert out[3 * R + 100] == pytest.approx(0.1)
    cut = [e for e in m.events if e.kind == "cut"]
    assert {e.what for e in cut} == {"cue", "soundscape"}


def test_cancel_drops_what_has_not_begun() -> None:
    m = Mixer(R, 1)
    m.cue(np.full(R, 0.1, dtype=np.float32), R, "a", id="a")
    m.cue(np.full(R, 0.2, dtype=np.float32), 3 * R, "b", id="b")
    m.command(0, "cancel", id="b")
    out = run(m, 5.0)[:, 0]
    assert np.max(out[3 * R :]) == 0.0 and out[R + 5] == pytest.approx(0.1)


def test_volume_ramps_and_fade_in_start_at_zero(pink: np.ndarray) -> None:
    m = Mixer(R, 2)
    m.command(0, "soundscape", loop=pink, fade=2.0)
    m.command(0, "level", db=0, ramp=0)
    m.command(3 * R, "volume", db=-10, ramp=1.0)
    out = run(m, 6.0)
    assert out[0, 0] == 0.0
    assert db(out[int(2.2 * R) : int(2.9 * R)]) - db(out[int(4.2 * R) : 6 * R]) == pytest.approx(
        10, abs=0.5
    )
    assert np.max(np.abs(np.diff(out[:, 0]))) < 0.2


def test_idle_and_bounded() -> None:
    m = Mixer(R, 1, max_pending=3)
    assert m.idle_from() == 0
    m.cue(np.zeros(10, dtype=np.float32), 5)
    m.cue(np.zeros(10, dtype=np.float32), 50)
    m.chime(np.zeros(10, dtype=np.float32), 90)
    with pytest.raises(OverflowError):
        m.cue(np.zeros(10, dtype=np.float32), 100)


def test_a_block_of_mixing_costs_little(pink: np.ndarray) -> None:
    """Throughput: a ducked soundscape with cues and chimes mixes at far more than real time
    (the bench measures it properly)."""
    import time

    m = bed_mixer(pink)
    for k in range(20):
        m.cue(np.full(R, 0.1, dtype=np.float32), k * 2 * R)
        m.chime(np.full(R, 0.05, dtype=np.float32), k * 2 * R)
    started = time.process_time()
    run(m, 40.0)
    assert time.process_time() - started < 4.0  # 10x real time even on a busy machine


def reached_back(m: Mixer, what: str, x: np.ndarray, due: int, first: int, seconds: float):
    """Mix up to 1 s, then ask for ``x`` due at ``due`` on frames from ``first`` on, as the
    stage does after a rewind: the stream as it would then reach the card."""
    head = run(m, 1.0)
    added = m.reach_back(what, x, due, first)
    head[first:] += added
    return np.concatenate([head, run(m, seconds - 1.0)])


def test_a_chime_reached_back_is_what_placing_it_ahead_gives(pink: np.ndarray) -> None:
    """A chime asked late, on frames already mixed and taken back (from 0.8 s): the stream is
    sample for sample what it is with the chime asked ahead for that frame, over a bed, under
    a master volume."""
    x = (0.3 * np.sin(2 * np.pi * 880 * np.arange(R // 2) / R)).astype(np.float32)
    due = round(0.8 * R)
    ahead = bed_mixer(pink)
    ahead.command(0, "volume", db=-6, ramp=0)
    ahead.chime(x, due, "step")
    late = bed_mixer(pink)
    late.command(0, "volume", db=-6, ramp=0)
    expected = run(ahead, 2.0)
    got = reached_back(late, "chime", x, due, due - 960, 2.0)
    assert np.max(np.abs(got - expected)) < 1e-6
    assert [(e.kind, e.what, e.frame) for e in late.events if e.what == "chime"] == [
        ("sound", "chime", due)
    ]


def test_a_cue_reached_back_waits_for_speech_and_dips_the_bed_without_a_step() -> None:
    """A cue asked late over a bed: it starts where it was due (not after what was mixed),
    the bed dips under it along its ramp from the first frame taken back (no step: nothing
    was dipped before), to the setting; a second cue asked late while the first speaks
    starts after it."""
    m = bed_mixer(tone_loop())
    cue = np.zeros(R // 2, dtype=np.float32)
    due = round(0.8 * R)
    out = reached_back(m, "cue", cue, due, due - 4800, 3.0)[:, 0]
    assert np.max(np.abs(np.diff(out))) < 2 * np.pi * 1000 / R * 0.25 * 1.05  # the tone's own
    envelope = np.sqrt(2 * np.convolve(out**2, np.ones(480) / 480, mode="same"))
    assert envelope[due - 4800 - 480] == pytest.approx(0.25, rel=0.02)  # not before
    assert 20 * np.log10(envelope[due + R // 4] / 0.25) == pytest.approx(-12, abs=0.5)
    second = Mixer(R, 2)
    run(second, 1.0)
    second.reach_back("cue", np.full(R // 4, 0.1, np.float32), due, due)
    assert second.earliest("cue", due + 10) == due + R // 4


@pytest.mark.parametrize(
    ("action", "args"),
    [("stop", {"fade": 0.1, "soundscape": False}), ("stop", {"fade": 0.3}), ("cancel", {})],
)
def test_a_stop_or_cancel_taken_back_is_what_asking_it_then_gives(
    pink: np.ndarray, action: str, args: dict
) -> None:
    """A cue speaking and a chime due soon, over a bed; a stop (the bed kept or not) or a
    cancel asked late, on frames already mixed and taken back (from 0.8 s): the stream is
    sample for sample what it is with it asked for that frame, and a sound it dropped after
    being announced is reported cut where it began."""
    cue = (0.2 * np.sin(2 * np.pi * 440 * np.arange(R) / R)).astype(np.float32)
    chime = (0.3 * np.sin(2 * np.pi * 880 * np.arange(R // 2) / R)).astype(np.float32)
    first = round(0.8 * R)

    def asked() -> Mixer:
        m = bed_mixer(pink)
        m.cue(cue, round(0.5 * R), "speaking")
        m.chime(chime, round(0.9 * R), "soon", id="c1")
        return m

    ahead = asked()
    ahead.command(first, action, **args)
    expected = run(ahead, 2.0)
    late = asked()
    head = run(late, 1.0)
    head[first:] += late.take_back(first, action, **args)
    got = np.concatenate([head, run(late, 1.0)])
    assert np.max(np.abs(got - expected)) < 1e-6
    cut = [(e.what, e.frame, e.end) for e in late.events if e.kind == "cut" and e.what == "chime"]
    assert cut == [("chime", round(0.9 * R), round(0.9 * R))]
