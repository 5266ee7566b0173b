"""Speech: every cue text synthesised once into a WAV cache, played by a player that can stop.

pyttsx3's espeak driver speaks through a blocking ``aplay`` that cannot be interrupted and
prints to stdout, but its ``save_to_file`` works headless. Cue texts are all known in advance,
so each is synthesised once (pyttsx3 + espeak-ng) into ``cache_dir/<sha256>.wav`` and played by
a player process (``aplay`` by default) that ``silence()`` stops at once.

    voice = Voice(config.voice, cache_dir)
    voice.prepare(every_cue_text)   # background synthesis at start-up; returns at once
    voice.say("Halfway.")           # never blocks: queued, then played in order by a worker
    voice.silence()                 # skip / end: drop what is queued, stop the player now
    voice.close()

Two threads per Voice: ``bedside-synth`` alone uses the pyttsx3 engine (it is not thread-safe,
and espeak-ng can be initialised only once a process), and ``bedside-voice`` plays the queue.
Trouble (no espeak-ng, no player, a player that fails) is logged once per kind as a WARNING on
the ``bedside.voice`` logger, never raised to the caller: a coach that cannot speak still shows
its countdown.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import importlib
import itertools
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bedside.config import VoiceConfig

__all__ = [
    "APLAY",
    "NULL_PLAYER",
    "Player",
    "SynthesisFailed",
    "Synthesiser",
    "Voice",
    "VoiceUnavailable",
    "cache_key",
    "is_playable",
]

LOG = logging.getLogger("bedside.voice")

APLAY = ["aplay", "-q", "-D", "{device}", "{file}"]
# A sound card stand-in for mock-hardware runs and tests: sleeps for as long as the WAV lasts.
NULL_PLAYER = [sys.executable, "-m", "bedside.devices.nullplayer", "{file}"]

_CACHE_FORMAT = 1  # bump when the way a text becomes sound changes, so old WAVs are not reused


class VoiceUnavailable(RuntimeError):
    """pyttsx3 or espeak-ng is missing, or refuses the configured voice: no new speech at all."""


class SynthesisFailed(RuntimeError):
    """One text could not be made into a usable WAV."""


def cache_key(text: str, voice: str, rate: int, volume: float) -> str:
    """The cache name of a cue: everything that changes how it sounds changes the key."""
    blob = json.dumps([_CACHE_FORMAT, text, voice, rate, float(volume)], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def sound_cards() -> list[str]:
    """The ALSA cards ``aplay -l`` lists (none without aplay, or without a card)."""
    try:
        listing = subprocess.run(
            ["aplay", "-l"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line for line in listing.stdout.splitlines() if line.startswith("card ")]


def is_playable(path: Path) -> bool:
    """A WAV whose header reads, with some frames, and every byte its header promises."""
    try:
        with wave.open(str(path), "rb") as wav:
            size = wav.getnframes() * wav.getsampwidth() * wav.getnchannels()
        return size > 0 and path.stat().st_size >= size
    except (OSError, EOFError, wave.Error):
        return False


class _Trouble:
    """One WARNING per kind of trouble until that thing works again: a log, not a flood."""

    def __init__(self, log: logging.Logger) -> None:
        self.log = log
        self._active: set[str] = set()
        self._lock = threading.Lock()

    def warn(self, kind: str, message: str, *args: object) -> None:
        with self._lock:
            if kind in self._active:
                return
            self._active.add(kind)
        self.log.warning(message, *args)

    def clear(self, kind: str, message: str, *args: object) -> None:
        with self._lock:
            if kind not in self._active:
                return
            self._active.discard(kind)
        self.log.info(message, *args)


# -- the engine: one per process -----------------------------------------------------------------
# espeak-ng keeps one global state and can be initialised only once a process, so there is one
# pyttsx3 engine for the whole process, used under this lock (by one Synthesiser thread at a
# time; the daemon has exactly one).
_ENGINE_LOCK = threading.Lock()
_engine: Any = None
_engine_problem: str | None = None


def _discard(*args: object, **kwargs: object) -> None:
    pass


def _release_engine() -> None:
    global _engine
    _engine = None


def _espeak_engine() -> Any:
    """The process's pyttsx3 espeak engine, made on first use; VoiceUnavailable if impossible."""
    global _engine, _engine_problem
    if _engine is not None:
        return _engine
    if _engine_problem is None:
        try:
            import pyttsx3
        except ImportError as e:
            _engine_problem = f"pyttsx3 is not installed ({e})"
        else:
            try:
                driver = importlib.import_module("pyttsx3.drivers.espeak")
                # save_to_file() print()s "Audio saved to ..." from espeak's callback, on
                # espeak's own thread and not always before runAndWait() returns. Swapping
                # sys.stdout (redirect_stdout) or fd 1 (dup2) around runAndWait() would miss
                # some, and would swallow the JSON Lines the event loop writes meanwhile: both
                # are process-wide. Shadowing print in that one module silences only it.
                driver.print = _discard  # type: ignore[attr-defined]
                engine = pyttsx3.init("espeak")
                # A new engine queues every command until its first run; one empty run makes
                # setProperty take effect when called, which _speak_into relies on.
                engine.runAndWait()
                _engine = engine
                # pyttsx3's DriverProxy.__del__ needs modules that interpreter shutdown has
                # already torn down; letting go of the engine at exit avoids its noise.
                atexit.register(_release_engine)
                return _engine
            except Exception as e:
                _engine_problem = f"espeak-ng is not usable (apt install espeak-ng): {e}"
    raise VoiceUnavailable(_engine_problem)


