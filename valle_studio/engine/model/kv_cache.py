"""A static key/value cache for causal decoding (AR level 0, duration digits, speech-to-text).

The buffers are allocated once per run for ``max_len`` positions, so decoding never reallocates.
Rows of a batch may hold different numbers of valid positions (right padding): each row's next token
is written right after its own last valid position and the attention mask hides the rest.
With causal attention and fixed per-segment positions this gives the same numbers as recomputing the
whole sequence every step (upstream's way).
"""

from __future__ import annotations

import torch
from torch import Tensor


class CacheFullError(RuntimeError):
    """More positions were decoded than the cache was allocated for."""


class KVCache:
    """Keys and values of every layer: ``k``, ``v``: ``[layers, B, kv_heads, max_len, head_dim]``.

    ``lengths``: ``[B]`` valid positions per row. ``next_positions``: ``[B]`` the position id the next
    decoded token gets (per-segment positions restart in the output segment).
    """

    def __init__(
        self,
        *,
        layers: int,
        batch: int,
        kv_heads: int,
        head_dim: int,
        max_len: int,
        dtype: torch.dtype,
        device: torch.device | str,
    ) -> None:
        if max_len <= 0 or batch <= 0:
            raise ValueError(f"KV cache needs a positive size, got batch={batch}, max_len={max_len}")
        shape = (layers, batch, kv_heads, max_len, head_dim)
        self.k = torch.zeros(shape, dtype=dtype, device=device)
        self.v = torch.zeros(shape, dtype=dtype, device=device)
        self.lengths = torch.zeros(batch, dtype=torch.long, device=device)
        self.next_positions = torch.zeros(batch, dtype=torch.long, device=device)
        self.max_len = max_len
        self.batch = batch
        # Host-side copies so the hot path needs no device sync to pick its write mode.
        self._lengths_host: list[int] = [0] * batch
        self._pending = 0

    @property
    def uniform(self) -> bool:
        """All rows hold the same number of positions (always true for batch 1)."""
        return len(set(self._lengths_host)) == 1

    @property
    def longest(self) -> int:
        return max(self._lengths_host)

    def begin(self, new: int) -> None:
        """Announce that the next forward appends ``new`` positions to every row."""
        if self.longest + new > self.max_len:
            raise CacheFullError(
                f"KV cache holds {self.max_len} positions; {self.longest} used, {new} more requested"
            )
        self._pending = new

    def update(self, layer: int, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """Store ``k``, ``v``: ``[B, kv_heads, new, head_dim]`` for ``layer``; return the keys/values to
        attend to, ``[B, kv_heads, span, head_dim]`` where ``span`` = longest row after the write."""
        new = k.shape[2]
        if self.uniform:
            start = self._lengths_host[0]
            self.k[layer, :, :, start : start + new] = k
            self.v[layer, :, :, start : start + new] = v
        else:
            if new != 1:
                raise ValueError("rows of unequal length can only be extended one position at a time")
            rows = torch.arange(self.batch, device=k.device)
            self.k[layer, rows, :, self.lengths] = k[:, :, 0]
            self.v[layer, rows, :, self.lengths] = v[:, :, 0]
        span = self.longest + new
        return self.k[layer, :, :, :span], self.v[layer, :, :, :span]

    def commit(self, lengths: list[int] | None = None) -> None:
        """Finish the forward announced by :meth:`begin`.

        ``lengths`` (prefill of a right-padded batch) gives each row's real length; otherwise every
        row grows by the announced number of positions.
        """
        if lengths is None:
            lengths = [n + self._pending for n in self._lengths_host]
        self._lengths_host = list(lengths)
        self.lengths = torch.tensor(lengths, dtype=torch.long, device=self.k.device)
        self._pending = 0

    def reorder(self, rows: Tensor) -> None:
        """Keep the rows ``rows`` (``[B']`` int64 indices, repeats allowed) in that order: beam search
        follows the hypotheses it keeps. The batch size becomes ``B'``; the buffers are re-allocated once."""
        rows = rows.to(self.k.device).long()
        self.k = self.k.index_select(1, rows)
        self.v = self.v.index_select(1, rows)
        self.lengths = self.lengths.index_select(0, rows)
        self.next_positions = self.next_positions.index_select(0, rows)
        self._lengths_host = [self._lengths_host[i] for i in rows.tolist()]
        self.batch = int(rows.numel())

    def decode_mask(self) -> Tensor | None:
        """Mask for one decoded position per row (after :meth:`begin`): ``[B, 1, 1, span]`` bool, or
        None when every row attends to the whole span."""
        if self.uniform:
            return None
        span = self.longest + 1
        cols = torch.arange(span, device=self.k.device)
        return (cols[None, :] <= self.lengths[:, None])[:, None, None, :]
