"""The LLaMA-style decoder stack upstream's v1 models use (inputs are embeddings, no token table).

Pre-norm layers: ``h = x + attn(rmsnorm(x)); out = h + mlp(rmsnorm(h))`` and a final RMSNorm.
- RMSNorm is computed in float32 (``w * x * rsqrt(mean(x^2) + eps)``), as HF LLaMA does.
- RoPE, theta 1e4, "half-split" pairing (``rotate_half``) over the whole head.
- Attention through ``scaled_dot_product_attention``, scale 1/sqrt(head_dim), no biases.
- MLP: ``down(gelu_erf(gate(x)) * up(x))`` -- exact GELU, not SiLU (upstream sets ``hidden_act="gelu"``).
  A bfloat16 AR step on a CPU where the native kernels run does the whole MLP in one native call
  (:func:`.native.bf16_mlp`), rounding where these ops round.
Parameter names match the checkpoint (``layers.N.self_attn.q_proj.weight`` ...).

Speed (see ``benchmarks/``): :meth:`Backbone.fuse` stores q/k/v and gate/up side by side in one buffer
each (the parameters become row slices of it, so nothing is copied twice), which turns seven matrix
products per layer into four; an AR step is a mat-vec product per weight, so fewer, longer reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from valle_studio.engine.model import kernels, native
from valle_studio.engine.model.kernels import Linear, linear
from valle_studio.engine.model.kv_cache import KVCache

if TYPE_CHECKING:
    from valle_studio.engine.quantize import Int8Linear


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        if x.dtype == torch.float32 and self.weight.dtype == torch.float32:
            # one fused kernel, bit-identical to the three-step float32 formula below
            return F.rms_norm(x, self.weight.shape, self.weight, self.eps)
        if x.dtype == torch.bfloat16 and x.numel() == x.shape[-1] and _native_row(x, self.weight):
            return native.bf16_rms_norm(x, self.weight, self.eps)  # one AR row: one call, same rounding
        dtype = x.dtype
        h = x.float()
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * h.to(dtype)

    if TYPE_CHECKING:  # nn.Module's __call__ is typed Any; it runs forward
        __call__ = forward


def _native_row(x: Tensor, weight: Tensor) -> bool:
    """One bfloat16 CPU row whose products take the native kernels (so its small ops may too)."""
    return (x.device.type == "cpu" and weight.dtype == torch.bfloat16 and not torch.is_grad_enabled()
            and kernels.kernel_for(x, weight.view(1, -1)) == "native")


class Rotary:
    """Rotary position embedding tables for per-token positions (not a module: nothing is stored)."""

    def __init__(self, head_dim: int, theta: float) -> None:
        self.head_dim = head_dim
        self.theta = theta
        self._inv_freq: dict[torch.device, Tensor] = {}

    def inv_freq(self, device: torch.device) -> Tensor:
        if device not in self._inv_freq:
            steps = torch.arange(0, self.head_dim, 2, dtype=torch.int64).float() / self.head_dim
            self._inv_freq[device] = (1.0 / (self.theta**steps)).to(device)
        return self._inv_freq[device]

    def cos_sin(self, positions: Tensor, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
        """``positions``: ``[B, S]`` int64 -> cos, signed sin: ``[B, S, 1, head_dim]`` in ``dtype``.

        The sin table carries rotate_half's sign (``-sin`` on the first half), so that
        ``x * cos + roll(x, half) * sin`` equals HF's ``x * cos + rotate_half(x) * sin`` exactly.
        """
        freqs = positions.float()[..., None] * self.inv_freq(positions.device)
        emb = torch.cat((freqs, freqs), dim=-1)
        sin = emb.sin()
        sin[..., : self.head_dim // 2].neg_()
        return emb.cos().to(dtype)[:, :, None], sin.to(dtype)[:, :, None]


def _apply_rope(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """``x``: ``[B, S, ..., head_dim]``; ``cos``/``sin`` broadcast over the middle axes."""
    return x * cos + x.roll(x.shape[-1] // 2, dims=-1) * sin


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int, kv_heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.kv_heads = kv_heads
        self.head_dim = dim // heads
        # q/k/v are None once quantize.py has replaced them with an int8 _qkv; o_proj becomes int8 there too
        self.q_proj: Linear | None = Linear(dim, heads * self.head_dim, bias=False)
        self.k_proj: Linear | None = Linear(dim, kv_heads * self.head_dim, bias=False)
        self.v_proj: Linear | None = Linear(dim, kv_heads * self.head_dim, bias=False)
        self.o_proj: Linear | Int8Linear = Linear(heads * self.head_dim, dim, bias=False)
        # [q; k; v] rows in one buffer (fuse()), or an int8 module replacing all three (quantize.py)
        self._qkv: Tensor | Int8Linear | None = None

    def fuse(self) -> None:
        """Keep q/k/v in one contiguous buffer; the three weights become views of it."""
        if not isinstance(self._qkv, nn.Module):
            self._qkv = _fuse_rows(self.q_proj, self.k_proj, self.v_proj)

    def _project(self, x: Tensor, cos: Tensor, sin: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``x`` ``[B, S, dim]`` -> rotated q ``[B, heads, S, hd]``, rotated k and v ``[B, kv_heads, S, hd]``."""
        b, s, _ = x.shape
        hd = self.head_dim
        fused = self._qkv
        if isinstance(fused, nn.Module) or (
            fused is not None and _still_fused(fused, self.q_proj, self.k_proj, self.v_proj)
        ):
            qkv = fused(x) if isinstance(fused, nn.Module) else linear(x, fused)
            if self.heads == self.kv_heads:
                # q and k side by side: one rotation for both
                qkv = qkv.view(b, s, 3, self.heads, hd)
                qk = _apply_rope(qkv[:, :, :2], cos[:, :, None], sin[:, :, None])
                return qk[:, :, 0].transpose(1, 2), qk[:, :, 1].transpose(1, 2), qkv[:, :, 2].transpose(1, 2)
            nq, nk = self.heads * hd, self.kv_heads * hd
            q, k, v = qkv.split((nq, nk, nk), dim=-1)
        else:
            q_proj, k_proj, v_proj = self.q_proj, self.k_proj, self.v_proj
            assert q_proj is not None and k_proj is not None and v_proj is not None  # only int8 drops them
            q, k, v = q_proj(x), k_proj(x), v_proj(x)
        q = _apply_rope(q.view(b, s, self.heads, hd), cos, sin)
        k = _apply_rope(k.view(b, s, self.kv_heads, hd), cos, sin)
        return q.transpose(1, 2), k.transpose(1, 2), v.view(b, s, self.kv_heads, hd).transpose(1, 2)

    def forward(
        self,
        x: Tensor,
        cos: Tensor,
        sin: Tensor,
        mask: Tensor | None,
        causal: bool,
        cache: KVCache | None,
        layer: int,
    ) -> Tensor:
        """``x``: ``[B, S, dim]``; ``mask``: bool ``[B, 1, S, K]`` (True = attend) or None."""
        b, s, _ = x.shape
        q, k, v = self._project(x, cos, sin)
        if cache is not None:
            k, v = cache.update(layer, k, v)
        if self.kv_heads != self.heads:
            rep = self.heads // self.kv_heads
            k = k.repeat_interleave(rep, dim=1)
            v = v.repeat_interleave(rep, dim=1)
        # is_causal only when queries and keys are the same span (no mask given)
        use_causal = causal and mask is None and s == k.shape[2] and s > 1
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=use_causal)
        return self.o_proj(out.transpose(1, 2).reshape(b, s, -1))

    if TYPE_CHECKING:
        __call__ = forward


