"""The render child: ``python -m bedside.voice.render_child``, started by ``Renderer``.

It reads the job (the engine, the cache folder, the sounds) as JSON on stdin, renders each
distinct text once with the engine, masters it to every loudness asked for, writes each WAV
atomically into the cache, and answers one JSON line per sound on stdout. It dies with its
parent, and so does a Piper under it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
from pathlib import Path

from bedside.voice.cache import remove_leftovers, write_atomically
from bedside.voice.chimes import synthesise
from bedside.voice.engine import EngineUnavailable
from bedside.voice.engine_choice import engine_from_spec
from bedside.voice.mastering import master
from bedside.voice.processes import die_with_parent
from bedside.voice.renderer import Item
from bedside.voice.wav import Sound, read_wav

__all__ = ["main"]


def main() -> int:
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

    def store(item: Item, sound: Sound) -> None:
        level = item.target if item.target is not None else float("-inf")
        try:
            mastered = master(sound, level, trim=item.kind == "text")
            write_atomically(mastered, Path(item.path))
        except (OSError, ValueError) as e:
            tell(item, f"cannot write {item.path}: {e}")
        else:
            tell(item)

    remove_leftovers(folder)  # what killed renders left
    for item in items:
        if item.kind == "chime":
            store(item, synthesise(item.text))
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
        for index, made in engine.render(texts, work):
            if isinstance(made, Exception):
                for item in by_text[texts[index]]:
                    tell(item, str(made))
                continue
            try:
                sound = read_wav(made)
            except (OSError, EOFError, ValueError) as e:
                for item in by_text[texts[index]]:
                    tell(item, f"unreadable WAV from the engine: {e}")
                continue
            finally:
                with contextlib.suppress(OSError):
                    made.unlink()
            for item in by_text[texts[index]]:
                store(item, sound)
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
