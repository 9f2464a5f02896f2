"""The bad-input matrix: every case of the reliability issue, built from scratch in a folder.

Each case says what the user gives, what must happen (refused with a message, or accepted, maybe with
advice) and the words the message or advice must contain. The CLI and GUI tests parametrise over the
same lists, so a case is defined once and run through every front end that can receive it.
"""

from __future__ import annotations

import json
import pathlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

SR = 24_000
LONG_TEXT_CHARS = 50_000


def tone(seconds: float, sample_rate: int = SR, channels: int = 1, amplitude: float = 0.3) -> np.ndarray:
    """A gliding tone with a slow tremolo: not silence, not constant. ``[S]`` or ``[S, C]`` float32."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    wave = amplitude * np.sin(2 * np.pi * (180 + 40 * t) * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    wave = wave.astype(np.float32)
    if channels == 1:
        return wave
    return np.stack([wave * (1.0 - 0.1 * c) for c in range(channels)], axis=1)


# -- audio ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AudioCase:
    """A reference clip. ``refused``: ``"load"`` (cannot be read), ``"prompt"`` (reads, but cannot be a
    voice prompt) or None (accepted). ``says``: words of the message, or of the advice when accepted."""

    id: str
    make: Callable[[Path], Path]
    refused: str | None
    says: tuple[str, ...]
    names_file: bool = True  # the message names the file


def _write(folder: Path, name: str, samples: np.ndarray, rate: int = SR, **kwargs: Any) -> Path:
    path = folder / name
    sf.write(path, samples, rate, **kwargs)
    return path


def _corrupt(folder: Path) -> Path:
    path = _write(folder, "corrupt.flac", np.random.default_rng(0).uniform(-0.5, 0.5, SR).astype(np.float32), SR)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle: middle + 4000] = np.random.default_rng(1).integers(0, 256, 4000, np.uint8).tobytes()
    path.write_bytes(bytes(data))
    return path


def _truncated(folder: Path) -> Path:
    path = _write(folder, "truncated.wav", tone(2.0), subtype="PCM_16")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _bytes(name: str, data: bytes) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        (folder / name).write_bytes(data)
        return folder / name

    return make


def _clipped(folder: Path) -> Path:
    return _write(folder, "clipped.wav", np.clip(tone(2.0, amplitude=3.0), -1.0, 1.0), subtype="PCM_16")


def _ten_minutes(folder: Path) -> Path:
    # 8 kHz 16-bit keeps the file at 9.6 MB; every tenth second is tone, the rest quiet noise.
    rate = 8_000
    rng = np.random.default_rng(2)
    samples = (0.01 * rng.standard_normal(600 * rate)).astype(np.float32)
    burst = tone(1.0, rate)
    for start in range(0, 600, 10):
        samples[start * rate: (start + 1) * rate] += burst
    return _write(folder, "ten-minutes.wav", samples, rate, subtype="PCM_16")


def _folder(folder: Path) -> Path:
    path = folder / "a-folder.wav"
    path.mkdir()
    return path


AUDIO_CASES = [
    AudioCase("corrupt", _corrupt, "load", ("damaged",)),
    AudioCase("truncated", _truncated, "load", ("truncated",)),
    AudioCase("empty", _bytes("empty.wav", b""), "load", ("empty", "0 bytes")),
    AudioCase("zero-length", lambda f: _write(f, "zero-length.wav", np.zeros(0, np.float32)), "load",
              ("no audio", "zero length")),
    AudioCase("all-silence", lambda f: _write(f, "silence.wav", np.zeros(2 * SR, np.float32)), "prompt",
              ("silent",)),
    AudioCase("clipped", _clipped, None, ("clipped",)),
    AudioCase("8-khz", lambda f: _write(f, "8khz.wav", tone(2.0, 8_000), 8_000), None, ("8000 Hz", "muffled")),
    AudioCase("192-khz", lambda f: _write(f, "192khz.wav", tone(2.0, 192_000), 192_000), None, ()),
    AudioCase("6-channels", lambda f: _write(f, "surround.wav", tone(2.0, SR, channels=6)), None, ()),
    AudioCase("10-minutes", _ten_minutes, "prompt", ("10:00 min", "at most 60 s", "trim")),
    AudioCase("not-audio", _bytes("notes.wav", b"these are my notes, not a recording\n" * 40), "load",
              ("not an audio file",)),
    AudioCase("a-directory", _folder, "load", ("folder",)),
]


# -- text -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TextCase:
    """Text to speak. ``refused`` with a message saying ``says``, or accepted and spoken whole:
    ``same_as`` is a text whose phonemes it must equal (nothing dropped), ``spoken`` words that must be heard."""

    id: str
    text: str
    refused: bool
    says: tuple[str, ...] = ()
    same_as: str | None = None
    language: str = "en"


TEXT_CASES = [
    TextCase("empty", "", True, ("nothing to say",)),
    TextCase("whitespace", " \n\t  \n", True, ("nothing to say",)),
    TextCase("only-punctuation", "?!... … !!!", True, ("nothing to say", "only punctuation")),
    TextCase("emoji", "I love it 😀", False),
    TextCase("mixed-scripts", "Hello мир, 你好 world.", False),
    TextCase("50000-characters", ("All work and no play. " * (LONG_TEXT_CHARS // 22 + 1))[:LONG_TEXT_CHARS], True,
             (f"{LONG_TEXT_CHARS:,} characters", "at most 20,000", "batch")),
    TextCase("control-characters", "Keep\x00 every\x07 word\x1b here.", False, same_as="Keep every word here."),
    TextCase("unsupported-language", "Hola a todos.", True, ("unsupported language", "'es'", "en (english)"),
             language="es"),
]


# -- checkpoints ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckpointCase:
    """A model file. ``says``: words of the load error; ``import_says``: of the import refusal."""

    id: str
    make: Callable[[Path, bytes], Path]  # (folder, tiny checkpoint bytes) -> file
    says: tuple[str, ...]
    import_says: tuple[str, ...]


class RunsCode:
    """Unpickling this creates a marker file: a stand-in for code hidden in a pickle."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


