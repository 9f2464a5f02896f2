"""Every generation case of the two tiny upstream checkpoints must give IDENTICAL codes.

The upstream calls (``cases.json → generation_cases[*].calls``) are mapped onto our loops:
``ar_*`` keywords -> the AR sampler, ``nar_*`` -> the NAR sampler, unprefixed ``top_no`` -> both
(upstream's internal default 1.0 when not passed), ``ar_cfg_strength`` -> the AR CFG or the
NAR-len CFG (which upstream raises to >= 2.5 anyway), ``len_list`` -> the NAR-len length.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from valle_studio.engine import generation as gen
from valle_studio.engine.model import VallEModel, load_model
from valle_studio.engine.sampling import SamplerConfig

AR_NAR = ["ar_nar_main", "ar_nar_noprom_en", "ar_nar_de_noprom", "ar_nar_penalties", "ar_nar_cfg3"]
NAR_LEN = ["nar_len_main", "nar_len_topno_default", "nar_len_remask_maskedonly", "nar_len_cfg3"]
GENERATION = {"ar+nar-len": [*AR_NAR, "len", *NAR_LEN], "ar+nar": AR_NAR}
PARAMS = [pytest.param(tag, case, id=f"{tag}/{case}") for tag, cases in GENERATION.items() for case in cases]
UPSTREAM_TOP_NO_DEFAULT = 1.0


@pytest.fixture(scope="module")
def cases(parity_dir: Path) -> dict[str, Any]:
    return json.loads((parity_dir / "cases.json").read_text())


@pytest.fixture(scope="module")
def models(parity_dir: Path) -> dict[str, VallEModel]:
    return {
        "ar+nar-len": load_model(parity_dir / "tiny-ar+nar-len.sft"),
        "ar+nar": load_model(parity_dir / "tiny-ar+nar.sft", legacy_summing=False),
    }


def _case(cases: dict[str, Any], tag: str, case_id: str) -> dict[str, Any]:
    return next(c for c in cases["generation_cases"][tag] if c["id"] == case_id)


def _conditioning(case_id: str, inputs: dict[str, Any]) -> dict[str, Any]:
    if case_id == "ar_nar_de_noprom":
        return {"text": torch.tensor(inputs["phn_de"]), "language_id": inputs["lang_de"], "prompt": None}
    prompt = None if case_id == "ar_nar_noprom_en" else torch.tensor(inputs["prom"])
    return {"text": torch.tensor(inputs["phn"]), "language_id": inputs["lang"], "prompt": prompt}


def _sampler(kwargs: dict[str, Any], prefix: str) -> SamplerConfig:
    """Upstream keyword routing: ``<prefix>_x`` and unprefixed ``x`` reach this stage."""

    def get(name: str, default: Any) -> Any:
        return kwargs.get(f"{prefix}_{name}", kwargs.get(name, default))

    return SamplerConfig(
        temperature=get("temperature", 1.0),
        top_no=get("top_no", UPSTREAM_TOP_NO_DEFAULT),
        repetition_penalty=get("repetition_penalty", 1.0),
        repetition_penalty_decay=get("repetition_penalty_decay", 0.0),
        length_penalty=get("length_penalty", 0.0),
    )


def _nar(
    model: VallEModel, level0: torch.Tensor, cond: dict[str, Any], kwargs: dict[str, Any]
) -> torch.Tensor:
    return gen.generate_nar(model, level0=level0, sampler=_sampler(kwargs, "nar"), **cond)


def test_case_list_covers_the_fixtures(cases: dict[str, Any]) -> None:
    for tag, ids in GENERATION.items():
        assert sorted(c["id"] for c in cases["generation_cases"][tag]) == sorted(ids), f"{tag}: cases changed"


@pytest.mark.parametrize(("tag", "case_id"), PARAMS)
def test_generation_case(
    tag: str, case_id: str, cases: dict[str, Any], models: dict[str, VallEModel]
) -> None:
    case = _case(cases, tag, case_id)
    model = models[tag]
    cond = _conditioning(case_id, cases["inputs"])
    first = case["calls"][0]["kwargs"]
    if case_id == "len":
        tokens = gen.predict_length_tokens(model, **cond)
        assert tokens == case["len_tokens"]
        assert gen.tokens_to_frames(tokens) == case["len"]
        assert gen.predict_length(model, **cond) == case["len"]
        return
    if case_id.startswith("ar_nar"):
        level0 = gen.generate_ar(
            model,
            sampler=_sampler(first, "ar"),
            max_frames=first["max_duration"],
            cfg_strength=first.get("ar_cfg_strength", 0.0),
            **cond,
        )
        assert level0.tolist() == case["ar_level0"]
        codes = _nar(model, level0, cond, case["calls"][1]["kwargs"])
    else:
        level0 = gen.generate_nar_len(
            model,
            length=first["len_list"][0],
            steps=first["max_steps"],
            sampler=_sampler(first, "ar"),
            cfg_strength=first.get("ar_cfg_strength", 0.0),
            remask=first.get("sampling_scores_remask", False),
            masked_only=first.get("sampling_scores_masked_only", False),
            **cond,
        )
        assert level0.tolist() == [row[0] for row in case["codes"]]
        codes = _nar(model, level0, cond, first)
    assert codes.tolist() == case["codes"]


@pytest.mark.parametrize("batch_cfg", [True, False], ids=["cfg-batched", "cfg-separate"])
@pytest.mark.parametrize("tag", list(GENERATION))
def test_ar_cfg_same_codes_batched_or_not(
    tag: str, batch_cfg: bool, cases: dict[str, Any], models: dict[str, VallEModel]
) -> None:
    case = _case(cases, tag, "ar_nar_cfg3")
    kwargs = case["calls"][0]["kwargs"]
    level0 = gen.generate_ar(
        models[tag],
        sampler=_sampler(kwargs, "ar"),
        max_frames=25,
        cfg_strength=3.0,
        batch_cfg=batch_cfg,
        **_conditioning("ar_nar_cfg3", cases["inputs"]),
    )
    assert level0.tolist() == case["ar_level0"]


@pytest.mark.parametrize("batch_cfg", [True, False], ids=["cfg-batched", "cfg-separate"])
def test_nar_len_same_codes_batched_or_not(
    batch_cfg: bool, cases: dict[str, Any], models: dict[str, VallEModel]
) -> None:
    case = _case(cases, "ar+nar-len", "nar_len_cfg3")
    level0 = gen.generate_nar_len(
        models["ar+nar-len"],
        length=20,
        steps=8,
        cfg_strength=3.0,
        sampler=SamplerConfig(temperature=0.0),
        batch_cfg=batch_cfg,
        **_conditioning("nar_len_cfg3", cases["inputs"]),
    )
    assert level0.tolist() == [row[0] for row in case["codes"]]


@pytest.mark.parametrize("case_id", ["ar_nar_main", "ar_nar_penalties"])
def test_uncached_ar_matches_too(case_id: str, cases: dict[str, Any], models: dict[str, VallEModel]) -> None:
    """Upstream's own strategy (recompute everything each step) gives the same codes as the cache."""
    case = _case(cases, "ar+nar-len", case_id)
    kwargs = case["calls"][0]["kwargs"]
    level0 = gen.generate_ar(
        models["ar+nar-len"],
        sampler=_sampler(kwargs, "ar"),
        max_frames=25,
        use_cache=False,
        **_conditioning(case_id, cases["inputs"]),
    )
    assert level0.tolist() == case["ar_level0"]


def test_nar_with_cfg_batched_equals_separate(cases: dict[str, Any], models: dict[str, VallEModel]) -> None:
    """Not an upstream case: NAR CFG must not depend on how the two passes are run."""
    model = models["ar+nar-len"]
    cond = _conditioning("ar_nar_main", cases["inputs"])
    level0 = torch.tensor(_case(cases, "ar+nar-len", "ar_nar_main")["ar_level0"])
    runs = [
        gen.generate_nar(
            model,
            level0=level0,
            sampler=SamplerConfig(temperature=0.0),
            cfg_strength=3.0,
            batch_cfg=batch,
            **cond,
        )
        for batch in (True, False)
    ]
    assert torch.equal(runs[0], runs[1])
