"""The full-size v1 model (``ar+nar-len-llama-8`` layout) with random weights, built in memory.

Sizes are the published ones (shared/reference/ecker-vall-e.md §2): dim 1024, 12 layers, 16 heads,
MLP 4096, 256 phonemes, 8575 raw-text tokens, 6 languages, 9 tasks, 11 duration tokens, 1025/1024
audio classes, every head present. The builder is the engine's own (``valle_studio.engine.bench.subject``,
which ``valle-studio-cli bench`` uses too), so both measure the same model with the same weights.
"""

from __future__ import annotations

import dataclasses

from valle_studio.engine.bench.subject import build_random_model
from valle_studio.engine.bench.subject import full_config as _published_config
from valle_studio.engine.model import ModelConfig, VallEModel

FULL = {"dim": 1024, "heads": 16, "layers": 12, "ffn_dim": 4096}
#: The golden vectors' tiny checkpoints' sizes (same vocabularies): for runs that must take seconds.
TINY = {"dim": 64, "heads": 4, "layers": 2, "ffn_dim": 256}


def full_config(*, layers: int | None = None, sizes: dict[str, int] = FULL) -> ModelConfig:
    """The ``ar+nar-len-llama-8`` configuration (the engine's, sizes as read off the real file's tensors);
    ``sizes=TINY`` gives the same layout at the tiny checkpoints' width."""
    return dataclasses.replace(_published_config(layers=sizes["layers"] if layers is None else layers),
                               dim=sizes["dim"], heads=sizes["heads"], kv_heads=sizes["heads"],
                               ffn_dim=sizes["ffn_dim"])


def build_full_model(seed: int = 0, *, layers: int | None = None, never_stop: bool = True,
                     sizes: dict[str, int] = FULL) -> VallEModel:
    """A ready-to-run float32 CPU model; ``never_stop`` pins the AR stop logit low so runs last as
    long as asked (random weights would otherwise stop at an arbitrary frame). ``sizes=TINY`` builds
    the same layout at the width of the golden vectors' tiny checkpoints."""
    return build_random_model(full_config(layers=layers, sizes=sizes), seed=seed, never_stop=never_stop)


def weight_bytes(model: VallEModel, names: tuple[str, ...]) -> int:
    """Bytes of the parameters whose names start with one of ``names``."""
    return sum(p.numel() * p.element_size() for n, p in model.named_parameters() if n.startswith(names))


__all__ = ["FULL", "TINY", "ModelConfig", "build_full_model", "full_config", "weight_bytes"]
