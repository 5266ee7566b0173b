"""bedside's sound: one stage that owns the output, and what it plays, made ahead.

Render time (in the render child, ahead of the night):

- ``loudness``: BS.1770-4 integrated loudness (``integrated_loudness``, ``cue_loudness``).
- ``resample``: band-limited resampling to the card's rate (``resample``, ``resample_loop``).
- ``mastering``: ``master_cue`` (trim within 45 dB, lead-in, fades, BS.1770 level, limiter)
  and ``master_sound`` (level and limit only).
- ``chimes``: ``chime(kind, rate, target)``; ``soundscapes``: ``synthesise(kind, rate, ...)``
  and ``load_loop(path, rate, ...)``; ``wavfile``: ``read_wav``, ``write_wav``.
- ``alsa``: ``native_format(name)``: the rate, channels and format an ALSA device takes.

Play time:

- ``stage``: ``python -I -m bedside.sound.stage --output alsa:NAME``, a child process driven by
  JSON lines (its module documents the protocol).
- ``render``: ``render_session(lines, path)``, the same schedule mixed offline into a WAV.

This package imports only the standard library and numpy (and libasound through ctypes).
"""
