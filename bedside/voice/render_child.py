"""The render child: ``python -m bedside.voice.render_child``, started by ``Renderer``.

It reads the job (the engine, the cache folder, the sounds) as JSON on stdin, renders each
distinct text once with the engine, resamples it to the output's rate (band-limited,
``bedside.sound.resample``) and masters it to every loudness asked for
(``bedside.sound.mastering``: BS.1770 loudness, a trim that keeps everything within 45 dB of
the voiced level, so no final consonant is lost), and synthesises the chimes and soundscape
loops at that rate; it writes each WAV atomically into the cache and answers one JSON line per
sound on stdout. It runs at nice 10, so a long Piper render never starves the sound stage or
the daemon; it dies with its parent, and so does a Piper under it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np

from bedside.sound import chimes, soundscapes
from bedside.sound.kinds import KINDS
from bedside.sound.mastering import master_cue
from bedside.sound.resample import resample
from bedside.sound.wavfile import read_wav
from bedside.voice.cache import remove_leftovers, write_pcm_atomically
from bedside.voice.engine import EngineUnavailable
from bedside.voice.engine_choice import engine_from_spec
from bedside.voice.processes import die_with_parent
from bedside.voice.renderer import Item

__all__ = ["LOOP_CHANNELS", "LOOP_SECONDS", "NICE", "main"]

NICE = 10  # below the daemon and the stage: rendering is work done ahead, never urgent
LOOP_SECONDS = 40.0  # a synthesised loop: long enough that no one hears it repeat
LOOP_CHANNELS = 2


def _pcm(samples: np.ndarray) -> bytes:
    return bytes(np.rint(np.clip(samples * 32767.0, -32768, 32767)).astype("<i2").tobytes())


def _made(item: Item) -> np.ndarray:
    """A chime's or a loop's samples (frames, or frames x channels) at the item's rate."""
    level = item.target if item.target is not None else float("-inf")
    if item.kind == "chime":
        return chimes.chime(item.text, item.rate, level)
    if item.text in KINDS:
        return soundscapes.synthesise(item.text, item.rate, LOOP_CHANNELS, LOOP_SECONDS, level)
    return soundscapes.load_loop(Path(item.text), item.rate, LOOP_CHANNELS, level)


def main() -> int:
    with contextlib.suppress(OSError):
        os.nice(NICE)
    # stdout is this process's answer; whatever else writes to fd 1 (espeak, Piper, a
    # library's print) goes to /dev/null instead of into the answer.
    answer = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    request = json.load(sys.stdin)  # the parent gone before it wrote: no request, no render
    die_with_parent(request["parent"])
    folder = Path(request["folder"])
    items = [Item(**item) for item in request["items"]]

    def tell(item: Item, error: str | None = None, unavailable: bool = False) -> None:
        report: dict[str, object] = {"path": item.path}
        if error is not None:
            report.update(error=error, unavailable=unavailable)
        answer.write(json.dumps(report) + "\n")

    def write(item: Item, samples: np.ndarray) -> None:
        channels = 1 if samples.ndim == 1 else samples.shape[1]
        try:
            write_pcm_atomically(_pcm(samples), channels, item.rate, Path(item.path))
        except (OSError, ValueError) as e:
            tell(item, f"cannot write {item.path}: {e}")
        else:
            tell(item)

    def store(item: Item, raw: np.ndarray, rate: int) -> None:
        level = item.target if item.target is not None else float("-inf")
        at_rate = resample(raw, rate, item.rate) if rate != item.rate else raw
        mastered = master_cue(at_rate, item.rate, level)
        samples = mastered.samples if level != float("-inf") else mastered.samples * 0.0
        write(item, samples)

    remove_leftovers(folder)  # what killed renders left
    for item in items:
        if item.kind in ("chime", "loop"):
            try:
                made = _made(item)
            except (OSError, ValueError) as e:
                tell(item, f"cannot make {item.text}: {e}")
                continue
            write(item, made)
    by_text: dict[str, list[Item]] = {}
    for item in items:
        if item.kind == "text":
            by_text.setdefault(item.text, []).append(item)
    if not by_text:
        return 0
    texts = list(by_text)
    work = folder / f".work-{os.getpid()}"
    try:
        work.mkdir()
        engine = engine_from_spec(request["engine"])
        for index, made_path in engine.render(texts, work):
            if isinstance(made_path, Exception):
                for item in by_text[texts[index]]:
                    tell(item, str(made_path))
                continue
            try:
                raw, rate = read_wav(made_path)
            except (OSError, EOFError, ValueError) as e:
                for item in by_text[texts[index]]:
                    tell(item, f"unreadable WAV from the engine: {e}")
                continue
            finally:
                with contextlib.suppress(OSError):
                    made_path.unlink()
            mono = raw.mean(axis=1) if raw.shape[1] > 1 else raw[:, 0]
            for item in by_text[texts[index]]:
                store(item, mono.astype(np.float64), rate)
    except EngineUnavailable as e:
        for text in texts:
            for item in by_text[text]:
                tell(item, str(e), unavailable=True)
    except OSError as e:
        for text in texts:
            for item in by_text[text]:
                tell(item, f"cannot render into {folder}: {e}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
