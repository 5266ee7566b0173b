"""What the device says of itself (paused, carrying on, ending, picking up again, a routine's
name in the menu), so it can be used with the eyes closed."""

from __future__ import annotations

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
        """Time left in whole minutes, as it is said: "Eight minutes left"."""
        whole = whole_minutes(seconds)
        if whole < 1:
            return "Less than a minute left"
        return f"{words(whole)} minute{'s' if whole > 1 else ''} left"

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
        lefts = [self.left(m * 60) for m in range(whole_minutes(longest) + 1)]
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
