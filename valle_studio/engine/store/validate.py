"""Checks that a local file is a VALL-E checkpoint that can load, before it is imported into the store.

``.sft``/``.safetensors``: the header is checked first (8-byte little-endian length, then JSON): every
tensor entry must be well formed and lie inside the file, the data must end exactly where the header
says (a truncated download fails here), the v1 key ``proms_emb.embeddings.0.weight`` must exist, and
the ``config`` metadata must be a JSON object (upstream's exporter writes it).

``.pth``/``.pt``: ``torch.load(weights_only=True)``, which refuses any pickle that would import or
call code; such a file is rejected without ever running it.

Both: every floating-point tensor must hold finite numbers (the loader refuses NaN and infinity, so
such a file could never be used); the stored ``config`` must hold values the model loader accepts (a
supported version, sane flags), and when the file has the text embedding every v1 model has, its
tensor shapes must fit that config (e.g. a head count that divides the width, the width and depth it
claims). So a file that cannot load is refused at import, not later when the user picks it.
"""

from __future__ import annotations

import json
import pickle
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from valle_studio.core.files import NotARegularFileError, require_regular_file
from valle_studio.engine.store.errors import InvalidModelFileError

V1_KEY = "proms_emb.embeddings.0.weight"
SFT_SUFFIXES = (".sft", ".safetensors")
PTH_SUFFIXES = (".pth", ".pt")
_MAX_HEADER = 100 * 1024 * 1024  # real headers are a few hundred kB


@dataclass(frozen=True)
class CheckpointInfo:
    """What the checks learned: the file format, its ``config`` dict (None when a .pth has none),
    and how many tensors it holds."""

    format: Literal["sft", "pth"]
    tensors: int
    config: dict[str, Any] | None = field(default=None)


