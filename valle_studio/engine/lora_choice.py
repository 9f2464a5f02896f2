"""How a LoRA is named in words (a command-line flag, a script column): ``NAME|PATH[:STRENGTH]``.

Torch-free, so the CLI and batch scripts can check it before anything loads. The strength is the part
after the last colon when that part is a number; otherwise the colon belongs to the path (a Windows
drive, ``C:\\loras\\x.sft``).
"""

from __future__ import annotations

import contextlib

from valle_studio.engine.settings import SPECS, SettingsError


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


__all__ = ["parse_lora_choice"]
