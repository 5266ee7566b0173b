"""The button through the kernel: gpio-sim's line 17 (the Pi's BCM 17) pulled down and up makes
real edges, interrupts and line events; lgpio reads them in the daemon, gpiozero turns them into
a pin's callbacks, bedside into gestures (its journal, with -v; STATUS= in systemctl)."""

import itertools
import statistics
import time

from vmkit import (
    Button,
    clear_i2c_log,
    cursor,
    figure,
    gestures,
    messages,
    python_pass_seconds,
    read_i2c_log,
    status_text,
    wait_for,
)


def gesture_after(mark: str, timeout: float = 15) -> list[str]:
    return wait_for("a gesture in the journal", lambda: gestures(mark), timeout)


def test_press_hold_and_long_hold_reach_the_daemon_as_those_gestures(fresh_daemon):
    button = Button()
    menu = status_text()

    mark = cursor()
    button.press(0.25)
    assert gesture_after(mark) == ["press"]
    wait_for("the routine's first step in STATUS=", lambda: "step 1/" in status_text(), 15)
    lines = messages(mark)
    assert any("button down at" in m for m in lines) and any("button up at" in m for m in lines)

    mark = cursor()
    button.down()
    time.sleep(1.6)
    button.up()
    assert gesture_after(mark) == ["hold"]
    wait_for("the second step in STATUS=", lambda: "step 2/" in status_text(), 15)

    mark = cursor()
    button.down()
    try:  # a long hold acts at 3 s, while the button is still down
        assert wait_for("a long hold while down", lambda: gestures(mark), 12) == ["long-hold"]
    finally:
        button.up()
    wait_for("the session ended in STATUS=", lambda: status_text().endswith(": ended"), 15)

    mark = cursor()
    button.press(0.25)
    assert gesture_after(mark) == ["press"]
    wait_for("the menu again", lambda: status_text() == menu, 15)


def daemon_closures(mark: str) -> list[float]:
    """How long each closure lasted as the daemon timed it (its "button down/up at" lines)."""
    times = []
    for m in messages(mark):
        for word in ("down", "up"):
            if f"button {word} at " in m:
                times.append((word, float(m.rsplit(" ", 1)[1])))
    pairs = itertools.pairwise(times)
    return [round(b[1] - a[1], 4) for a, b in pairs if a[0] == "down" and b[0] == "up"]


def test_chatter_made_of_real_edges_gives_no_gesture(fresh_daemon):
    """Found by this test: edges were timed when gpiozero's callback ran, and a late callback
    made 2 ms closures look tens of ms long: presses. They carry the kernel's time now, and
    chatter with no unbroken 20 ms of contact is noise."""
    button = Button()
    menu = status_text()
    # Chatter alone: closed for a few ms at a time, well under [button] bounce (0.02 s).
    mark = cursor()
    closed = button.chatter(6)
    time.sleep(2.5)
    print(
        f"chatter: 6 closures of {min(closed) * 1000:.1f}-{max(closed) * 1000:.1f} ms as "
        f"written; as the daemon timed them: {daemon_closures(mark)}"
    )
    assert max(closed) < 0.02, f"the chatter was too slow here to be bounce: {closed}"
    assert gestures(mark) == [], f"chatter made gestures: {gestures(mark)}"
    assert status_text() == menu


def test_a_bouncy_press_is_one_press(fresh_daemon):
    """Chatter as the contact closes and as it opens, held 0.3 s between: one press."""
    button = Button()
    mark = cursor()
    written = []
    written += button.chatter(3, between=0.002)
    button.down()
    time.sleep(0.3)
    written += button.chatter(3, between=0.002, opening=True)
    button.up()
    time.sleep(2.5)
    print(
        f"bouncy press: chatter written {[round(w, 4) for w in written]}; the closures as the "
        f"daemon timed them: {daemon_closures(mark)}"
    )
    assert max(written) < 0.02, f"the chatter was too slow here to be bounce: {written}"
    assert gestures(mark) == ["press"]
    wait_for("the routine's first step", lambda: "step 1/" in status_text(), 15)


def test_press_to_frame_on_the_bus(fresh_daemon):
    """From the button's release (the kernel edge) to the first byte of the new frame on the
    I2C bus, for holds in the menu (each shows the next routine), as a ratio to the time this
    VM takes to start `python3 -c pass`."""
    button = Button()
    time.sleep(1)
    samples = []
    for _ in range(6):
        clear_i2c_log()
        mark = cursor()
        button.down()
        time.sleep(1.3)
        released = button.up()
        gesture_after(mark)
        time.sleep(0.5)
        after = [m for m in read_i2c_log() if m.t >= released and not m.nacked]
        assert after, "no bytes on the bus after the hold"
        samples.append(after[0].t - released)
        time.sleep(0.5)
    reference = python_pass_seconds()
    median = statistics.median(samples)
    figure(
        "press to frame (release edge to the frame's first I2C byte), median of 6",
        median,
        "s",
        f"max {max(samples):.3f} s; python3 -c pass {reference:.3f} s",
        median / reference,
    )
    assert median < 2.0, samples
