"""Token sampling: small logit processors with one signature, assembled in upstream's order.

Public API::

    SamplerConfig, SampleOutput, sample(logits, config, *, history=None, stop_token=None, generator=None,
                                        mirostat=None)
    MirostatState.start(tau, eta)           the running state of mirostat v2 across the steps of one sequence
    cfg_combine(cond, null, strength, rescale)
    beam_search(step, ...)                  length-normalised beam search over any next-token function

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
4. DRY works as its authors define it (``dry.py``). Upstream's is inert at its fixed
   ``allowed_length = 2`` (its loop stops at the first history entry, which always has match length 1),
   so its golden DRY vectors, which equal their inputs, are not ours to match.
5. Out-of-range settings raise ``ValueError`` instead of being tolerated: negative temperatures
   (upstream: greedy) and negative ``min_temperature`` (upstream: off; here ``None`` means off).
6. Mirostat starts its surprise bound at ``2 * tau`` as the paper says; upstream starts it at ``2 * eta``.
7. ``cfg_combine`` returns a new tensor instead of editing the conditional logits in place; the
   caller uses the return value, which is what upstream's in-place edit amounts to. It skips the
   rescale when the combined logits have zero spread (upstream divides by zero).
"""

from __future__ import annotations

from .beam import BeamResult, beam_search
from .cfg import cfg_combine
from .choosers import MirostatState
from .config import SamplerConfig
from .pipeline import SampleOutput, build_processors, sample

__all__ = ["BeamResult", "MirostatState", "SampleOutput", "SamplerConfig", "beam_search", "build_processors",
           "cfg_combine", "sample"]
