"""Every forward case of the two tiny upstream checkpoints, against upstream's own numbers.

Each case compares, in order, the position ids, the attention kind, the input embeddings, every
layer's residual output, the final hidden state and the logits, so a failure names the first place
where this implementation diverges. Tolerance: the fixtures' recommended atol = rtol = 1e-4.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file

from valle_studio.engine.model import ModelInput, VallEModel, load_model
from valle_studio.engine.sampling import cfg_combine

ATOL = RTOL = 1e-4
LEVEL_CASES = [f"nar_level{i}" for i in range(1, 8)]
COMMON = ["ar_step0", "ar_step10", "ar_step0_noprom_de", "ar_step5_rawtext", *LEVEL_CASES]
NAR_LEN_CASES = ["nar_len_masked", "nar_len_masked_null", "nar_len_allmasked", "nar_len_ns_task_prompt"]
FORWARD = {
    "ar+nar-len": [*COMMON, "len_step0", "len_step2", *NAR_LEN_CASES, "stt"],
    "ar+nar": [*COMMON, "stt"],
}
PARAMS = [pytest.param(tag, case, id=f"{tag}/{case}") for tag, cases in FORWARD.items() for case in cases]


@pytest.fixture(scope="module")
def cases(parity_dir: Path) -> dict[str, Any]:
    return json.loads((parity_dir / "cases.json").read_text())


@pytest.fixture(scope="module")
def expected(parity_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(parity_dir / "expected.safetensors")


@pytest.fixture(scope="module")
def models(parity_dir: Path) -> dict[str, VallEModel]:
    # the tiny ar+nar file uses HEAD's summing, so the automatic legacy choice is overridden
    return {
        "ar+nar-len": load_model(parity_dir / "tiny-ar+nar-len.sft"),
        "ar+nar": load_model(parity_dir / "tiny-ar+nar.sft", legacy_summing=False),
    }


def _case(cases: dict[str, Any], tag: str, case_id: str) -> dict[str, Any]:
    return next(c for c in cases["forward_cases"][tag] if c["id"] == case_id)


def build_input(spec: dict[str, Any], inputs: dict[str, Any]) -> ModelInput:
    """The ModelInput a case's ``inputs_spec`` describes."""
    text = spec["text"]
    text_t = torch.tensor(inputs[text] if isinstance(text, str) else text)
    resp = torch.tensor(inputs["resp"])
    prom_spec = spec.get("prom")
    prom = torch.tensor(inputs["prom"]) if prom_spec else None
    kw: dict[str, Any] = {"text_is_raw": spec.get("text_kind", "").startswith("raw")}
    if isinstance(prom_spec, list):
        kw["prom_task"] = 2  # "ns"
    if spec["task"] == "stt":
        return ModelInput.stt(resp, spec["lang"], text_t)
    if spec["task"] == "len":
        return ModelInput.length(text_t, spec["lang"], prom, torch.tensor(spec["len_tokens"]), **kw)
    if spec.get("nar_len"):
        return ModelInput.nar_len(text_t, spec["lang"], prom, torch.tensor(spec["resp"]), **kw)
    if spec["quant_level"] > 0:
        return ModelInput.nar(text_t, spec["lang"], prom, resp, spec["quant_level"], **kw)
    return ModelInput.ar(text_t, spec["lang"], prom, torch.tensor(spec["resp"]), **kw)


def _close(name: str, got: torch.Tensor, want: torch.Tensor) -> None:
    assert got.shape == want.shape, f"{name}: shape {tuple(got.shape)} != {tuple(want.shape)}"
    err = (got - want).abs().max().item()
    assert torch.allclose(got, want, atol=ATOL, rtol=RTOL), f"{name} diverges: max abs error {err:.3g}"


def test_case_list_covers_the_fixtures(cases: dict[str, Any]) -> None:
    for tag, ids in FORWARD.items():
        stored = [c["id"] for c in cases["forward_cases"][tag] if c["id"] != "ar_step10_cfg"]
        assert sorted(stored) == sorted(ids), f"{tag}: fixture cases changed"


