"""ALSA through ctypes: libasound itself, which every Pi with sound has (alsa-utils needs it).

Why libasound directly, and not ``aplay -t raw`` through a pipe or pyalsaaudio:

- ``snd_pcm_delay`` tells, at every write, how many frames are queued before the speaker, so
  the stage knows when each sample is heard (the trace's ``start``) and where on its stream a
  cue due at a monotonic time belongs. Through aplay's pipe the depth of the pipe and of aplay's
  buffer are unknown.
- One process fewer, one copy fewer (measured in bench/sound_bench.py).
- pyalsaaudio has no wheels on PyPI (it needs a compiler and libasound2-dev on the Pi), and
  Debian's python3-alsaaudio is not in a virtual env.

Any ALSA name works (``default``, ``hw:1,0``, ``plughw:CARD=Device``, ``dmix``, a name from an
asoundrc). The native rate and format are asked of the device opened with ALSA's automatic
conversions switched off (``SND_PCM_NO_AUTO_RESAMPLE | NO_AUTO_CHANNELS | NO_AUTO_FORMAT``):
through ``plug`` or ``default`` that shows what the slave underneath takes (``dmix``: its
fixed rate, usually 48 kHz), so the stage plays at that rate and no plugin converts it. The same
question on the command line: ``aplay -D NAME --disable-resample --disable-format
--disable-channels --dump-hw-params -d 1 /dev/zero``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
from dataclasses import dataclass

import numpy as np

__all__ = ["LATENCY", "AlsaError", "AlsaOutput", "OutputFormat", "native_format"]

SND_PCM_STREAM_PLAYBACK = 0
SND_PCM_NONBLOCK = 0x1
SND_PCM_NO_AUTO_RESAMPLE = 0x10000
SND_PCM_NO_AUTO_CHANNELS = 0x20000
SND_PCM_NO_AUTO_FORMAT = 0x40000
NO_AUTO = SND_PCM_NO_AUTO_RESAMPLE | SND_PCM_NO_AUTO_CHANNELS | SND_PCM_NO_AUTO_FORMAT
SND_PCM_ACCESS_RW_INTERLEAVED = 3
FORMATS = {"S16_LE": 2, "S32_LE": 10, "FLOAT_LE": 14}  # snd_pcm_format_t values
PREFERRED_RATES = (48000, 44100, 96000, 88200, 32000, 22050, 16000)
# The output's buffer, in seconds. 200 ms rides out a busy moment on a 2-core machine (measured:
# with two CPU-bound processes beside it, 85 ms underran four times in 20 s, 200 ms never); it
# is also how late a sound asked for "now" is heard. Sounds asked ahead are placed on their
# frame whatever the buffer.
LATENCY = 0.200


class AlsaError(OSError):
    pass


@dataclass(frozen=True)
class OutputFormat:
    rate: int
    channels: int
    format: str  # "S16_LE" | "S32_LE" | "FLOAT_LE"

    @property
    def dtype(self) -> np.dtype:
        return np.dtype({"S16_LE": "<i2", "S32_LE": "<i4", "FLOAT_LE": "<f4"}[self.format])

    def encode(self, block: np.ndarray) -> np.ndarray:
        """float32 frames x channels (full scale 1.0) in this format, C-contiguous."""
        if self.format == "FLOAT_LE":
            return np.ascontiguousarray(block, dtype="<f4")
        scale = 32767.0 if self.format == "S16_LE" else 2147483392.0
        y = np.clip(block * scale, -scale - 1, scale)
        return np.ascontiguousarray(np.rint(y), dtype=self.dtype)


_lib: ctypes.CDLL | None = None


def _asound() -> ctypes.CDLL:
    global _lib
    if _lib is None:
        name = ctypes.util.find_library("asound") or "libasound.so.2"
        try:
            lib = ctypes.CDLL(name, use_errno=True)
        except OSError as e:
            raise AlsaError(errno.ENOENT, f"libasound is not installed: {e}") from e
        p, i, u, c = ctypes.c_void_p, ctypes.c_int, ctypes.c_uint, ctypes.c_char_p
        lib.snd_pcm_open.argtypes = [ctypes.POINTER(p), c, i, i]
        lib.snd_pcm_close.argtypes = [p]
        lib.snd_pcm_drain.argtypes = [p]
        lib.snd_pcm_drop.argtypes = [p]
        lib.snd_pcm_set_params.argtypes = [p, i, i, u, u, i, u]
        lib.snd_pcm_writei.argtypes = [p, ctypes.c_void_p, ctypes.c_ulong]
        lib.snd_pcm_writei.restype = ctypes.c_long
        lib.snd_pcm_recover.argtypes = [p, i, i]
        lib.snd_pcm_delay.argtypes = [p, ctypes.POINTER(ctypes.c_long)]
        lib.snd_pcm_rewindable.argtypes = [p]
        lib.snd_pcm_rewindable.restype = ctypes.c_long
        lib.snd_pcm_rewind.argtypes = [p, ctypes.c_ulong]
        lib.snd_pcm_rewind.restype = ctypes.c_long
        ulong_p = ctypes.POINTER(ctypes.c_ulong)
        lib.snd_pcm_get_params.argtypes = [p, ulong_p, ulong_p]
        lib.snd_strerror.argtypes = [i]
        lib.snd_strerror.restype = c
        lib.snd_pcm_hw_params_malloc.argtypes = [ctypes.POINTER(p)]
        lib.snd_pcm_hw_params_free.argtypes = [p]
        lib.snd_pcm_hw_params_any.argtypes = [p, p]
        lib.snd_pcm_hw_params_test_rate.argtypes = [p, p, u, i]
        lib.snd_pcm_hw_params_test_format.argtypes = [p, p, i]
        lib.snd_pcm_hw_params_test_channels.argtypes = [p, p, u]
        lib.snd_pcm_hw_params_get_rate_min.argtypes = [p, ctypes.POINTER(u), ctypes.POINTER(i)]
        lib.snd_pcm_hw_params_get_rate_max.argtypes = [p, ctypes.POINTER(u), ctypes.POINTER(i)]
        lib.snd_pcm_hw_params_get_channels_min.argtypes = [p, ctypes.POINTER(u)]
        _lib = lib
    return _lib


def _check(result: int, what: str) -> int:
    if result < 0:
        message = _asound().snd_strerror(result).decode("utf-8", "replace")
        raise AlsaError(-result, f"{what}: {message}")
    return result


def _open(name: str, mode: int) -> ctypes.c_void_p:
    lib = _asound()
    pcm = ctypes.c_void_p()
    _check(
        lib.snd_pcm_open(ctypes.byref(pcm), name.encode(), SND_PCM_STREAM_PLAYBACK, mode),
        f"cannot open ALSA device {name!r}",
    )
    return pcm


def native_format(name: str, channels: int = 2) -> OutputFormat:
    """The rate, channels and sample format ``name`` takes without any conversion by ALSA.

    The rate: 48 kHz if it takes it, else 44.1 kHz, else the first of PREFERRED_RATES it takes,
    else its lowest. Channels: ``channels`` if it takes it, else its fewest. Format: 16-bit if
    it takes it, else 32-bit, else float. AlsaError if the device cannot be opened (busy,
    missing)."""
    lib = _asound()
    pcm = _open(name, NO_AUTO | SND_PCM_NONBLOCK)
    params = ctypes.c_void_p()
    try:
        _check(lib.snd_pcm_hw_params_malloc(ctypes.byref(params)), "hw_params")
        _check(lib.snd_pcm_hw_params_any(pcm, params), f"{name}: no configuration")
        rate = next(
            (r for r in PREFERRED_RATES if lib.snd_pcm_hw_params_test_rate(pcm, params, r, 0) == 0),
            None,
        )
        if rate is None:
            value, direction = ctypes.c_uint(), ctypes.c_int()
            _check(
                lib.snd_pcm_hw_params_get_rate_min(
                    params, ctypes.byref(value), ctypes.byref(direction)
                ),
                "rate",
            )
            rate = value.value
        if lib.snd_pcm_hw_params_test_channels(pcm, params, channels) != 0:
            value = ctypes.c_uint()
            _check(lib.snd_pcm_hw_params_get_channels_min(params, ctypes.byref(value)), "channels")
            channels = value.value
        fmt = next(
            (
                f
                for f, v in FORMATS.items()
                if lib.snd_pcm_hw_params_test_format(pcm, params, v) == 0
            ),
            None,
        )
        if fmt is None:
            raise AlsaError(errno.EINVAL, f"{name}: takes none of {', '.join(FORMATS)}")
        return OutputFormat(rate, channels, fmt)
    finally:
        if params:
            lib.snd_pcm_hw_params_free(params)
        lib.snd_pcm_close(pcm)


class AlsaOutput:
    """A playback stream on ``name`` at ``fmt``, opened without ALSA's conversions.

    ``write`` blocks until the card has room (the card's clock paces the stage); ``delay`` is
    the frames written but not yet heard; ``rewind`` takes back the newest of them (ALSA's
    ``snd_pcm_rewind``, as far as ``snd_pcm_rewindable`` allows), to be written again.
    ``close`` plays out what is queued (the silence the stage ends every stream with) and
    closes."""

    def __init__(self, name: str, fmt: OutputFormat, latency: float = LATENCY) -> None:
        self.lib = _asound()
        self.name = name
        self.format = fmt
        self.pcm: ctypes.c_void_p | None = _open(name, NO_AUTO)
        try:
            _check(
                self.lib.snd_pcm_set_params(
                    self.pcm,
                    FORMATS[fmt.format],
                    SND_PCM_ACCESS_RW_INTERLEAVED,
                    fmt.channels,
                    fmt.rate,
                    0,
                    int(latency * 1e6),
                ),
                f"{name}: cannot play {fmt}",
            )
        except AlsaError:
            self.lib.snd_pcm_close(self.pcm)
            self.pcm = None
            raise
        buffer, period = ctypes.c_ulong(), ctypes.c_ulong()
        _check(
            self.lib.snd_pcm_get_params(self.pcm, ctypes.byref(buffer), ctypes.byref(period)),
            "params",
        )
        self.buffer_frames, self.period_frames = buffer.value, period.value
        self.underruns = 0

    def write(self, block: np.ndarray) -> None:
        data = self.format.encode(block)
        frames = len(data)
        frame_bytes = data.strides[0]
        done = 0
        while done < frames:
            address = ctypes.c_void_p(data.ctypes.data + done * frame_bytes)
            written = self.lib.snd_pcm_writei(self.pcm, address, frames - done)
            if written < 0:
                if written == -errno.EPIPE:
                    self.underruns += 1
                _check(self.lib.snd_pcm_recover(self.pcm, int(written), 1), f"{self.name}: write")
                continue
            done += written

    def delay(self) -> int:
        value = ctypes.c_long()
        if self.lib.snd_pcm_delay(self.pcm, ctypes.byref(value)) < 0:
            return 0
        return max(0, value.value)

    def rewindable(self) -> int:
        """Frames written and not yet played that ALSA can take back (0 when it cannot)."""
        return max(0, int(self.lib.snd_pcm_rewindable(self.pcm)))

    def rewind(self, frames: int) -> int:
        """Take back up to ``frames`` of the newest frames written; the frames taken back."""
        if frames <= 0:
            return 0
        return max(0, int(self.lib.snd_pcm_rewind(self.pcm, frames)))

    def close(self, drain: bool = True) -> None:
        if self.pcm is None:
            return
        if drain:
            self.lib.snd_pcm_drain(self.pcm)
        else:
            self.lib.snd_pcm_drop(self.pcm)
        self.lib.snd_pcm_close(self.pcm)
        self.pcm = None
