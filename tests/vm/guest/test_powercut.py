"""A power cut mid-step (the host kills QEMU: no shutdown, no sync) and the boot after it: the
device comes back paused where it was, with its history. test_cut runs in one boot and asks
the host for the cut; test_after in the next boot from the same disk."""

import json
import time
from pathlib import Path

from vmkit import RESULTS, Button, cursor, sh, status_text, trace_events, wait_for, wait_ready

EXPECTED = RESULTS / "powercut-expected.json"


def test_cut(fresh_daemon):
    button = Button()
    mark = cursor()
    button.press(0.25)  # start: the first step waits for a press
    wait_for("step 1", lambda: "step 1/" in status_text(), 15)
    time.sleep(1)
    button.press(0.25)  # continue: a countdown
    wait_for("step 2", lambda: "step 2/" in status_text(), 15)
    time.sleep(15)  # well into the step; the daemon keeps its progress as it goes
    steps = [e for e in trace_events(mark) if e.get("type") == "step"]
    expected = {"status": status_text(), "step": steps[-1], "at": time.time()}
    EXPECTED.write_text(json.dumps(expected))
    (RESULTS / "powercut-cut.cut").write_text("cut now\n")  # the host kills QEMU
    time.sleep(600)
    raise AssertionError("the host did not cut the power")


def test_after():
    expected = json.loads(EXPECTED.read_text())
    wait_ready()
    status = status_text()
    assert status == expected["status"] + " (paused)", (status, expected)
    history = json.loads(
        sh("bedside", "history", "--state-dir", "/var/lib/bedside", "--json").stdout
    )
    print("history:", json.dumps(history)[:600])
    assert history, "no history after the power cut"
    text = json.dumps(history)
    assert expected["step"]["routine"] in text
    mark = cursor()
    Button().press(0.25)  # carry on, from where it was
    wait_for("running again", lambda: not status_text().endswith("(paused)"), 15)
    assert status_text() == expected["status"]
    assert not [e for e in trace_events(mark) if e.get("type") == "step"]  # the same step
    assert Path("/var/lib/bedside").exists()
