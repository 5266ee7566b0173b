"""The pyttsx3 engine: espeak-ng through pyttsx3, the default voice. Runs in the render child.

Every workaround pyttsx3 needs lives here and nowhere else. Its espeak driver speaks through a
blocking ``aplay`` that prints to stdout, but its ``save_to_file`` works headless, so the
render child (``bedside.voice.renderer``) uses that, one text at a time. espeak-ng keeps
one global state and can be initialised once a process: one engine per child.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bedside.voice.engine import EngineUnavailable, SynthesisFailed
from bedside.voice.wav import UNREADABLE, wav_seconds

__all__ = ["EspeakEngine"]

# Long enough for any cue on a Pi Zero; an espeak that cannot write (a full disk) never
# finishes, and then this text fails instead of the child hanging.
SYNTHESIS_TIMEOUT = 30.0


def _discard(*args: object, **kwargs: object) -> None:
    pass


def _version(command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip().splitlines()[0] if out.stdout.strip() else ""


class EspeakEngine:
    """espeak-ng through pyttsx3 (a ``SpeechEngine``): the default voice, ``voice`` one of
    espeak-ng's (``en``, ``en-gb``...), ``rate`` in words a minute. Its sound is made in the
    render child, one text at a time; the daemon only asks it for its ``identity()``."""

    name = "pyttsx3"

    def __init__(self, voice: str = "en", rate: int = 140) -> None:
        self.voice = voice
        self.rate = rate
        self._engine: Any = None
        self._identity: list[object] | None = None

    def identity(self) -> list[object]:
        """What, besides the text, decides how a cue sounds: part of its cache key."""
        if self._identity is None:  # once: it asks espeak-ng for its version
            try:
                pyttsx3 = importlib.metadata.version("pyttsx3")
            except importlib.metadata.PackageNotFoundError:
                pyttsx3 = ""
            espeak = _version(["espeak-ng", "--version"])
            self._identity = [self.name, pyttsx3, espeak, self.voice, self.rate]
        return self._identity

    # -- in the render child -----------------------------------------------------------------
    def render(self, texts: list[str], work: Path) -> Iterator[tuple[int, Path | Exception]]:
        """Each text as a WAV in ``work``, in order: (index, path) or (index, the error)."""
        for i, text in enumerate(texts):
            path = work / f"{i}.wav"
            try:
                self._speak_until_heard(text, path)
            except EngineUnavailable:
                raise
            except Exception as e:
                yield i, e
            else:
                yield i, path

    def _speak_until_heard(self, text: str, path: Path, attempts: int = 3) -> None:
        """``text`` into ``path``; tried again when espeak-ng, now and then on a busy machine,
        finishes the utterance having written no sound at all (a silent cue otherwise)."""
        for _ in range(attempts):
            self._speak_into(text, path)
            if _has_sound(path):
                return
        raise SynthesisFailed(f"espeak-ng wrote no sound for {text!r}, {attempts} times")

    def _open(self) -> Any:
        if self._engine is not None:
            return self._engine
        try:
            import pyttsx3
        except ImportError as e:
            raise EngineUnavailable(f"pyttsx3 is not installed ({e})") from None
        try:
            driver = importlib.import_module("pyttsx3.drivers.espeak")
            # save_to_file() print()s "Audio saved to ..." from espeak's callback thread;
            # shadowing print in that one module silences only it.
            driver.print = _discard  # type: ignore[attr-defined]
            engine = pyttsx3.init("espeak")
            # A new engine queues every command until its first run; one empty run makes
            # setProperty take effect when called, which _speak_into relies on.
            engine.runAndWait()
        except Exception as e:
            raise EngineUnavailable(f"espeak-ng is not usable (apt install espeak-ng): {e}") from e
        self._engine = engine
        return engine

    def _speak_into(self, text: str, path: Path) -> None:
        # espeak-ng in pyttsx3's "retrieval" mode is asynchronous: a thread of its own runs a
        # queue of commands (parameters as well as texts) and the driver writes the WAV from
        # espeak's callback on that thread. runAndWait() therefore is not the end of it, and
        # whenever espeak is still busy as runAndWait() starts, the driver cancels what it is
        # doing, and then the new text too: a rate never applied, an empty WAV. Hence: wait
        # until idle, set the properties, wait until they are applied, synthesise, wait for
        # the driver's "finished-utterance", and leave espeak idle.
        engine = self._open()
        espeak = importlib.import_module("pyttsx3.drivers._espeak")
        errors: list[BaseException] = []
        outcome: list[bool] = []
        finished = threading.Event()

        def on_error(exception: BaseException | None = None, **_: object) -> None:
            errors.append(exception or RuntimeError("unknown error"))

        def on_finished(completed: bool = False, **_: object) -> None:
            outcome.append(completed)
            finished.set()

        _wait_until_idle(espeak)
        tokens = [
            engine.connect("error", on_error),
            engine.connect("finished-utterance", on_finished),
        ]
        try:
            engine.setProperty("voice", self.voice)
            engine.setProperty("rate", self.rate)
            engine.setProperty("volume", 1.0)  # the level is mastering's to set
            _wait_until_idle(espeak)
            engine.save_to_file(text, str(path))
            engine.runAndWait()
            if not finished.wait(SYNTHESIS_TIMEOUT):
                raise SynthesisFailed(f"espeak-ng did not finish {text!r}")
            _wait_until_idle(espeak)
        except SynthesisFailed:
            raise
        except Exception as e:
            with contextlib.suppress(Exception):
                engine.endLoop()  # leave the engine usable for the next text
            raise SynthesisFailed(f"espeak-ng failed on {text!r}: {e}") from e
        finally:
            for token in tokens:
                engine.disconnect(token)
        for error in errors:
            if isinstance(error, ValueError):  # a property refused: the configuration is wrong
                raise EngineUnavailable(
                    f"espeak-ng refused voice={self.voice!r} rate={self.rate}: {error}"
                )
        if errors:
            raise SynthesisFailed(f"espeak-ng failed on {text!r}: {errors[0]}")
        if not outcome[0]:
            raise SynthesisFailed(f"espeak-ng was interrupted on {text!r}")


def _has_sound(path: Path) -> bool:
    try:
        return wav_seconds(path) > 0
    except UNREADABLE:
        return False


def _wait_until_idle(espeak: Any, timeout: float = 10.0) -> None:
    """Wait for espeak-ng's own thread to finish what it was doing (a few ms at most)."""
    end = time.monotonic() + timeout
    while espeak.IsPlaying():
        if time.monotonic() > end:
            raise SynthesisFailed("espeak-ng stayed busy")
        time.sleep(0.002)
