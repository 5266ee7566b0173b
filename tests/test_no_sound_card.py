"""``bedside voice say`` on a machine without a sound card (issue 20, item 14): a plain
sentence saying so and how to check (``aplay -l``, ``[voice] device``), never aplay's own
"main:831: audio open error". ``aplay`` here is a stand-in on the PATH that lists the cards it
is told to, so the test says the same on a machine with a card and on one without.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from voicekit import bedside, small_config

APLAY = """#!/bin/sh
if [ "$1" = "-l" ]; then
    {listing}
    exit 0
fi
{playing}
"""
NO_CARD = "echo 'aplay: device_list:274: no soundcards found...' >&2"
A_CARD = "echo 'card 0: Headphones [bcm2835 Headphones], device 0: bcm2835 Headphones'"
CANNOT_OPEN = "echo 'aplay: main:831: audio open error: No such file or directory' >&2; exit 1"


def with_aplay(folder: Path, listing: str, playing: str) -> dict[str, str]:
    """An environment whose ``aplay`` lists ``listing`` and plays as ``playing`` says."""
    folder.mkdir()
    aplay = folder / "aplay"
    aplay.write_text(APLAY.format(listing=listing, playing=playing))
    aplay.chmod(aplay.stat().st_mode | stat.S_IXUSR)
    return {"PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}


@pytest.mark.parametrize("device", ["default", "plughw:1,0"])
def test_voice_say_without_a_sound_card_says_so_and_how_to_check(tmp_path, device):
    config = small_config(tmp_path, extra=f'device = "{device}"\n')
    env = with_aplay(tmp_path / "bin", NO_CARD, CANNOT_OPEN)
    env["CACHE_DIRECTORY"] = str(tmp_path / "cache")
    run = bedside("voice", "say", "--config", str(config), "Good night.", env=env, timeout=120)
    assert run.returncode == 1
    assert "bedside: no sound card: `aplay -l` lists none" in run.stderr, run.stderr
    assert f'[voice] device = "{device}"' in run.stderr and "check that `aplay -l`" in run.stderr
    assert "main:831" not in run.stderr and "Traceback" not in run.stderr


def test_voice_say_with_a_card_plays_as_before(tmp_path):
    # ALSA's null device: it plays on any machine (the stage opens it through libasound).
    config = small_config(tmp_path, extra='device = "null"\n')
    env = with_aplay(tmp_path / "bin", A_CARD, "exit 0")
    env["CACHE_DIRECTORY"] = str(tmp_path / "cache")
    run = bedside("voice", "say", "--config", str(config), "Good night.", env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "no sound card" not in run.stderr
