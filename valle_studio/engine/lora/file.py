"""Read and check a LoRA file (``lora.sft``) as upstream exports it, without touching a model.

Layout (ecker-vall-e.md §1 and §9): a safetensors file whose tensors come in pairs
``<module>.lora_A`` ``[rank, in]`` and ``<module>.lora_B`` ``[out, rank]``, one pair per adapted linear
layer (upstream's llama policy: ``model.layers.N.self_attn.{q,v,o}_proj`` and
``model.layers.N.mlp.{gate,up,down}_proj``, never ``k_proj``), and one metadata entry ``config``: a JSON
object with at least ``rank`` and ``alpha`` (the scale is ``alpha / rank``), and ``name``, ``embeddings``,
``parametrize`` and ``rvq_levels``. With ``parametrize`` upstream names a pair
``<module>.parametrizations.weight.0.lora_A``; both spellings are read.

Everything that would make the merge wrong is refused here, with a :class:`LoraError` that names the
file: tensors that are not LoRA pairs, a pair with only one half, ranks that disagree with each other or
with the config, a missing or unreadable config, non-finite weights, and a LoRA meant for only some RVQ
levels (upstream switches such a LoRA on and off per stage; a merged LoRA is active in every stage, so
it is refused rather than applied where it was not trained).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from valle_studio.core.codec_format import LEVELS
from valle_studio.engine.lora_choice import LoraError

_PARAMETRIZED = ".parametrizations.weight.0"
_SUFFIXES = (".lora_A", ".lora_B")


@dataclass(frozen=True)
class LoraPair:
    """The low-rank update of one linear layer: ``A`` ``[rank, in]``, ``B`` ``[out, rank]`` (float32, CPU).

    ``target`` is the name of the model parameter it updates (``<module>.weight``)."""

    target: str
    a: Tensor
    b: Tensor

    @property
    def shape(self) -> tuple[int, int]:
        """The shape of ``B @ A``: the target weight's ``[out, in]``."""
        return int(self.b.shape[0]), int(self.a.shape[1])


@dataclass(frozen=True)
class LoraFile:
    """A checked LoRA: its pairs, rank, alpha and name (the config's, else the file's folder)."""

    path: Path
    name: str
    rank: int
    alpha: float
    pairs: tuple[LoraPair, ...]
    config: dict[str, Any]

    @property
    def scale(self) -> float:
        """``alpha / rank``: what ``B @ A`` is multiplied by at strength 1 (upstream's scaling)."""
        return self.alpha / self.rank

    @property
    def label(self) -> str:
        """``"glados (lora.sft)"``: how messages name it."""
        return f"{self.name} ({self.path.name})"


def is_lora_tensor(name: str) -> bool:
    """Whether a tensor name is half of a LoRA pair (a full checkpoint has none)."""
    return name.endswith(_SUFFIXES)


def read_lora(path: str | Path) -> LoraFile:
    """Read and check ``path``; raises :class:`LoraError` saying what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise LoraError(f"LoRA file not found: {path}")
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt", device="cpu") as handle:
            metadata = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118 (not a dict)
    except (SafetensorError, OSError, ValueError) as exc:
        raise LoraError(f"{path.name} is not a readable safetensors LoRA file ({exc})") from None
    _check_names(path, tensors)  # a full model (or anything else) is told apart first
    config = _config(path, metadata)
    rank, alpha = _rank_alpha(path, config)
    _check_levels(path, config)
    pairs = _pairs(path, tensors, rank)
    name = str(config.get("name") or "") or (path.parent.name if path.stem == "lora" else path.stem)
    return LoraFile(path, name, rank, alpha, pairs, config)


def _config(path: Path, metadata: dict[str, str]) -> dict[str, Any]:
    text = metadata.get("config")
    if text is None:
        raise LoraError(f"{path.name} has no 'config' metadata, so its rank and alpha are unknown; export it "
                        "again with upstream's exporter")
    try:
        config = json.loads(text)
    except ValueError:
        raise LoraError(f"{path.name}: the 'config' metadata is not valid JSON") from None
    if not isinstance(config, dict):
        raise LoraError(f"{path.name}: the 'config' metadata must be a JSON object")
    return config


def _rank_alpha(path: Path, config: dict[str, Any]) -> tuple[int, float]:
    rank, alpha = config.get("rank"), config.get("alpha")
    if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
        raise LoraError(f"{path.name}: config.rank must be a whole number of at least 1, not {rank!r}")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not math.isfinite(alpha):
        raise LoraError(f"{path.name}: config.alpha must be a number, not {alpha!r}")
    return rank, float(alpha)


def _check_levels(path: Path, config: dict[str, Any]) -> None:
    levels = config.get("rvq_levels") or []
    if not isinstance(levels, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in levels):
        raise LoraError(f"{path.name}: config.rvq_levels must be a list of level numbers, not {levels!r}")
    if levels and not set(range(LEVELS)) <= set(levels):
        raise LoraError(f"{path.name} was trained for RVQ levels {sorted(set(levels))} only; a LoRA is merged into "
                        "the weights and so acts on every level, which this one was not made for")


def _check_names(path: Path, tensors: dict[str, Tensor]) -> None:
    if not tensors:
        raise LoraError(f"{path.name} holds no tensors")
    strangers = sorted(k for k in tensors if not is_lora_tensor(k))
    if strangers:
        shown = ", ".join(strangers[:4]) + (f" and {len(strangers) - 4} more" if len(strangers) > 4 else "")
        raise LoraError(f"{path.name} is not a LoRA file: tensors {shown} are not lora_A/lora_B halves "
                        "(a full model is loaded as a model, not applied as a LoRA)")


def _pairs(path: Path, tensors: dict[str, Tensor], rank: int) -> tuple[LoraPair, ...]:
    modules = sorted({k[: -len(".lora_A")] for k in tensors})
    pairs: list[LoraPair] = []
    for module in modules:
        a, b = tensors.get(module + ".lora_A"), tensors.get(module + ".lora_B")
        if a is None or b is None:
            half = "lora_B" if a is not None else "lora_A"
            raise LoraError(f"{path.name}: {module} has no {half} (every adapted layer needs both halves)")
        if a.dim() != 2 or b.dim() != 2 or a.shape[0] != b.shape[1]:
            raise LoraError(f"{path.name}: {module} has lora_A {list(a.shape)} and lora_B {list(b.shape)}; "
                            "expected [rank, in] and [out, rank]")
        if a.shape[0] != rank:
            raise LoraError(f"{path.name}: {module} has rank {a.shape[0]}, but config.rank says {rank}")
        if not (a.is_floating_point() and b.is_floating_point()):
            raise LoraError(f"{path.name}: {module} holds {a.dtype}/{b.dtype} values, expected floating point")
        a32, b32 = a.float(), b.float()
        if not (bool(torch.isfinite(a32).all()) and bool(torch.isfinite(b32).all())):
            raise LoraError(f"{path.name}: {module} contains NaN or infinite values; the file is corrupt")
        target = module.removesuffix(_PARAMETRIZED) + ".weight"
        pairs.append(LoraPair(target, a32, b32))
    return tuple(pairs)


__all__ = ["LoraError", "LoraFile", "LoraPair", "is_lora_tensor", "read_lora"]
