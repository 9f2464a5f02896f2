"""``gpu_check`` item (a): is the device's arithmetic right?

1. **Golden logits.** Every forward case of the golden vectors (``shared/fixtures/ecker-parity``:
   both tiny upstream checkpoints, AR, NAR levels, len, NAR-len and STT passes) runs in float32 on
   the device; its logits are compared with upstream's CPU numbers and, off the CPU, with the same
   pass on our CPU path. The bar is the fixtures' tolerance, 1e-4.
2. **Greedy codes in half precision.** Greedy AR+NAR and NAR-len generations (temperature 0 at every
   stage) of the benchmark model in float16 / bfloat16 against the same in float32: the share of
   frames whose 8 codes are all identical, the share of level-0 codes, and the first frame where
   they part. A greedy AR run that parts once continues from a different history, so the frame
   share of a free run mostly says *where* it parted. Fed float32's own codes (one causal pass for
   level 0, one NAR pass per level: "teacher-forced"), the share of frames whose argmax is float32's
   on every level says how often half precision flips a single step, and the float32 top-1 margins
   beside the size of the logit change say why (random weights give flat logits).
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks._figures import Goal, Results
from benchmarks.bench_ar import FPS, conditioning
from valle_studio.engine import pipeline
from valle_studio.engine.model import ModelInput, VallEModel, load_model
from valle_studio.engine.settings import GenerationSettings, Modality

ROOT = Path(__file__).resolve().parent.parent
TOLERANCE = 1e-4
AGREEMENT_GOAL = 95.0
GOLDEN_FILES = {"ar+nar-len": ("tiny-ar+nar-len.sft", None), "ar+nar": ("tiny-ar+nar.sft", False)}
# The CFG case feeds two inputs and combines them: the combination is CPU arithmetic, not the device's.
SKIPPED_CASES = {"ar_step10_cfg"}


def default_golden_dir() -> Path:
    """``$VALLE_PARITY_DIR``, else ``../shared/fixtures/ecker-parity`` beside the checkout (as the tests)."""
    return Path(os.environ.get("VALLE_PARITY_DIR", ROOT.parent / "shared" / "fixtures" / "ecker-parity"))


def case_input(spec: dict[str, Any], inputs: dict[str, Any]) -> ModelInput:
    """The :class:`ModelInput` a forward case's ``inputs_spec`` describes (cases.json, README §2)."""
    text = spec["text"]
    text_t = torch.tensor(inputs[text] if isinstance(text, str) else text)
    prom = torch.tensor(inputs["prom"]) if spec.get("prom") else None
    kw: dict[str, Any] = {"text_is_raw": spec.get("text_kind", "").startswith("raw")}
    if isinstance(spec.get("prom"), list):
        kw["prom_task"] = 2  # "ns"
    if spec["task"] == "stt":
        return ModelInput.stt(torch.tensor(inputs["resp"]), spec["lang"], text_t)
    if spec["task"] == "len":
        return ModelInput.length(text_t, spec["lang"], prom, torch.tensor(spec["len_tokens"]), **kw)
    if spec.get("nar_len"):
        return ModelInput.nar_len(text_t, spec["lang"], prom, torch.tensor(spec["resp"]), **kw)
    if spec["quant_level"] > 0:
        return ModelInput.nar(text_t, spec["lang"], prom, torch.tensor(inputs["resp"]), spec["quant_level"], **kw)
    return ModelInput.ar(text_t, spec["lang"], prom, torch.tensor(spec["resp"]), **kw)