class MLP(nn.Module):
    def __init__(self, dim: int, ffn_dim: int) -> None:
        super().__init__()
        # gate/up are None once quantize.py has replaced them with an int8 _gate_up; down_proj becomes int8
        self.gate_proj: Linear | None = Linear(dim, ffn_dim, bias=False)
        self.up_proj: Linear | None = Linear(dim, ffn_dim, bias=False)
        self.down_proj: Linear | Int8Linear = Linear(ffn_dim, dim, bias=False)
        # [gate; up] rows in one buffer (fuse()), or an int8 module replacing both (quantize.py)
        self._gate_up: Tensor | Int8Linear | None = None

    def fuse(self) -> None:
        """Keep gate and up in one contiguous buffer; both weights become views of it."""
        if not isinstance(self._gate_up, nn.Module):
            self._gate_up = _fuse_rows(self.gate_proj, self.up_proj)

    def forward(self, x: Tensor) -> Tensor:
        fused = self._gate_up
        if isinstance(fused, nn.Module):
            gate, up = fused(x).chunk(2, dim=-1)
        elif fused is not None and _still_fused(fused, self.gate_proj, self.up_proj):
            down = self.down_proj
            if (isinstance(down, nn.Linear) and down.bias is None and kernels.kernel_for(x, fused) == "native"
                    and kernels.kernel_for(x, down.weight) == "native" and not torch.is_grad_enabled()):
                # one row in bfloat16: the whole MLP in one native call (one thread team, no small ops)
                return native.bf16_mlp(x, fused, down.weight)
            gate, up = linear(x, fused).chunk(2, dim=-1)
        else:
            gate_proj, up_proj = self.gate_proj, self.up_proj
            assert gate_proj is not None and up_proj is not None  # only int8 drops them
            gate, up = gate_proj(x), up_proj(x)
        return self.down_proj(F.gelu(gate).mul_(up))

    if TYPE_CHECKING:
        __call__ = forward


