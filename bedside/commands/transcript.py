"""``bedside simulate --transcript``: the simulate events as a person follows them.

Spoken cues, steps and state changes are shown with their time; the countdown's screen
events are left out, except the first of each step.
"""

from __future__ import annotations

from collections.abc import Iterable


def transcript(events: Iterable[dict]) -> Iterable[str]:
    show_screen = True
    for event in events:
        t = event["t"]
        stamp = f"{int(t // 3600)}:{int(t % 3600 // 60):02d}:{t % 60:05.2f}"
        kind = event["type"]
        if kind == "step":
            side = f" ({event['side']} foot)" if event["side"] else ""
            length = f"{event['duration']:g} s" if event["duration"] else "until a press"
            show_screen = True
            yield (
                f"{stamp}  step {event['index'] + 1}/{event['count']}: "
                f"{event['title']}{side}, {length}"
            )
        elif kind == "say":
            yield f"{stamp}    \U0001f50a {event['text']}"
        elif kind == "state":
            show_screen = True
            yield f"{stamp}  [{event['state']}: {event['routine']}]"
        elif kind == "gesture":
            yield f"{stamp}  button: {event['gesture']}"
        elif kind == "display":
            yield f"{stamp}  display {'on' if event['on'] else 'off'}"
        elif kind == "finished":
            yield f"{stamp}  finished: {'completed' if event['completed'] else 'ended early'}"
        elif kind == "hold":
            how = "held to the end" if event["held"] else "ended early"
            yield f"{stamp}  the hold: {how}, {event['seconds']:g} of {event['length']:g} s"
        elif kind == "screen" and show_screen:
            show_screen = False
            yield f"{stamp}    \u2590 {' | '.join(event['lines'])}"
