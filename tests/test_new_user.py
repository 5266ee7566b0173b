"""What a new user tripped over, each fixed and held here: the menu's order, one wording for
one action, leg lifts that fit their cues, a plan that reads well, history in real time and in
plain words, and nights at a glance."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from faults import Daemon, quiet_config, session, tonight
from PIL import Image

from bedside.commands.history import BLOCKS, NONE, nights, sparkline
from bedside.commands.plan import plan_table
from bedside.config import core_terms
from bedside.config.load import DEFAULT_MENU, load_config
from bedside.core.phrases import Phrases
from bedside.history.store import Store

ROOT = Path(__file__).resolve().parent.parent


def bedside(*args: str, home: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ}
    if home is not None:
        env["HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "bedside", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


def test_an_empty_bedside_toml_gives_the_documented_menu_order(config_copy):
    config_copy.write_text("")
    assert load_config(config_copy).menu == DEFAULT_MENU
    readme = (ROOT / "README.md").read_text()
    documented = [
        line.split("`")[1]
        for line in readme.splitlines()
        if line.startswith("| ") and line.split("|")[1].strip().isdigit()
    ]
    assert tuple(documented) == DEFAULT_MENU


def test_the_panel_and_the_voice_say_the_same_words_for_carrying_on():
    from bedside.core.screens import describe
    from bedside.core.state import Mode, State

    config = load_config()
    settings = core_terms.settings(config)
    routine = config.routines["legs-up-wall"]
    state = State(Mode.PAUSED, routine=routine, step_index=1, paused_at=10.0)
    hint = describe(state, settings, 10.0).hint
    assert hint == "press to carry on"
    assert Phrases().paused.lower().endswith(hint + ".")
    assert Phrases().restored.lower().endswith(hint + ".")


def test_leg_lift_counts_fall_on_the_lifts_and_the_wall_gives_time_to_get_there():
    routine = load_config().routines["leg-lifts"]
    sets = [s for s in routine.steps if s.kind.value == "reps"]
    for step in sets:
        lift = next(c.at for c in step.cues if "raise your legs" in c.text.lower())
        five = next(c.at for c in step.cues if c.text == "Five.")
        assert lift == 0.0  # the first lift is asked for as the set begins ...
        assert five == 5 * step.seconds_per_rep  # ... so "Five" falls after five lifts
        end = step.cues[-1]  # said just before the set ends, so it is heard before the rest
        assert "rest" not in end.text.lower()  # the last set has no rest after it
    after = routine.steps[routine.steps.index(sets[-1]) + 1]
    assert after.kind.value == "wait" and "wall" in after.cues[0].text  # time to get there
    wall = routine.steps[-1]
    assert wall.kind.value == "timed" and wall.title == "Legs on the wall"


def test_plan_shows_a_waiting_step_as_waiting_not_as_a_length():
    table = plan_table(load_config().routines["leg-lifts"])
    first = next(line for line in table.splitlines() if line.strip().startswith("1 "))
    assert "waits for a press" in first and "press" not in first.split("wait")[0]
    second = next(line for line in table.splitlines() if line.strip().startswith("2 "))
    assert "+00:00" in second and "20 x 6 s" in second
    assert "after the presses" in table


def test_check_config_lists_each_files_problems_from_the_top_down(config_copy):
    shipped = config_copy.read_text()
    text = shipped.replace('"leg-lifts"]', '"leg-lift"]').replace(
        "breathe_in = 4", "breathe_in = 0"
    )
    text = text.replace('stale_after = "5s"', 'stale_after = "soon"')
    config_copy.write_text(text.replace("pin = 17", "pin = 99"))
    done = bedside("check-config", "--config", str(config_copy))
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if "bedside.toml:" in line]
    numbers = [int(line.split("bedside.toml:")[1].split(":")[0]) for line in lines]
    assert numbers == sorted(numbers) and len(numbers) == 4, done.stderr
    config_copy.write_text(shipped + "\n[voice]\nrate = 1\n")
    done = bedside("check-config", "--config", str(config_copy))
    assert "each [table] written once, found [voice] a second time" in done.stderr


def test_history_at_speed_keeps_the_times_that_really_happened(tmp_path):
    config = quiet_config(tmp_path / "config")
    config.write_text(config.read_text().replace("grow = true", "grow = false"))
    routine = config.parent / "routines" / "legs-up-wall.toml"
    text = routine.read_text().replace('duration = "10m"', 'duration = "30s"')
    routine.write_text(text.replace('at = "3m"', 'at = "25s"'))
    state = tmp_path / "state"
    began = time.time()
    script = "press\nwait 1\npress\nwait 95\n"  # 91 s of routine, ten times fast
    daemon = Daemon(state, config, script, "--routine", "legs-up-wall", speed=10)
    assert daemon.finish() == 0, daemon.stderr
    ended = time.time()
    assert daemon.of("finished")[0]["completed"] is True
    with Store(state / "bedside.db") as store:
        [session] = store.sessions()
    assert began <= session.started <= session.ended <= ended  # never in the future
    assert session.ended - session.started < 30  # about 9 real seconds, not a minute and a half


def test_history_csv_says_yes_and_no_and_the_demo_has_its_own(tmp_path):
    home = tmp_path / "home"
    demo = home / ".local" / "state" / "bedside" / "demo"
    now = time.time()
    with Store(demo / "bedside.db") as store:
        store.record(session("bedtime", now - 3000, now - 600, True, 17, 17))
        store.record(session("leg-lifts", now - 500, now - 400, False, 2, 12))
    done = bedside("history", "--demo", "--csv", home=home)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [r["completed"] for r in rows] == ["yes", "no"]
    missing = bedside("history", home=home)
    assert missing.returncode == 1 and "--demo" in missing.stderr
    assert "/var/lib/bedside" in missing.stderr


def test_history_ends_with_a_sparkline_of_the_nights(tmp_path):
    state = tmp_path / "state"
    now = datetime.now()
    with Store(state / "bedside.db") as store:
        for days, minutes in [(3, 40), (2, 10), (1, 20)]:
            start = (now - timedelta(days=days)).timestamp()
            store.record(session("bedtime", start, start + minutes * 60, minutes > 15, 1, 1))
    done = bedside("history", "--state-dir", str(state), "--days", "5")
    assert done.returncode == 0, done.stderr
    line = done.stdout.splitlines()[-1]
    assert line.startswith("minutes a night, oldest first: ")
    spark = line.split(": ")[1]
    assert len(spark) == 5 and spark[0] == NONE and spark[1] == BLOCKS[-1]
    assert BLOCKS.index(spark[2]) < BLOCKS.index(spark[3]) < BLOCKS.index(spark[1])


def test_the_chart_draws_completed_nights_filled_and_others_outlined(tmp_path):
    now = tonight()
    sessions = [
        session("bedtime", (now - timedelta(days=2)).timestamp(), 0, True, 1, 1),
        session("bedtime", (now - timedelta(days=1)).timestamp(), 0, False, 1, 1),
    ]
    sessions = [
        session(s.routine, s.started, s.started + 1800, s.completed, 1, 1) for s in sessions
    ]
    shown = nights(sessions, 4, now, "bedtime")
    assert [n.completed for n in shown] == [False, True, False, False]
    assert [round(n.minutes) for n in shown] == [0, 30, 30, 0]
    assert sparkline(shown) == NONE + BLOCKS[-1] * 2 + NONE
    path = tmp_path / "nights.png"
    done_state = tmp_path / "state"
    with Store(done_state / "bedside.db") as store:
        for s in sessions:
            store.record(s)
    done = bedside("history", "--state-dir", str(done_state), "--days", "4", "--chart", str(path))
    assert done.returncode == 0, done.stderr
    image = Image.open(path).convert("RGB")
    # columns: left margin 44, 18 px a night; the bars' lower middle, just above the axis
    filled = image.getpixel((44 + 18 * 1 + 7, 28 + 160 - 10))
    outlined = image.getpixel((44 + 18 * 2 + 7, 28 + 160 - 10))
    empty = image.getpixel((44 + 18 * 0 + 7, 28 + 160 - 10))
    assert filled != (255, 255, 255) and outlined == (255, 255, 255)
    assert empty == (255, 255, 255)
    assert json.loads(bedside("history", "--state-dir", str(done_state), "--json").stdout)


def test_history_and_the_chart_follow_the_configured_night_routine(tmp_path, config_copy):
    config_copy.write_text(
        config_copy.read_text().replace('routine = "bedtime"', 'routine = "legs-up-wall"')
    )
    state = tmp_path / "state"
    night = tonight()
    with Store(state / "bedside.db") as store:
        for days, routine in [(3, "bedtime"), (2, "bedtime"), (1, "legs-up-wall")]:
            start = (night - timedelta(days=days)).timestamp()
            store.record(session(routine, start, start + 1800, True, 1, 1))
    where = ("--state-dir", str(state), "--days", "4")
    shipped = bedside("history", *where)
    assert shipped.returncode == 0, shipped.stderr
    assert "bedtime streak: 0 night(s)" in shipped.stdout  # last night was not bedtime
    configured = bedside("history", "--config", str(config_copy), *where)
    assert configured.returncode == 0, configured.stderr
    assert "legs-up-wall streak: 1 night(s)" in configured.stdout
    assert "bedtime streak" not in configured.stdout
    path = tmp_path / "nights.png"
    drawn = bedside("history", "--config", str(config_copy), *where, "--chart", str(path))
    assert drawn.returncode == 0, drawn.stderr
    image = Image.open(path).convert("RGB")
    # columns as above: the oldest night first; bedtime two nights ago, legs up the wall last
    bedtime = image.getpixel((44 + 18 * 1 + 7, 28 + 160 - 10))
    legs = image.getpixel((44 + 18 * 2 + 7, 28 + 160 - 10))
    assert legs != (255, 255, 255) and bedtime == (255, 255, 255)


def test_nothing_is_brighter_than_the_countdown_it_stands_for():
    from bedside.core.screens import Screen, View
    from bedside.display.picture import picture

    running = Screen(View.RUNNING, "Soak your feet", "", "13:20", 0.33, "2/17")
    paused = Screen(
        View.PAUSED, "Paused", "Soak your feet", "13:20", 0.33, "2/17", "press to carry on"
    )

    def lit(screen: Screen, size: tuple[int, int]) -> int:
        # a one-bit image packs eight pixels a byte: its lit pixels are its set bits
        return sum(byte.bit_count() for byte in picture(screen, size).tobytes())

    for size in ((128, 64), (128, 32)):
        # no more than the countdown and the hint's few words: the old banner lit 27 %
        assert lit(paused, size) <= lit(running, size) * 1.35, size
    assert lit(paused, (128, 64)) / (128 * 64) < 0.16


def test_the_demo_script_still_fits_the_routine():
    """Each press of config/demo.script lands where its comment says: if a routine changes
    length, this fails instead of the script quietly pausing the wrong step."""
    done = bedside("simulate", "--script", str(ROOT / "config" / "demo.script"))
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    mode, at_press, titles = "menu", [], []
    for event in events:
        if event["type"] == "gesture":
            at_press.append(mode)
        elif event["type"] == "state":
            mode = event["state"]
        elif event["type"] == "step":
            titles.append(event["title"])
    # start, in the water, dried and oiled, pause, carry on, by the wall, back to the menu
    assert at_press == ["menu", "awaiting", "awaiting", "running", "paused", "awaiting", "finished"]
    assert "Legs up the wall" in titles
    assert [e["completed"] for e in events if e["type"] == "finished"] == [True]


def test_simulate_tells_a_person_what_happened_with_transcript(tmp_path):
    script = tmp_path / "night.txt"
    script.write_text("press\nwait 2\npress\nwait 400\n")
    done = bedside("simulate", "--transcript", "--routine", "legs-up-wall", "--script", str(script))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "0:00:02.22  step 2/3: Legs up the wall, 300 s" in lines  # let go 2.2, taken 2.22
    assert "0:05:02.22  the hold: held to the end, 300 of 300 s" in lines
    assert any(line.endswith("\U0001f50a Time to come down, slowly.") for line in lines)
    assert not any(line.startswith("{") for line in lines)  # no JSON left in it
