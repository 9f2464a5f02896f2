"""Token-by-token causal decoding of one or two sequences (AR level 0, duration digits, speech-to-text).

:class:`CausalRunner` hides how the next-token logits are obtained:
- cached (default): prefill once into a static :class:`KVCache`, then one position per step; a
  cond/null CFG pair shares one right-padded cache (``batch=True``) or gets one cache each;
- uncached: the whole sequence again every step, as upstream does. Used when positions cannot be
  extended token by token (the ns/sr prompt quirk) and by the tests that prove the cache exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

import torch
from torch import Tensor

from valle_studio.engine.model import KVCache, ModelInput, VallEModel

StepKind = Literal["ar", "len", "stt"]


def _extend(inp: ModelInput, kind: StepKind, tokens: Tensor) -> ModelInput:
    """``inp`` with ``tokens`` ``[n]`` appended to its output segment."""
    if kind == "len":
        assert inp.len_tokens is not None
        return replace(inp, len_tokens=torch.cat([inp.len_tokens, tokens]))
    if kind == "stt":
        return replace(inp, text=torch.cat([inp.text, tokens]))
    assert inp.resp is not None
    return replace(inp, resp=torch.cat([inp.resp, tokens]))


class CausalRunner:
    """Next-token logits for ``inputs`` (1 or 2 items of one causal pass) as tokens are appended.

    ``extra``: the most tokens that will be appended (sizes the cache). Every item receives the same
    token each step (the cond/null pair of CFG shares the response).
    """

    def __init__(
        self,
        model: VallEModel,
        inputs: Sequence[ModelInput],
        kind: StepKind,
        *,
        extra: int,
        use_cache: bool = True,
        batch: bool = True,
    ) -> None:
        self.model = model
        self.inputs = list(inputs)
        self.kind = kind
        quirk = any(i.prom_task is not None and i.prom is not None for i in self.inputs)
        self.use_cache = use_cache and not (quirk and not model.config.unified_position_ids)
        self.batch = batch and len(self.inputs) > 1
        self.extra = extra
        self._caches: list[KVCache] = []

    def start(self, rows: int = 1) -> Tensor:
        """Run the initial sequences; logits of each item's last ``rows`` rows: ``[B, rows, C]``."""
        if not self.use_cache:
            return self.model(self.inputs, last=rows)
        lengths = [self.model.embed(i).embeds.shape[0] for i in self.inputs]
        if self.batch:
            cache = self.model.new_cache(len(self.inputs), max(lengths) + self.extra + 1)
            self._caches = [cache]
            return self.model.prefill(self.inputs, cache, last=rows)
        out = []
        for inp, n in zip(self.inputs, lengths, strict=True):
            cache = self.model.new_cache(1, n + self.extra + 1)
            self._caches.append(cache)
            out.append(self.model.prefill([inp], cache, last=rows))
        return torch.cat(out)

    def push(self, token: int) -> Tensor:
        """Append ``token`` to every item; next-token logits ``[B, C]``."""
        t = torch.tensor([token], dtype=torch.long, device=self.model.device)
        if not self.use_cache:
            self.inputs = [_extend(i, self.kind, t) for i in self.inputs]
            return self.model(self.inputs, last=1)[:, 0]
        if self.batch:
            cache = self._caches[0]
            return self.model.decode(cache, t.expand(cache.batch), self.kind)
        return torch.cat([self.model.decode(c, t, self.kind) for c in self._caches])

    def close(self) -> None:
        """Drop the cache buffers now rather than when the runner is collected."""
        self._caches.clear()
