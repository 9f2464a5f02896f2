"""How a LoRA is named in words (a command-line flag, a script column): ``NAME|PATH[:STRENGTH]``, and the
file a name stands for.

Torch-free, so the CLI and batch scripts can check it before anything loads. The strength is the part
after the last colon when that part is a number; otherwise the colon belongs to the path (a Windows
drive, ``C:\\loras\\x.sft``).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Protocol

from valle_studio.engine.settings import SPECS, SettingsError

LORA_SUFFIXES = (".sft", ".safetensors")


class LoraError(ValueError):
    """A LoRA cannot be found, read or applied; the message names the file (and the model, for a mismatch)."""


class LoraFinder(Protocol):
    """What :func:`resolve_lora` needs of the model store."""

    def lora_path(self, name: str) -> Path | None: ...


def resolve_lora(text: str, store: LoraFinder | None) -> Path:
    """The file behind a LoRA setting: a path (a ``.sft``/``.safetensors`` name or an existing file), else
    an installed LoRA of ``store`` (``glados`` also finds ``lora-glados``). Raises :class:`LoraError`
    saying how to install it."""
    path = Path(text).expanduser()
    if path.suffix.lower() in LORA_SUFFIXES or path.is_file():
        if not path.is_file():
            raise LoraError(f"LoRA file not found: {path}")
        return path
    found = store.lora_path(text) if store is not None else None
    if found is None:
        raise LoraError(f"the LoRA '{text}' is not installed: download it in the model manager (Models > Model "
                        f"manager, LoRAs) or with `valle-studio-cli models download lora-{text.removeprefix('lora-')}`"
                        ", import a lora.sft there, or give the path of a lora.sft file")
    return Path(found)


def parse_lora_choice(text: str) -> tuple[str, float]:
    """``"glados:0.8"`` -> ``("glados", 0.8)``, ``"glados"`` -> ``("glados", 1.0)``; both checked against the
    settings' declaration. Raises :class:`SettingsError` for an empty name or a strength out of range."""
    head, colon, tail = text.rpartition(":")
    name, strength = text, float(SPECS["lora_strength"].default)
    if colon:
        with contextlib.suppress(ValueError):
            strength, name = float(tail), head
    name = name.strip()
    if not name:
        raise SettingsError("lora", f"needs an installed LoRA's name or a lora.sft path, not {text!r}")
    SPECS["lora"].check(name)
    SPECS["lora_strength"].check(strength)
    return name, strength


__all__ = ["LORA_SUFFIXES", "LoraError", "LoraFinder", "parse_lora_choice", "resolve_lora"]
