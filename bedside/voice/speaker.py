"""The cue queue: what the daemon speaks through. ``say`` queues; a worker renders what the
cache lacks and hands each sound, with the time it fell due, to the sound stage.

    voice = Speaker(config.voice, cache_dir, sounds=config.sounds, soundscape=...)
    voice.prepare(every_cue_text)   # renders what the cache lacks, in a child; returns at once
    voice.say("Halfway.")           # never blocks: due now, heard in order
    voice.chime("step")             # a soft bell; a cue due with it starts over its decay
    voice.soundscape(True)          # the bed under a marked step (False: fades out)
    voice.sleep_timer()             # the routine is over: it plays on, then fades out
    voice.silence()                 # skip / end: drop what is queued, fade out the speech now
    voice.close()                   # kills a render still running: never waits on one

A cue missing from the cache is rendered at once by a child (ahead of the background render),
and the worker waits for it, not the loop. Trouble (no engine, a render failing, no output) is
logged once per kind as a WARNING on the ``bedside.voice`` logger and tried again with the next
cue, never raised to the caller: a coach that cannot speak still shows its countdown.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import CancelledError
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from bedside.closing import Closing
from bedside.config.sections import SoundConfig, SoundscapeConfig, SoundsConfig, VoiceConfig
from bedside.core.phrases import speakable
from bedside.sound.kinds import CHIMES, KINDS
from bedside.voice.cache import cache_key, open_cache, prune, remove_leftovers
from bedside.voice.engine import SpeechEngine
from bedside.voice.engine_choice import engine_for, fallback_for, spec_of
from bedside.voice.output_rate import FALLBACK_RATE, native_rate
from bedside.voice.piper import PiperEngine
from bedside.voice.renderer import Item, Renderer, RenderFailed
from bedside.voice.stage_link import StageLink
from bedside.voice.trouble import LOG, Trouble
from bedside.voice.wav import is_playable

__all__ = ["Speaker", "VoiceSettings", "say_now", "sound", "sounds_of"]


Rendered = Literal["ready", "failed", "fell back"]

SLEEP_FADE = 120.0  # seconds the soundscape takes to fade out after [soundscape] after
STOP_FADE = 0.1  # seconds a skipped cue takes to fade out: no click, and gone at once


@dataclass(frozen=True)
class _Cue:
    text: str  # the words, or a chime's name
    due: float  # when it fell due, on the injected clock (how stale it is)
    generation: int  # silence() moves to a new generation; older cues are never played
    volume: float | None = None  # None: the configured volume
    chime: bool = False
    line: dict[str, Any] | None = None  # a line for the stage as it is (the soundscape)
    at: float = field(default_factory=time.monotonic)  # when it is due, on the stage's clock
    number: int = 0  # in the order asked: a withdrawal takes back those asked before it


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
        for text in dict.fromkeys(t for t in texts if speakable(t))  # the rest say nothing
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
    """The soundscape's loop (a kind, or a file's absolute path) at the cues' own loudness and
    ``rate`` (the stage sets it ``[soundscape] level`` under them); a file's size and time are
    in its key, so an edited loop is made again."""
    stamp: list[object] = []
    if soundscape not in KINDS:
        with contextlib.suppress(OSError):
            info = os.stat(soundscape)
            stamp = [info.st_size, info.st_mtime_ns]
    voice = target(config.loudness, config.volume)  # the cues' level: the bed goes under it
    level = None if voice == -math.inf else round(voice, 2)
    key = cache_key("loop", soundscape, stamp, level, rate)
    return Item("loop", soundscape, level, str(folder / f"{key}.wav"), rate)


@dataclass(frozen=True)
class VoiceSettings:
    """What a Speaker speaks with, as a reload hands it over: ``[voice]``, ``[sounds]`` (None:
    no chimes), how long a cue may wait (``[cues] stale_after``), ``[sound]`` and
    ``[soundscape]``."""

    voice: VoiceConfig
    sounds: SoundsConfig | None = None
    stale_after: float = 5.0
    sound: SoundConfig = field(default_factory=SoundConfig)
    soundscape: SoundscapeConfig = field(default_factory=SoundscapeConfig)


@dataclass
class _InFlight:
    """A sound sent to the stage and not yet heard to its end: when it is due (the stage's
    clock), and the stage it went to (0 while it is being sent)."""

    at: float
    stage: int = 0


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
    """What the daemon speaks through: cues, chimes and the soundscape, rendered into the cache
    (in a child) and played by the sound stage (another child, ``bedside.sound.stage``), which
    mixes them on one stream at the output's own rate.

    ``output`` is the stage's (``alsa:DEVICE``, the default from ``[voice] device``; ``null``,
    a card made of the clock, where there is none). Each cue is sent with the monotonic time it
    falls due: the stage keeps cues in order and never lets one overlap another, but a chime
    never delays one (a cue due with a chime starts while the chime decays). ``stale_after``:
    a cue whose render took longer than this after it fell due is dropped, not said late.
    ``clock`` (monotonic seconds) is what "late" is measured on. With ``config.enabled`` false,
    or a cache folder that cannot be used, the Speaker does nothing at all and starts no threads
    (until ``reconfigure`` turns it on). ``played`` (texts heard), ``chimed`` and
    ``synthesised`` are for tests and the bench; ``listen`` gets the stage's reports of what
    reached the output (the daemon's ``--trace``).
    """

    def __init__(
        self,
        config: VoiceConfig,
        cache_dir: Path,
        output: str | None = None,
        log: logging.Logger | None = None,
        *,
        stale_after: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        sounds: SoundsConfig | None = None,
        stall: float = 120.0,
        rate: int | None = None,
        sound_config: SoundConfig | None = None,
        soundscape: SoundscapeConfig | None = None,
        stage_command: list[str] | None = None,
        sleep_fade: float = SLEEP_FADE,
    ) -> None:
        self.sleep_fade = sleep_fade
        self._rate = rate  # None: the output is asked, once, off the loop's thread
        self._rate_lock = threading.Lock()
        self.cache_dir = Path(cache_dir)
        self.log = log or LOG
        self._output = output  # None: the ALSA device [voice] names, followed on reloads
        self._stage_command = stage_command
        self.played: deque[str] = deque(maxlen=100)  # the latest only: it runs for months
        self.chimed: deque[str] = deque(maxlen=100)
        self.heard: deque[dict[str, Any]] = deque(maxlen=100)  # the stage's sound/duck lines
        self._listeners: list[Callable[[dict[str, Any]], None]] = []
        self._stall = stall
        self._clock = clock
        self._cond = threading.Condition()
        self._queue: deque[_Cue] = deque()
        self._generation = 0
        self._busy = False  # the worker holds a cue (rendering or sending it)
        # What prepare() asked for last and is not begun yet: a newer request replaces it, so
        # however many arrive (a storm of reloads), one render runs and at most one waits.
        self._wanted: _Request | None = None
        self._preparing = False  # the preparer is rendering a request
        # The texts the running voicing was last asked to prepare: a render for another one
        # (ahead of a reload taking over) keeps their sounds in the cache, and they its.
        self._spoken: _Request | None = None
        self._closed = False
        self._volume: float | None = None  # the last cue's: chimes follow a quieter night
        self._sent: dict[str, _InFlight] = {}  # sent, not yet heard to their end, by id
        self._gone = 0  # the latest stage heard gone (stages before it are gone too)
        self._until = 0.0  # the monotonic time the last sound heard ends
        self._ids = itertools.count(1)
        self._numbers = itertools.count(1)
        self._withdrawn = (0, 0.0)  # the last withdrawal: cues numbered before it, due after
        self._bed = False  # the soundscape is meant to be playing
        self._bed_db: float | None = None  # the level last sent for it
        self._trouble = Trouble(self.log)
        self._renderer: Renderer | None = None
        self._worker: threading.Thread | None = None
        self._preparer: threading.Thread | None = None
        # Piper voices found unusable (file, size, time written): espeak-ng speaks instead.
        self._unusable: set[tuple[str, int, int]] = set()
        settings = VoiceSettings(
            config,
            sounds,
            stale_after,
            sound_config or SoundConfig(),
            soundscape or SoundscapeConfig(),
        )
        self._voicing = self._voicing_for(settings)
        self.stage = self._stage_for(settings)
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
    def soundscape_config(self) -> SoundscapeConfig:
        return self._voicing.settings.soundscape

    @property
    def engine(self) -> SpeechEngine:
        return self._voicing.engine

    @property
    def output(self) -> str:
        """The stage's output: the one given, else ``alsa:`` and ``[voice] device``."""
        return self._output or f"alsa:{self.config.device}"

    def _stage_for(self, settings: VoiceSettings) -> StageLink:
        scape = settings.soundscape
        options = [
            "--preroll", f"{settings.sound.preroll:g}",
            "--duck", f"{scape.duck:g}",
            "--level", f"{-scape.level:g}",
        ]  # fmt: skip
        return StageLink(self.output, options, self._hear, self.log, self._stage_command)

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
        falls silent at once and its render stops; turned on, it starts. A new output or new
        stage settings (pre-roll, duck, level) start a new stage; the soundscape turned off
        fades out."""
        old = self._voicing.settings
        if settings == old:
            return
        if self._bed and not settings.soundscape.enabled:
            self.soundscape(False)
        voicing = self._voicing_for(settings)
        with self._cond:
            self._voicing = voicing
            self._spoken = None  # until prepare() says what the new voicing says
            self._trouble = Trouble(self.log)  # a new voice: its trouble is said anew
        if (settings.voice.device, settings.sound, settings.soundscape) != (
            old.voice.device,
            old.sound,
            old.soundscape,
        ):
            stage, self.stage = self.stage, self._stage_for(settings)
            with self._rate_lock:
                if self._output is None and settings.voice.device != old.voice.device:
                    self._rate = None  # another card: its rate is asked again
            with self._cond:
                self._bed = False  # the new stage starts without it
            stage.close()
        if not settings.voice.enabled:
            self.silence()
            if self._renderer is not None:
                self._renderer.cancel()
        self._start()
        self.log.info("the voice: %s", _described(voicing))

    def say(self, text: str, volume: float | None = None, at: float | None = None) -> None:
        """Queue ``text``, due at ``at`` (``time.monotonic()`` seconds, ahead of now so that
        the output is awake and it starts on its time; None: now), after what is queued;
        returns at once."""
        if self._worker is None or not self.config.enabled or not speakable(text):
            return
        self._queue_cue(_Cue(text, self._due(at), self._generation, volume, at=_stage_time(at)))

    def chime(self, kind: str, at: float | None = None) -> None:
        """Queue the chime ``kind`` ("step" or "finish"), if ``[sounds]`` has it, due at
        ``at`` as ``say``'s; at once."""
        sounds = self.sounds
        if self._worker is None or not self.config.enabled:
            return
        if sounds is None or not sounds.enabled or not getattr(sounds, kind, False):
            return
        due = self._due(at)
        self._queue_cue(_Cue(kind, due, self._generation, None, chime=True, at=_stage_time(at)))

    def withdraw(self) -> None:
        """Take back every cue and chime asked for ahead of its time that has not begun (the
        person pressed: what comes next is asked for again); what is speaking goes on."""
        if self._worker is None:
            return
        now = time.monotonic()
        with self._cond:
            self._withdrawn = (next(self._numbers), now)
            self._queue = deque(c for c in self._queue if c.line is not None or c.at <= now)
            later = [ident for ident, sent in self._sent.items() if sent.at > now]
            for ident in later:
                del self._sent[ident]
            self._cond.notify_all()
        for ident in later:
            self.stage.tell({"type": "cancel", "id": ident})

    def wake(self) -> None:
        """The button went down: a sound may follow when it comes up. A closed output opens
        now, so its pre-roll (for an amplifier that wakes late) runs while the finger is down
        and what the release asks for is heard at once; it stays open the stage's hold (3 s).
        Nothing when no stage runs yet."""
        if self._worker is None:
            return
        self.stage.tell({"type": "wake"})

    def soundscape(self, on: bool, fade: float = 3.0) -> None:
        """The soundscape on (for a marked step) or off, fading over ``fade`` seconds; nothing
        when ``[soundscape] sound`` is "off" or it is already so."""
        if self._worker is None or not self.soundscape_config.enabled:
            return
        with self._cond:
            if on == self._bed:
                return
            self._bed = on
        line: dict[str, Any] = {"type": "soundscape", "fade": fade}
        if not on:
            line["off"] = True
        self._queue_cue(_Cue("", self._clock(), self._generation, None, line=line))

    def sleep_timer(self) -> None:
        """The routine is over: the soundscape plays (on from the last step, or fading in) for
        ``[soundscape] after`` seconds, then fades out over ``sleep_fade`` (a press stops it
        sooner: ``soundscape(False)``)."""
        if self._worker is None or not self.soundscape_config.enabled:
            return
        self.soundscape(True)
        with self._cond:
            self._bed = False
        at = time.monotonic() + self.soundscape_config.after  # on the stage's clock
        line = {"type": "soundscape", "off": True, "at": at, "fade": self.sleep_fade}
        self._queue_cue(_Cue("", self._clock(), self._generation, None, line=line))

    def silence(self) -> None:
        """Drop everything queued and fade out what is speaking now (within about 0.1 s); the
        soundscape plays on (its own switch is ``soundscape``)."""
        if self._worker is None:
            return
        with self._cond:
            self._generation += 1
            self._queue = deque(c for c in self._queue if c.line is not None)
            self._sent.clear()
            self._cond.notify_all()
        # At now, on the stage's clock: before every sound asked after this (the stage orders
        # what it is asked by the time each is due).
        stop = {"type": "stop", "fade": STOP_FADE, "soundscape": False, "at": time.monotonic()}
        self.stage.tell(stop)

    def listen(self, hear: Callable[[dict[str, Any]], None]) -> None:
        """``hear`` is told each sound as it reaches the output (the stage's ``sound`` lines)
        and each dip of the soundscape (``duck``), on the stage reader's thread."""
        self._listeners.append(hear)

    def close(self) -> None:
        """Silence, kill a render still running, end the threads and the stage (it fades out
        and closes the output). Within a fraction of a second. Again: nothing."""
        if self._worker is None or self._renderer is None:
            return
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._generation += 1
            self._queue.clear()
            self._cond.notify_all()
        self._renderer.close()  # outside the lock: it calls back into _notify
        self._worker.join(timeout=2)
        self.stage.close()
        if self._preparer is not None:  # it ends as its render is cancelled
            self._preparer.join(timeout=1)

    # -- for tests, the bench and ``bedside voice`` ---------------------------------------------
    @property
    def rate(self) -> int:
        """The output's own rate, which every sound is rendered at (asked once: a child)."""
        with self._rate_lock:
            if self._rate is None:
                self._rate = native_rate(self.output)
            return self._rate

    def items(self, texts: Iterable[str], volumes: Iterable[float | None] = (None,)) -> list[Item]:
        """Every sound ``prepare(texts, volumes)`` renders, with its place in the cache."""
        return self._items(self._voicing, texts, volumes)

    def sound(self, text: str, volume: float | None = None, chime: bool = False) -> Item:
        """The sound ``say(text, volume)`` (or a chime) plays, with its place in the cache."""
        return self._sound(self._voicing, text, volume, chime)

    def loop(self) -> Item:
        """The soundscape's loop, with its place in the cache."""
        return self._loop(self._voicing)

    def _items(
        self, voicing: _Voicing, texts: Iterable[str], volumes: Iterable[float | None]
    ) -> list[Item]:
        settings = voicing.settings
        items = sounds_of(
            settings.voice,
            settings.sounds,
            voicing.engine,
            self.cache_dir,
            texts,
            volumes,
            self.rate,
        )
        if settings.soundscape.enabled:
            items.append(self._loop(voicing))
        return items

    def _sound(self, voicing: _Voicing, text: str, volume: float | None, chime: bool) -> Item:
        settings = voicing.settings
        return sound(
            settings.voice,
            settings.sounds,
            voicing.engine,
            self.cache_dir,
            text,
            volume,
            chime,
            self.rate,
        )

    def _loop(self, voicing: _Voicing) -> Item:
        settings = voicing.settings
        return loop(settings.voice, settings.soundscape.sound, self.cache_dir, self.rate)

    @property
    def synthesised(self) -> int:
        """How many sounds this Speaker's render children wrote (a cache hit writes none)."""
        return self._renderer.rendered if self._renderer is not None else 0

    def wait_until_idle(self, timeout: float | None = None) -> bool:
        """Wait until nothing is queued, rendering or sounding (the soundscape aside); False
        on timeout."""
        end = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                if self._idle():
                    left = self._until - time.monotonic()
                    if left <= 0:
                        return True
                else:
                    left = 1.0
                if end is not None:
                    if time.monotonic() >= end:
                        return False
                    left = min(left, end - time.monotonic())
                self._cond.wait(max(0.001, left))

    # -- the workers --------------------------------------------------------------------------
    def _due(self, at: float | None) -> float:
        return self._clock() if at is None else at

    def _notify(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _idle(self) -> bool:
        rendering = self._renderer is not None and not self._renderer.idle
        waiting = self._wanted is not None or self._preparing
        busy = self._queue or self._busy or waiting or rendering or self._sent
        return not busy

    def _queue_cue(self, cue: _Cue) -> None:
        with self._cond:  # the generation under the lock: silence() drops it, or it follows
            if self._closed:
                return
            number = next(self._numbers)
            self._queue.append(replace(cue, generation=self._generation, number=number))
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
        # The stage starts with the worker (its parent-death signal follows this thread), so
        # the daemon's children, threads and files are the same all night long; its output
        # opens only when a sound is due.
        self._send({"type": "ping", "id": 0})
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                cue = self._queue.popleft()
                self._busy = True
            try:
                if cue.line is not None:
                    self._control(cue)
                else:
                    self._speak(cue)
            except Exception:  # the worker must outlive any surprise, or the coach goes mute
                self.log.exception("unexpected trouble saying %r", cue.text)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _rendered(self, item: Item, voicing: _Voicing | None = None) -> Rendered:
        """``item`` in the cache, rendered now (urgently) if it is not: "ready", "failed", or
        "fell back" (its Piper voice turned out unusable: espeak-ng speaks from now on)."""
        assert self._renderer is not None
        voicing = voicing or self._voicing
        if is_playable(Path(item.path)):
            return "ready"
        (future,) = self._renderer.submit([item], urgent=True, engine=spec_of(voicing.engine))
        try:
            future.result()
        except CancelledError:
            return "failed"  # closing, or the voice turned off
        except RenderFailed as e:
            if e.unavailable and self._fall_back(voicing, e):
                return "fell back"
            self._render_trouble(e)
            return "failed"
        except Exception as e:
            self._render_trouble(e)
            return "failed"
        self._trouble.clear("render", "rendering works again")
        return "ready"

    def _ready(self, cue: _Cue) -> Item | None:
        """The sound of ``cue``, in the cache: with the voice as it is, or the one it fell back
        to. None if there is none."""
        for _ in range(2):
            voicing = self._voicing
            item = self._sound(voicing, cue.text, cue.volume, cue.chime)
            done = self._rendered(item, voicing)
            if done != "fell back":
                return item if done == "ready" else None
        return None

    def _control(self, cue: _Cue) -> None:
        line = dict(cue.line or {})
        if line.get("off") or line.get("type") != "soundscape":
            self._send(line)
            return
        with self._cond:
            if not self._bed:  # switched off again while it was queued
                return
        item = self.loop()
        if self._rendered(item) == "ready":
            name = Path(item.text).name if item.text not in KINDS else item.text
            line.update(file=item.path, name=name, level=self._bed_level())
            self._send(line)

    def _bed_level(self) -> float:
        """The soundscape's level: ``level`` under the voice, lowered with the voice on a
        quieter night (quiet hours render the cues at their own volume; the bed follows)."""
        volume = self.config.volume if self._volume is None else self._volume
        scale = volume / self.config.volume if self.config.volume > 0 else 0.0
        down = 20 * math.log10(scale) if scale > 0 else -60.0
        self._bed_db = -self.soundscape_config.level + down
        return self._bed_db

    def _speak(self, cue: _Cue) -> None:
        if cue.chime:  # at the volume of the cue before it: softer on a quieter night
            cue = replace(cue, volume=self._volume)
        elif cue.volume != self._volume:
            self._volume = cue.volume
            if self._bed and self._bed_db is not None:
                old = self._bed_db
                if self._bed_level() != old:
                    self._send({"type": "level", "db": self._bed_db, "ramp": 2.0})
        item = self._ready(cue)
        if item is None:
            return
        with self._cond:
            if self._closed or cue.generation != self._generation:
                return
            number, when = self._withdrawn
            if cue.number < number and cue.at > when:  # taken back while it was rendered
                return
            if self._clock() - cue.due > self.stale_after:  # its render took too long
                self.log.info("dropped a stale cue: %r", cue.text)
                return
            ident = f"s{next(self._ids)}"
            self._sent[ident] = _InFlight(cue.at)
        what = "chime" if cue.chime else "cue"
        line = {"type": what, "file": item.path, "at": cue.at, "text": cue.text, "id": ident}
        stage = self._send(line)
        with self._cond:
            sent = self._sent.get(ident)
            if sent is not None and stage > self._gone:
                sent.stage = stage
            else:  # not written, or its stage was heard gone while it was: it will not play
                self._sent.pop(ident, None)
                self._cond.notify_all()
        if stage:
            self.log.debug("playing %r: %s", cue.text, Path(item.path).name)

    def _send(self, line: dict[str, Any]) -> int:
        """``line`` to the stage: the number of the stage it went to, 0 if none (said once)."""
        try:
            stage = self.stage.send(line)
        except OSError as e:
            self._trouble.warn("stage", "cannot start the sound stage: %s", e)
            return 0
        if not stage:
            self._trouble.warn("stage", "the sound stage stopped; it starts again with a sound")
        return stage

    # -- the stage's reader thread ---------------------------------------------------------------
    def _hear(self, line: dict[str, Any]) -> None:
        kind = line.get("type")
        if kind == "sound":
            self._heard_sound(line)
        elif kind == "duck":
            self.heard.append(line)
            for hear in self._listeners:
                hear(line)
        elif kind == "error":
            message = str(line.get("message", ""))
            if message.startswith(("cannot open the output", "the output failed")):
                self._trouble.warn("output", "the sound output: %s", message)
                with self._cond:  # what was due then is dropped: no sound will come of it
                    self._sent.clear()
                    self._cond.notify_all()
            elif "resampled" not in message:
                self.log.info("the sound stage: %s", message)
        elif kind == "output":  # opened or closed (the tests and the bench watch it)
            self.heard.append(line)
        elif kind == "gone":
            # Only what went to that stage (or one before) will not be heard: its end can be
            # heard after the next stage has started and been sent a cue (with its output held
            # open, up to half a second late), and that cue is still to come.
            with self._cond:
                self._gone = max(self._gone, int(line["stage"]))
                for ident in [i for i, s in self._sent.items() if 0 < s.stage <= self._gone]:
                    del self._sent[ident]
                self._cond.notify_all()

    def _heard_sound(self, line: dict[str, Any]) -> None:
        what, text = line.get("what"), str(line.get("text", ""))
        if not line.get("cut"):
            self._trouble.clear("output", "the sound output works again")
            if what == "cue":
                self.played.append(text)
            elif what == "chime":
                self.chimed.append(text)
        self.heard.append(line)
        with self._cond:
            end = line.get("end")
            if isinstance(end, int | float):
                self._until = max(self._until, float(end)) if not line.get("cut") else float(end)
            ident = line.get("id")
            if isinstance(ident, str):
                self._sent.pop(ident, None)
            self._cond.notify_all()
        for hear in self._listeners:
            hear(line)

    def _render_trouble(self, error: BaseException) -> None:
        if self._closed:  # a render cut short by close() is no trouble
            return
        if isinstance(error, RenderFailed) and error.unavailable:
            self._trouble.warn("engine", "no speech: %s", error)
        else:
            self._trouble.warn("render", "could not render a cue: %s", error)


def _stage_time(at: float | None) -> float:
    """When a cue is due on the stage's clock: ``at``, or now."""
    return time.monotonic() if at is None else at


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
    scape = voicing.settings.soundscape
    bed = f", soundscape {scape.sound}" if scape.enabled else ""
    return f"{voicing.engine.name}, volume {voice.volume:g}, {sounds}{bed}"


def say_now(
    config: VoiceConfig,
    text: str,
    folder: Path,
    output: str | None = None,
    log: logging.Logger | None = None,
    timeout: float = 120.0,
    clock: Callable[[], float] = time.monotonic,
) -> bool:
    """Say ``text`` once, now, with ``config``'s engine on its ``device``, rendered into the
    cache ``folder`` if it is not there yet; True once it was heard to the end (``clock``: the
    Speaker's, for the tests).

    The daemon's own way of speaking (a Speaker), start to finish: ``bedside voice say`` and
    ``bedside selftest`` hear what the device would say, through what it would say it with.
    """
    # Its one line waits for its render however long that takes (``timeout``): a Pi Zero may
    # take longer than a cue's usual ``stale_after`` for Piper's first render, and a line asked
    # for by hand is wanted late rather than not at all.
    with Speaker(config, folder, output, log, stale_after=timeout, clock=clock) as voice:
        voice.say(text)
        return voice.wait_until_idle(timeout) and list(voice.played) == [text]
