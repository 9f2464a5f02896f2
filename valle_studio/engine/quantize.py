"""Optional int8 dynamic quantisation of the backbone for CPU inference (opt-in, float32 models only).

Every backbone matrix (q/k/v fused, o, gate/up fused, down) is stored as int8 with one scale per
output row; at run time each product quantises its input rows to 8 bits (one scale per call) and
multiplies in int8 with int32 accumulation (PyTorch's fbgemm/x86 or qnnpack kernels). Weights take a
quarter of the memory, so the memory-bound AR step reads 4x fewer bytes, and int8 GEMMs run 2-4x
faster than float32 ones on CPUs with VNNI. Embeddings, norms and the output heads stay float32.

The price is accuracy: logits move by about 1-2 % of their spread (``benchmarks/`` prints the error
against float32 on the full-size model), so greedy outputs can differ from float32 ones. GPUs are
refused: there float16/bfloat16 is both faster and exact enough.
"""

from __future__ import annotations

import functools
import platform
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from valle_studio.engine.model.backbone import DecoderLayer
from valle_studio.engine.model.vall_e import VallEModel


class QuantizationError(ValueError):
    """The model cannot be quantised here; the message says why and what to do instead."""


@functools.lru_cache(maxsize=1)
def _engine() -> str | None:
    """The quantised-kernel engine to use: x86 / fbgemm on Intel and AMD, qnnpack on ARM; None if absent."""
    engines = torch.backends.quantized.supported_engines
    for name in ("x86", "fbgemm", "qnnpack"):
        if name in engines:
            return name
    return None


@functools.lru_cache(maxsize=1)
def _reduce_range() -> bool:
    """7-bit activations on x86 CPUs without VNNI, where 8-bit products can saturate (fbgemm's advice)."""
    if platform.machine().lower() not in ("x86_64", "amd64", "i686", "x86"):
        return False
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return True  # cannot tell: take the safe choice
    return "vnni" not in flags


class Int8Linear(nn.Module):
    """``y = x @ W.T (+ b)`` with ``W`` ``[out, in]`` stored as int8 (per-row scales), ``x`` quantised per call."""

    def __init__(self, weight: Tensor, bias: Tensor | None = None) -> None:
        super().__init__()
        self.in_features = weight.shape[1]
        self.out_features = weight.shape[0]
        w = weight.detach().float()
        scales = (w.abs().amax(dim=1) / 127.0).clamp_min(1e-12).double()
        zeros = torch.zeros(w.shape[0], dtype=torch.long)
        with warnings.catch_warnings():
            # PyTorch flags its eager quantisation API as deprecated; the kernels are what we use.
            warnings.simplefilter("ignore")
            q = torch.quantize_per_channel(w, scales, zeros, 0, torch.qint8)
            self._packed = torch.ops.quantized.linear_prepack(q, None if bias is None else bias.detach().float())
        self._reduce_range = _reduce_range()

    def forward(self, x: Tensor) -> Tensor:
        """``x``: ``[..., in]`` float32 -> ``[..., out]`` float32."""
        out: Tensor = torch.ops.quantized.linear_dynamic(x.contiguous(), self._packed, self._reduce_range)
        return out

    if TYPE_CHECKING:  # nn.Module's __call__ is typed Any; it runs forward
        __call__ = forward

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, int8 per-row"


def _weight(layer: nn.Module | None) -> Tensor:
    """The float weight ``[out, in]`` of a layer that has not been quantised yet."""
    assert isinstance(layer, nn.Linear)  # only a quantised model lacks one, and quantize_int8 returns first
    return layer.weight


def _weights(*layers: nn.Module | None) -> Tensor:
    return torch.cat([_weight(layer).detach() for layer in layers], dim=0)


def _int8_layers(layer: DecoderLayer) -> tuple[Int8Linear, Int8Linear, Int8Linear, Int8Linear]:
    """int8 copies of one decoder layer's q/k/v (fused), o, gate/up (fused) and down matrices."""
    attn, mlp = layer.self_attn, layer.mlp
    return (
        Int8Linear(_weights(attn.q_proj, attn.k_proj, attn.v_proj)),
        Int8Linear(_weight(attn.o_proj)),
        Int8Linear(_weights(mlp.gate_proj, mlp.up_proj)),
        Int8Linear(_weight(mlp.down_proj)),
    )


def refusal(device: torch.device, dtype: torch.dtype) -> str | None:
    """Why a model on ``device`` in ``dtype`` cannot be quantised to int8 here, or None if it can."""
    if device.type != "cpu":
        return (
            f"int8 quantisation is for the CPU only, and this model is on {device}; on a GPU use float16 "
            "or bfloat16 instead (faster there, and closer to float32)"
        )
    if dtype != torch.float32:
        return f"int8 quantisation starts from float32 weights, not {str(dtype).removeprefix('torch.')}"
    if _engine() is None:
        return "this PyTorch build has no quantised CPU kernels (fbgemm, x86 or qnnpack); use float32"
    return None


def check_quantizable(model: VallEModel) -> None:
    """Raise :class:`QuantizationError` unless ``model`` can be quantised to int8 here."""
    reason = refusal(model.device, model.dtype)
    if reason is not None:
        raise QuantizationError(reason)


@torch.no_grad()
def quantize_int8(model: VallEModel) -> VallEModel:
    """Quantise ``model``'s backbone matrices to int8 in place and return it (CPU, float32 only).

    The float32 backbone matrices are released; the model can no longer be saved as a checkpoint or
    moved to another device. Raises :class:`QuantizationError` (GPU, half precision, no kernels).
    """
    check_quantizable(model)
    if model.quantized:
        return model
    engine = _engine()
    assert engine is not None  # check_quantizable refused a build without quantised kernels
    torch.backends.quantized.engine = engine
    try:  # build everything first, so a failure leaves the model as it was
        packed = [_int8_layers(layer) for layer in model.model.decoder_layers()]
    except RuntimeError as exc:
        raise QuantizationError(f"int8 quantisation failed in PyTorch's kernels: {exc}") from exc
    for layer, (qkv, o, gate_up, down) in zip(model.model.decoder_layers(), packed, strict=True):
        attn, mlp = layer.self_attn, layer.mlp
        attn._qkv, attn.o_proj, mlp._gate_up, mlp.down_proj = qkv, o, gate_up, down
        attn.q_proj = attn.k_proj = attn.v_proj = None  # the int8 copies replace them
        mlp.gate_proj = mlp.up_proj = None
    model.quantized = "int8"
    from valle_studio.engine.model.loader import trim_heap

    trim_heap()  # the float32 matrices are gone: give their memory back
    return model
