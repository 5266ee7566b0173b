"""What the device says of itself: the time left said as a person says it (a few dozen phrases
for a step of any length), texts with nothing to say, and the bound on the sounds a
configuration asks for."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bedside.config.spoken import CHIMES
from bedside.core.phrases import Phrases, speakable, spoken_minutes
from bedside.core.routines import Routine, Step, StepKind
from bedside.sound import kinds


@pytest.mark.parametrize(
    ("minutes", "said"),
    [
        (0.4, "Less than a minute left"),
        (1, "One minute left"),
        (13, "Thirteen minutes left"),
        (20, "Twenty minutes left"),
        (22.4, "About twenty minutes left"),
        (22.5, "About twenty-five minutes left"),  # halves up, as people round
        (44, "About forty-five minutes left"),
        (58, "About an hour left"),
        (68, "About an hour and a quarter left"),
        (90, "About an hour and a half left"),
        (110, "About an hour and three quarters left"),
        (150, "About two and a half hours left"),
        (359, "About six hours left"),
        (7 * 60 + 40, "About eight hours left"),
    ],
)
def test_the_time_left_is_said_as_a_person_says_it(minutes, said):
    assert Phrases.left(minutes * 60) == said


def test_the_time_left_never_grows_as_time_goes_by():
    said = [spoken_minutes(seconds)[0] for seconds in range(24 * 3600, -1, -7)]
    assert said == sorted(said, reverse=True)


def test_a_step_of_eight_hours_asks_for_a_few_dozen_phrases_not_one_a_minute():
    step = Step("Sleep", StepKind.TIMED, duration=8 * 3600.0)
    texts = Phrases().every([Routine("night", "Night", (step,))])
    lefts = {t for t in texts if t.startswith("Paused.")}
    assert 30 < len(lefts) < 50  # 481 when every minute was said
    assert "Paused. About two and a half hours left. Press to carry on." in lefts


@pytest.mark.parametrize("minutes", [1, 20.5, 22.5, 59.75, 135, 8 * 60 + 29.5])
def test_whatever_is_left_of_a_step_is_said_with_a_sound_rendered_ahead(minutes):
    # A pause at any moment, or a restart right at a step's start, says a phrase in the set
    # rendered ahead: a step of 22 min 30 s begins "About twenty-five minutes left".
    longest = minutes * 60
    step = Step("Sleep", StepKind.TIMED, duration=longest)
    rendered = set(Phrases().every([Routine("night", "Night", (step,))]))
    moments = [longest, *(n / 4 for n in range(int(longest * 4)))]
    missing = {Phrases.left(s) for s in moments} - {
        t.removeprefix("Paused. ").removesuffix(". Press to carry on.")
        for t in rendered
        if t.startswith("Paused.")
    }
    assert not missing


@pytest.mark.parametrize("text", ["...", "\u2014", "( )", "[]", "\u200b", "?!", "", " "])
def test_a_text_of_punctuation_alone_has_nothing_to_say(text):
    assert not speakable(text)


@pytest.mark.parametrize("text", ["Rest.", "5", "Füße hoch", "Привет", "\u2014 and rest \u2014"])
def test_a_text_with_a_letter_or_a_digit_has_something_to_say(text):
    assert speakable(text)


def test_the_chimes_counted_are_the_chimes_rendered():
    assert CHIMES == kinds.CHIMES  # config counts them, voice renders them


def test_a_hold_growing_by_a_millisecond_a_night_asks_for_its_phrases_at_once(tmp_path):
    # Millions of nights a millisecond apart were enumerated one by one (and now every reading
    # of the configuration counts the sounds it asks for): gigabytes, and no end.
    from bedside.config.load import load_config
    from bedside.config.spoken import cue_texts
    from bedside.core.growth import GrowthPlan, every_length

    assert len(every_length(GrowthPlan(True, 60.0, 0.001, 3 * 3600.0))) == 3 * 3600 - 60 + 1
    shutil.copytree(Path(__file__).parent.parent / "config" / "routines", tmp_path / "routines")
    config = tmp_path / "bedside.toml"
    config.write_text('[hold]\nstart = "1m"\nstep = 0.001\nlongest = "3h"\n')
    texts = cue_texts(load_config(config))
    assert "Legs up the wall. Tonight, the hold is one hundred and eighty minutes." in texts
