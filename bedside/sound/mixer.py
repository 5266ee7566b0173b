"""The mixer: cues, chimes and a soundscape into one stream, block by block, in numpy.

Everything is placed on the stream's own clock, in frames (frame 0 is the first frame mixed).
``Mixer.mix(n)`` returns the next ``n`` frames as float32 (frames x channels); the work per block
is a handful of vectorised numpy operations over the block (a slice, a gain curve, an add), never
a Python loop over samples, so a block of 1024 frames costs tens of microseconds here.

Sources:

- **Cues** never overlap one another: they are placed in the order they fall due, each at its
  due frame or, when the one before is still speaking, right after it. A cue's place is decided
  ``duck_ramp`` before it is due (so the soundscape is already down when the first syllable
  comes), never earlier, so cues that arrive out of order still play in order of due time.
- **Chimes** start at their due frame and overlap anything: a cue due with a chime starts with
  it, over the chime's decay, never after it.
- **The soundscape** loops (a seamless loop rendered ahead) under a gain that is the product of
  its level, its fade (a short fade-in, the sleep timer's long fade-out, a stop's fade), the
  ducking under speech and the master volume.

Ducking: under each cue the soundscape dips by ``duck_db``, along raised cosines of
``duck_ramp`` (150 ms) in dB, starting ``duck_ramp`` before the cue so the dip is complete when
it speaks and rising only after it ends. Cues less than ``duck_hold`` (1 s) apart share one dip,
so the bed does not pump between the sentences of a step. Every gain curve is continuous by
construction: a change only ever reshapes frames not yet mixed, starting from the value the curve
has there.

Commands carry the frame they take effect at; one that falls inside a block splits the block,
so every change lands on its exact frame. Events (a sound's first frame mixed, a cue cut short,
the dip going down or coming up) are collected in ``events`` for the stage to report.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Event", "Mixer", "Ramp"]


def _rc(u: np.ndarray) -> np.ndarray:
    """The raised cosine from 0 (u <= 0) to 1 (u >= 1)."""
    curve: np.ndarray = 0.5 - 0.5 * np.cos(np.pi * np.clip(u, 0.0, 1.0))
    return curve


class Ramp:
    """A value in dB that moves to a new value along a raised cosine, from a given frame."""

    def __init__(self, db: float = 0.0) -> None:
        self.start = 0
        self.length = 0
        self.src = db
        self.dst = db

    def at(self, frame: int) -> float:
        if self.length <= 0 or frame >= self.start + self.length:
            return self.dst if frame >= self.start else self.src
        if frame <= self.start:
            return self.src
        u = (frame - self.start) / self.length
        return self.src + (self.dst - self.src) * float(_rc(np.array(u)))

    def set(self, frame: int, db: float, length: int) -> None:
        """From ``frame`` (not yet mixed), go to ``db`` over ``length`` frames."""
        self.src = self.at(frame)
        self.start, self.length, self.dst = frame, max(0, length), db

    def block(self, first: int, n: int) -> np.ndarray | float:
        """The value at each of frames first .. first + n - 1 (a scalar when constant)."""
        if self.length <= 0 or first >= self.start + self.length or first + n <= self.start:
            return self.at(first)
        u = (np.arange(first, first + n) - self.start) / self.length
        return self.src + (self.dst - self.src) * _rc(u)

    @property
    def settled(self) -> bool:
        return self.length <= 0


@dataclass
class Event:
    kind: str  # "sound" | "cut" | "duck"
    what: str  # "cue" | "chime" | "soundscape" (for "duck": "down" | "up")
    frame: int  # where it begins (for "cut": where it ended)
    end: int | None = None  # the frame it ends at, when known
    text: str = ""
    id: str | None = None


@dataclass
class _Sound:
    what: str
    samples: np.ndarray  # float32, frames x channels
    due: int
    seq: int
    text: str = ""
    id: str | None = None
    start: int | None = None  # decided when placed
    announced: bool = False
    cut: int | None = None  # a stop: the frame its fade-out begins
    cut_length: int = 0

    @property
    def begins(self) -> int:
        """Where a placed sound starts (only placed sounds are playing)."""
        assert self.start is not None
        return self.start

    @property
    def end(self) -> int:
        natural = self.begins + len(self.samples)
        return natural if self.cut is None else min(natural, self.cut + self.cut_length)


@dataclass
class _Loop:
    samples: np.ndarray  # float32 (or int16), frames x channels
    scale: float  # to full scale 1.0 (1/32768 for int16)
    origin: int  # the frame the loop's first sample plays at
    name: str = ""


@dataclass(order=True)
class _Command:
    frame: int
    seq: int
    action: str = field(compare=False)
    args: dict[str, Any] = field(compare=False, default_factory=dict)


class Mixer:
    def __init__(
        self,
        rate: int,
        channels: int = 2,
        *,
        duck_db: float = 12.0,
        duck_ramp: float = 0.150,
        duck_hold: float = 1.0,
        max_pending: int = 2000,
    ) -> None:
        self.rate = rate
        self.channels = channels
        self.position = 0  # the next frame to mix
        self.duck_db = Ramp(duck_db)
        self.duck_ramp = max(1, round(duck_ramp * rate))
        self.duck_hold = round(duck_hold * rate)
        self.volume = Ramp(0.0)  # master, dB
        self.level = Ramp(-18.0)  # the soundscape's, dB
        self.fade = Ramp(0.0)  # the soundscape's fade, dB (down to SILENT_DB means off)
        self.loop: _Loop | None = None
        self.loop_ends: int | None = None  # frame the soundscape's fade-out ends at
        self.max_pending = max_pending
        self.events: list[Event] = []
        self._seq = itertools.count()
        self._cues: list[_Sound] = []  # unplaced, in order of (due, seq)
        self._playing: list[_Sound] = []  # placed, not yet over
        self._speech_free = 0  # the first frame after the last placed cue
        self._dips: list[list[int]] = []  # [down_start, up_start] of each dip, in order
        self._commands: list[_Command] = []
        self._last_end = 0  # the frame the last sound to finish finished at

    # -- what is asked -------------------------------------------------------------------------
    def _frames(self, samples: np.ndarray) -> np.ndarray:
        """float32, frames x channels, or frames x 1 (mono: added to every channel)."""
        x = np.asarray(samples, dtype=np.float32)
        if x.ndim == 1:
            x = x[:, None]
        if x.shape[1] not in (1, self.channels):
            x = x.mean(axis=1, keepdims=True)
        return np.ascontiguousarray(x)

    def pending(self) -> int:
        return len(self._cues) + len(self._commands) + len(self._playing)

    def cue(self, samples: np.ndarray, due: int, text: str = "", id: str | None = None) -> None:
        """Speak ``samples`` at frame ``due``, or after the cue before it has finished."""
        self._check_room()
        sound = _Sound(
            "cue", self._frames(samples), max(due, self.position), next(self._seq), text, id
        )
        bisect.insort(self._cues, sound, key=lambda s: (s.due, s.seq))

    def chime(self, samples: np.ndarray, due: int, text: str = "", id: str | None = None) -> None:
        """Play ``samples`` at frame ``due`` over whatever else plays."""
        self._check_room()
        sound = _Sound(
            "chime", self._frames(samples), max(due, self.position), next(self._seq), text, id
        )
        sound.start = sound.due
        self._playing.append(sound)

    def command(self, frame: int, action: str, **args: object) -> None:
        """A change at ``frame`` (now, if that has passed): "soundscape" (loop, name, fade),
        "soundscape_off" (fade), "level" (db, ramp), "duck" (db, ramp), "volume" (db, ramp),
        "stop" (fade; soundscape=False leaves the soundscape playing), "cancel" (id or all cues
        not yet begun)."""
        self._check_room()
        bisect.insort(
            self._commands, _Command(max(frame, self.position), next(self._seq), action, dict(args))
        )

    def _check_room(self) -> None:
        if self.pending() >= self.max_pending:
            raise OverflowError(f"more than {self.max_pending} sounds and changes pending")

    # -- what is playing -----------------------------------------------------------------------
    @property
    def soundscape_playing(self) -> bool:
        return self.loop is not None

    def idle_from(self) -> int | None:
        """The frame from which nothing plays or is waiting to (None: something never ends, a
        soundscape); the stage closes the output once it has fed silence past it."""
        if self.loop is not None:
            return None
        ends = [s.end for s in self._playing]
        ends += [self._dips[-1][1] + self.duck_ramp] if self._dips else []
        if self._cues or self._commands:
            return None
        return max(ends, default=self._last_end)

    def next_due(self) -> int | None:
        """The first frame something is waiting to start at (None: nothing waits)."""
        dues = [s.due for s in self._cues[:1]] + [c.frame for c in self._commands[:1]]
        dues += [s.start for s in self._playing if s.start is not None and s.start >= self.position]
        return min(dues, default=None)

    # -- applying commands ---------------------------------------------------------------------
    def _apply(self, c: _Command) -> None:
        f, a = c.frame, c.args
        if c.action == "soundscape":
            samples = a["loop"]
            scale = 1.0 / 32768.0 if samples.dtype == np.int16 else 1.0
            if samples.ndim == 1:
                samples = samples[:, None]
            if samples.shape[1] != self.channels:
                samples = np.repeat(
                    (samples.astype(np.float32) * scale).mean(axis=1, keepdims=True),
                    self.channels,
                    axis=1,
                )
                scale = 1.0
            fade = round(float(a.get("fade", 3.0)) * self.rate)
            self.fade = Ramp(SILENT_DB)
            self.loop = _Loop(samples, scale, f, str(a.get("name", "")))
            self.loop_ends = None
            self.fade.set(f, 0.0, fade)
            self.events.append(Event("sound", "soundscape", f, None, self.loop.name))
        elif c.action == "soundscape_off":
            if self.loop is not None:
                fade = max(1, round(float(a.get("fade", 3.0)) * self.rate))
                self.fade.set(f, SILENT_DB, fade)
                self.loop_ends = f + fade
        elif c.action == "level":
            self.level.set(f, float(a["db"]), round(float(a.get("ramp", 1.0)) * self.rate))
        elif c.action == "duck":
            self.duck_db.set(f, float(a["db"]), round(float(a.get("ramp", 0.5)) * self.rate))
        elif c.action == "volume":
            self.volume.set(f, float(a["db"]), round(float(a.get("ramp", 0.5)) * self.rate))
        elif c.action == "stop":
            fade = max(1, round(float(a.get("fade", 0.3)) * self.rate))
            self._stop(f, fade, c.seq, bool(a.get("soundscape", True)))
        elif c.action == "cancel":
            wanted = a.get("id")
            self._cues = [s for s in self._cues if wanted is not None and s.id != wanted]
            self._playing = [
                s for s in self._playing if s.begins < f or (wanted is not None and s.id != wanted)
            ]
            self._unplace(f)
            self._recompute_speech_free(f)
        else:
            raise ValueError(f"unknown mixer command {c.action!r}")

    def _unplace(self, frame: int) -> None:
        """Cues placed but not begun by ``frame`` wait again, to be placed anew (after a stop
        or a cancel the queue before them has changed)."""
        later = [s for s in self._playing if s.what == "cue" and s.begins >= frame]
        if not later:
            return
        self._playing = [s for s in self._playing if not (s.what == "cue" and s.begins >= frame)]
        for sound in later:
            sound.start = None
            bisect.insort(self._cues, sound, key=lambda s: (s.due, s.seq))

    def _recompute_speech_free(self, frame: int) -> None:
        """After a stop or a cancel at ``frame`` (``position``, or the first frame taken back):
        where speech is free, and the dips that follow from it."""
        ends = [s.end for s in self._playing if s.what == "cue"]
        self._speech_free = max(ends, default=frame)
        self._dips = [d for d in self._dips if d[0] < frame]
        # A dip whose cue was cancelled or cut rises as soon as the speech ends (a dip already
        # rising is left as it is).
        for d in self._dips:
            if d[1] >= frame:
                d[1] = max(min(d[1], self._speech_free), frame)

    def _stop(self, frame: int, fade: int, seq: int, soundscape: bool = True) -> None:
        """Fade out, from ``frame`` over ``fade`` frames, every sound asked for before this
        stop (``seq``), and drop those not begun; what is asked after it plays as asked. The
        soundscape fades too, unless ``soundscape`` is False (speech stopped, the bed goes on)."""
        self._cues = [s for s in self._cues if s.seq > seq]
        kept = []
        for s in self._playing:
            if s.seq > seq:
                kept.append(s)
            elif s.start is not None and s.start < frame < s.end:
                s.cut, s.cut_length = frame, fade
                self.events.append(Event("cut", s.what, frame, s.end, s.text, s.id))
                kept.append(s)
        self._playing = kept
        self._unplace(frame)
        ending = self.loop_ends is None or self.loop_ends > frame + fade
        if soundscape and self.loop is not None and ending:
            self.fade.set(frame, SILENT_DB, fade)
            self.loop_ends = frame + fade
        self._recompute_speech_free(frame)

    def take_back(self, first: int, action: str, **args: object) -> np.ndarray:
        """A "stop" or "cancel" (as ``command`` takes them) applied at ``first``, before
        ``position``, on frames the output gave back: what to add to the frames ``first`` ..
        ``position`` as they were mixed, so that they are as if it had been asked for ``first``
        (sounds faded or dropped from there; the soundscape's fade from there, for a stop that
        takes it). A sound dropped that was announced is reported cut where it began."""
        if action not in ("stop", "cancel"):
            raise ValueError(f"only a stop or a cancel can be taken back, not {action!r}")
        self._check_room()
        n = self.position - first
        before = list(self._playing)
        was = self._speech(first, n, before) + self._bed(first, n)
        self._apply(_Command(first, next(self._seq), action, dict(args)))
        now = self._speech(first, n, self._playing) + self._bed(first, n)
        for s in before:
            if s.announced and s.start is not None and s.start >= first and s not in self._playing:
                s.announced = False  # when placed anew (a cue not cancelled), it is said again
                self.events.append(Event("cut", s.what, s.start, s.start, s.text, s.id))
        out: np.ndarray = now - was
        self._under_master(out, first, n)
        return out

    def _under_master(self, out: np.ndarray, first: int, n: int) -> None:
        """``out`` (frames first .. first + n - 1) under the master volume, in place."""
        master = _db_gain(self.volume.block(first, n))
        if not (np.isscalar(master) and master == 1.0):
            out *= np.reshape(master, (-1, 1)).astype(np.float32)

    def _speech(self, first: int, n: int, sounds: list[_Sound]) -> np.ndarray:
        """The cues and chimes of ``sounds`` over frames first .. first + n - 1 (placed ones,
        with their cuts), before the master volume."""
        out = np.zeros((n, self.channels), dtype=np.float32)
        for sound in sounds:
            if sound.start is not None:
                self._add_piece(out, sound, first, n)
        return out

    def _add_piece(self, out: np.ndarray, sound: _Sound, first: int, n: int) -> bool:
        """Add what of ``sound`` falls in frames first .. first + n - 1; False if nothing."""
        start, end = sound.begins, sound.end
        if end <= first or start >= first + n:
            return False
        a, b = max(start, first), min(end, first + n)
        piece = sound.samples[a - start : b - start]
        if sound.cut is not None and b > sound.cut:
            u = (np.arange(a, b) - sound.cut) / sound.cut_length
            piece = piece * (1.0 - _rc(u)).astype(np.float32)[:, None]
        out[a - first : b - first] += piece
        return True

    # -- placing cues --------------------------------------------------------------------------
    def _place(self, horizon: int) -> None:
        """Give a start frame to every cue due before ``horizon``, in order of due time."""
        while self._cues and self._cues[0].due < horizon:
            sound = self._cues.pop(0)
            sound.start = max(sound.due, self._speech_free, self.position)
            self._speech_free = sound.end
            self._playing.append(sound)
            self._dip_under(sound, self.position)

    def _dip_under(self, sound: _Sound, floor: int) -> None:
        """The soundscape's dip under a placed cue, starting a ramp before it but not before
        ``floor`` (the first frame not yet mixed, or mixed again), so the curve stays
        continuous: a dip is only lengthened while it has not begun to rise."""
        down = max(sound.begins - self.duck_ramp, floor)
        if (
            self._dips
            and down - self._dips[-1][1] < self.duck_hold + self.duck_ramp
            and self._dips[-1][1] >= floor
        ):
            self._dips[-1][1] = sound.end  # one dip for both
        else:
            self._dips.append([down, sound.end])
            self.events.append(Event("duck", "down", down, sound.end))

    # -- reaching back: a sound asked for frames already mixed ---------------------------------
    def earliest(self, what: str, due: int) -> int:
        """The first frame a cue or chime due at ``due`` could start at, were the frames from
        there mixed again: a chime at once, a cue once the speech before it is over."""
        return max(due, self._speech_free) if what == "cue" else due

    def reach_back(
        self,
        what: str,
        samples: np.ndarray,
        due: int,
        first: int,
        text: str = "",
        id: str | None = None,
    ) -> np.ndarray:
        """Place a cue or chime due at ``due``, before ``position``, on frames from ``first``
        that the output gave back (its buffer was rewound): it starts at the first of them it
        may (``earliest``). Returns what to add to the frames ``first`` .. ``position`` as they
        were mixed (the sound, and the soundscape's dip under a cue, under the master volume);
        the frames from ``position`` on are mixed with it as usual."""
        self._check_room()
        n = self.position - first
        bed_before = self._bed(first, n)
        sound = _Sound(what, self._frames(samples), max(due, first), next(self._seq), text, id)
        sound.start = self.earliest(what, sound.due)
        self._playing.append(sound)
        if what == "cue":
            self._speech_free = sound.end
            self._dip_under(sound, first)
        out = np.zeros((n, self.channels), dtype=np.float32)
        if self._add_piece(out, sound, first, n):
            sound.announced = True
            self.events.append(Event("sound", what, sound.begins, sound.end, text, id))
        out += self._bed(first, n) - bed_before
        self._under_master(out, first, n)
        return out

    def _duck_curve(self, first: int, n: int) -> np.ndarray | float:
        """0..1: how far the soundscape is dipped at each frame of the block."""
        r = self.duck_ramp
        w: np.ndarray | float = 0.0
        for down, up, *_ in self._dips:
            if up + r <= first or down >= first + n:
                continue
            frames = np.arange(first, first + n)
            inside = _rc((frames - down) / r) * (1.0 - _rc((frames - up) / r))
            w = np.maximum(w, inside)
        return w

    # -- mixing --------------------------------------------------------------------------------
    def mix(self, n: int) -> np.ndarray:
        """The next ``n`` frames, float32 (n x channels)."""
        out = np.zeros((n, self.channels), dtype=np.float32)
        done = 0
        while done < n:
            first = self.position
            while self._commands and self._commands[0].frame <= first:
                self._apply(self._commands.pop(0))
            # A block ends early at the next command, and where a stop's fade ends.
            end = first + (n - done)
            if self._commands:
                end = min(end, self._commands[0].frame)
            self._mix_into(out[done : done + end - first], first, end - first)
            done += end - first
            self.position = end
        return out

    def _mix_into(self, out: np.ndarray, first: int, n: int) -> None:
        # Cues due within a ramp and a hold are placed now: the dip can start before the
        # first one speaks and can hold over the gap to the next.
        self._place(first + n + self.duck_ramp + self.duck_hold)
        for sound in self._playing:
            if self._add_piece(out, sound, first, n) and not sound.announced:
                sound.announced = True
                self.events.append(
                    Event("sound", sound.what, sound.begins, sound.end, sound.text, sound.id)
                )
        for s in self._playing:
            if s.end <= first + n:
                self._last_end = max(self._last_end, s.end)
        self._playing = [s for s in self._playing if s.end > first + n]
        if self.loop is not None:
            self._mix_loop(out, first, n)
        self._under_master(out, first, n)
        end = first + n
        for d in self._dips:  # a dip starting to rise in this block: reported once
            if len(d) == 2 and d[1] < end:
                self.events.append(Event("duck", "up", d[1], d[1] + self.duck_ramp))
                d.append(1)
        for d in self._dips:
            if d[1] + self.duck_ramp <= end:
                self._last_end = max(self._last_end, d[1] + self.duck_ramp)
        self._dips = [d for d in self._dips if d[1] + self.duck_ramp > end]

    def _mix_loop(self, out: np.ndarray, first: int, n: int) -> None:
        loop = self.loop
        assert loop is not None
        out += self._bed(first, n)
        if self.loop_ends is not None and first + n >= self.loop_ends:
            self.events.append(
                Event("cut", "soundscape", self.loop_ends, self.loop_ends, loop.name)
            )
            self._last_end = max(self._last_end, self.loop_ends)
            self.loop = None
            self.loop_ends = None

    def _bed(self, first: int, n: int) -> np.ndarray:
        """The soundscape over frames first .. first + n - 1 as things stand: its loop under its
        level, fade and dip (before the master volume); zeros when none plays."""
        loop = self.loop
        if loop is None:
            return np.zeros((n, self.channels), dtype=np.float32)
        size = len(loop.samples)
        offset = (first - loop.origin) % size
        index = (offset + np.arange(n)) % size if offset + n > size else slice(offset, offset + n)
        bed = loop.samples[index]
        db = self.level.block(first, n) + self.fade.block(first, n)
        duck = self._duck_curve(first, n)
        db = db - self.duck_db.block(first, n) * duck
        gain = _db_gain(db) * loop.scale
        piece: np.ndarray = bed * np.reshape(gain, (-1, 1)).astype(np.float32)
        return piece


SILENT_DB = -60.0  # a fade's floor: at -60 dB the bed is a thousandth of itself (about one
# 16-bit step for a bed at -38 LUFS), and there it stops: gain 0


def _db_gain(db: np.ndarray | float) -> np.ndarray | float:
    if isinstance(db, (int, float)):
        return 10.0 ** (float(db) / 20.0) if db > SILENT_DB else 0.0
    g = np.power(10.0, np.asarray(db) / 20.0)
    return np.where(np.asarray(db) > SILENT_DB, g, 0.0)
