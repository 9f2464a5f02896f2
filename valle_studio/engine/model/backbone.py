"""The LLaMA-style decoder stack upstream's v1 models use (inputs are embeddings, no token table).

Pre-norm layers: ``h = x + attn(rmsnorm(x)); out = h + mlp(rmsnorm(h))`` and a final RMSNorm.
- RMSNorm is computed in float32 (``w * x * rsqrt(mean(x^2) + eps)``), as HF LLaMA does.
- RoPE, theta 1e4, "half-split" pairing (``rotate_half``) over the whole head.
- Attention through ``scaled_dot_product_attention``, scale 1/sqrt(head_dim), no biases.
- MLP: ``down(gelu_erf(gate(x)) * up(x))`` -- exact GELU, not SiLU (upstream sets ``hidden_act="gelu"``).
Parameter names match the checkpoint (``layers.N.self_attn.q_proj.weight`` ...).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from valle_studio.engine.model.kv_cache import KVCache


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        dtype = x.dtype
        h = x.float()
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * h.to(dtype)


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
        """``positions``: ``[B, S]`` int64 -> cos, sin: ``[B, 1, S, head_dim]`` in ``dtype``."""
        freqs = positions.float()[..., None] * self.inv_freq(positions.device)
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(dtype)[:, None], emb.sin().to(dtype)[:, None]


def _rotate_half(x: Tensor) -> Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def _apply_rope(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    return x * cos + _rotate_half(x) * sin


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int, kv_heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.kv_heads = kv_heads
        self.head_dim = dim // heads
        self.q_proj = nn.Linear(dim, heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(dim, kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(dim, kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(heads * self.head_dim, dim, bias=False)

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
        q = self.q_proj(x).view(b, s, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, s, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, s, self.kv_heads, self.head_dim).transpose(1, 2)
        q = _apply_rope(q, cos, sin)
        k = _apply_rope(k, cos, sin)
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


class MLP(nn.Module):
    def __init__(self, dim: int, ffn_dim: int) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(dim, ffn_dim, bias=False)
        self.up_proj = nn.Linear(dim, ffn_dim, bias=False)
        self.down_proj = nn.Linear(ffn_dim, dim, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.down_proj(F.gelu(self.gate_proj(x)) * self.up_proj(x))


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


class Backbone(nn.Module):
    """``layers`` + final ``norm``; named like the checkpoint's ``model.*`` tensors."""

    def __init__(
        self, *, dim: int, heads: int, kv_heads: int, layers: int, ffn_dim: int, eps: float, theta: float
    ) -> None:
        super().__init__()
        self.layers = nn.ModuleList(DecoderLayer(dim, heads, kv_heads, ffn_dim, eps) for _ in range(layers))
        self.norm = RMSNorm(dim, eps)
        self.rotary = Rotary(dim // heads, theta)

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
