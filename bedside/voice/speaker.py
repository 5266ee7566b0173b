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

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import CancelledError
from dataclasses import dataclass, replace
from pathlib import Path

from bedside.closing import Closing
from bedside.config.sections import SoundsConfig, VoiceConfig
from bedside.core.phrases import speakable
from bedside.voice.cache import cache_key, open_cache, prune, remove_leftovers
from bedside.voice.chimes import CHIMES
from bedside.voice.engine import SpeechEngine
from bedside.voice.engine_choice import engine_for, fallback_for, spec_of
from bedside.voice.mastering import target
from bedside.voice.piper import PiperEngine
from bedside.voice.player import LOG, Player, Trouble
from bedside.voice.renderer import Item, Renderer, RenderFailed
from bedside.voice.wav import is_playable

__all__ = ["Speaker", "VoiceSettings", "say_now", "sound", "sounds_of"]


@dataclass(frozen=True)
class _Cue:
    text: str  # the words, or a chime's name
    queued_at: float  # on the injected clock
    generation: int  # silence() moves to a new generation; older cues are never played
    volume: float | None = None  # None: the configured volume
    chime: bool = False


def sounds_of(
    config: VoiceConfig,
    sounds: SoundsConfig | None,
    engine: SpeechEngine,
    folder: Path,
    texts: Iterable[str],
    volumes: Iterable[float | None] = (None,),
) -> list[Item]:
    """Every sound to render for ``texts`` at ``volumes``, with its place in the cache."""
    volumes = list(volumes)
    items = [
        sound(config, sounds, engine, folder, text, volume)
        for text in dict.fromkeys(t for t in texts if speakable(t))  # the rest say nothing
        for volume in volumes
    ]
    if sounds is not None and sounds.enabled:
        items += [
            sound(config, sounds, engine, folder, kind, volume, chime=True)
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
) -> Item:
    """One cue (or chime) at ``volume``: its loudness, and its name in the cache, which covers
    everything that changes how it sounds (a chime's does not depend on the engine)."""
    offset = sounds.level if chime and sounds is not None else 0.0
    level = target(config.loudness + offset, config.volume if volume is None else volume)
    rounded = None if level == float("-inf") else round(level, 2)
    if chime:
        key = cache_key("chime", text, rounded)
    else:
        key = cache_key("cue", engine.identity(), text, rounded)
    return Item("chime" if chime else "text", text, rounded, str(folder / f"{key}.wav"))


@dataclass(frozen=True)
class VoiceSettings:
    """What a Speaker speaks with, as a reload hands it over: ``[voice]``, ``[sounds]`` (None:
    no chimes) and how long a cue may wait (``[cues] stale_after``)."""

    voice: VoiceConfig
    sounds: SoundsConfig | None = None
    stale_after: float = 5.0


@dataclass(frozen=True)
class _Voicing:
    """Settings and the engine they choose: what one set of sounds is rendered with."""

    settings: VoiceSettings
    engine: SpeechEngine


@dataclass(frozen=True)
class _Request:
    """What prepare() was asked for: texts at volumes, with a voicing (None: the running one)."""

    texts: list[str]
    volumes: list[float | None]
    voicing: _Voicing | None