@torch.inference_mode()
def golden_logits(results: Results, device: torch.device, golden: Path) -> None:
    """Figures: worst |logit difference| of the device against upstream's CPU numbers (and our CPU)."""
    name = f"golden logits, float32 on {device.type} vs upstream CPU"
    if not (golden / "cases.json").is_file():
        results.add("a", name, None, note=f"skipped: golden vectors not found at {golden} (lay out ../shared "
                                          "beside the checkout, set VALLE_PARITY_DIR, or pass --golden DIR)")
        return
    from safetensors.torch import load_file

    cases = json.loads((golden / "cases.json").read_text(encoding="utf-8"))
    expected = load_file(str(golden / "expected.safetensors"))
    worst_up, worst_cpu, count = (0.0, ""), (0.0, ""), 0
    for tag, (file, legacy) in GOLDEN_FILES.items():
        on_device = load_model(golden / file, device=device, dtype=torch.float32, legacy_summing=legacy)
        on_cpu = on_device if device.type == "cpu" else load_model(golden / file, legacy_summing=legacy)
        for case in cases["forward_cases"][tag]:
            if case["id"] in SKIPPED_CASES:
                continue
            want = expected[case["logits"]]
            inp = case_input(case["inputs_spec"], cases["inputs"])
            got = on_device.trace(inp, last=want.shape[0]).logits.float().cpu()
            count += 1
            err = float((got - want).abs().max())
            worst_up = max(worst_up, (err, f"{tag}/{case['id']}"))
            if on_cpu is not on_device:
                ours = on_cpu.trace(inp, last=want.shape[0]).logits
                worst_cpu = max(worst_cpu, (float((got - ours).abs().max()), f"{tag}/{case['id']}"))
    goal = Goal("<=", TOLERANCE, f"<= {TOLERANCE:g} (fixtures' tolerance)")
    results.add("a", name, worst_up[0], goal=goal, note=f"max |diff| over {count} forward cases, worst "
                                                         f"{worst_up[1]}")
    cpu_name = f"golden logits, float32 on {device.type} vs our CPU path"
    if device.type == "cpu":
        results.add("a", cpu_name, None, note="the device is the CPU itself: compared with upstream's CPU "
                                              "numbers above only")
    else:
        results.add("a", cpu_name, worst_cpu[0], goal=goal, note=f"max |diff| over {count} cases, worst "
                                                                  f"{worst_cpu[1]}")


def half_precision_skips(device: torch.device) -> dict[torch.dtype, str]:
    """The half precisions not checked on ``device``, each with the reason."""
    if device.type != "cpu":
        return {}
    return {torch.float16: "skipped on the CPU: the engine never runs float16 there (load_model refuses half "
                           "precision on the CPU; only bfloat16 has native CPU kernels worth a setting), so "
                           "its codes would describe no real run; the CUDA run checks float16"}


def greedy_codes(model: VallEModel, modality: Modality, seconds: float, steps: int) -> np.ndarray:
    """Greedy codes ``[T, 8]`` for ``seconds`` of speech (3 s prompt; NAR-len with ``steps`` steps)."""
    frames = int(seconds * FPS)
    text, prompt = conditioning(seconds)
    settings = GenerationSettings(modality=modality, max_duration=seconds, seed=0, max_steps=steps,
                                  ar_temperature=0.0, nar_temperature=0.0,
                                  duration_frames=frames if modality == "nar-len" else None)
    gen = torch.Generator(device=model.device).manual_seed(0)
    codes = pipeline.generate_lines(model, [pipeline.LineInput(text, 0)], prompt.to(model.device), settings,
                                    modality=modality, generator=gen)[0]
    return codes.cpu().numpy()


@torch.inference_mode()
def teacher_forced_logits(model: VallEModel, reference: np.ndarray, seconds: float) -> list[torch.Tensor]:
    """Per level, the logits ``[T, classes]`` (float32, CPU) that ``model`` gives every frame when fed the
    reference's own codes: level 0 by one causal AR pass over its history, level L by one NAR pass
    over levels < L. The argmax of these is what greedy decoding picks, without a divergence cascading."""
    text, prompt = conditioning(seconds)
    codes = torch.as_tensor(reference)
    frames = codes.shape[0]
    ar = ModelInput.ar(text, 0, prompt, codes[:-1, 0])
    out = [model([ar], last=frames)[0, :, :1024].float().cpu()]  # the stop class never wins (pinned low)
    for level in range(1, codes.shape[1]):
        nar = ModelInput.nar(text, 0, prompt, codes[:, :level], level)
        out.append(model([nar], last=frames)[0].float().cpu())
    return out


