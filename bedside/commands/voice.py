"""``bedside voice render`` and ``bedside voice say``: the voice's cache, and trying a voice.

``render`` makes every sound the daemon can play (every routine's cues and counts, the phrases,
the reminder, the quieter night's volume, the chimes, the soundscape's loop), at the output's
own rate, in the cache the daemon reads
(``$CACHE_DIRECTORY``, else ``~/.cache/bedside``), so the first night is ready; ``make install``
runs it as the service's user, and shows how far it has got (``progress.py``). ``say`` speaks
one line through the configured engine and device, and says plainly when there is no sound card
to play it on.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from bedside.app.paths import cache_directory, voice_cache
from bedside.commands.progress import ProgressLine
from bedside.config.load import log_warnings
from bedside.config.sections import Config
from bedside.config.spoken import cue_texts, volumes_of
from bedside.core.errors import UsageError
from bedside.core.phrases import NOTHING_TO_SAY, speakable
from bedside.core.printable import printable
from bedside.voice import render_now, say_now, sound_cards
from bedside.voice.cache import open_cache, prune, remove_leftovers
from bedside.voice.engine_choice import engine_for, spec_of
from bedside.voice.output_rate import native_rate
from bedside.voice.renderer import Item
from bedside.voice.speaker import loop, sounds_of
from bedside.voice.wav import is_playable

__all__ = ["listing", "render", "say"]

LOG = logging.getLogger("bedside.voice")


def _logging(config: Config) -> None:
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="bedside: %(message)s")
    log_warnings(config, LOG)


def _items(config: Config, folder: Path) -> list[Item]:
    """Every sound the device can play (at the output's own rate), with its place in the
    cache: what ``render`` makes and ``list`` looks for."""
    engine = engine_for(config.voice, LOG)
    rate = native_rate(f"alsa:{config.voice.device}")
    items = sounds_of(
        config.voice, config.sounds, engine, folder, cue_texts(config), volumes_of(config), rate
    )
    if config.soundscape.enabled:
        items.append(loop(config.voice, config.soundscape.sound, folder, rate))
    return items


def listing(config: Config, as_json: bool = False) -> int:
    """Each sound of this configuration the cache holds: its text, file, seconds and loudness
    (BS.1770, LUFS, as the stage plays it: a mono cue measured as itself). 0, or 1 when the
    cache has no folder."""
    _logging(config)
    from bedside.sound.loudness import cue_loudness, integrated_loudness
    from bedside.sound.wavfile import read_wav

    folder = voice_cache(cache_directory())
    found: list[dict[str, Any]] = []
    for item in _items(config, folder):
        path = Path(item.path)
        if not is_playable(path):
            continue
        samples, rate = read_wav(path)
        if item.kind == "loop":
            level = integrated_loudness(samples.astype("float64"), rate)
        else:
            level = cue_loudness(samples[:, 0].astype("float64"), rate)
        found.append(
            {
                "text": item.text,
                "file": str(path),
                "seconds": round(len(samples) / rate, 3),
                "loudness_lufs": None if not math.isfinite(level) else round(level, 2),
            }
        )
    if as_json:
        print(json.dumps(found, ensure_ascii=False, indent=1))
        return 0
    for sound in found:
        lufs = sound["loudness_lufs"]
        said = "silent" if lufs is None else f"{lufs:.1f} LUFS"
        name = Path(sound["file"]).name[:12]
        print(f"{sound['seconds']:6.2f} s  {said:>10}  {name}  {printable(sound['text'])}")
    print(f"{len(found)} sounds in {folder}")
    return 0


def render(config: Config) -> int:
    """Render what the cache lacks; 0 when every sound is there, 1 when some could not be."""
    _logging(config)
    if not config.voice.enabled:
        print("bedside: the voice is off ([voice] enabled = false): nothing to render")
        return 0
    folder = open_cache(voice_cache(cache_directory()), LOG)
    if folder is None:
        return 1
    remove_leftovers(folder)  # what a killed render left
    engine = engine_for(config.voice, LOG)
    items = _items(config, folder)
    start = time.monotonic()
    # Piper takes minutes for them all: a bar on a terminal, a line a minute in the journal.
    with ProgressLine(len(items), "sounds", sys.stderr, terminal=sys.stderr.isatty()) as progress:
        done, problems = render_now(spec_of(engine), folder, items, LOG, progress.update)
    took = time.monotonic() - start
    if problems:
        print(f"bedside: {len(problems)} sound(s) could not be rendered:", file=sys.stderr)
        for problem in problems[:10]:
            print(f"  {problem}", file=sys.stderr)
        return 1
    removed = prune(folder, [item.path for item in items])
    print(
        f"bedside: {len(items)} sounds ready in {folder} with {engine.name}: "
        f"{done} rendered in {took:.1f} s, {len(items) - done} already there"
        + (f", {removed} old ones removed" if removed else "")
    )
    return 0


# ALSA names that play on a sound card of this machine; any other (null, a plug of the
# person's own, a sound server) is tried as it is.
_ON_A_CARD = ("default", "sysdefault", "hw:", "plughw:")


def no_sound_card(device: str) -> str | None:
    """Why ``device`` cannot play, in plain words, when it would play on a sound card and
    ``aplay -l`` lists none; None when there is a card (or the device needs none)."""
    if not device.startswith(_ON_A_CARD) or shutil.which("aplay") is None or sound_cards():
        return None  # no aplay at all is the player's to say
    return (
        f'no sound card: `aplay -l` lists none, so [voice] device = "{device}" has nothing to'
        " play on. Plug in a USB speaker or a sound HAT (on a Pi, the headphone jack needs"
        " dtparam=audio=on in /boot/firmware/config.txt), check that `aplay -l` lists it,"
        ' and name it in [voice] device if it is not the first (like "plughw:1,0")'
    )


def say(config: Config, text: str) -> int:
    """Say ``text`` once through the configured engine and sound device; 0 if it was heard."""
    _logging(config)
    if not config.voice.enabled:
        print("bedside: the voice is off ([voice] enabled = false)", file=sys.stderr)
        return 1
    if not speakable(text):
        raise UsageError(f"expected {NOTHING_TO_SAY}, found {text!r}")
    cache = voice_cache(cache_directory())  # no home to find it in: the person's to fix, first
    missing = no_sound_card(config.voice.device)
    if missing:
        print(f"bedside: {missing}", file=sys.stderr)
        return 1
    ok = say_now(config.voice, text, cache, log=LOG)
    if not ok:
        print("bedside: could not say it (see above)", file=sys.stderr)
    return 0 if ok else 1
