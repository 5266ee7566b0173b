"""The cue queue: what the daemon speaks through. ``say`` queues, a worker plays in order.

    voice = Speaker(config.voice, cache_dir, sounds=config.sounds)
    voice.prepare(every_cue_text)   # renders what the cache lacks, in a child; returns at once
    voice.say("Halfway.")           # never blocks: queued, then played in order by a worker
    voice.chime("step")             # a soft bell, queued like a cue
    voice.silence()                 # skip / end: drop what is queued, stop the player now
    voice.close()                   # kills a render still running: never waits on one

A cue missing from the cache is rendered at once by a child (ahead of the background render),
and the worker waits for it, not the loop. Trouble (no engine, a render failing, no player) is
logged once per kind as a WARNING on the ``bedside.voice`` logger and tried again with the next
cue, never raised to the caller: a coach that cannot speak still shows its countdown.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import CancelledError
from dataclasses import dataclass, replace
from pathlib import Path

from bedside.closing import Closing
from bedside.config.sections import SoundsConfig, VoiceConfig
from bedside.sound.kinds import CHIMES, KINDS
from bedside.voice.cache import cache_key, open_cache, prune, remove_leftovers
from bedside.voice.engine import SpeechEngine
from bedside.voice.engine_choice import engine_for, spec_of
from bedside.voice.output_rate import FALLBACK_RATE, native_rate
from bedside.voice.player import LOG, Player, Trouble
from bedside.voice.renderer import Item, Renderer, RenderFailed
from bedside.voice.wav import is_playable

__all__ = ["Speaker", "say_now", "sound", "sounds_of"]


@dataclass(frozen=True)
class _Cue:
    text: str  # the words, or a chime's name
    queued_at: float  # on the injected clock
    generation: int  # silence() moves to a new generation; older cues are never played
    volume: float | None = None  # None: the configured volume
    chime: bool = False


def target(loudness: float, volume: float) -> float:
    """The loudness (LUFS) a sound is levelled to: the configured loudness, scaled by a
    volume (0: silence)."""
    return loudness + 20 * math.log10(volume) if volume > 0 else -math.inf


def sounds_of(
    config: VoiceConfig,
    sounds: SoundsConfig | None,
    engine: SpeechEngine,
    folder: Path,
    texts: Iterable[str],
    volumes: Iterable[float | None] = (None,),
    rate: int = FALLBACK_RATE,
) -> list[Item]:
    """Every sound to render for ``texts`` at ``volumes`` and the output's ``rate``, with its
    place in the cache."""
    volumes = list(volumes)
    items = [
        sound(config, sounds, engine, folder, text, volume, rate=rate)
        for text in dict.fromkeys(t for t in texts if t.strip())
        for volume in volumes
    ]
    if sounds is not None and sounds.enabled:
        items += [
            sound(config, sounds, engine, folder, kind, volume, chime=True, rate=rate)
            for kind in CHIMES
            for volume in volumes
        ]
    return items


def sound(
    config: VoiceConfig,
    sounds: SoundsConfig | None,
    engine: SpeechEngine,
    folder: Path,
    text: str,
    volume: float | None = None,
    chime: bool = False,
    rate: int = FALLBACK_RATE,
) -> Item:
    """One cue (or chime) at ``volume`` and ``rate``: its loudness, and its name in the cache,
    which covers everything that changes how it sounds (a chime's does not depend on the
    engine; every sound's depends on the rate it is rendered at)."""
    offset = sounds.level if chime and sounds is not None else 0.0
    level = target(config.loudness + offset, config.volume if volume is None else volume)
    rounded = None if level == -math.inf else round(level, 2)
    if chime:
        key = cache_key("chime", text, rounded, rate)
    else:
        key = cache_key("cue", engine.identity(), text, rounded, rate)
    return Item("chime" if chime else "text", text, rounded, str(folder / f"{key}.wav"), rate)


def loop(config: VoiceConfig, soundscape: str, folder: Path, rate: int = FALLBACK_RATE) -> Item:
    """The soundscape's loop (a kind, or a file's absolute path) at the voice's loudness and
    ``rate`` (the stage sets it under the voice); a file's size and time are in its key, so an
    edited loop is made again."""
    stamp: list[object] = []
    if soundscape not in KINDS:
        with contextlib.suppress(OSError):
            info = os.stat(soundscape)
            stamp = [info.st_size, info.st_mtime_ns]
    key = cache_key("loop", soundscape, stamp, round(config.loudness, 2), rate)
    return Item("loop", soundscape, config.loudness, str(folder / f"{key}.wav"), rate)


class Speaker(Closing):
    """What the daemon speaks through.

    ``stale_after``: a queued cue that has waited longer than this is dropped when a newer cue
    is waiting. ``clock`` (monotonic seconds) is what "waited" is measured on. With
    ``config.enabled`` false, or a cache folder that cannot be used, the Speaker does nothing at
    all and starts no threads. ``played`` (texts whose playback started), ``chimed`` and
    ``synthesised`` are for tests and the bench.
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
        sounds: SoundsConfig | None = None,
        stall: float = 120.0,
        rate: int | None = None,
    ) -> None:
        self.config = config
        self._rate = rate  # None: the output is asked, once, off the loop's thread
        self._rate_lock = threading.Lock()
        self.sounds = sounds
        self.cache_dir = Path(cache_dir)
        self.stale_after = stale_after
        self.log = log or LOG
        self.player = Player(player_command, config.device, self.log)
        self.played: deque[str] = deque(maxlen=100)  # the latest only: it runs for months
        self.chimed: deque[str] = deque(maxlen=100)
        self._clock = clock
        self._cond = threading.Condition()
        self._queue: deque[_Cue] = deque()
        self._generation = 0
        self._busy = False  # the worker holds a cue (rendering or playing it)
        self._preparing = 0  # prepare() calls not finished yet
        self._preparers: list[threading.Thread] = []
        self._closed = False
        self._volume: float | None = None  # the last cue's: chimes follow a quieter night
        self._trouble = Trouble(self.log)
        self._renderer: Renderer | None = None
        self._worker: threading.Thread | None = None
        self.engine = engine_for(config)  # (quietly: a silent voice needs no fallback message)
        if not config.enabled or open_cache(self.cache_dir, self.log) is None:
            return
        remove_leftovers(self.cache_dir)  # what a render killed with the daemon left
        self.engine = engine_for(config, self.log)
        self._renderer = Renderer(
            spec_of(self.engine), self.cache_dir, self.log, stall=stall, on_change=self._notify
        )
        self._worker = threading.Thread(target=self._run, name="bedside-voice", daemon=True)
        self._worker.start()

    # -- what the daemon calls; none of these waits for rendering or playback -----------------
    def prepare(self, texts: Iterable[str], volumes: Iterable[float | None] = (None,)) -> None:
        """Render every sound the cache lacks, in a child, in the background; returns at once.
        Sounds of older texts or settings are removed from the cache once it is done."""
        if self._renderer is None:
            return
        texts, volumes = list(texts), list(volumes)
        thread = threading.Thread(
            target=self._prepare, args=(texts, volumes), name="bedside-prepare", daemon=True
        )
        with self._cond:
            self._preparing += 1
            self._preparers = [t for t in self._preparers if t.is_alive()] + [thread]
        thread.start()

    def say(self, text: str, volume: float | None = None) -> None:
        """Queue ``text`` to be said after what is already queued; returns at once."""
        if self._worker is None or not text.strip():
            return
        self._queue_cue(text, volume)

    def chime(self, kind: str) -> None:
        """Queue the chime ``kind`` ("step" or "finish"), if ``[sounds]`` has it; at once."""
        if self._worker is None or self.sounds is None or not self.sounds.enabled:
            return
        if not getattr(self.sounds, kind, False):
            return
        self._queue_cue(kind, None, chime=True)

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
        """Silence, kill a render still running, end the threads. Within a fraction of a s.
        Safe to call again: then it does nothing."""
        if self._worker is None or self._renderer is None:
            return
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._generation += 1
            self._queue.clear()
            self._cond.notify_all()
        self.player.stop()
        self._renderer.close()  # outside the lock: it calls back into _notify
        self._worker.join(timeout=2)
        for thread in self._preparers:  # each ends as its renders are cancelled
            thread.join(timeout=1)

    # -- for tests, the bench and ``bedside voice`` ---------------------------------------------
    @property
    def rate(self) -> int:
        """The output's own rate, which every sound is rendered at (asked once: a child)."""
        with self._rate_lock:
            if self._rate is None:
                self._rate = native_rate(f"alsa:{self.config.device}")
            return self._rate

    def items(self, texts: Iterable[str], volumes: Iterable[float | None] = (None,)) -> list[Item]:
        """Every sound ``prepare(texts, volumes)`` renders, with its place in the cache."""
        return sounds_of(
            self.config, self.sounds, self.engine, self.cache_dir, texts, volumes, self.rate
        )

    def sound(self, text: str, volume: float | None = None, chime: bool = False) -> Item:
        """The sound ``say(text, volume)`` (or a chime) plays, with its place in the cache."""
        return sound(
            self.config, self.sounds, self.engine, self.cache_dir, text, volume, chime, self.rate
        )

    @property
    def synthesised(self) -> int:
        """How many sounds this Speaker's render children wrote (a cache hit writes none)."""
        return self._renderer.rendered if self._renderer is not None else 0

    def wait_until_idle(self, timeout: float | None = None) -> bool:
        """Wait until nothing is queued, playing or being rendered; False on timeout."""
        with self._cond:
            return self._cond.wait_for(self._idle, timeout)

    # -- the workers --------------------------------------------------------------------------
    def _notify(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _idle(self) -> bool:
        rendering = self._renderer is not None and not self._renderer.idle
        return not self._queue and not self._busy and not self._preparing and not rendering

    def _queue_cue(self, text: str, volume: float | None, chime: bool = False) -> None:
        with self._cond:  # the generation under the lock: silence() drops it, or it follows
            if self._closed:
                return
            self._queue.append(_Cue(text, self._clock(), self._generation, volume, chime))
            self._cond.notify_all()

    def _prepare(self, texts: list[str], volumes: list[float | None]) -> None:
        try:
            # Off the loop's thread: a Piper voice's hash reads its whole model once.
            items = self.items(texts, volumes)
            assert self._renderer is not None
            futures = self._renderer.submit(items)
            failed = False
            for future in futures:
                try:
                    future.result()
                except CancelledError:
                    return
                except Exception as e:
                    failed = True
                    self._render_trouble(e)
            if not failed:
                prune(self.cache_dir, [Path(item.path) for item in items])
        finally:
            with self._cond:
                self._preparing -= 1
                self._cond.notify_all()

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
        assert self._renderer is not None
        if cue.chime:  # at the volume of the cue before it: softer on a quieter night
            cue = replace(cue, volume=self._volume)
        else:
            self._volume = cue.volume
        item = self.sound(cue.text, cue.volume, cue.chime)
        path = Path(item.path)
        if not is_playable(path):
            (future,) = self._renderer.submit([item], urgent=True)
            try:
                future.result()
            except CancelledError:
                return  # closing
            except Exception as e:
                self._render_trouble(e)
                return
            self._trouble.clear("render", "rendering works again")
        with self._cond:
            # Starting under the lock: silence() either comes first (and this cue is of an old
            # generation) or after (and stops this very process).
            if self._closed or cue.generation != self._generation:
                return
            if self._stale(cue):  # rendering took long and a newer cue is waiting
                self.log.info("dropped a stale cue for a newer one: %r", cue.text)
                return
            if not self.player.start(path):
                return
            (self.chimed if cue.chime else self.played).append(cue.text)
        self.player.wait()

    def _render_trouble(self, error: BaseException) -> None:
        if self._closed:  # a render cut short by close() is no trouble
            return
        if isinstance(error, RenderFailed) and error.unavailable:
            self._trouble.warn("engine", "no speech: %s", error)
        else:
            self._trouble.warn("render", "could not render a cue: %s", error)


def say_now(
    config: VoiceConfig,
    text: str,
    folder: Path,
    player_command: list[str] | None = None,
    log: logging.Logger | None = None,
    timeout: float = 120.0,
) -> bool:
    """Say ``text`` once, now, with ``config``'s engine on its ``device``, rendered into the
    cache ``folder`` if it is not there yet; True once it played to the end.

    The daemon's own way of speaking (a Speaker), start to finish: ``bedside voice say`` and
    ``bedside selftest`` hear what the device would say, through what it would say it with.
    """
    with Speaker(config, folder, player_command, log) as voice:
        voice.say(text)
        voice.wait_until_idle(timeout)
        process = voice.player.process
        return bool(voice.played) and process is not None and process.returncode == 0
