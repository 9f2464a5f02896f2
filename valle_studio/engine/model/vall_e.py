"""The v1 VALL-E model of e-c-k-e-r/vall-e: embedding tables, LLaMA backbone, 11 per-task heads.

Module and parameter names equal the checkpoint's tensor names, so a state dict loads as is.
Entry points:
- :meth:`VallEModel.forward` -- a batch of :class:`ModelInput` (right-padded, 2-D padding mask) ->
  logits of the last rows of each item, from the head the pass uses.
- :meth:`VallEModel.prefill` / :meth:`VallEModel.decode` -- the same with a :class:`KVCache`, for
  the causal loops (AR level 0, duration digits, speech-to-text).
- :meth:`VallEModel.trace` -- one item with every intermediate (embeddings, positions, layer
  outputs), to find where a re-implementation diverges from reference numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import torch
from torch import Tensor, nn

from valle_studio.engine.model.backbone import Backbone
from valle_studio.engine.model.config import (
    AUDIO_TOKENS,
    HEAD_LEN,
    HEAD_NAR_LEN,
    HEAD_STT,
    LEVELS,
    ModelConfig,
)
from valle_studio.engine.model.inputs import Assembled, ModelInput, assemble
from valle_studio.engine.model.kernels import Linear
from valle_studio.engine.model.kv_cache import KVCache

DecodeKind = Literal["ar", "len", "stt"]


class AudioTables(nn.Module):
    """Per-level code embeddings, stored as ``<name>.embeddings.<level>.weight``."""

    def __init__(self, sizes: Sequence[int], dim: int) -> None:
        super().__init__()
        self.embeddings = nn.ModuleList(nn.Embedding(n, dim) for n in sizes)


class Classifiers(nn.Module):
    """Heads stored as ``classifiers.proj.<index>.{weight,bias}``; absent heads are simply missing."""

    def __init__(self, classes: dict[int, int], dim: int) -> None:
        super().__init__()
        self.proj = nn.ModuleDict({str(i): Linear(dim, n) for i, n in sorted(classes.items())})

    def has(self, index: int) -> bool:
        return str(index) in self.proj

    def forward(self, hidden: Tensor, index: int) -> Tensor:
        logits: Tensor = self.proj[str(index)](hidden)
        return logits

    if TYPE_CHECKING:  # nn.Module's __call__ is typed Any; it runs forward
        __call__ = forward


@dataclass(frozen=True)
class Trace:
    """Every intermediate of one forward (batch 1): shapes ``[S, dim]`` except ``logits`` ``[rows, C]``."""

    inputs_embeds: Tensor
    position_ids: Tensor
    causal: bool
    segments: tuple[tuple[str, int], ...]
    layer_outputs: list[Tensor]
    final_hidden: Tensor
    logits: Tensor


class VallEModel(nn.Module):
    """Embeddings + backbone + heads of an ``ar+nar(-len)-llama-8``-style checkpoint."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        d = config.dim
        self.text_emb = nn.Embedding(config.text_tokens, d)
        self.raw_text_emb = nn.Embedding(config.raw_text_tokens, d) if config.raw_text_tokens else None
        self.langs_emb = nn.Embedding(config.langs, d)
        self.tasks_emb = nn.Embedding(config.tasks, d) if config.tasks else None
        self.rvq_l_emb = nn.Embedding(config.rvq_levels, d)
        self.len_emb = nn.Embedding(config.len_tokens, d) if config.has_len_head else None
        self.sep = nn.Parameter(torch.zeros(d))
        self.proms_emb = AudioTables([AUDIO_TOKENS] * LEVELS, d)
        resp_sizes = [AUDIO_TOKENS + 1] + [AUDIO_TOKENS] * (LEVELS - 1)
        if config.has_nar_len:
            resp_sizes.append(AUDIO_TOKENS + 1)  # NAR-len input: 1024 = mask
        self.resps_emb = AudioTables(resp_sizes, d)
        heads = {0: AUDIO_TOKENS + 1} | {i: AUDIO_TOKENS for i in range(1, LEVELS)}
        if config.has_nar_len:
            heads[HEAD_NAR_LEN] = AUDIO_TOKENS
        if config.has_stt_head:
            heads[HEAD_STT] = config.text_tokens
        if config.has_len_head:
            heads[HEAD_LEN] = config.len_tokens
        self.classifiers = Classifiers(heads, d)
        self.model = Backbone(
            dim=d,
            heads=config.heads,
            kv_heads=config.kv_heads,
            layers=config.layers,
            ffn_dim=config.ffn_dim,
            eps=config.rms_eps,
            theta=config.rope_theta,
        )
        # Set by the loader: stored tensors inference does not use.
        self.ignored_tensors: list[str] = []
        self.embedding_sums_reason = ""  # why the loader chose legacy or fixed sums (engine/embedding_sums.py)
        # "int8" once valle_studio.engine.quantize has replaced the backbone matrices.
        self.quantized: str | None = None

    def fuse(self) -> VallEModel:
        """Store each layer's q/k/v and gate/up weights side by side (faster; see ``Backbone.fuse``).

        The loader does this; call it again after moving the model to another device or dtype.
        Returns the model."""
        self.model.fuse()
        return self

    # -- helpers --------------------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return self.sep.device

    @property
    def dtype(self) -> torch.dtype:
        return self.sep.dtype

    @property
    def can_nar_len(self) -> bool:
        """Has the len head and the NAR-len table/head: the NAR-len modality is available."""
        return self.config.supports_len

    def embed(self, inp: ModelInput) -> Assembled:
        """Embed one input as upstream lays it out (``embeds`` ``[S, dim]``, ``positions`` ``[S]``)."""
        return assemble(self, inp)

    def _check_head(self, head: int) -> None:
        if not self.classifiers.has(head):
            what = {HEAD_LEN: "duration (len)", HEAD_NAR_LEN: "NAR-len", HEAD_STT: "speech-to-text"}.get(
                head, ""
            )
            raise ValueError(f"this model has no {what or 'such'} head (classifiers.proj.{head})")

    def _pad(self, items: Sequence[Assembled]) -> tuple[Tensor, Tensor, Tensor | None, list[int]]:
        """Right-pad to ``[B, S, dim]``; returns embeds, positions ``[B, S]``, bool mask or None, lengths."""
        lengths = [a.embeds.shape[0] for a in items]
        longest = max(lengths)
        if any(a.causal != items[0].causal for a in items):
            raise ValueError("a batch must use one attention kind (all causal or all bidirectional)")
        x = self.embeds_zeros(len(items), longest)
        pos = torch.zeros(len(items), longest, dtype=torch.long, device=self.device)
        for b, a in enumerate(items):
            x[b, : lengths[b]] = a.embeds
            pos[b, : lengths[b]] = a.positions
        if len(set(lengths)) == 1:
            return x, pos, None, lengths
        valid = (
            torch.arange(longest, device=self.device)[None, :]
            < torch.tensor(lengths, device=self.device)[:, None]
        )
        mask = valid[:, None, None, :]
        if items[0].causal:
            mask = mask & torch.ones(longest, longest, dtype=torch.bool, device=self.device).tril()
        return x, pos, mask, lengths

    def embeds_zeros(self, batch: int, length: int) -> Tensor:
        return torch.zeros(batch, length, self.config.dim, dtype=self.dtype, device=self.device)

    def _gather_last(self, hidden: Tensor, lengths: list[int], last: int) -> Tensor:
        """Rows ``[len_b - last, len_b)`` of each item -> ``[B, last, dim]``."""
        if min(lengths) < last:
            raise ValueError(f"asked for the last {last} rows of a sequence of {min(lengths)}")
        if len(set(lengths)) == 1:
            return hidden[:, lengths[0] - last : lengths[0]]
        idx = torch.tensor([[n - last + i for i in range(last)] for n in lengths], device=self.device)
        return hidden.gather(1, idx[..., None].expand(-1, -1, hidden.shape[-1]))

    # -- entry points -----------------------------------------------------------------------------
    def forward(self, inputs: Sequence[ModelInput], last: int = 1) -> Tensor:
        """Run a batch of inputs of one pass (same head) and return logits of each item's last ``last``
        rows: ``[B, last, classes]`` float32. Items are right-padded; a 2-D padding mask hides the pad."""
        if not inputs:
            raise ValueError("forward needs at least one input")
        head = inputs[0].head
        if any(i.head != head for i in inputs):
            raise ValueError("all inputs of a batch must use the same head (pass and level)")
        self._check_head(head)
        items = [self.embed(i) for i in inputs]
        x, pos, mask, lengths = self._pad(items)
        hidden = self.model(x, pos, mask=mask, causal=items[0].causal)
        rows = self._gather_last(hidden, lengths, last)
        return self.classifiers(rows, head).float()

    if TYPE_CHECKING:  # nn.Module's __call__ is typed Any; it runs forward
        __call__ = forward

    def trace(self, inp: ModelInput, last: int = 1) -> Trace:
        """One input, keeping every intermediate (for parity diagnostics)."""
        self._check_head(inp.head)
        a = self.embed(inp)
        outs: list[Tensor] = []
        hidden = self.model(a.embeds[None], a.positions[None], causal=a.causal, layer_outputs=outs)[0]
        logits = self.classifiers(hidden[hidden.shape[0] - last :], inp.head).float()
        return Trace(a.embeds, a.positions, a.causal, a.segments, [o[0] for o in outs], hidden, logits)

    def new_cache(self, batch: int, max_len: int) -> KVCache:
        """A KV cache for ``batch`` rows of up to ``max_len`` positions, allocated once."""
        cfg = self.config
        return KVCache(
            layers=cfg.layers,
            batch=batch,
            kv_heads=cfg.kv_heads,
            head_dim=cfg.head_dim,
            max_len=max_len,
            dtype=self.dtype,
            device=self.device,
        )

    def prefill(self, inputs: Sequence[ModelInput], cache: KVCache, last: int = 1) -> Tensor:
        """Run causal ``inputs`` into an empty ``cache``; logits of the last ``last`` rows: ``[B, last, C]``.

        The cache must be new (one row per input)."""
        if cache.batch != len(inputs) or cache.longest != 0:
            raise ValueError("prefill needs an empty cache with one row per input")
        head = inputs[0].head
        self._check_head(head)
        items = [self.embed(i) for i in inputs]
        if not all(a.causal for a in items) or any(a.quirk_positions for a in items):
            raise ValueError("only causal passes with extendable positions can use the KV cache")
        x, pos, mask, lengths = self._pad(items)
        cache.begin(x.shape[1])
        hidden = self.model(x, pos, mask=mask, causal=True, cache=cache)
        cache.commit(lengths)
        cache.next_positions = torch.tensor([a.next_position for a in items], device=self.device)
        return self.classifiers(self._gather_last(hidden, lengths, last), head).float()

    def decode(self, cache: KVCache, tokens: Tensor, kind: DecodeKind) -> Tensor:
        """Append one token per row and return the next-token logits ``[B, C]``.

        ``tokens``: ``[B]`` int64 -- level-0 codes (``"ar"``), duration digits (``"len"``) or phoneme
        ids (``"stt"``).
        """
        tokens = tokens.to(self.device).long().view(-1)
        if kind == "ar":
            x, head = self.resps_emb.embeddings[0](tokens), 0
        elif kind == "len" and self.len_emb is not None:
            x, head = self.len_emb(tokens), HEAD_LEN
        elif kind == "stt":
            x, head = self.text_emb(tokens), HEAD_STT
        else:
            raise ValueError(f"cannot decode kind {kind!r} with this model")
        self._check_head(head)
        cache.begin(1)
        mask = cache.decode_mask()
        pos = cache.next_positions[:, None]
        hidden = self.model(x[:, None], pos, mask=mask, causal=True, cache=cache)
        cache.commit()
        cache.next_positions = cache.next_positions + 1
        return self.classifiers(hidden[:, -1], head).float()
