"""The shipped routines carry the facts of ../shared/ROUTINES.md.

Each test loads the real config/ (or a private copy of it, to choose a profile or change a
setting) and looks at the flat steps the loader makes: titles, kinds, durations, sides,
repetitions and the cues with their times.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from bedside.config.load import load_config
from bedside.config.sections import Config
from bedside.core.routines import Routine, Step, StepKind
from bedside.core.routines import words as count_words

SHIPPED_CONFIG = Path(__file__).resolve().parent.parent / "config" / "bedside.toml"
NAMES = ("bedtime", "legs-up-wall", "foot-massage", "leg-lifts")
HEALTH_CLAIMS = (
    "detox",
    "toxin",
    "immun",
    "blood pressure",
    "cure",
    "heal",
    "circulation",
    "lymph",
)

# A spoken count is one number word and a full stop ("Five.", "Twenty-five."): found by its
# shape, so that what each says is checked against the counts below, not against bedside's table.
COUNT_CUE = re.compile(r"^[A-Z][a-z]+(?:-[a-z]+)?\.$")
SPOKEN = {5: "Five.", 10: "Ten.", 15: "Fifteen.", 20: "Twenty.", 25: "Twenty-five."}


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(SHIPPED_CONFIG)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} should occur once in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def words(step: Step) -> str:
    """Everything a step says or shows, in lower case."""
    return " ".join([step.title, *(cue.text for cue in step.cues)]).lower()


def signature(step: Step) -> tuple:
    return (step.title, step.kind, step.duration, step.side, step.reps)


def all_routines(config: Config, strong: Config) -> list[Routine]:
    return [*config.routines.values(), strong.routines["leg-lifts"]]


@pytest.fixture
def strong(config_copy: Path) -> Config:
    edit(config_copy, 'leg-lifts = "steady"', 'leg-lifts = "strong"')
    return load_config(config_copy)


# -- the set of routines ---------------------------------------------------------------------
def test_the_routines_are_exactly_these(config: Config) -> None:
    assert set(config.routines) == set(NAMES)
    assert set(config.menu) == set(NAMES)


def test_bedtime_comes_first_in_the_menu(config: Config) -> None:
    assert config.menu[0] == "bedtime"


def test_every_routine_has_a_title_summary_and_steps(config: Config) -> None:
    for name, routine in config.routines.items():
        assert routine.name == name
        assert routine.title and routine.summary and routine.finish
        assert routine.steps
        assert all(step.title for step in routine.steps)


# -- bedtime: the whole sequence -------------------------------------------------------------
def test_bedtime_is_foot_massage_then_legs_up_the_wall_then_bed(config: Config) -> None:
    bedtime = config.routines["bedtime"].steps
    feet = config.routines["foot-massage"].steps
    wall = config.routines["legs-up-wall"].steps
    assert len(bedtime) == len(feet) + len(wall) + 1
    assert [signature(s) for s in bedtime[: len(feet)]] == [signature(s) for s in feet]
    assert [signature(s) for s in bedtime[len(feet) : -1]] == [signature(s) for s in wall]
    assert [s.cues for s in bedtime[:-1]] == [s.cues for s in (*feet, *wall)]
    last = bedtime[-1]
    assert last.kind is StepKind.TIMED
    assert "bed" in words(last)
    assert last.side is None


def test_bedtime_steps_say_which_part_they_come_from(config: Config) -> None:
    bedtime = config.routines["bedtime"].steps
    feet = config.routines["foot-massage"]
    wall = config.routines["legs-up-wall"]
    parts = [s.part for s in bedtime]
    assert parts == ([feet.title] * len(feet.steps) + [wall.title] * len(wall.steps) + [parts[-1]])
    assert parts[-1] == config.routines["bedtime"].title


def test_bedtime_includes_rather_than_copies(config_copy: Path) -> None:
    routines = config_copy.parent / "routines"
    edit(routines / "foot-massage.toml", 'duration = "20m"', 'duration = "25m"')
    edit(routines / "legs-up-wall.toml", 'title = "Coming down"', 'title = "Slowly down"')
    config = load_config(config_copy)
    bedtime = config.routines["bedtime"]
    soak = [s for s in bedtime.steps if "soak" in s.title.lower()]
    assert [s.duration for s in soak] == [25 * 60]
    titles = [s.title for s in bedtime.steps]
    assert "Slowly down" in titles and "Coming down" not in titles
    feet, wall = config.routines["foot-massage"], config.routines["legs-up-wall"]
    assert bedtime.total_seconds == feet.total_seconds + wall.total_seconds + (
        bedtime.steps[-1].duration or 0
    )


# -- foot massage ----------------------------------------------------------------------------
def test_foot_massage_soak_is_20_to_30_minutes(config: Config) -> None:
    steps = config.routines["foot-massage"].steps
    soaks = [s for s in steps if "soak" in s.title.lower()]
    assert len(soaks) == 1
    soak = soaks[0]
    assert soak.kind is StepKind.TIMED
    assert 20 * 60 <= soak.duration <= 30 * 60
    assert "warm" in words(soak) or "warm" in words(steps[0])


def test_foot_massage_dry_and_oil_waits_for_a_press(config: Config) -> None:
    steps = config.routines["foot-massage"].steps
    dry = [s for s in steps if "dry" in words(s) and "oil" in words(s)]
    assert len(dry) == 1
    assert dry[0].kind is StepKind.WAIT and dry[0].duration is None
    soak = next(i for i, s in enumerate(steps) if "soak" in s.title.lower())
    first_massage = next(i for i, s in enumerate(steps) if s.side)
    assert soak < steps.index(dry[0]) < first_massage


MASSAGE_PARTS = [
    ("ankle to toes", ("ankle", "toe")),
    ("each toe, eased apart", ("each toe", "apart")),
    ("toe tips, pulled", ("pull", "end of each toe")),
    ("centre of the sole to the heel", ("sole", "heel")),
    ("below the ball of the foot", ("below", "ball of the foot")),
]


def test_foot_massage_left_foot_then_right_foot_with_the_same_steps(config: Config) -> None:
    steps = config.routines["foot-massage"].steps
    sided = [s for s in steps if s.side is not None]
    left = [s for s in sided if s.side == "left"]
    right = [s for s in sided if s.side == "right"]
    assert sided == left + right  # all of the left foot, then all of the right
    assert [s.title for s in left] == [s.title for s in right]
    assert [s.duration for s in left] == [s.duration for s in right]
    assert len(left) == len(MASSAGE_PARTS)
    # the sided steps follow one another, after the soak and the drying
    start = steps.index(sided[0])
    assert list(steps[start : start + len(sided)]) == sided


def test_foot_massage_has_all_five_parts_in_order(config: Config) -> None:
    left = [s for s in config.routines["foot-massage"].steps if s.side == "left"]
    for index, (part, needles) in enumerate(MASSAGE_PARTS):
        text = words(left[index])
        assert all(n in text for n in needles), f"step {index + 1} should be {part}: {text}"


def test_foot_massage_steps_last_a_minute_or_so(config: Config) -> None:
    for step in config.routines["foot-massage"].steps:
        if step.side:
            assert step.kind is StepKind.TIMED
            assert 20 <= step.duration <= 180


def test_side_placeholders_are_filled(config: Config) -> None:
    steps = config.routines["foot-massage"].steps
    for side, other in (("left", "right"), ("right", "left")):
        said = " ".join(words(s) for s in steps if s.side == side)
        assert f"your {side} foot" in said
        assert other not in said
    for routine in config.routines.values():
        for step in routine.steps:
            assert "{" not in step.title and "}" not in step.title
            for cue in step.cues:
                assert "{" not in cue.text and "}" not in cue.text, cue.text


# -- legs up the wall ------------------------------------------------------------------------
def hold_step(routine: Routine) -> Step:
    return max((s for s in routine.steps if s.kind is StepKind.TIMED), key=lambda s: s.duration)


def test_legs_up_the_wall_set_up(config: Config) -> None:
    first = config.routines["legs-up-wall"].steps[0]
    assert first.kind is StepKind.WAIT
    text = words(first)
    assert "back" in text and "wall" in text
    assert "close" in text  # as close as you can; not touching is fine


def test_legs_up_the_wall_holds_5_to_20_minutes(config: Config) -> None:
    hold = hold_step(config.routines["legs-up-wall"])
    assert 5 * 60 <= hold.duration <= 20 * 60
    assert "wall" in words(hold)


def test_legs_up_the_wall_mentions_the_pillow_option(config: Config) -> None:
    text = " ".join(words(s) for s in config.routines["legs-up-wall"].steps)
    assert "pillow" in text
    assert "lower back" in text


def test_legs_up_the_wall_belly_breathing_during_the_hold(config: Config) -> None:
    text = words(hold_step(config.routines["legs-up-wall"]))
    assert "belly" in text or "diaphragm" in text
    assert "breathe" in text


def test_legs_up_the_wall_has_a_way_out_of_the_pose(config: Config) -> None:
    routine = config.routines["legs-up-wall"]
    after = routine.steps[routine.steps.index(hold_step(routine)) + 1 :]
    assert after, "the hold must not be the last step"
    cues = [cue.text.lower() for step in after for cue in step.cues]
    bend = next(i for i, c in enumerate(cues) if "bend" in c and "knee" in c)
    roll = next(i for i, c in enumerate(cues) if "roll" in c and "side" in c)
    up = next(i for i, c in enumerate(cues) if "get up" in c and "slowly" in c)
    assert bend < roll < up


# -- leg lifts -------------------------------------------------------------------------------
def reps_steps(routine: Routine) -> list[Step]:
    return [s for s in routine.steps if s.kind is StepKind.REPS]


def test_leg_lifts_default_profile_is_5_sets_of_20(config: Config) -> None:
    routine = config.routines["leg-lifts"]
    assert [s.reps for s in reps_steps(routine)] == [20] * 5
    assert routine.profile_title == "5 sets of 20"


def test_leg_lifts_strong_profile_is_3_sets_of_30(strong: Config) -> None:
    routine = strong.routines["leg-lifts"]
    assert routine.profile == "strong"
    assert [s.reps for s in reps_steps(routine)] == [30] * 3
    assert "Set 3 of 3" in [s.title for s in routine.steps]


def test_leg_lifts_never_more_than_100(config: Config, strong: Config) -> None:
    for routine in (config.routines["leg-lifts"], strong.routines["leg-lifts"]):
        total = sum(s.reps for s in reps_steps(routine))
        assert 0 < total <= 100


@pytest.mark.parametrize("profile", ["steady", "strong"])
def test_leg_lifts_rest_between_sets_but_not_after_the_last(
    config_copy: Path, profile: str
) -> None:
    edit(config_copy, 'leg-lifts = "steady"', f'leg-lifts = "{profile}"')
    steps = load_config(config_copy).routines["leg-lifts"].steps
    sets = [i for i, s in enumerate(steps) if s.kind is StepKind.REPS]
    rests = [i for i, s in enumerate(steps) if "rest" in s.title.lower()]
    assert len(rests) == len(sets) - 1
    for before, after in itertools.pairwise(sets):
        between = steps[before + 1 : after]
        assert len(between) == 1 and "rest" in between[0].title.lower()
        assert between[0].kind is StepKind.TIMED
    assert all(rest < sets[-1] for rest in rests)
    assert [s.title for s in steps if s.kind is StepKind.REPS] == [
        f"Set {n} of {len(sets)}" for n in range(1, len(sets) + 1)
    ]


def test_leg_lifts_start_and_end(config: Config) -> None:
    steps = config.routines["leg-lifts"].steps
    assert steps[0].kind is StepKind.WAIT
    start = words(steps[0])
    assert "face up" in start and "under your head" in start and "elbows" in start
    end = words(steps[-1])
    assert "wall" in end and "breathe" in end


def test_reps_duration_is_reps_times_seconds_per_rep(config: Config, strong: Config) -> None:
    for routine in (config.routines["leg-lifts"], strong.routines["leg-lifts"]):
        for step in reps_steps(routine):
            assert step.seconds_per_rep >= 4  # slowly up, slowly down
            assert step.duration == step.reps * step.seconds_per_rep


def test_reps_are_counted_at_a_calm_pace(config: Config, strong: Config) -> None:
    for routine in (config.routines["leg-lifts"], strong.routines["leg-lifts"]):
        for step in reps_steps(routine):
            assert len(step.cues) < step.reps / 2
            counts = [cue for cue in step.cues if COUNT_CUE.match(cue.text)]
            assert counts, "a reps step keeps a quiet count"
            done = [round(cue.at / step.seconds_per_rep) for cue in counts]
            # each count is said as that many lifts are done, and never every lift
            assert [cue.at for cue in counts] == [n * step.seconds_per_rep for n in done]
            assert all(b - a >= 2 for a, b in itertools.pairwise(done))
            assert all(0 < n < step.reps for n in done)
            assert [cue.text for cue in counts] == [SPOKEN[n] for n in done]
            # the shipped routines count every five lifts, each count said as a word
            assert done == list(range(5, step.reps, 5))


# -- every routine ---------------------------------------------------------------------------
def test_no_health_claims(config: Config, strong: Config) -> None:
    for routine in all_routines(config, strong):
        texts = [routine.title, routine.summary, routine.finish, routine.profile_title]
        for step in routine.steps:
            texts += [step.title, step.part, *(cue.text for cue in step.cues)]
        for text in texts:
            for claim in HEALTH_CLAIMS:
                assert claim not in text.lower(), f"{routine.name}: {text!r}"


def test_cues_are_within_their_steps_and_in_order(config: Config, strong: Config) -> None:
    for routine in all_routines(config, strong):
        for step in routine.steps:
            times = [cue.at for cue in step.cues]
            assert times == sorted(times), f"{routine.name}: {step.title}"
            assert all(cue.text.strip() for cue in step.cues)
            if step.duration is None:
                assert step.kind is StepKind.WAIT
                assert all(0 <= t <= 3600 for t in times)
            else:
                assert step.duration > 0
                assert all(0 <= t <= step.duration for t in times), f"{step.title}: {times}"
            assert step.cues and step.cues[0].at == 0, "every step says something at its start"


def test_wait_steps_and_only_wait_steps_have_no_duration(config: Config) -> None:
    for routine in config.routines.values():
        for step in routine.steps:
            assert (step.duration is None) == (step.kind is StepKind.WAIT)
            assert (step.reps is not None) == (step.kind is StepKind.REPS)


def test_long_steps_get_halfway_and_minute_left(config: Config) -> None:
    long_step = config.cues.long_step
    long_steps = 0
    for routine in config.routines.values():
        for step in routine.steps:
            texts = {cue.text: cue.at for cue in step.cues}
            if step.kind is StepKind.TIMED and step.duration >= long_step:
                long_steps += 1
                assert texts.get("Halfway.") == step.duration / 2, step.title
                assert texts.get("One minute left.") == step.duration - 60, step.title
            else:
                assert "Halfway." not in texts and "One minute left." not in texts
    assert long_steps >= 2  # the soak and the hold, at least


def test_halfway_and_minute_left_can_be_turned_off(config: Config, config_copy: Path) -> None:
    edit(config_copy, 'halfway = "Halfway."', 'halfway = ""')
    edit(config_copy, 'minute_left = "One minute left."', 'minute_left = ""')
    quiet = load_config(config_copy)
    for name, routine in quiet.routines.items():
        for step, loud in zip(routine.steps, config.routines[name].steps, strict=True):
            assert [c.text for c in step.cues] == [
                c.text for c in loud.cues if c.text not in ("Halfway.", "One minute left.")
            ]


def test_halfway_and_minute_left_texts_are_settings(config_copy: Path) -> None:
    edit(config_copy, 'halfway = "Halfway."', 'halfway = "Half done."')
    edit(config_copy, 'minute_left = "One minute left."', 'minute_left = ""')
    edit(config_copy, 'long_step = "5m"', 'long_step = "90s"')
    config = load_config(config_copy)
    ankle = next(s for s in config.routines["foot-massage"].steps if s.duration == 90)
    assert "Half done." in [c.text for c in ankle.cues]
    soak = next(s for s in config.routines["foot-massage"].steps if "soak" in s.title.lower())
    assert [c.at for c in soak.cues if c.text == "Half done."] == [soak.duration / 2]
    assert not any(c.text == "One minute left." for c in soak.cues)


@pytest.mark.parametrize(
    ("n", "said"),
    [
        (0, "Zero"),
        (1, "One"),
        (7, "Seven"),
        (12, "Twelve"),
        (19, "Nineteen"),
        (20, "Twenty"),
        (21, "Twenty-one"),
        (45, "Forty-five"),
        (99, "Ninety-nine"),
        (100, "One hundred"),
        (101, "One hundred and one"),
        (342, "Three hundred and forty-two"),
        (999, "Nine hundred and ninety-nine"),
        (1000, "1000"),
    ],
)
def test_a_count_is_said_in_words(n: int, said: str) -> None:
    assert count_words(n) == said
