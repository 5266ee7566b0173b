"""A stand-in for a sound card: ``python -m bedside.voice.null_player FILE.wav``.

It reads the WAV's header and sleeps for as long as the sound would play, then exits 0, so a
mock-hardware run or a test sees a player that takes as long as a real one and can be stopped
part way (SIGTERM ends it at once, as it does ``aplay``). A file that is not a WAV it can read:
a message on stderr and exit status 2. Nothing is ever written to stdout.
"""

from __future__ import annotations

import sys
import time

from bedside.voice.wav import UNREADABLE, wav_seconds

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m bedside.voice.null_player FILE.wav", file=sys.stderr)
        return 2
    try:
        seconds = wav_seconds(args[0])
    except UNREADABLE as e:
        print(f"nullplayer: {args[0]}: {str(e) or 'not a WAV file'}", file=sys.stderr)
        return 2
    try:
        time.sleep(seconds)
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
