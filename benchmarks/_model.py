"""The full-size v1 model (``ar+nar-len-llama-8`` layout) with random weights, built in memory.

Sizes are the published ones (shared/reference/ecker-vall-e.md §2): dim 1024, 12 layers, 16 heads,
MLP 4096, 256 phonemes, 8575 raw-text tokens, 6 languages, 9 tasks, 11 duration tokens, 1025/1024
audio classes, every head present. The builder is the engine's own (``valle_studio.engine.bench.subject``,
which ``valle-studio-cli bench`` uses too), so both measure the same model with the same weights.
"""

from __future__ import annotations

from valle_studio.engine.bench.subject import build_random_model, full_config
from valle_studio.engine.model import ModelConfig, VallEModel

FULL = {"dim": 1024, "heads": 16, "layers": 12, "ffn_dim": 4096}


def build_full_model(seed: int = 0, *, layers: int = 12, never_stop: bool = True) -> VallEModel:
    """A ready-to-run float32 CPU model; ``never_stop`` pins the AR stop logit low so runs last as
    long as asked (random weights would otherwise stop at an arbitrary frame)."""
    return build_random_model(full_config(layers=layers), seed=seed, never_stop=never_stop)


def weight_bytes(model: VallEModel, names: tuple[str, ...]) -> int:
    """Bytes of the parameters whose names start with one of ``names``."""
    return sum(p.numel() * p.element_size() for n, p in model.named_parameters() if n.startswith(names))


__all__ = ["FULL", "ModelConfig", "build_full_model", "full_config", "weight_bytes"]
