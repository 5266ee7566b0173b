"""The Piper engine: a local neural voice, run only through its own command line.

piper-tts is GPL-3.0-or-later and bedside is MIT, so Piper is never imported here: the render
child runs ``python -m piper`` in batch mode (one model load, one WAV per input line) as a
process of its own, which also keeps its 200-300 MB out of the daemon. With both noise scales
at 0 Piper says a text the same way every time, which is what a cache wants.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import os
import platform
import re
import shlex
import subprocess
import sys
from collections.abc import Generator, Iterator
from pathlib import Path

from bedside.voice.engine import EngineUnavailable, SynthesisFailed
from bedside.voice.output import Lines, Tail
from bedside.voice.processes import die_with_parent

__all__ = ["PiperEngine", "piper_install", "piper_missing", "piper_requirement"]

_WROTE = re.compile(r"Wrote (.+\.wav)\s*$")
PATH_WIDTH = 8192  # bytes: a line of Piper's log naming a WAV it wrote
_NO_WHEELS = ("armv6l", "armv7l", "armv8l")  # 32-bit ARM: onnxruntime publishes no wheels


def piper_missing() -> str | None:
    """Why Piper cannot run on this machine, or None when it can."""
    if platform.machine() in _NO_WHEELS:
        return (
            "Piper needs onnxruntime, which has no wheels for 32-bit ARM "
            "(use a 64-bit Raspberry Pi OS for Piper)"
        )
    if importlib.util.find_spec("piper") is None:
        return f"Piper is not installed (install it with: {piper_install()})"
    return None


def piper_install() -> str:
    """The command that installs Piper into the Python bedside runs on (bedside is not on
    PyPI, so ``pip install 'bedside[piper]'`` finds nothing)."""
    return pip_install(piper_requirement())


def pip_install(requirement: str) -> str:
    """The command that installs ``requirement`` into the Python bedside runs on: the clone's
    ``.venv`` or the installed ``/opt/bedside/venv``, with ``sudo`` when this user cannot
    write there."""
    command = f"{shlex.quote(sys.executable)} -m pip install {shlex.quote(requirement)}"
    return command if os.access(sys.prefix, os.W_OK) else f"sudo {command}"


def piper_requirement() -> str:
    """Piper as bedside's ``piper`` extra asks for it (pyproject.toml, the one place that
    says which versions), without its markers: ``piper-tts<2,>=1.3``."""
    try:
        requires = importlib.metadata.requires("bedside") or []
    except importlib.metadata.PackageNotFoundError:  # run from a folder, never installed
        requires = []
    for requirement in requires:
        name, _, markers = requirement.partition(";")
        if 'extra == "piper"' in markers and name.strip().startswith("piper-tts"):
            return name.strip()
    return "piper-tts"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class PiperEngine:
    """Piper (a ``SpeechEngine``): the voice ``model`` (a ``.onnx`` file with its
    ``.onnx.json`` beside it), ``length_scale`` (above 1 is slower) and ``sentence_silence``
    (seconds between sentences). Run as a command, in the render child, never imported."""

    name = "piper"

    def __init__(
        self, model: Path, length_scale: float = 1.0, sentence_silence: float = 0.3
    ) -> None:
        self.model = Path(model)
        self.config = Path(str(self.model) + ".json")
        self.length_scale = length_scale
        self.sentence_silence = sentence_silence
        self._identity: list[object] | None = None

    def identity(self) -> list[object]:
        """What, besides the text, decides how a cue sounds: part of its cache key."""
        if self._identity is None:
            try:
                version = importlib.metadata.version("piper-tts")
            except importlib.metadata.PackageNotFoundError:
                version = ""
            try:
                voice = [_sha256(self.model), _sha256(self.config)]
            except OSError:
                voice = [str(self.model), ""]
            self._identity = [self.name, version, *voice, self.length_scale, self.sentence_silence]
        return self._identity

    def argv(self, texts_file: Path, out: Path) -> list[str]:
        """Piper's command line: every line of ``texts_file`` a WAV in the folder ``out``."""
        return [
            sys.executable,
            "-m",
            "piper",
            "--model",
            str(self.model),
            "--config",
            str(self.config),
            "--input-file",
            str(texts_file),
            "--output-dir",
            str(out),
            "--length-scale",
            str(self.length_scale),
            "--sentence-silence",
            str(self.sentence_silence),
            "--noise-scale",
            "0",
            "--noise-w-scale",
            "0",
        ]

    # -- in the render child -----------------------------------------------------------------
    def render(self, texts: list[str], work: Path) -> Iterator[tuple[int, Path | Exception]]:
        """Each text as a WAV in ``work``, in order, from as few Piper processes as it takes.

        Piper dies on a text it makes no sound for (it cannot write a WAV of nothing), taking
        every text after it along: it is started again on the texts after that one, so one
        bad text costs only itself. A Piper that never writes anything, twice over, cannot
        use its voice: that is ``EngineUnavailable``, and the caller speaks otherwise."""
        problem = piper_missing()
        if problem is not None:
            raise EngineUnavailable(problem)
        if not self.model.is_file() or not self.config.is_file():
            raise EngineUnavailable(f"no Piper voice at {self.model} (with its .onnx.json)")
        start, made, runs = 0, 0, 0
        failed: list[tuple[int, str]] = []  # said once Piper has shown it can speak at all
        while start < len(texts):
            runs += 1
            wrote = 0
            run = self._run(texts[start:], work / f"run-{runs}")
            try:
                while True:
                    index, path = next(run)
                    yield start + index, path
                    wrote += 1
            except StopIteration as end:
                why: str | None = end.value
            made += wrote
            start += wrote
            if why is None or start >= len(texts):
                break
            if made == 0 and (runs >= 2 or start + 1 >= len(texts)):
                raise EngineUnavailable(f"Piper failed: {why}")
            failed.append((start, why))
            start += 1  # the text it died on; the others are tried again
        for index, reason in failed:  # Piper spoke: these failed on their own
            yield index, SynthesisFailed(f"Piper failed on {texts[index]!r}: {reason}")

    def _run(self, texts: list[str], work: Path) -> Generator[tuple[int, Path], None, str | None]:
        """One Piper process on ``texts``: (index, WAV) for each it wrote; returns why it
        stopped short (None: it said them all)."""
        work.mkdir()
        listing = work / "texts.txt"
        # One text a line: Piper takes each non-empty line as one WAV, in order.
        listing.write_text("".join(" ".join(t.split()) + "\n" for t in texts), encoding="utf-8")
        process = subprocess.Popen(
            self.argv(listing, work / "out"),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=work,
            # the render child is single-threaded here; os.getpid() is read before the fork
            preexec_fn=functools.partial(die_with_parent, os.getpid()),
        )
        said = Tail()
        done = 0
        assert process.stderr is not None
        lines = Lines(PATH_WIDTH)  # its log, line by line, never more than a line held
        for chunk in iter(functools.partial(os.read, process.stderr.fileno(), 65536), b""):
            for line in lines.feed(chunk):
                match = _WROTE.search(line.decode("utf-8", "replace"))
                if match is None:
                    said.feed(line + b"\n")
                    continue
                yield done, Path(match.group(1))
                done += 1
        said.feed(lines.rest())
        process.wait()
        process.stderr.close()
        if done < len(texts):
            return said.last() or f"exit status {process.returncode}"
        return None
