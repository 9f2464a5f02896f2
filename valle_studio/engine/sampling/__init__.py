"""Token sampling: small logit processors with one signature, assembled in upstream's order.

Public API::

    SamplerConfig, SampleOutput, sample(logits, config, *, history=None, stop_token=None, generator=None)
    cfg_combine(cond, null, strength, rescale)

Every processor is ``__call__(logits: [rows, classes], history: [n] | None) -> [rows, classes]`` and
validates its arguments when built. Numbers match upstream e-c-k-e-r/vall-e (commit 73833ee) on the
ecker-parity fixtures, including its quirks: processors edit logits in place where upstream's do
(repetition/length penalty, top-k, top-p, dynamic temperature), a history as long as the logits has
rows puts the repetition penalty in NAR mode (so an AR call with one earlier token is not penalised),
and the CFG std is one scalar over the whole slice.

Deliberate deviations from upstream:

1. Top-nσ takes the std over the finite logits only. Upstream's std over a row that top-k/top-p/min-p
   already filtered is NaN, so every logit becomes -inf and the argmax returns token 0 with a NaN score
   (fixture ``ar_greedy_mix_topno``). Rows without -inf are computed exactly as upstream.
2. ``top_no`` is the n of top-nσ. Upstream only uses it as a switch (``top_no > 0``) and always uses
   n = 1; both agree at ``top_no = 1``, the only value upstream's internal default produces.
3. ``SamplerConfig.top_no`` defaults to 0 (what upstream's web UI and CLI pass), not upstream's
   internal default of 1.0.
4. DRY is not offered: upstream's DRY is inert at its fixed ``allowed_length = 2`` (the loop stops at
   the first history entry, which always has match length 1), so it never changes the logits.
5. Out-of-range settings raise ``ValueError`` instead of being tolerated: negative temperatures
   (upstream: greedy) and negative ``min_temperature`` (upstream: off; here ``None`` means off).
6. ``cfg_combine`` returns a new tensor instead of editing the conditional logits in place; the
   caller uses the return value, which is what upstream's in-place edit amounts to. It skips the
   rescale when the combined logits have zero spread (upstream divides by zero).
"""

from __future__ import annotations

from .cfg import cfg_combine
from .config import SamplerConfig
from .pipeline import SampleOutput, build_processors, sample

__all__ = ["SampleOutput", "SamplerConfig", "build_processors", "cfg_combine", "sample"]
