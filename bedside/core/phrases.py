"""What the device says of itself (paused, carrying on, ending, picking up again, a routine's
name in the menu), so it can be used with the eyes closed.

The time left is said as a person says it, not to the minute however long is left: every minute
up to 20, then about every 5 minutes up to the hour, about every quarter hour up to two hours,
every half hour up to six, then whole hours ("About an hour and a half left"). So a step of any
length has a few dozen phrases of time left to render ahead, not one a minute.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from bedside.core.durations import whole_minutes
from bedside.core.growth import growing_length
from bedside.core.routines import Routine, words

# What a text to be said must have, in a message about one that has nothing to say.
NOTHING_TO_SAY = (
    "words to say (a letter or a digit): punctuation, dashes or brackets alone say nothing"
)


def speakable(text: str) -> bool:
    """Whether ``text`` has anything to say: a letter or a digit. Dots, dashes, brackets and
    invisible characters alone make no sound at all (Piper writes no audio for them)."""
    return any(c.isalnum() for c in text)


@dataclass(frozen=True)
class Phrases:
    """What the device says of itself, so that it can be used with the eyes closed."""

    paused: str = "Paused. {left}. Press to carry on."
    resumed: str = "Carrying on."
    ended: str = "Ending here. Sleep well."
    restored: str = "Picking up where you left off. Paused. {left}. Press to carry on."
    restored_waiting: str = "Picking up where you left off."
    menu: str = "{title}."  # said when a hold moves the menu to a routine
    menu_hold: str = "{title}. Tonight, the hold is {minutes}."

    @staticmethod
    def left(seconds: float) -> str:
        """Time left as a person says it (``spoken_minutes``): "Eight minutes left", "About
        twenty-five minutes left", "About an hour and a half left"."""
        minutes, exact = spoken_minutes(seconds)
        if minutes < 1:
            return "Less than a minute left"
        amount = _amount(minutes)
        return f"{amount} left" if exact else f"About {amount[:1].lower()}{amount[1:]} left"

    @staticmethod
    def minutes(seconds: float) -> str:
        whole = max(1, whole_minutes(seconds))
        return f"{words(whole).lower()} minute{'s' if whole > 1 else ''}"

    def announce(self, routine: Routine) -> str:
        hold = growing_length(routine)
        if hold is None:
            return self.menu.format(title=routine.title)
        return self.menu_hold.format(title=routine.title, minutes=self.minutes(hold))

    def every(self, routines: Iterable[Routine], holds: Iterable[float] = ()) -> list[str]:
        """Every text these phrases can make, for synthesising ahead of time."""
        routines = list(routines)
        longest = max((s.duration or 0 for r in routines for s in r.steps), default=0.0)
        # A few dozen, however long a step is: the time left is rounded as it grows.
        lefts = list(dict.fromkeys(self.left(seconds) for seconds in _moments(longest)))
        texts = [self.paused.format(left=left) for left in lefts]
        texts += [self.restored.format(left=left) for left in lefts]
        texts += [self.resumed, self.ended, self.restored_waiting]
        for routine in routines:
            texts.append(self.announce(routine))
            grows = any(s.grows for s in routine.steps)
            texts += [
                self.menu_hold.format(title=routine.title, minutes=self.minutes(h))
                for h in holds
                if grows
            ]
        return list(dict.fromkeys(texts))


# Up to how many minutes the time left is said in steps of how many: every minute up to 20,
# then every 5 up to the hour, quarter hours up to two hours, half hours up to six, then hours.
_STEPS = ((20, 1), (60, 5), (120, 15), (360, 30), (float("inf"), 60))


def spoken_minutes(seconds: float) -> tuple[int, bool]:
    """The time left as a person says it, in minutes, and whether that is exact (to the whole
    minute) or about: rounded to the nearest of the steps ``_STEPS`` sets (halves up)."""
    whole = whole_minutes(seconds)
    if whole <= _STEPS[0][0]:
        return whole, True
    minutes = seconds / 60
    step = next(step for limit, step in _STEPS if minutes < limit)
    return step * math.floor(minutes / step + 0.5), False


def _moments(longest: float) -> list[float]:
    """Times left from 0 to ``longest`` at which ``Phrases.left`` says every phrase it can say
    in that span. Every rounding in ``spoken_minutes`` changes at a multiple of 30 seconds
    (half minutes, half steps of whole minutes, the limits of ``_STEPS``), so the phrase is
    the same all through each 30 seconds between: one moment inside each, each multiple, and
    ``longest`` itself (a step of 22 min 30 s begins "About twenty-five minutes left")."""
    return [n * 15.0 for n in range(math.floor(longest / 15) + 1)] + [longest]


def _amount(minutes: int) -> str:
    """A length in minutes as it is said: "Twenty-five minutes", "An hour and a quarter", "Two
    and a half hours" (minutes from the hour on are a whole number of quarter hours)."""
    if minutes < 60:
        return f"{words(minutes)} minute{'s' if minutes > 1 else ''}"
    hours, rest = divmod(minutes, 60)
    part = {0: "", 15: " and a quarter", 30: " and a half", 45: " and three quarters"}[rest]
    if hours == 1:
        return f"An hour{part}"
    return f"{words(hours)}{part} hours"