@pytest.mark.parametrize(("tag", "case_id"), PARAMS)
def test_forward_case(
    tag: str,
    case_id: str,
    cases: dict[str, Any],
    expected: dict[str, torch.Tensor],
    models: dict[str, VallEModel],
) -> None:
    case = _case(cases, tag, case_id)
    model = models[tag]
    rows = expected[case["logits"]].shape[0]
    trace = model.trace(build_input(case["inputs_spec"], cases["inputs"]), last=rows)

    assert trace.position_ids.tolist() == case["position_ids"]
    assert trace.causal == (case["attention"] == "causal")
    assert [length for _, length in trace.segments] == [s["length"] for s in case["segments"]]
    _close("inputs_embeds", trace.inputs_embeds, expected[case["inputs_embeds"]])
    for i, key in enumerate(case.get("layer_outputs", [])):
        _close(f"layer {i} output", trace.layer_outputs[i], expected[key])
    _close("final hidden state", trace.final_hidden, expected[case["final_hidden"]])
    if "head_less_output" in case:  # stt: upstream HEAD returns these hidden rows
        _close("stt hidden rows", trace.final_hidden[-rows:], expected[case["head_less_output"]])
    _close("logits", trace.logits, expected[case["logits"]])


@pytest.mark.parametrize("tag", list(FORWARD))
def test_batched_forward_gives_the_same_logits(
    tag: str, cases: dict[str, Any], expected: dict[str, torch.Tensor], models: dict[str, VallEModel]
) -> None:
    """The public ``forward`` (not ``trace``) reproduces the stored logits too."""
    case = _case(cases, tag, "nar_level3")
    logits = models[tag]([build_input(case["inputs_spec"], cases["inputs"])], last=20)[0]
    _close("logits", logits, expected[case["logits"]])


@pytest.mark.parametrize(("strength", "rescale"), [(2.5, 0.75), (3.0, 0.0)], ids=["s2.5_r0.75", "s3.0_r0.0"])
def test_nar_len_cfg_combination(
    strength: float,
    rescale: float,
    cases: dict[str, Any],
    expected: dict[str, torch.Tensor],
    models: dict[str, VallEModel],
) -> None:
    model = models["ar+nar-len"]
    cond_case = _case(cases, "ar+nar-len", "nar_len_masked")
    null_case = _case(cases, "ar+nar-len", "nar_len_masked_null")
    cond = model([build_input(cond_case["inputs_spec"], cases["inputs"])], last=20)[0]
    null = model([build_input(null_case["inputs_spec"], cases["inputs"])], last=20)[0]
    entry = next(e for e in cond_case["cfg"] if e["strength"] == strength and e["rescale"] == rescale)
    _close("cfg logits", cfg_combine(cond, null, strength, rescale), expected[entry["logits"]])


@pytest.mark.parametrize("tag", list(FORWARD))
def test_ar_cfg_combination_over_the_response_rows(
    tag: str, cases: dict[str, Any], expected: dict[str, torch.Tensor], models: dict[str, VallEModel]
) -> None:
    model = models[tag]
    case = _case(cases, tag, "ar_step10_cfg")
    spec = case["inputs_spec"]
    cond_in = build_input(_case(cases, tag, "ar_step10")["inputs_spec"], cases["inputs"])
    null_in = ModelInput.ar(torch.tensor(spec["null"]["text"]), 0, None, torch.tensor(spec["null"]["resp"]))
    rows = spec["cfg"]["lens"][0]
    cond = model([cond_in], last=rows)[0]
    null = model([null_in], last=rows)[0]
    _close("cond logits", cond, expected[case["cond_logits"]])
    _close("null logits", null, expected[case["null_logits"]])
    combined = cfg_combine(cond, null, spec["cfg"]["strength"], spec["cfg"]["rescale"])
    _close("cfg logits", combined, expected[case["logits"]])
