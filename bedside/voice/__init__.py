"""Speech and sounds: every cue rendered ahead into a WAV cache by a child process, at the
output's own rate, levelled to one loudness (BS.1770), and played by the sound stage, which
mixes them with the chimes and the soundscape.

    speaker.py        Speaker, the cue queue the daemon speaks through; say_now, one line now
    engine.py         the base every speech engine stands on (SpeechEngine) and its errors
    engine_choice.py  which engine a configuration gets, and its spec for the render child
    espeak.py         espeak-ng through pyttsx3, the default engine
    piper.py          Piper, run only through its command line (it is GPL, and large)
    renderer.py       the daemon's handle on the render child (killable, never waited on)
    render_child.py   the render child (nice 10): the engine, then bedside.sound's resampling
                      to the output's rate, BS.1770 mastering, chimes and soundscape loops
    output_rate.py    the output's own rate, asked of the stage once
    wav.py            WAVs read, written and measured (Sound), once for every reader
    cache.py          keys, atomic writes with the umask, leftovers, a bounded folder
    stage_link.py     the daemon's end of the sound stage (bedside.sound.stage), a child
    output.py         a child's output read in bounded pieces: its lines, its last few
    cards.py          the machine's sound cards (read bounded); the output where there is none
    trouble.py        trouble said once per kind, until it works again
    processes.py      the children's lifetimes: dying with the parent, the group killed

Where the cache folder is and which output plays are the caller's to say (``Speaker`` takes
both; the output defaults to ``alsa:`` and ``[voice] device``): ``bedside.app`` decides them
(``paths.voice_cache``, for the daemon and the commands alike; ``assembly``, the output).
"""

from bedside.voice.cache import cache_key
from bedside.voice.cards import NULL_OUTPUT, sound_cards
from bedside.voice.renderer import Item, Renderer, RenderFailed, render_now
from bedside.voice.speaker import Speaker, VoiceSettings, say_now
from bedside.voice.wav import is_playable

__all__ = [
    "NULL_OUTPUT",
    "Item",
    "RenderFailed",
    "Renderer",
    "Speaker",
    "VoiceSettings",
    "cache_key",
    "is_playable",
    "render_now",
    "say_now",
    "sound_cards",
]
