"""How far ``bedside voice render`` has got: a bar on a terminal, a line a minute elsewhere
(the journal), and the count and the time at the end; a render with Piper takes minutes."""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys

from voicekit import ROOT, bedside, small_config

from bedside.commands.progress import ProgressLine


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_away_from_a_terminal_a_line_a_minute():
    clock, out = Clock(), io.StringIO()
    progress = ProgressLine(139, "sounds", out, terminal=False, clock=clock)
    for at, done in ((10, 5), (59, 20), (61, 21), (100, 40), (125, 52), (130, 139)):
        clock.now = at
        progress.update(done)
    progress.close()
    assert out.getvalue().splitlines() == [
        "bedside: 21 of 139 sounds done, 1:01 so far",
        "bedside: 52 of 139 sounds done, 2:05 so far",
    ]


def test_on_a_terminal_a_bar_drawn_over_itself():
    clock, out = Clock(), io.StringIO()
    with ProgressLine(10, "sounds", out, terminal=True, clock=clock) as progress:
        for done in range(1, 11):
            clock.now = done * 6.0
            progress.update(done)
    drawn = out.getvalue()
    assert drawn.endswith("\n") and drawn.count("\n") == 1  # one line, drawn over
    assert "\r[############............] 5/10 sounds, 0:30, about 0:30 left" in drawn
    assert "\r[########################] 10/10 sounds, 1:00\x1b[K\n" in drawn


def test_a_job_over_at_once_says_nothing_away_from_a_terminal():
    out = io.StringIO()
    with ProgressLine(3, "sounds", out, terminal=False) as progress:
        for done in range(4):
            progress.update(done)
    assert out.getvalue() == ""


def test_voice_render_draws_its_bar_on_a_terminal(tmp_path):
    config = small_config(tmp_path)
    env = {**os.environ, "CACHE_DIRECTORY": str(tmp_path / "cache")}
    main, other = pty.openpty()
    render = subprocess.Popen(
        [sys.executable, "-m", "bedside", "voice", "render", "--config", str(config)],
        stdin=subprocess.DEVNULL, stdout=other, stderr=other, cwd=ROOT, env=env,
    )  # fmt: skip
    os.close(other)
    seen = b""
    while True:
        ready, _, _ = select.select([main], [], [], 120)
        try:
            chunk = os.read(main, 4096) if ready else b""
        except OSError:  # the terminal's other end closed: the render is over
            chunk = b""
        if not chunk:
            break
        seen += chunk
    os.close(main)
    assert render.wait(30) == 0, seen
    text = seen.decode()
    count = int(text.split(" sounds ready")[0].rsplit(" ", 1)[-1])
    assert f"] {count}/{count} sounds, 0:" in text, text  # the bar, at its end
    assert "rendered in" in text  # the count and the time, at the end


def test_voice_render_away_from_a_terminal_draws_no_bar(tmp_path):
    config = small_config(tmp_path)
    run = bedside("voice", "render", "--config", str(config),
                  env={"CACHE_DIRECTORY": str(tmp_path / "cache")}, timeout=120)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "\r" not in run.stderr and "[" not in run.stderr  # a quick render: no line at all
    assert " sounds ready in " in run.stdout and " rendered in " in run.stdout
