"""Tiny random-weight checkpoints in upstream's exact ``.sft`` format, for tests and demos without weights.

The file matches what upstream's exporter writes: safetensors with every tensor in float16 and three
JSON metadata entries (``config``, ``userdata``, ``stats``). Weights are drawn at unit scale (like the
parity fixtures' tiny models) rather than with LLaMA's 0.02 init, so the layers actually do
something, and the stop logits get a bias that makes greedy and sampled loops end after a
few dozen frames instead of always running to the cap.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import torch
from safetensors.torch import save_file

#: Bias on the AR stop logit (index 1024) and the len stop digit (10); see the module docstring.
AR_STOP_BIAS = 3.5
LEN_STOP_BIAS = 4.0
_TEXT_TOKENS = 256
_RAW_TEXT_TOKENS = 8575


def _shapes(capabilities: Sequence[str], dim: int, layers: int, ffn: int) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {
        "text_emb.weight": (_TEXT_TOKENS, dim),
        "raw_text_emb.weight": (_RAW_TEXT_TOKENS, dim),
        "langs_emb.weight": (6, dim),
        "tasks_emb.weight": (9, dim),
        "tones_emb.weight": (1, dim),
        "rvq_l_emb.weight": (8, dim),
        "len_emb.weight": (11, dim),
        "sep": (dim,),
        "dropout_token": (dim,),
    }
    for i in range(8):
        shapes[f"proms_emb.embeddings.{i}.weight"] = (1024, dim)
    for i in range(9):
        shapes[f"resps_emb.embeddings.{i}.weight"] = (1025 if i in (0, 8) else 1024, dim)
    heads = {0: 1025, **{i: 1024 for i in range(1, 9)}, 9: _TEXT_TOKENS}
    if "len" in capabilities:
        heads[10] = 11
    for i, n in heads.items():
        shapes[f"classifiers.proj.{i}.weight"] = (n, dim)
        shapes[f"classifiers.proj.{i}.bias"] = (n,)
    for layer in range(layers):
        p = f"model.layers.{layer}."
        for name in ("q_proj", "k_proj", "v_proj", "o_proj"):
            shapes[f"{p}self_attn.{name}.weight"] = (dim, dim)
        shapes[p + "mlp.gate_proj.weight"] = (ffn, dim)
        shapes[p + "mlp.up_proj.weight"] = (ffn, dim)
        shapes[p + "mlp.down_proj.weight"] = (dim, ffn)
        shapes[p + "input_layernorm.weight"] = (dim,)
        shapes[p + "post_attention_layernorm.weight"] = (dim,)
    shapes["model.norm.weight"] = (dim,)
    return shapes


def _draw(name: str, shape: tuple[int, ...], dim: int, gen: torch.Generator) -> torch.Tensor:
    noise = torch.randn(shape, generator=gen)
    if name.startswith("model.") and name.endswith("norm.weight"):
        return 1.0 + 0.25 * noise
    if name.startswith("model.layers."):
        return noise / math.sqrt(shape[1])  # fan-in scaling
    if name.startswith("classifiers.") and name.endswith(".weight"):
        return noise * 2.0 / math.sqrt(dim)
    if name.startswith("classifiers."):
        return noise * 0.5
    return noise  # embeddings, sep, dropout_token: N(0, 1)


def _config(
    capabilities: Sequence[str], dim: int, heads: int, layers: int, noncausal: bool, version: int
) -> dict:
    caps = [*capabilities, "lang"]  # upstream's constructor appends "lang" before export
    return {
        "name": "ar+nar-len" if "len" in capabilities else "ar+nar",
        "version": version,
        "size": {"dim": dim, "heads": heads, "layers": layers},
        "tasks": 9,
        "langs": 6,
        "tones": 1,
        "experts": 1,
        "arch_type": "llama",
        "training": False,
        "attention": "auto",
        "dropout": 0.1,
        "path": None,
        "capabilities": caps,
        "experimental": {
            "split_classifiers": True,
            "audio_embedding_sums": True,
            "unified_position_ids": False,
            "noncausal_masks": noncausal,
            "classifiers_bias": True,
            "max_position_embeddings": 22750,
            "kv_heads": 0,
        },
    }


def write_tiny_checkpoint(
    path: str | Path,
    *,
    capabilities: Sequence[str] = ("ar", "nar", "len"),
    seed: int = 0,
    dim: int = 64,
    heads: int = 4,
    layers: int = 2,
    noncausal_masks: bool = True,
    version: int = 5,
) -> Path:
    """Write a random-weight v1 checkpoint (``ar+nar`` or ``ar+nar-len`` layout) to ``path``; returns it.

    Same tensor names and metadata as upstream's exporter, float16 storage, written atomically.
    """
    if dim % heads or (dim // heads) % 2:
        raise ValueError(f"dim {dim} must split into {heads} heads of even size")
    caps = [c for c in capabilities if c != "lang"]
    gen = torch.Generator().manual_seed(seed)
    tensors: dict[str, torch.Tensor] = {}
    for name, shape in _shapes(caps, dim, layers, 4 * dim).items():
        tensors[name] = _draw(name, shape, dim, gen).to(torch.float16)
    tensors["classifiers.proj.0.bias"][1024] = AR_STOP_BIAS
    if "len" in caps:
        tensors["classifiers.proj.10.bias"][10] = LEN_STOP_BIAS
    metadata = {
        "config": json.dumps(_config(caps, dim, heads, layers, noncausal_masks, version)),
        "userdata": json.dumps({"symmap": {}}),
        "stats": json.dumps({"global_step": 0, "micro_step": 0, "global_samples": 0, "tokens_processed": 0}),
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata=metadata)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