def forced_agreement(logits: list[torch.Tensor], reference: np.ndarray) -> tuple[float, float]:
    """(% frames whose argmax equals the reference on all levels, % on level 0)."""
    picks = torch.stack([x.argmax(-1) for x in logits], dim=1)
    same = picks == torch.as_tensor(reference)
    return float(same.all(dim=1).float().mean()) * 100, float(same[:, 0].float().mean()) * 100


def margin_vs_error(ref: list[torch.Tensor], half: list[torch.Tensor]) -> str:
    """Median top-1 minus top-2 logit of float32 beside the median largest |logit change| per row."""
    top2 = torch.cat([x.topk(2, dim=-1).values for x in ref])
    margin = float((top2[:, 0] - top2[:, 1]).median())
    change = float(torch.cat([(h - r).abs().amax(-1) for h, r in zip(half, ref, strict=True)]).median())
    return f"median float32 top-1 margin {margin:.3f} vs median largest |logit change| {change:.3f}"


def compare(ours: np.ndarray, reference: np.ndarray) -> tuple[float, float, str]:
    """(% frames identical in all levels, % level-0 codes identical, first divergence in words)."""
    n = min(len(ours), len(reference))
    if n == 0:
        return 0.0, 0.0, "no frames to compare"
    same = (ours[:n] == reference[:n]).all(axis=1)
    frames = float(same.sum() / max(len(ours), len(reference)) * 100)
    level0 = float((ours[:n, 0] == reference[:n, 0]).sum() / max(len(ours), len(reference)) * 100)
    if same.all():
        where = "never" if len(ours) == len(reference) else f"lengths differ ({len(ours)} vs {len(reference)})"
    else:
        t = int(np.argmin(same))
        level = int(np.argmax(ours[t] != reference[t]))
        where = f"frame {t} of {n} (level {level})"
    return frames, level0, where


@torch.inference_mode()
def greedy_agreement(results: Results, model: VallEModel, *, seconds: float, steps: int, full_size: bool) -> None:
    """Figures: float16 / bfloat16 greedy codes against float32's, both modalities."""
    skips = half_precision_skips(model.device)
    goal = Goal(">=", AGREEMENT_GOAL, f">= {AGREEMENT_GOAL:g}% of frames", applies=full_size,
                why_not="the goal is set on the full-size model; the tiny one only exercises the check")
    for dtype, reason in skips.items():
        results.add("a", f"greedy codes {_name(dtype)} vs float32", None, note=reason)
    dtypes = [d for d in (torch.float16, torch.bfloat16) if d not in skips]
    modalities: tuple[Modality, ...] = ("ar+nar", "nar-len")
    references = {m: greedy_codes(model, m, seconds, steps) for m in modalities}
    forced_ref = teacher_forced_logits(model, references["ar+nar"], seconds)
    own, _ = forced_agreement(forced_ref, references["ar+nar"])
    for dtype in dtypes:
        half = copy.deepcopy(model).to(dtype).fuse()
        for modality, reference in references.items():
            codes = greedy_codes(half, modality, seconds, steps)
            frames, level0, where = compare(codes, reference)
            detail = f", {steps} steps" if modality == "nar-len" else ""
            results.add("a", f"greedy {_name(dtype)} = float32, {modality} {seconds:g} s{detail}: frames", frames,
                        "%", goal=goal, note=f"level-0 codes identical {level0:.1f}%; first divergence: {where}")
        forced = teacher_forced_logits(half, references["ar+nar"], seconds)
        frames, level0 = forced_agreement(forced, references["ar+nar"])
        results.add("a", f"greedy {_name(dtype)} = float32, AR+NAR fed float32's codes: frames", frames, "%",
                    bound="no goal (a diagnostic)",
                    note=f"each frame's argmax given float32's codes before it (AR) and below it (NAR): no "
                         f"cascade; level 0 {level0:.1f}%; {margin_vs_error(forced_ref, forced)}; float32's own "
                         f"full passes reproduce its cached greedy codes on {own:.1f}% of frames")
        del half, forced


def _name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")