def _fuse_rows(*layers: nn.Module | None) -> Tensor | None:
    """Concatenate the weights ``[out_i, in]`` of bias-free linear layers into one ``[sum out_i, in]``
    buffer and make each layer's weight a row slice of it. None when the layers cannot be fused
    (quantized, on the meta device, mixed devices or dtypes)."""
    fusable: list[tuple[nn.Module, Tensor]] = []
    for m in layers:
        w = getattr(m, "weight", None)
        if m is None or not isinstance(w, Tensor) or getattr(m, "bias", None) is not None:
            return None
        fusable.append((m, w))
    first = fusable[0][1]
    if first.is_meta or any(w.device != first.device or w.dtype != first.dtype for _, w in fusable):
        return None
    with torch.no_grad():
        buffer = torch.cat([w.detach() for _, w in fusable], dim=0)
    row = 0
    for module, w in fusable:
        n = w.shape[0]
        module.weight = nn.Parameter(buffer[row : row + n], requires_grad=False)
        row += n
    return buffer


def _still_fused(buffer: Tensor, *layers: nn.Module | None) -> bool:
    """Each weight is still the row slice of ``buffer`` that :func:`_fuse_rows` made it (a later
    ``.to()``, ``load_state_dict(assign=True)`` or quantization replaces them and ends the fusion)."""
    ptr, step = buffer.data_ptr(), buffer.stride(0) * buffer.element_size()
    row = 0
    for m in layers:
        w = getattr(m, "weight", None)
        if not isinstance(w, Tensor) or w.data_ptr() != ptr + row * step or w.dtype != buffer.dtype:
            return False
        row += w.shape[0]
    return True


class DecoderLayer(nn.Module):
    def __init__(self, dim: int, heads: int, kv_heads: int, ffn_dim: int, eps: float) -> None:
        super().__init__()
        self.self_attn = Attention(dim, heads, kv_heads)
        self.mlp = MLP(dim, ffn_dim)
        self.input_layernorm = RMSNorm(dim, eps)
        self.post_attention_layernorm = RMSNorm(dim, eps)

    def forward(
        self,
        x: Tensor,
        cos: Tensor,
        sin: Tensor,
        mask: Tensor | None,
        causal: bool,
        cache: KVCache | None,
        layer: int,
    ) -> Tensor:
        h = x + self.self_attn(self.input_layernorm(x), cos, sin, mask, causal, cache, layer)
        return h + self.mlp(self.post_attention_layernorm(h))

    if TYPE_CHECKING:
        __call__ = forward


class Backbone(nn.Module):
    """``layers`` + final ``norm``; named like the checkpoint's ``model.*`` tensors."""

    def __init__(
        self, *, dim: int, heads: int, kv_heads: int, layers: int, ffn_dim: int, eps: float, theta: float
    ) -> None:
        super().__init__()
        self.layers = nn.ModuleList(DecoderLayer(dim, heads, kv_heads, ffn_dim, eps) for _ in range(layers))
        self.norm = RMSNorm(dim, eps)
        self.rotary = Rotary(dim // heads, theta)

    def decoder_layers(self) -> Iterator[DecoderLayer]:
        """``layers`` as what they are (iterating an ``nn.ModuleList`` is typed as plain modules)."""
        for layer in self.layers:
            assert isinstance(layer, DecoderLayer)
            yield layer

    def fuse(self) -> None:
        """Fuse q/k/v and gate/up of every layer (see the module docstring); call after moving the model."""
        for layer in self.decoder_layers():
            layer.self_attn.fuse()
            layer.mlp.fuse()

    def forward(
        self,
        x: Tensor,
        positions: Tensor,
        *,
        mask: Tensor | None = None,
        causal: bool = True,
        cache: KVCache | None = None,
        layer_outputs: list[Tensor] | None = None,
    ) -> Tensor:
        """``x``: ``[B, S, dim]`` input embeddings, ``positions``: ``[B, S]`` int64.

        ``mask``: bool ``[B, 1, S, K]`` (True = attend), or None for "all" / plain causal. Returns the
        final normed hidden state ``[B, S, dim]``; appends each layer's residual output to
        ``layer_outputs`` when given.
        """
        cos, sin = self.rotary.cos_sin(positions, x.dtype)
        for i, layer in enumerate(self.layers):
            x = layer(x, cos, sin, mask, causal, cache, i)
            if layer_outputs is not None:
                layer_outputs.append(x)
        return self.norm(x)

    if TYPE_CHECKING:
        __call__ = forward
