"""The full-size v1 model (``ar+nar-len-llama-8`` layout) with random weights, built in memory.

Sizes are the published ones (shared/reference/ecker-vall-e.md §2): dim 1024, 12 layers, 16 heads,
MLP 4096, 256 phonemes, 8575 raw-text tokens, 6 languages, 9 tasks, 11 duration tokens, 1025/1024
audio classes, every head present. Speed does not depend on the values, but denormals and NaNs
would, so weights are drawn like a trained network's (fan-in scaled), not left at zero.
"""

from __future__ import annotations

import math

import torch

from valle_studio.engine.model import ModelConfig, VallEModel

FULL = {"dim": 1024, "heads": 16, "layers": 12, "ffn_dim": 4096}
#: The golden vectors' tiny checkpoints' sizes (same vocabularies): for runs that must take seconds.
TINY = {"dim": 64, "heads": 4, "layers": 2, "ffn_dim": 256}


def full_config(*, layers: int | None = None, sizes: dict[str, int] = FULL) -> ModelConfig:
    """The ``ar+nar-len-llama-8`` configuration (sizes as read off the real file's tensors);
    ``sizes=TINY`` gives the same layout at the tiny checkpoints' width."""
    return ModelConfig(
        dim=sizes["dim"],
        heads=sizes["heads"],
        kv_heads=sizes["heads"],
        layers=sizes["layers"] if layers is None else layers,
        ffn_dim=sizes["ffn_dim"],
        text_tokens=256,
        raw_text_tokens=8575,
        langs=6,
        tasks=9,
        len_tokens=11,
        has_len_head=True,
        has_nar_len=True,
        has_stt_head=True,
        name="ar+nar-len (random weights)",
        capabilities=frozenset({"ar", "nar", "len", "lang"}),
        noncausal_masks=True,
    )


@torch.no_grad()
def build_full_model(seed: int = 0, *, layers: int | None = None, never_stop: bool = True,
                     sizes: dict[str, int] = FULL) -> VallEModel:
    """A ready-to-run float32 CPU model; ``never_stop`` pins the AR stop logit low so runs last as
    long as asked (random weights would otherwise stop at an arbitrary frame). ``sizes=TINY`` builds
    the same layout at the width of the golden vectors' tiny checkpoints."""
    with torch.device("meta"):
        model = VallEModel(full_config(layers=layers, sizes=sizes))
    model = model.to_empty(device="cpu")
    gen = torch.Generator().manual_seed(seed)
    for name, p in model.named_parameters():
        if name.endswith("norm.weight"):
            p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=gen))
        elif p.dim() == 2 and (name.startswith("model.") or name.startswith("classifiers.")):
            p.copy_(torch.randn(p.shape, generator=gen) / math.sqrt(p.shape[1]))
        elif name.startswith("classifiers."):
            p.copy_(0.1 * torch.randn(p.shape, generator=gen))
        else:
            p.copy_(torch.randn(p.shape, generator=gen))
    model.fuse()
    if never_stop:
        model.classifiers.proj["0"].bias[1024] = -1e4
    model.requires_grad_(False)
    return model.eval()


def weight_bytes(model: VallEModel, names: tuple[str, ...]) -> int:
    """Bytes of the parameters whose names start with one of ``names``."""
    return sum(p.numel() * p.element_size() for n, p in model.named_parameters() if n.startswith(names))