class Speaker(Closing):
    """What the daemon speaks through.

    ``stale_after``: a queued cue that has waited longer than this is dropped when a newer cue
    is waiting. ``clock`` (monotonic seconds) is what "waited" is measured on. With
    ``config.enabled`` false, or a cache folder that cannot be used, the Speaker does nothing at
    all and starts no threads (until ``reconfigure`` turns it on). ``played`` (texts whose
    playback started), ``chimed`` and ``synthesised`` are for tests and the bench.
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
    ) -> None:
        self.cache_dir = Path(cache_dir)
        self.log = log or LOG
        self.player = Player(player_command, config.device, self.log)
        self.played: deque[str] = deque(maxlen=100)  # the latest only: it runs for months
        self.chimed: deque[str] = deque(maxlen=100)
        self._stall = stall
        self._clock = clock
        self._cond = threading.Condition()
        self._queue: deque[_Cue] = deque()
        self._generation = 0
        self._busy = False  # the worker holds a cue (rendering or playing it)
        # What prepare() asked for last and is not begun yet: a newer request replaces it, so
        # however many arrive (a storm of reloads), one render runs and at most one waits.
        self._wanted: _Request | None = None
        self._preparing = False  # the preparer is rendering a request
        # The texts the running voicing was last asked to prepare: a render for another one
        # (ahead of a reload taking over) keeps their sounds in the cache, and they its.
        self._spoken: _Request | None = None
        self._closed = False
        self._volume: float | None = None  # the last cue's: chimes follow a quieter night
        self._trouble = Trouble(self.log)
        self._renderer: Renderer | None = None
        self._worker: threading.Thread | None = None
        self._preparer: threading.Thread | None = None
        # Piper voices found unusable (file, size, time written): espeak-ng speaks instead.
        self._unusable: set[tuple[str, int, int]] = set()
        settings = VoiceSettings(config, sounds, stale_after)
        self._voicing = self._voicing_for(settings)
        self._start()

    # -- the settings it speaks with ----------------------------------------------------------
    @property
    def config(self) -> VoiceConfig:
        return self._voicing.settings.voice

    @property
    def sounds(self) -> SoundsConfig | None:
        return self._voicing.settings.sounds

    @property
    def stale_after(self) -> float:
        return self._voicing.settings.stale_after

    @property
    def engine(self) -> SpeechEngine:
        return self._voicing.engine

    def _voicing_for(self, settings: VoiceSettings) -> _Voicing:
        # Quietly for a silent voice: it needs no message about the engine it would use.
        log = self.log if settings.voice.enabled else None
        engine = engine_for(settings.voice, log)
        if _voice_file(engine) in self._unusable:  # already found out: not tried again
            engine = fallback_for(settings.voice)
        return _Voicing(settings, engine)

    def _fall_back(self, voicing: _Voicing, error: RenderFailed) -> bool:
        """A Piper voice that cannot say anything (its model will not load): espeak-ng speaks
        instead, said once, and everything is prepared again with it. True if it fell back."""
        voice_file = _voice_file(voicing.engine)
        if voice_file is None:  # espeak-ng itself: there is nothing to fall back to
            return False
        with self._cond:
            first = voice_file not in self._unusable
            self._unusable.add(voice_file)
        if first:
            self.log.warning(
                "the Piper voice %s cannot be used (%s): speaking with espeak-ng instead",
                voice_file[0],
                error,
            )
        fallen = replace(voicing, engine=fallback_for(voicing.settings.voice))
        with self._cond:
            running = self._voicing is voicing
            if running:
                self._voicing = fallen
            spoken = self._spoken
        if running and spoken is not None:
            self.prepare(spoken.texts, spoken.volumes)
        return True

    def _start(self) -> None:
        """The renderer and the threads, once the voice is on and its cache folder usable."""
        if self._worker is not None or not self.config.enabled:
            return
        if open_cache(self.cache_dir, self.log) is None:
            return
        remove_leftovers(self.cache_dir)  # what a render killed with the daemon left
        self._renderer = Renderer(
            spec_of(self.engine),
            self.cache_dir,
            self.log,
            stall=self._stall,
            on_change=self._notify,
        )
        self._worker = threading.Thread(target=self._run, name="bedside-voice", daemon=True)
        self._worker.start()
        self._preparer = threading.Thread(
            target=self._prepare_each, name="bedside-prepare", daemon=True
        )
        self._preparer.start()

    # -- what the daemon calls; none of these waits for rendering or playback -----------------
    def prepare(
        self,
        texts: Iterable[str],
        volumes: Iterable[float | None] = (None,),
        settings: VoiceSettings | None = None,
    ) -> None:
        """Render every sound the cache lacks, in a child, in the background; returns at once.
        ``settings``: render them as these settings would (a reload read, not taken over yet),
        else as the running ones do. Sounds of older texts or settings are removed from the
        cache once it is done. A call while an earlier one still renders waits for it; a later
        call replaces it."""
        if settings == self._voicing.settings:
            settings = None
        voicing = None if settings is None else self._voicing_for(settings)
        request = _Request(list(texts), list(volumes), voicing)
        with self._cond:
            if voicing is None:
                self._spoken = request
            if self._renderer is None or not (voicing or self._voicing).settings.voice.enabled:
                return
            if self._wanted is not None:
                self.log.debug("a newer set of sounds replaces one not begun yet")
            self._wanted = request
            self._cond.notify_all()

    def reconfigure(self, settings: VoiceSettings) -> None:
        """Speak with ``settings`` from now on (a reload taking over): the next cue is said with
        them, its sound rendered first if ``prepare`` has not made it yet. Turned off, the voice
        falls silent at once and its render stops; turned on, it starts."""
        if settings == self._voicing.settings:
            return
        voicing = self._voicing_for(settings)
        with self._cond:
            self._voicing = voicing
            self._spoken = None  # until prepare() says what the new voicing says
            self._trouble = Trouble(self.log)  # a new voice: its trouble is said anew
        self.player.device = settings.voice.device
        if not settings.voice.enabled:
            self.silence()
            if self._renderer is not None:
                self._renderer.cancel()
        self._start()
        self.log.info("the voice: %s", _described(voicing))

    def say(self, text: str, volume: float | None = None) -> None:
        """Queue ``text`` to be said after what is already queued; returns at once."""
        if self._worker is None or not self.config.enabled or not speakable(text):
            return
        self._queue_cue(text, volume)

    def chime(self, kind: str) -> None:
        """Queue the chime ``kind`` ("step" or "finish"), if ``[sounds]`` has it; at once."""
        sounds = self.sounds
        if self._worker is None or not self.config.enabled:
            return
        if sounds is None or not sounds.enabled or not getattr(sounds, kind, False):
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
        if self._preparer is not None:  # it ends as its render is cancelled
            self._preparer.join(timeout=1)

    # -- for tests, the bench and ``bedside voice`` ---------------------------------------------
    def items(self, texts: Iterable[str], volumes: Iterable[float | None] = (None,)) -> list[Item]:
        """Every sound ``prepare(texts, volumes)`` renders, with its place in the cache."""
        return self._items(self._voicing, texts, volumes)

    def sound(self, text: str, volume: float | None = None, chime: bool = False) -> Item:
        """The sound ``say(text, volume)`` (or a chime) plays, with its place in the cache."""
        return self._sound(self._voicing, text, volume, chime)

    def _items(
        self, voicing: _Voicing, texts: Iterable[str], volumes: Iterable[float | None]
    ) -> list[Item]:
        settings = voicing.settings
        return sounds_of(
            settings.voice, settings.sounds, voicing.engine, self.cache_dir, texts, volumes
        )

    def _sound(self, voicing: _Voicing, text: str, volume: float | None, chime: bool) -> Item:
        settings = voicing.settings
        return sound(
            settings.voice, settings.sounds, voicing.engine, self.cache_dir, text, volume, chime
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
        waiting = self._wanted is not None or self._preparing
        return not self._queue and not self._busy and not waiting and not rendering

    def _queue_cue(self, text: str, volume: float | None, chime: bool = False) -> None:
        with self._cond:  # the generation under the lock: silence() drops it, or it follows
            if self._closed:
                return
            self._queue.append(_Cue(text, self._clock(), self._generation, volume, chime))
            self._cond.notify_all()

    def _prepare_each(self) -> None:
        """The preparer: the latest request, one at a time, until closed."""
        while True:
            with self._cond:
                while self._wanted is None and not self._closed:
                    self._cond.wait()
                if self._closed or self._wanted is None:
                    return
                request, self._wanted = self._wanted, None
                self._preparing = True
            try:
                self._prepare(request)
            except Exception:  # the preparer must outlive any surprise, or no render again
                self.log.exception("unexpected trouble preparing the sounds")
            finally:
                with self._cond:
                    self._preparing = False
                    self._cond.notify_all()

    def _prepare(self, request: _Request) -> None:
        # Off the loop's thread: a Piper voice's hash reads its whole model once.
        voicing = request.voicing or self._voicing
        items = self._items(voicing, request.texts, request.volumes)
        assert self._renderer is not None
        failed = False
        for future in self._renderer.submit(items, engine=spec_of(voicing.engine)):
            try:
                future.result()
            except CancelledError:
                return
            except RenderFailed as e:
                if e.unavailable and self._fall_back(voicing, e):
                    return
                failed = True
                self._render_trouble(e)
            except Exception as e:
                failed = True
                self._render_trouble(e)
        if failed:
            return
        keep = [item.path for item in items]
        with self._cond:
            running, spoken = self._voicing, self._spoken
        if spoken is not None and running is not voicing:  # the sounds in use stay too
            keep += [item.path for item in self._items(running, spoken.texts, spoken.volumes)]
        prune(self.cache_dir, keep)

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
        path = self._rendered(cue)
        if path is None:
            return
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
            self.log.debug("playing %r: %s", cue.text, path.name)
            (self.chimed if cue.chime else self.played).append(cue.text)
        self.player.wait()

    def _rendered(self, cue: _Cue) -> Path | None:
        """The sound of ``cue`` in the cache, rendered first (urgently) if it is not there; with
        espeak-ng if its Piper voice turns out unusable. None if there is none."""
        assert self._renderer is not None
        for _ in range(2):  # the voice as it is, then the one it fell back to
            voicing = self._voicing
            item = self._sound(voicing, cue.text, cue.volume, cue.chime)
            path = Path(item.path)
            if is_playable(path):
                return path
            (future,) = self._renderer.submit([item], urgent=True, engine=spec_of(voicing.engine))
            try:
                future.result()
            except CancelledError:
                return None  # closing, or the voice turned off
            except RenderFailed as e:
                if e.unavailable and self._fall_back(voicing, e):
                    continue
                self._render_trouble(e)
                return None
            except Exception as e:
                self._render_trouble(e)
                return None
            self._trouble.clear("render", "rendering works again")
            return path
        return None

    def _render_trouble(self, error: BaseException) -> None:
        if self._closed:  # a render cut short by close() is no trouble
            return
        if isinstance(error, RenderFailed) and error.unavailable:
            self._trouble.warn("engine", "no speech: %s", error)
        else:
            self._trouble.warn("render", "could not render a cue: %s", error)


def _voice_file(engine: SpeechEngine) -> tuple[str, int, int] | None:
    """A Piper engine's voice file as it is now (name, size, time written); None for others."""
    if not isinstance(engine, PiperEngine):
        return None
    try:
        found = engine.model.stat()
    except OSError:
        return (str(engine.model), -1, -1)
    return (str(engine.model), found.st_size, found.st_mtime_ns)


def _described(voicing: _Voicing) -> str:
    """The voice in a few words, for the log: "off", or its engine and volume."""
    voice = voicing.settings.voice
    if not voice.enabled:
        return "off"
    chimes = voicing.settings.sounds
    sounds = "chimes on" if chimes is not None and chimes.enabled else "no chimes"
    return f"{voicing.engine.name}, volume {voice.volume:g}, {sounds}"


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
