"""The model a benchmark measures: the installed checkpoint, or random weights of the same shapes.

Speed does not depend on the values of the weights, but denormals and NaNs would, so random weights
are drawn like a trained network's (fan-in scaled), not left at zero. What the precisions cost in
accuracy does depend on the values: it is measured on the installed weights where there are some,
and the record says which it was (``weights``).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path

import torch

from valle_studio.core.codec_format import STOP_TOKEN
from valle_studio.engine.model import ModelConfig, VallEModel, load_model


def full_config(*, layers: int = 12) -> ModelConfig:
    """The published ``ar+nar-len-llama-8`` configuration (sizes as read off the real file's tensors):
    dim 1024, 16 heads, MLP 4096, 256 phonemes, 8575 raw-text tokens, 6 languages, 9 tasks, 11
    duration tokens, every head present."""
    return ModelConfig(
        dim=1024, heads=16, kv_heads=16, layers=layers, ffn_dim=4096, text_tokens=256, raw_text_tokens=8575,
        langs=6, tasks=9, len_tokens=11, has_len_head=True, has_nar_len=True, has_stt_head=True,
        name="ar+nar-len (random weights)", capabilities=frozenset({"ar", "nar", "len", "lang"}),
        noncausal_masks=True,
    )


@torch.no_grad()
def build_random_model(config: ModelConfig | None = None, *, seed: int = 0, never_stop: bool = True) -> VallEModel:
    """A ready-to-run float32 CPU model of ``config`` (default :func:`full_config`) with random weights.

    ``never_stop`` pins the AR stop logit low, so that a timed run lasts as long as asked (random
    weights would stop at an arbitrary frame)."""
    with torch.device("meta"):
        model = VallEModel(config or full_config())
    model = model.to_empty(device="cpu")
    gen = torch.Generator().manual_seed(seed)
    for name, p in model.named_parameters():  # drawn in place: no temporary copy of 0.9 GB
        if name.endswith("norm.weight"):
            p.normal_(1.0, 0.1, generator=gen)
        elif p.dim() == 2 and (name.startswith("model.") or name.startswith("classifiers.")):
            p.normal_(0.0, 1.0 / math.sqrt(p.shape[1]), generator=gen)
        elif name.startswith("classifiers."):
            p.normal_(0.0, 0.1, generator=gen)
        else:
            p.normal_(0.0, 1.0, generator=gen)
    model.fuse()
    if never_stop:
        pin_stop_logit(model)
    model.requires_grad_(False)
    return model.eval()


@torch.no_grad()
def pin_stop_logit(model: VallEModel) -> None:
    """Make the AR head never choose the stop token (timed AR runs then last the frames asked for)."""
    head = model.classifiers.proj["0"]
    bias = getattr(head, "bias", None)
    if isinstance(bias, torch.Tensor):
        bias[STOP_TOKEN] = -1e4


@dataclass
class Subject:
    """The float32 model a run starts from and where it came from (``weights``: installed / random)."""

    model: VallEModel
    name: str
    weights: str

    def variant(self, precision: str, device: torch.device) -> VallEModel:
        """A copy in ``precision`` (``"float32"``, ``"bfloat16"``, ``"float16"``, ``"int8"``) on ``device``."""
        if precision == "int8":
            from valle_studio.engine.quantize import quantize_int8

            return quantize_int8(self._sharing_copy())
        dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[precision]
        if precision == "float32" and device.type == "cpu":
            return self.model
        return copy.deepcopy(self.model).to(device=device, dtype=dtype).fuse()


    def _sharing_copy(self) -> VallEModel:
        """A copy of the model's modules that shares its float32 tensors instead of copying 0.9 GB.

        For int8 only: quantisation replaces the copy's backbone modules with int8 ones and never
        writes to a tensor, so the float32 model stays as it was. (A dtype change would not do:
        ``Module.to`` swaps the data of the parameters it converts, shared ones included.)"""
        shared: dict[int, object] = {id(p): p for p in self.model.parameters()}
        for layer in self.model.model.decoder_layers():
            for fused in (layer.self_attn._qkv, layer.mlp._gate_up):
                if isinstance(fused, torch.Tensor):
                    shared[id(fused)] = fused
        return copy.deepcopy(self.model, memo=shared)


def config_of(path: Path) -> ModelConfig:
    """The configuration of the checkpoint at ``path``, read off its header (no weights are read)."""
    from valle_studio.engine.model.checkpoint import CheckpointError, open_checkpoint
    from valle_studio.engine.model.config import HEAD_LEN, ConfigError, flags_from_metadata
    from valle_studio.engine.model.layout import config_from_shapes

    with open_checkpoint(path) as ckpt:
        try:
            flags = flags_from_metadata(ckpt.config, has_len_head=f"classifiers.proj.{HEAD_LEN}.weight" in ckpt.shapes)
        except ConfigError as exc:
            raise CheckpointError(f"{ckpt.path.name}: {exc}") from None
        config, _expected, _ignored = config_from_shapes(ckpt.path.name, ckpt.shapes, flags, legacy_summing=None)
    return config


def open_subject(path: Path | None, *, random_weights: bool = False) -> Subject:
    """The installed checkpoint at ``path`` in float32 (its stop logit pinned for timing), or random
    weights: of its shapes with ``random_weights``, of the published v1 model when there is no file."""
    if path is None:
        return Subject(build_random_model(), "ar+nar-len-llama-8 shapes", "random")
    if random_weights:
        return Subject(build_random_model(config_of(path)), f"{path.stem} shapes", "random")
    model = load_model(path, device="cpu", dtype=torch.float32)
    pin_stop_logit(model)
    return Subject(model, path.stem, "installed")


__all__ = ["Subject", "build_random_model", "config_of", "full_config", "open_subject", "pin_stop_logit"]