# -- synthesis -----------------------------------------------------------------------------------
@dataclass
class _Job:
    text: str
    path: Path
    force: bool  # synthesise even when the path already holds a playable WAV
    future: Future[bool]
    volume: float


class Synthesiser:
    """Text to WAV with pyttsx3 + espeak-ng, on one worker thread that alone uses the engine.

    Jobs run one at a time; urgent ones (a cue waiting to be said) go before background ones
    (``Voice.prepare``). ``count`` is the number of syntheses actually done.
    """

    _URGENT, _BACKGROUND, _STOP = 0, 1, 2

    def __init__(self, config: VoiceConfig) -> None:
        self.config = config
        self.count = 0
        self._jobs: queue.PriorityQueue[tuple[int, int, _Job | None]] = queue.PriorityQueue()
        self._order = itertools.count()  # first in, first out within a priority
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="bedside-synth", daemon=True)
        self._thread.start()

    def synthesise(self, text: str, path: Path, volume: float | None = None) -> None:
        """Write ``text`` as speech to ``path`` and wait for it; raises VoiceUnavailable or
        SynthesisFailed. The file appears complete under its name or not at all."""
        self._submit(text, path, urgent=True, force=True, volume=volume).result()

    def submit(
        self, text: str, path: Path, *, urgent: bool = False, volume: float | None = None
    ) -> Future[bool]:
        """Synthesise unless ``path`` already holds a playable WAV; the result says whether it
        synthesised. Returns at once."""
        return self._submit(text, path, urgent=urgent, force=False, volume=volume)

    def close(self) -> None:
        """Cancel the jobs not started, let the running one finish, and end the thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            while True:
                try:
                    _, _, job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is not None:
                    job.future.cancel()
            self._jobs.put((self._STOP, 0, None))
        self._thread.join()

    def _submit(
        self, text: str, path: Path, urgent: bool, force: bool, volume: float | None
    ) -> Future[bool]:
        volume = self.config.volume if volume is None else volume
        job = _Job(text, Path(path), force, Future(), volume)
        with self._lock:
            if self._closed:
                job.future.cancel()
            else:
                priority = self._URGENT if urgent else self._BACKGROUND
                self._jobs.put((priority, next(self._order), job))
        return job.future

    def _run(self) -> None:
        while True:
            _, _, job = self._jobs.get()
            if job is None:
                return
            if not job.future.set_running_or_notify_cancel():
                continue
            try:
                done = job.force or not is_playable(job.path)
                if done:
                    self._write(job.text, job.path, job.volume)
                    self.count += 1
            except Exception as e:
                job.future.set_exception(e)
            else:
                job.future.set_result(done)

    def _write(self, text: str, path: Path, volume: float) -> None:
        # Synthesise under a temporary name in the same folder, put the bytes on disk, then
        # rename: after a power cut the real name holds a whole WAV or nothing.
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.stem[:16]}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        temp = Path(name)
        temp.chmod(0o644)  # mkstemp makes it private; a cache is for any player to read
        try:
            with _ENGINE_LOCK:
                self._speak_into(text, temp, volume)
            if not is_playable(temp):
                raise SynthesisFailed(f"espeak-ng made no sound for {text!r}")
            with temp.open("rb") as f:
                os.fsync(f.fileno())
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise

    def _speak_into(self, text: str, path: Path, volume: float) -> None:
        # espeak-ng in pyttsx3's "retrieval" mode is asynchronous: a thread of its own runs a
        # queue of commands (parameters as well as texts) and the driver writes the WAV from
        # espeak's callback on that thread. runAndWait() therefore is not the end of it, and
        # whenever espeak is still busy as runAndWait() starts, the driver cancels what it is
        # doing, and then the new text too: a rate never applied, an empty WAV. Hence: wait
        # until idle, set the properties, wait until they are applied, synthesise, wait for
        # the driver's "finished-utterance", and leave espeak idle.
        engine = _espeak_engine()
        espeak = importlib.import_module("pyttsx3.drivers._espeak")
        errors: list[BaseException] = []
        outcome: list[bool] = []
        finished = threading.Event()

        # These run on espeak's thread; pyttsx3 swallows errors and only tells listeners.
        def on_error(exception: BaseException | None = None, **_: object) -> None:
            errors.append(exception or RuntimeError("unknown error"))

        def on_finished(completed: bool = False, **_: object) -> None:
            outcome.append(completed)
            finished.set()

        # Nothing of an earlier text is left to report once espeak is idle: what finishes
        # after this point is this text.
        _wait_until_idle(espeak)
        tokens = [
            engine.connect("error", on_error),
            engine.connect("finished-utterance", on_finished),
        ]
        try:
            engine.setProperty("voice", self.config.voice)
            engine.setProperty("rate", self.config.rate)
            engine.setProperty("volume", volume)
            _wait_until_idle(espeak)
            engine.save_to_file(text, str(path))
            engine.runAndWait()
            # Long enough for any cue on a Pi Zero; a stuck espeak must not hang the worker.
            if not finished.wait(_SYNTHESIS_TIMEOUT):
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
                c = self.config
                raise VoiceUnavailable(
                    f"espeak-ng refused voice={c.voice!r} rate={c.rate} volume={volume}: {error}"
                )
        if errors:
            raise SynthesisFailed(f"espeak-ng failed on {text!r}: {errors[0]}")
        if not outcome[0]:
            raise SynthesisFailed(f"espeak-ng was interrupted on {text!r}")


_SYNTHESIS_TIMEOUT = 60.0


def _duration(path: Path) -> float:
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getnframes() / float(wav.getframerate() or 1)
    except (OSError, EOFError, wave.Error):
        return 0.0


def _wait_until_idle(espeak: Any, timeout: float = 10.0) -> None:
    """Wait for espeak-ng's own thread to finish what it was doing (a few ms at most)."""
    end = time.monotonic() + timeout
    while espeak.IsPlaying():
        if time.monotonic() > end:
            raise SynthesisFailed("espeak-ng stayed busy")
        time.sleep(0.002)


