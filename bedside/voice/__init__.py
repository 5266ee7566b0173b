"""Speech and sounds: every cue rendered ahead into a WAV cache by a child process, mastered to
one calm level, and played by a player that can stop.

    engines.py   the seam: espeak.py (pyttsx3 + espeak-ng, the default), piper.py (Piper, run
                 only through its command line: it is GPL and large)
    render.py    the daemon's handle on the render child (killable, never waited on)
    child.py     the render child: engine, mastering, atomic writes
    mastering.py trim, fade, one loudness, peaks under -1 dBFS (pure Python: no audioop)
    chimes.py    the bell at each step and the closing tone, synthesised
    cache.py     keys, atomic writes with the umask, leftovers, a bounded folder
    player.py    aplay (or the null player), stopped at once
    cues.py      Speaker: the cue queue the daemon speaks through
"""

from bedside.voice.cache import cache_key
from bedside.voice.player import APLAY, NULL_PLAYER, Player, sound_cards
from bedside.voice.renderer import Item, Renderer, RenderFailed, render_now
from bedside.voice.speaker import Speaker, say_now
from bedside.voice.wav import is_playable

__all__ = [
    "APLAY",
    "NULL_PLAYER",
    "Item",
    "Player",
    "RenderFailed",
    "Renderer",
    "Speaker",
    "cache_key",
    "is_playable",
    "render_now",
    "say_now",
    "sound_cards",
]