def inspect_checkpoint(path: Path) -> CheckpointInfo:
    """Validate ``path`` by its suffix; raises :class:`InvalidModelFileError` saying what is wrong."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise InvalidModelFileError(f"cannot import '{path}': no such file")
    try:
        require_regular_file(path, "a model file")  # a named pipe would block the read, a device never end
    except NotARegularFileError as exc:
        raise InvalidModelFileError(f"cannot import {exc}") from None
    except OSError as exc:
        raise InvalidModelFileError(f"cannot import '{path}': {exc.strerror or exc}") from None
    if suffix in SFT_SUFFIXES:
        return _inspect_sft(path)
    if suffix in PTH_SUFFIXES:
        return _inspect_pth(path)
    raise InvalidModelFileError(f"cannot import '{path.name}': expected a .sft/.safetensors or .pth/.pt "
                                f"checkpoint, not '{suffix or 'no extension'}'")


def read_safetensors_header(path: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """``(tensor entries, metadata)`` of a safetensors file, validated against the file's size."""
    name = path.name
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            raise InvalidModelFileError(f"'{name}' is not a safetensors file: only {len(head)} bytes long")
        length = int.from_bytes(head, "little")
        if length < 2 or length > _MAX_HEADER or 8 + length > size:
            raise InvalidModelFileError(f"'{name}' is not a safetensors file: its header length ({length}) "
                                        f"does not fit a {size}-byte file")
        raw = handle.read(length)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidModelFileError(f"'{name}' is not a safetensors file: its header is not JSON "
                                    f"({exc})") from exc
    if not isinstance(header, dict):
        raise InvalidModelFileError(f"'{name}' is not a safetensors file: its header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise InvalidModelFileError(f"'{name}': the safetensors metadata must map names to strings")
    data_len = size - 8 - length
    end_max = 0
    for key, entry in header.items():
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        if (not isinstance(entry, dict) or not isinstance(entry.get("dtype"), str)
                or not isinstance(entry.get("shape"), list) or not isinstance(offsets, list)
                or len(offsets) != 2 or not all(isinstance(o, int) for o in offsets)):
            raise InvalidModelFileError(f"'{name}': the header entry of tensor '{key}' is malformed")
        begin, end = offsets
        if not 0 <= begin <= end <= data_len:
            raise InvalidModelFileError(f"'{name}': tensor '{key}' lies past the end of the file "
                                        "(the file is truncated or damaged)")
        end_max = max(end_max, end)
    if end_max != data_len:
        raise InvalidModelFileError(f"'{name}': the header describes {end_max} bytes of tensor data but the "
                                    f"file holds {data_len} (the file is truncated or damaged)")
    return header, metadata


def is_lora_file(path: Path) -> bool:
    """Whether ``path`` is a safetensors file whose tensors are all LoRA halves (``.lora_A``/``.lora_B``):
    only the header is read. Such a file is installed as a LoRA, never as a model."""
    if path.suffix.lower() not in SFT_SUFFIXES or not path.is_file():
        return False
    try:
        tensors, _ = read_safetensors_header(path)
    except (InvalidModelFileError, OSError):
        return False
    return bool(tensors) and all(name.endswith((".lora_A", ".lora_B")) for name in tensors)


def _inspect_sft(path: Path) -> CheckpointInfo:
    tensors, metadata = read_safetensors_header(path)
    if V1_KEY not in tensors:
        raise InvalidModelFileError(f"'{path.name}' has no tensor '{V1_KEY}': it is not a VALL-E v1 "
                                    "checkpoint of ecker/vall-e")
    if "config" not in metadata:
        raise InvalidModelFileError(f"'{path.name}' has no 'config' metadata, so its model settings are "
                                    "unknown; export it again with upstream's exporter")
    try:
        config = json.loads(metadata["config"])
    except ValueError as exc:
        raise InvalidModelFileError(f"'{path.name}': the 'config' metadata is not JSON ({exc})") from exc
    if not isinstance(config, dict):
        raise InvalidModelFileError(f"'{path.name}': the 'config' metadata is not a JSON object")
    shapes = {key: tuple(entry["shape"]) for key, entry in tensors.items()}
    _check_config(path.name, shapes, config)
    _check_finite_sft(path)
    return CheckpointInfo("sft", len(tensors), config)


def _refuse_non_finite(name: str, key: str) -> None:
    raise InvalidModelFileError(f"refused '{name}': tensor '{key}' holds NaN or infinite values, so the model "
                                "could never load (the file is damaged, or the training diverged)")


def _check_finite_sft(path: Path) -> None:
    """Every floating-point tensor must hold finite numbers, as the loader demands: read one tensor
    at a time (memory stays at the largest tensor; seconds for a full-size model)."""
    import torch
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt", device="cpu") as handle:
            for key in handle.keys():  # noqa: SIM118 (a safetensors handle is not a dict)
                tensor = handle.get_tensor(key)
                if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
                    _refuse_non_finite(path.name, key)
    except InvalidModelFileError:
        raise
    except Exception as exc:  # safetensors raises its own (Rust-side) error types
        raise InvalidModelFileError(f"refused '{path.name}': its tensor data cannot be read ({exc})") from exc


def _check_config(name: str, shapes: dict[str, tuple[int, ...]], config: dict[str, Any] | None) -> None:
    """Refuse configs (and, for complete files, tensor layouts) that the model loader would refuse."""
    from valle_studio.engine.model.checkpoint import CheckpointError
    from valle_studio.engine.model.config import HEAD_LEN, ConfigError, check_supported, flags_from_metadata
    from valle_studio.engine.model.layout import config_from_shapes

    try:
        flags = flags_from_metadata(config, has_len_head=f"classifiers.proj.{HEAD_LEN}.weight" in shapes)
        check_supported(flags)
        if "text_emb.weight" in shapes:
            config_from_shapes(name, shapes, flags, legacy_summing=None)
    except ConfigError as exc:
        raise InvalidModelFileError(f"refused '{name}': its config cannot be used ({exc})") from exc
    except CheckpointError as exc:
        raise InvalidModelFileError(f"refused '{name}': {str(exc).removeprefix(name + ': ')}") from exc


def _inspect_pth(path: Path) -> CheckpointInfo:
    import torch

    try:
        # weights_only=True: the unpickler refuses every global outside plain tensors and containers,
        # so a file that would run code fails here without running it.
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        # torch's own message explains how to load the file unsafely; that is not advice to pass on.
        raise InvalidModelFileError(f"refused '{path.name}': it holds Python objects other than plain weights, "
                                    "which could run code on this computer. Files that need code to load are "
                                    "never opened.") from exc
    except Exception as exc:
        reason = re.sub(r"\x1b\[[0-9;]*m", "", (str(exc).strip().splitlines() or [type(exc).__name__])[0])
        raise InvalidModelFileError(f"refused '{path.name}': it is not a readable PyTorch checkpoint ({reason}; "
                                    "truncated or damaged?)") from exc
    state = obj.get("module", obj) if isinstance(obj, dict) else None
    if not isinstance(state, dict) or V1_KEY not in state:
        raise InvalidModelFileError(f"'{path.name}' has no tensor '{V1_KEY}': it is not a VALL-E v1 "
                                    "checkpoint of ecker/vall-e")
    config = obj.get("config")
    config = config if isinstance(config, dict) else None
    shapes = {key: tuple(value.shape) for key, value in state.items() if isinstance(value, torch.Tensor)}
    _check_config(path.name, shapes, config)
    for key, value in state.items():
        if isinstance(value, torch.Tensor) and value.is_floating_point() and not bool(torch.isfinite(value).all()):
            _refuse_non_finite(path.name, str(key))
    return CheckpointInfo("pth", len(state), config)