# -- playing -------------------------------------------------------------------------------------
class Player:
    """Plays one WAV at a time through a command such as ``aplay``; ``stop()`` ends it at once.

    ``command`` is a list in which ``{file}`` and ``{device}`` are replaced. A player that is
    missing or exits non-zero is logged once (until it works again), never raised.
    """

    grace = 0.05  # seconds between SIGTERM and SIGKILL: stop() returns within about 0.1 s
    hang_margin = 10.0  # a player still running this long after its WAV's end has hung

    def __init__(
        self,
        command: list[str] | None = None,
        device: str = "default",
        log: logging.Logger | None = None,
    ) -> None:
        self.command = list(command or APLAY)
        self.device = device
        self.process: subprocess.Popen[bytes] | None = None  # the one playing, or the last
        self._trouble = _Trouble(log or LOG)
        self._stopping = False
        self._limit: float | None = None
        self._lock = threading.Lock()

    def argv(self, path: Path) -> list[str]:
        return [
            arg.replace("{device}", self.device).replace("{file}", str(path))
            for arg in self.command
        ]

    def start(self, path: Path) -> bool:
        """Start playing ``path``; False if the player could not be started."""
        try:
            process = subprocess.Popen(
                self.argv(path),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # stdout belongs to the daemon's JSON Lines
                stderr=subprocess.PIPE,
                # Its own process group, so stop() reaches whatever a wrapper script started
                # (sh -c "aplay ..."), not only the shell.
                start_new_session=True,
            )
        except OSError as e:
            self._trouble.warn("player", "cannot run the player %r: %s", self.command[0], e)
            return False
        with self._lock:
            self.process = process
            self._stopping = False
            self._limit = _duration(path) + self.hang_margin
        return True

    def wait(self) -> bool:
        """Wait until the playback started last ends; True if it played to the end."""
        process = self.process
        if process is None:
            return False
        try:
            _, err = process.communicate(timeout=self._limit)
        except subprocess.TimeoutExpired:
            # A player that hangs (a sound card gone away) is killed; the next cue tries again.
            _signal_group(process, signal.SIGKILL)
            process.communicate()
            self._trouble.warn("player", "the player %r hung and was stopped", self.command[0])
            return False
        with self._lock:
            stopped = self._stopping
        if process.returncode == 0:
            self._trouble.clear("player", "the player %r works again", self.command[0])
            return True
        if not stopped:
            said = err.decode("utf-8", "replace").strip().splitlines()
            self._trouble.warn(
                "player",
                "the player %r failed (exit status %s): %s",
                self.command[0],
                process.returncode,
                said[-1] if said else "no message",
            )
        return False

    def play(self, path: Path) -> bool:
        """Play ``path`` to the end (or until ``stop()``); True if it played to the end."""
        return self.start(path) and self.wait()

    def stop(self) -> None:
        """End the playback now: SIGTERM, then SIGKILL after ``grace``; returns once it exited."""
        with self._lock:
            process = self.process
            self._stopping = True
        if process is None or process.poll() is not None:
            return
        _signal_group(process, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(self.grace)
        # Whatever is left of the group (the player ignoring SIGTERM, or a child of a wrapper
        # that outlived it and would keep the sound and the stderr pipe going) is killed.
        _signal_group(process, signal.SIGKILL)
        process.wait()


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    # The group outlives its leader while any member lives, so its id cannot be reused yet.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


# -- the voice -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Cue:
    text: str
    queued_at: float  # on the injected clock
    generation: int  # silence() moves to a new generation; older cues are never played
    volume: float | None = None  # None: the configured volume


class Voice:
    """What the daemon speaks through: ``say`` queues, a worker synthesises if need be and plays.

    ``stale_after``: a queued cue that has waited longer than this is dropped when a newer cue
    is waiting. ``clock`` (monotonic seconds) is what "waited" is measured on. With
    ``config.enabled`` false the Voice does nothing at all and starts no threads.
    ``synthesised`` and ``played`` (texts whose playback started) are for tests and the bench.
    """

    def __init__(
        self,
        config: VoiceConfig,
        cache_dir: Path,
        player_command: list[str] | None = None,
        log: logging.Logger | None = None,
        *,
        stale_after: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.cache_dir = Path(cache_dir)
        self.stale_after = stale_after
        self.log = log or LOG
        self.player = Player(player_command, config.device, self.log)
        self.played: deque[str] = deque(maxlen=100)  # the latest only: it runs for months
        self._clock = clock
        self._cond = threading.Condition()
        self._queue: deque[_Cue] = deque()
        self._generation = 0
        self._busy = False  # the worker holds a cue (synthesising or playing it)
        self._preparing = 0  # background syntheses not finished yet
        self._closed = False
        self._unavailable = False  # no synthesis possible: only cached cues can be said
        self._trouble = _Trouble(self.log)
        self._synth: Synthesiser | None = None
        self._worker: threading.Thread | None = None
        if not config.enabled:
            return
        self._synth = Synthesiser(config)
        self._worker = threading.Thread(target=self._run, name="bedside-voice", daemon=True)
        self._worker.start()

    # -- what the daemon calls; none of these waits for synthesis or playback ---------------
    def prepare(self, texts: Iterable[str], volumes: Iterable[float | None] = (None,)) -> None:
        """Synthesise every text not cached yet, in the background; returns at once."""
        if self._synth is None:
            return
        volumes = list(volumes)
        for text in dict.fromkeys(t for t in texts if t.strip()):
            for volume in volumes:
                with self._cond:
                    self._preparing += 1
                path = self.cache_path(text, volume)
                future = self._synth.submit(text, path, volume=volume)
                future.add_done_callback(self._prepared)

    def say(self, text: str, volume: float | None = None) -> None:
        """Queue ``text`` to be said after what is already queued; returns at once."""
        if self._worker is None or not text.strip():
            return
        with self._cond:
            if self._closed:
                return
            self._queue.append(_Cue(text, self._clock(), self._generation, volume))
            self._cond.notify_all()

    def silence(self) -> None:
        """Drop everything queued and stop what is playing now (exited within about 0.1 s)."""
        if self._worker is None:
            return
        with self._cond:
            self._generation += 1
            self._queue.clear()
            self._cond.notify_all()
        self.player.stop()

    def close(self) -> None:
        """Silence, cancel background synthesis and end both threads (joined)."""
        if self._worker is None or self._synth is None:
            return
        with self._cond:
            self._closed = True
            self._generation += 1
            self._queue.clear()
            self._cond.notify_all()
        self.player.stop()
        self._synth.close()  # outside the lock: cancelling runs _prepared, which takes it
        self._worker.join()

    def __enter__(self) -> Voice:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- for tests and the bench --------------------------------------------------------------
    def cache_path(self, text: str, volume: float | None = None) -> Path:
        c = self.config
        volume = c.volume if volume is None else volume
        return self.cache_dir / f"{cache_key(text, c.voice, c.rate, volume)}.wav"

    @property
    def synthesised(self) -> int:
        return self._synth.count if self._synth is not None else 0

    @property
    def idle(self) -> bool:
        with self._cond:
            return self._idle()

    def wait_until_idle(self, timeout: float | None = None) -> bool:
        """Wait until nothing is queued, playing or being prepared; False on timeout."""
        with self._cond:
            return self._cond.wait_for(self._idle, timeout)

    # -- the worker ---------------------------------------------------------------------------
    def _idle(self) -> bool:
        return not self._queue and not self._busy and self._preparing == 0

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                cue = self._next_cue()
                self._busy = True
            try:
                self._speak(cue)
            except Exception:  # the worker must outlive any surprise, or the coach goes mute
                self.log.exception("unexpected trouble saying %r", cue.text)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _stale(self, cue: _Cue) -> bool:
        """Late, with something newer waiting: the newer cue replaces it. Call under the lock."""
        return bool(self._queue) and self._clock() - cue.queued_at > self.stale_after

    def _next_cue(self) -> _Cue:
        cue = self._queue.popleft()
        while self._stale(cue):
            self.log.info("dropped a stale cue for a newer one: %r", cue.text)
            cue = self._queue.popleft()
        return cue

    def _speak(self, cue: _Cue) -> None:
        assert self._synth is not None
        path = self.cache_path(cue.text, cue.volume)
        if not is_playable(path):
            if self._unavailable:
                return  # already warned; only cached cues can be said
            try:
                self._synth.submit(cue.text, path, urgent=True, volume=cue.volume).result()
            except CancelledError:
                return  # closing
            except Exception as e:
                self._synthesis_trouble(e)
                return
            self._trouble.clear("synthesis", "synthesis works again")
        with self._cond:
            # Starting under the lock: silence() either comes first (and this cue is of an old
            # generation) or after (and stops this very process).
            if self._closed or cue.generation != self._generation:
                return
            if self._stale(cue):  # synthesis took long and a newer cue is waiting
                self.log.info("dropped a stale cue for a newer one: %r", cue.text)
                return
            if not self.player.start(path):
                return
            self.played.append(cue.text)
        self.player.wait()

    def _prepared(self, future: Future[bool]) -> None:
        with self._cond:
            self._preparing -= 1
            self._cond.notify_all()
        if not future.cancelled() and (error := future.exception()) is not None:
            self._synthesis_trouble(error)

    def _synthesis_trouble(self, error: BaseException) -> None:
        if isinstance(error, VoiceUnavailable):
            self._unavailable = True
            self._trouble.warn("engine", "no speech synthesis, only cached cues: %s", error)
        else:
            self._trouble.warn("synthesis", "could not synthesise a cue: %s", error)