MARKER = "code-ran"


def _truncated_sft(folder: Path, data: bytes) -> Path:
    (folder / "model.sft").write_bytes(data[: len(data) // 2])
    return folder / "model.sft"


def _zero_bytes(folder: Path, data: bytes) -> Path:
    (folder / "model.sft").write_bytes(b"")
    return folder / "model.sft"


def _other_model(folder: Path, data: bytes) -> Path:
    import torch
    from safetensors.torch import save_file

    path = folder / "model.sft"
    save_file({"encoder.conv1.weight": torch.zeros(8, 3), "decoder.proj.weight": torch.zeros(4, 4)}, str(path),
              metadata={"format": "pt"})
    return path


def _pickle_with_code(folder: Path, data: bytes) -> Path:
    import torch

    path = folder / "model.pth"
    torch.save({"module": {"proms_emb.embeddings.0.weight": torch.zeros(4, 2)},
                "payload": RunsCode(folder.parent / MARKER)}, path)
    return path


def _rewritten(folder: Path, data: bytes, edit_config: Callable[[dict[str, Any]], None] | None = None,
               edit_tensors: Callable[[dict[str, Any]], None] | None = None) -> Path:
    """The tiny checkpoint saved again as ``model.sft`` with its config and/or tensors changed."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    source = folder / "source.sft"
    source.write_bytes(data)
    with safe_open(str(source), framework="pt") as handle:
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
        metadata = dict(handle.metadata())
    source.unlink()
    config = json.loads(metadata["config"])
    if edit_config is not None:
        edit_config(config)
    if edit_tensors is not None:
        edit_tensors(tensors)
    metadata["config"] = json.dumps(config)
    path = folder / "model.sft"
    save_file(tensors, str(path), metadata=metadata)
    return path


def _impossible_config(folder: Path, data: bytes) -> Path:
    # 7 heads cannot split the width
    return _rewritten(folder, data, lambda config: config.update(size={**config.get("size", {}), "heads": 7}))


def _config_of_another_size(folder: Path, data: bytes) -> Path:
    """A config copied from a bigger model (width 512, 6 layers, 8 heads) over the tiny tensors: 8 heads
    would even divide the tiny width, so only the size check can tell."""
    return _rewritten(folder, data, lambda config: config.update(size={"dim": 512, "heads": 8, "layers": 6}))


def _a_weight_went_nan(folder: Path, data: bytes) -> Path:
    def poison(tensors: dict[str, Any]) -> None:
        norm = tensors["model.layers.1.post_attention_layernorm.weight"].clone()
        norm[3] = float("nan")
        tensors["model.layers.1.post_attention_layernorm.weight"] = norm

    return _rewritten(folder, data, edit_tensors=poison)


CHECKPOINT_CASES = [
    CheckpointCase("truncated", _truncated_sft, ("truncated",), ("truncated",)),
    CheckpointCase("zero-bytes", _zero_bytes, ("empty", "0 bytes"), ("0 bytes",)),
    CheckpointCase("another-models-safetensors", _other_model, ("does not look like a VALL-E",),
                   ("not a VALL-E v1 checkpoint",)),
    CheckpointCase("pickle-with-code", _pickle_with_code, ("refused", "could run code"),
                   ("refused", "never opened")),
    CheckpointCase("impossible-config", _impossible_config, ("heads",), ("refused", "heads")),
    CheckpointCase("config-of-another-size", _config_of_another_size, ("dim 512", "layers 6", "dim 64", "layers 2"),
                   ("refused", "dim 512", "dim 64")),
    CheckpointCase("nan-weight", _a_weight_went_nan, ("NaN", "post_attention_layernorm"),
                   ("refused", "NaN", "post_attention_layernorm")),
]
