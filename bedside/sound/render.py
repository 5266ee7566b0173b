"""A whole session's sound, offline, through the same mixer the stage plays with: what
``bedside simulate --audio night.wav`` writes.

``render_session(lines, path)`` takes the stage's own schedule lines (the same JSON objects,
with ``at`` in seconds from the session's start, on the virtual clock) and writes the stream
as a 16-bit WAV, block by block (an hour at 48 kHz stereo is 660 MB: the caller picks the rate
and channels, and memory stays at one block plus the sounds in play). Each line is handed to
the mixer ``horizon`` seconds before it is due, as the stage does, so ducking and queueing come
out as they would on the device. It returns the reports the stage would have sent (times in
session seconds).
"""

from __future__ import annotations

import os
import wave
from pathlib import Path
from typing import Any

import numpy as np

from bedside.sound.mixer import Mixer
from bedside.sound.stage import apply_line, load_sound

__all__ = ["render_session"]


def render_session(
    lines: list[dict[str, Any]],
    path: str | os.PathLike[str],
    *,
    rate: int = 48000,
    channels: int = 2,
    seconds: float | None = None,
    duck_db: float = 12.0,
    level_db: float = -18.0,
    horizon: float = 1.5,
    block: int = 4800,
) -> list[dict[str, Any]]:
    """Write the session's sound to ``path``; its length is ``seconds`` or until the last sound
    (and the soundscape's fade) has ended, plus half a second."""
    mixer = Mixer(rate, channels, duck_db=duck_db)
    mixer.level.set(0, level_db, 0)
    order = sorted(enumerate(lines), key=lambda p: (float(p[1].get("at", 0.0)), p[0]))
    queue = [line for _, line in order]
    reports: list[dict[str, Any]] = []
    limit = None if seconds is None else round(seconds * rate)
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with wave.open(str(temporary), "wb") as w:
            w.setnchannels(channels)
            w.setsampwidth(2)
            w.setframerate(rate)
            while True:
                now = mixer.position / rate
                while queue and float(queue[0].get("at", 0.0)) <= now + horizon:
                    line = queue.pop(0)
                    frame = round(float(line.get("at", 0.0)) * rate)
                    apply_line(mixer, line, frame, lambda p, loop: load_sound(p, rate, loop))
                if limit is not None:
                    n = min(block, limit - mixer.position)
                    if n <= 0:
                        break
                else:
                    idle = mixer.idle_from()
                    if not queue and idle is not None and mixer.position >= idle + rate // 2:
                        break
                    n = block
                out = mixer.mix(n)
                pcm = np.rint(np.clip(out * 32767.0, -32768, 32767)).astype("<i2")
                w.writeframes(pcm.tobytes())
                for e in mixer.events:
                    report: dict[str, Any] = {"type": "sound", "what": e.what}
                    if e.kind == "duck":
                        report = {"type": "duck", "state": e.what}
                    report["start"] = round(e.frame / rate, 4)
                    report["end"] = None if e.end is None else round(e.end / rate, 4)
                    if e.kind != "duck":
                        report["text"] = e.text
                    if e.kind == "cut":
                        report["cut"] = True
                    reports.append(report)
                mixer.events.clear()
        os.replace(temporary, target)
    finally:
        if temporary.exists():
            temporary.unlink()
    return reports
