"""Model names double as folder names: what is allowed, and how an imported file gets one."""

from __future__ import annotations

import re
from pathlib import Path

from valle_studio.engine.store.errors import StoreError

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
# File stems that say nothing about the model ("…/ar+nar-len-llama-8/ckpt/fp32.sft").
_GENERIC = {"fp32", "fp16", "bf16", "model", "models", "ckpt", "checkpoint", "weights", "lora"}
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                     *(f"lpt{i}" for i in range(1, 10))}


def check_name(name: str) -> str:
    """Return ``name`` if it can be a model name (and folder name) on every OS, else raise."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise StoreError(f"invalid model name {name!r}: use 1-64 letters, digits, '.', '_', '+' or '-', "
                         "starting with a letter or digit")
    if name.split(".")[0].lower() in _WINDOWS_RESERVED or name.endswith("."):
        raise StoreError(f"invalid model name {name!r}: Windows cannot use it as a folder name")
    return name


def sanitize(text: str) -> str:
    """``"my voice (v2)"`` -> ``"my-voice-v2"``; empty when nothing usable is left."""
    cleaned = re.sub(r"[^A-Za-z0-9._+-]+", "-", text).strip("._+-")
    return re.sub(r"-{2,}", "-", cleaned)[:64].rstrip(".")


def derive_name(path: Path) -> str:
    """A model name for an imported file: its stem, or the nearest folder name when the stem is
    generic (``fp32``, ``model``, ``ckpt``…)."""
    candidates = [path.stem, *(parent.name for parent in list(path.parents)[:3])]
    for candidate in candidates:
        name = sanitize(candidate)
        if name and name.lower() not in _GENERIC:
            try:
                return check_name(name)
            except StoreError:
                continue
    return "imported-model"
