"""The kernel's clock set under the running daemon (`date -s`: NTP's step after boot, an RTC
read late, a person's hand): the kernel tells the daemon at once (its timer on the wall clock
is cancelled on a set), and the menu's streak and the week's marks follow then, not at the next
noon, wake of the display or restart. The VM's clock is set from its RTC at boot (rtc_cmos,
hctosys), so it is a known clock, as on a Pi 5 or a Pi with an RTC module."""

import shutil
import time
from pathlib import Path

import pytest
from vmkit import (
    Button,
    cursor,
    fresh_start,
    messages,
    sh,
    status_text,
    trace_events,
    wait_for,
)

CONFIG = Path("/etc/bedside/bedside.toml")
ROUTINES = Path("/etc/bedside/routines")
NAP = 'title = "Nap"\n\n[[steps]]\ntitle = "Rest"\nkind = "timed"\nduration = "4s"\n'
DAYS = 3


def menu_lines(mark: str) -> list[list[str]]:
    """The menu's screens the daemon traced after ``mark``, oldest first."""
    return [e["lines"] for e in trace_events(mark) if e.get("type") == "screen"]


def streak_line(lines: list[str]) -> str:
    return next((line for line in lines if " night" in line), "")


@pytest.fixture
def a_night_done():
    """A routine of one 4 s step, the menu's only one and the night's; done once tonight. The
    configuration, the routines and the clock are put back after."""
    saved = CONFIG.read_text()
    backup = Path("/run/bedside-vm-routines")
    shutil.copytree(ROUTINES, backup, dirs_exist_ok=True)
    text = saved.replace('routine = "bedtime"', 'routine = "nap"', 1)
    text = text.replace(
        'routines = ["bedtime", "legs-up-wall", "foot-massage", "leg-lifts"]',
        'routines = ["nap"]',
        1,
    )
    assert text.count('"nap"') == 2, "the shipped [menu] routines or [nights] routine moved"
    (ROUTINES / "nap.toml").write_text(NAP)
    CONFIG.write_text(text)
    moved = 0
    try:
        fresh_start()
        button = Button()
        mark = cursor()
        button.press(0.25)
        wait_for("the nap done", lambda: status_text().endswith(": done"), 30)
        button.press(0.25)
        wait_for(
            "the menu with tonight done",
            lambda: any(streak_line(lines).startswith("1 night ") for lines in menu_lines(mark)),
            15,
        )

        def move(days: int) -> None:
            nonlocal moved
            sh("date", "-s", f"{days:+d} days")
            moved += days

        yield move
    finally:
        if moved:
            sh("date", "-s", f"{-moved:+d} days")
        (ROUTINES / "nap.toml").unlink(missing_ok=True)
        CONFIG.write_text(saved)
        shutil.rmtree(backup, ignore_errors=True)
        fresh_start()


def test_the_clock_set_under_the_daemon_moves_the_streak_at_once(a_night_done):
    """Three days on: the streak is broken and tonight's mark is three nights back, on the
    display within seconds of the set, with the display's timer and noon far off."""
    mark = cursor()
    set_at = time.monotonic()
    a_night_done(DAYS)
    said = wait_for(
        "the daemon's notice of the set",
        lambda: [m for m in messages(mark) if "the wall clock was set" in m],
        5,
    )
    screens = wait_for(
        "the menu's streak after the set",
        lambda: [streak_line(lines) for lines in menu_lines(mark) if streak_line(lines)],
        5,
    )
    took = time.monotonic() - set_at
    print(f"{said[0]!r}; the menu's streak then: {screens[-1]!r}, {took:.2f} s after the set")
    marks = screens[-1].split(" ", 2)[-1]
    assert screens[-1].startswith("0 nights "), screens
    assert marks.index("●") == len(marks) - 1 - DAYS, marks  # tonight's, three nights back
    assert status_text().startswith("menu: ")
