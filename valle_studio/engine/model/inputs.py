"""Input sequences exactly as upstream lays them out: segments, summed level embeddings, positions, masks.

A sequence is a list of segments joined by the learned ``sep`` vector (none after the last):

==========================  ======================================================
pass                        segments
==========================  ======================================================
AR / NAR level L / NAR-len  text · lang · quant_level · prom (optional) · resp
len                         text · lang · quant_level(0) · prom (optional) · len
stt                         resp · lang · quant_level(0) · text
==========================  ======================================================

Positions restart at 0 in every segment; a segment followed by a sep owns it (``len + 1``
positions), the last (output) segment gets exactly ``len``. An ``ns``/``sr`` prompt prepends a task
token inside the prompt segment that upstream's position counter does not count: every later
position shifts by one and the final position is 1 (reproduced as is).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import torch
from torch import Tensor

from valle_studio.engine.model.config import HEAD_AR, HEAD_LEN, HEAD_NAR_LEN, HEAD_STT, LEVELS
from valle_studio.engine.model.prompt_mix import PromptMix, embed_mix

if TYPE_CHECKING:
    from valle_studio.engine.model.vall_e import VallEModel

Kind = Literal["ar", "nar", "nar_len", "len", "stt"]


def _ids(x: Tensor | Sequence[int], name: str, dims: int) -> Tensor:
    t = torch.as_tensor(x, dtype=torch.long) if not isinstance(x, Tensor) else x.long()
    if t.dim() != dims:
        raise ValueError(f"{name} must be a {dims}-D tensor of token ids, got shape {tuple(t.shape)}")
    return t


@dataclass(frozen=True)
class ModelInput:
    """One sequence for the model. Build it with the class methods, which check the shapes.

    ``text``: ``[N]`` phoneme ids (or raw-text ids when ``text_is_raw``). ``prom``: ``[P, K]`` prompt
    codes (K >= the levels the pass sums), or a :class:`PromptMix` of several voices (blending).
    ``resp`` depends on ``kind``: ``ar`` ``[t]`` level-0 codes so far; ``nar`` ``[T, >=level]`` codes of the
    levels below ``level``; ``nar_len`` ``[T]`` level-0 codes with 1024 = mask; ``stt`` ``[T, 8]`` all
    levels. ``len_tokens``: ``[k]`` duration digits so far.
    """

    kind: Kind
    text: Tensor
    lang: int = 0
    prom: Tensor | PromptMix | None = None
    resp: Tensor | None = None
    len_tokens: Tensor | None = None
    level: int = 0
    text_is_raw: bool = False
    prom_task: int | None = None  # tasks_emb id (ns 2, sr 3) prepended inside the prompt segment

    # -- constructors ---------------------------------------------------------------------------
    # ``text_is_raw``: ``text`` holds raw-text ids (``raw_text_emb``). ``prom_task``: a tasks_emb id
    # (ns 2, sr 3) put at the start of the prompt segment.
    @classmethod
    def ar(
        cls,
        text: Tensor,
        lang: int,
        prom: Tensor | PromptMix | None,
        resp: Tensor,
        *,
        text_is_raw: bool = False,
        prom_task: int | None = None,
    ) -> ModelInput:
        """AR level 0: ``resp`` ``[t]`` level-0 codes generated so far (may be empty)."""
        return cls(
            "ar",
            _ids(text, "text", 1),
            lang,
            _prom(prom),
            _ids(resp, "resp", 1),
            text_is_raw=text_is_raw,
            prom_task=prom_task,
        )

    @classmethod
    def nar(
        cls,
        text: Tensor,
        lang: int,
        prom: Tensor | PromptMix | None,
        codes: Tensor,
        level: int,
        *,
        text_is_raw: bool = False,
        prom_task: int | None = None,
    ) -> ModelInput:
        """NAR level ``level`` (1..7): ``codes`` ``[T, >=level]``; levels ``0..level-1`` are the input."""
        codes = _ids(codes, "codes", 2)
        if not 1 <= level < LEVELS or codes.shape[1] < level:
            raise ValueError(
                f"NAR level must be 1..7 with codes [T, >=level]; got {level}, {tuple(codes.shape)}"
            )
        return cls(
            "nar",
            _ids(text, "text", 1),
            lang,
            _prom(prom),
            codes[:, :level],
            level=level,
            text_is_raw=text_is_raw,
            prom_task=prom_task,
        )

    @classmethod
    def nar_len(
        cls,
        text: Tensor,
        lang: int,
        prom: Tensor | PromptMix | None,
        resp: Tensor,
        *,
        text_is_raw: bool = False,
        prom_task: int | None = None,
    ) -> ModelInput:
        """NAR-len level 0 demasking: ``resp`` ``[T]`` with 1024 at masked positions."""
        return cls(
            "nar_len",
            _ids(text, "text", 1),
            lang,
            _prom(prom),
            _ids(resp, "resp", 1),
            text_is_raw=text_is_raw,
            prom_task=prom_task,
        )

    @classmethod
    def length(
        cls,
        text: Tensor,
        lang: int,
        prom: Tensor | PromptMix | None,
        digits: Tensor,
        *,
        text_is_raw: bool = False,
        prom_task: int | None = None,
    ) -> ModelInput:
        """Duration prediction: ``digits`` ``[k]`` predicted so far (starts with ``[0]``)."""
        return cls(
            "len",
            _ids(text, "text", 1),
            lang,
            _prom(prom),
            len_tokens=_ids(digits, "digits", 1),
            text_is_raw=text_is_raw,
            prom_task=prom_task,
        )

    @classmethod
    def stt(cls, codes: Tensor, lang: int, text: Tensor) -> ModelInput:
        """Speech-to-text: ``codes`` ``[T, 8]``, ``text`` ``[n]`` phonemes so far (starts with <bos>)."""
        codes = _ids(codes, "codes", 2)
        if codes.shape[1] < LEVELS - 1:
            raise ValueError(f"speech-to-text needs codes [T, 8], got {tuple(codes.shape)}")
        return cls("stt", _ids(text, "text", 1), lang, None, codes)

    # -- derived --------------------------------------------------------------------------------
    @property
    def head(self) -> int:
        """Index of the classifier (``classifiers.proj.N``) this pass uses."""
        return {"ar": HEAD_AR, "nar_len": HEAD_NAR_LEN, "len": HEAD_LEN, "stt": HEAD_STT}.get(
            self.kind, self.level
        )


def _prom(prom: Tensor | PromptMix | None) -> Tensor | PromptMix | None:
    if prom is None or isinstance(prom, PromptMix):
        return prom
    p = _ids(prom, "prom", 2)
    return p if p.shape[0] > 0 else None


@dataclass(frozen=True)
class Assembled:
    """One embedded sequence: ``embeds`` ``[S, dim]``, ``positions`` ``[S]`` int64."""

    embeds: Tensor
    positions: Tensor
    causal: bool
    segments: tuple[tuple[str, int], ...]  # (name, length) per segment, for diagnostics
    next_position: int  # position id the next output token would get (cache decoding)
    quirk_positions: bool  # ns/sr task prompt: positions are not extendable token by token


def _sum_levels(tables: torch.nn.ModuleList, codes: Tensor, levels: range, offset: int) -> Tensor:
    """``Σ_{l in levels} tables[l + offset](codes[:, l])`` -> ``[T, dim]``."""
    out: Tensor | None = None
    for lvl in levels:
        e = tables[lvl + offset](codes[:, lvl])
        out = e if out is None else out + e
    assert out is not None
    return out


def prompt_levels(level: int, legacy: bool) -> range:
    """Prompt levels summed for target ``level``: HEAD ``0..max(L-1, 0)``; legacy ``0..max(L-2, 0)``."""
    return range(max(level - (2 if legacy else 1), 0) + 1)


def resp_levels(level: int, legacy: bool) -> range:
    """Input levels summed for NAR target ``level`` >= 1: HEAD ``0..L-1``; legacy ``0..max(L-2, 0)``."""
    return range(max(level - (2 if legacy else 1), 0) + 1)


def assemble(model: VallEModel, inp: ModelInput) -> Assembled:
    """Embed ``inp`` as upstream does; see the module docstring for the layout."""
    cfg = model.config
    dev = model.sep.device

    def ids(t: Tensor) -> Tensor:
        return t.to(dev)

    legacy = cfg.legacy_summing
    target = inp.level if inp.kind == "nar" else 0
    if inp.text_is_raw:
        if model.raw_text_emb is None:
            raise ValueError(
                "this model has no raw-text embedding (raw_text_emb); phonemize the text instead"
            )
        text_e = model.raw_text_emb(ids(inp.text))
    else:
        text_e = model.text_emb(ids(inp.text))
    lang_e = model.langs_emb(torch.tensor([inp.lang], device=dev))
    ql_e = model.rvq_l_emb(torch.tensor([target], device=dev))

    segs: list[tuple[str, Tensor, int]] = []  # (name, embeds, counted length for positions)
    if inp.kind == "stt":
        assert inp.resp is not None
        codes = ids(inp.resp)
        resp_e = model.resps_emb.embeddings[0](codes[:, 0]) + _sum_levels(
            model.resps_emb.embeddings, codes, range(1, LEVELS - 1), 1
        )
        segs += [("resp", resp_e, resp_e.shape[0]), ("lang", lang_e, 1), ("quant_level", ql_e, 1)]
        segs.append(("text", text_e, text_e.shape[0]))
    else:
        segs += [("text", text_e, text_e.shape[0]), ("lang", lang_e, 1), ("quant_level", ql_e, 1)]
        if inp.prom is not None:
            levels = prompt_levels(target, legacy)
            width = inp.prom.levels if isinstance(inp.prom, PromptMix) else inp.prom.shape[1]
            if width < len(levels):
                raise ValueError(f"the prompt has {width} levels; level {target} needs {len(levels)}")
            if isinstance(inp.prom, PromptMix):  # voice blending: see prompt_mix.py
                prom_e = embed_mix(model.proms_emb.embeddings, inp.prom.to(dev), levels)
            else:
                prom_e = _sum_levels(model.proms_emb.embeddings, ids(inp.prom), levels, 0)
            counted = prom_e.shape[0]
            if inp.prom_task is not None:
                if model.tasks_emb is None:
                    raise ValueError("this model has no task embedding (tasks_emb); ns/sr prompts need it")
                task_e = model.tasks_emb(torch.tensor([inp.prom_task], device=dev))
                prom_e = torch.cat([task_e, prom_e])
            segs.append(("prom", prom_e, counted))
        segs.append(_output_segment(model, inp, dev))

    parts: list[Tensor] = []
    positions: list[Tensor] = []
    sep = model.sep[None]
    for i, (_, emb, counted) in enumerate(segs):
        last = i == len(segs) - 1
        parts.append(emb)
        if not last:
            parts.append(sep)
        positions.append(torch.arange(counted + (0 if last else 1)))
    embeds = torch.cat(parts)
    quirk = inp.prom is not None and inp.prom_task is not None
    if cfg.unified_position_ids:
        pos = torch.arange(embeds.shape[0])
        next_pos = embeds.shape[0]
    else:
        pos = torch.cat(positions)
        if quirk:  # upstream pads the one uncounted position at the end with a 1
            pos = torch.cat([pos, torch.ones(embeds.shape[0] - pos.shape[0], dtype=torch.long)])
        next_pos = segs[-1][2]
    causal = inp.kind in ("ar", "len", "stt") or not cfg.noncausal_masks
    return Assembled(
        embeds=embeds,
        positions=pos.to(dev),
        causal=causal,
        segments=tuple((name, int(emb.shape[0])) for name, emb, _ in segs),
        next_position=next_pos,
        quirk_positions=quirk and not cfg.unified_position_ids,
    )


def _output_segment(model: VallEModel, inp: ModelInput, dev: torch.device) -> tuple[str, Tensor, int]:
    """The last segment: len digits, or the response as the pass embeds it."""
    if inp.kind == "len":
        if model.len_emb is None:
            raise ValueError("this model has no duration head (len_emb / classifiers.proj.10)")
        assert inp.len_tokens is not None
        e = model.len_emb(inp.len_tokens.to(dev))
        return ("len", e, e.shape[0])
    assert inp.resp is not None
    resp = inp.resp.to(dev)
    tables = model.resps_emb.embeddings
    if inp.kind == "ar":
        e = tables[0](resp)
    elif inp.kind == "nar_len":
        if len(tables) <= LEVELS:
            raise ValueError("this model has no NAR-len embedding (resps_emb.embeddings.8)")
        e = tables[LEVELS](resp)
    else:  # nar: input levels 0..L-1 go through tables 1..L ("NAR:{l-1}:{l}" encodes codebook l-1)
        e = _sum_levels(tables, resp, resp_levels(inp.level, model.config.legacy_summing), 1)
    return ("resp", e, e.shape[0])
