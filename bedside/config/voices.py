"""Piper voice files: whether one can be used, told without loading it.

A Piper voice is a model (``NAME.onnx``, tens of MB) with its settings beside it
(``NAME.onnx.json``). One that is missing, empty, cut short or not what it claims would leave
Piper unable to say anything; told here, at reading time, the device speaks with espeak-ng
instead and ``check-config`` says why. The model is checked for its shape, not loaded: ONNX
is a protocol buffer, whose top-level fields are walked (tags and lengths only, never their
contents) to the very end of the file, which a file cut short or of random bytes fails at
once. Nothing here opens a file that is not a regular one (a FIFO would block the reader).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import BinaryIO

__all__ = ["voice_problem"]

LARGEST_SETTINGS = 1 << 20  # bytes: a voice's .onnx.json is a few kB
# ModelProto's fields (onnx.proto): ir_version 1, producer_name 2, producer_version 3, domain 4,
# model_version 5, doc_string 6, graph 7, opset_import 8, metadata_props 14, training_info 20,
# functions 25, configuration 26. A field number past these is not an ONNX model.
_GRAPH, _LAST_FIELD = 7, 32
_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5


def voice_problem(model: Path) -> str | None:
    """Why the Piper voice ``model`` (with its ``.onnx.json`` beside it) cannot be used, in a
    few words; None when it looks whole."""
    settings = Path(f"{model}.json")
    for path, what in ((model, "the model"), (settings, "its .onnx.json")):
        problem = _not_a_file(path, what)
        if problem is not None:
            return problem
    try:
        if model.stat().st_size == 0:
            return "the model is empty"
        if settings.stat().st_size > LARGEST_SETTINGS:
            return "its .onnx.json is far too large for a voice's settings"
        problem = _settings_problem(settings.read_bytes())
        if problem is not None:
            return problem
        with model.open("rb") as f:
            if not _whole_onnx(f, model.stat().st_size):
                return "the model is not a whole ONNX file (cut short or damaged)"
    except OSError as e:
        return f"cannot read it ({e.strerror or e})"
    return None


def _not_a_file(path: Path, what: str) -> str | None:
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return f"{what} is missing"
    except (OSError, ValueError) as e:  # no permission, a NUL in the name, a name too long
        return f"{what} cannot be looked at ({getattr(e, 'strerror', None) or e})"
    if not stat.S_ISREG(mode):
        return f"{what} is not a file"
    if not os.access(path, os.R_OK):
        return f"{what} cannot be read"
    return None


def _settings_problem(data: bytes) -> str | None:
    """What Piper needs from a voice's settings: its sample rate and its phonemes."""
    try:
        settings = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return "its .onnx.json is not JSON"
    if not isinstance(settings, dict):
        return "its .onnx.json is not a voice's settings"
    audio = settings.get("audio")
    rate = audio.get("sample_rate") if isinstance(audio, dict) else None
    if not isinstance(rate, int) or isinstance(rate, bool) or rate <= 0:
        return "its .onnx.json has no audio.sample_rate"
    phonemes = settings.get("phoneme_id_map")
    if not isinstance(phonemes, dict) or not phonemes:
        return "its .onnx.json has no phoneme_id_map"
    return None


def _whole_onnx(f: BinaryIO, size: int) -> bool:
    """The file's top-level protocol buffer fields run exactly to its end, a graph among them."""
    graph = False
    while f.tell() < size:
        tag = _varint(f)
        if tag is None:
            return False
        field, kind = tag >> 3, tag & 7
        if not 1 <= field <= _LAST_FIELD:
            return False
        if kind == _VARINT:
            if _varint(f) is None:
                return False
        elif kind in (_FIXED64, _FIXED32):
            f.seek(8 if kind == _FIXED64 else 4, os.SEEK_CUR)
        elif kind == _LENGTH:
            length = _varint(f)
            if length is None or f.tell() + length > size:
                return False
            f.seek(length, os.SEEK_CUR)
            graph = graph or field == _GRAPH
        else:  # groups (3, 4) are long gone from protocol buffers; 6 and 7 do not exist
            return False
    return graph and f.tell() == size


def _varint(f: BinaryIO) -> int | None:
    value = 0
    for shift in range(0, 70, 7):
        byte = f.read(1)
        if not byte:
            return None
        value |= (byte[0] & 0x7F) << shift
        if byte[0] < 0x80:
            return value
    return None
