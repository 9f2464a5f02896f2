"""ns / sr / vc: what a checkpoint allows (from its metadata), the input layouts against upstream's
reference (the golden ``nar_len_ns_task_prompt`` case, §3.1 and §3.4), and whole runs on the tiny model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from valle_studio.engine.codec import EncodecVocosCodec
from valle_studio.engine.debug import write_tiny_checkpoint
from valle_studio.engine.generation.nar_len import MASK_TOKEN, VC_MASKED_TAIL, vc_start
from valle_studio.engine.model import ModelInput, load_model
from valle_studio.engine.model.config import TASKS
from valle_studio.engine.requests import SynthesisRequest
from valle_studio.engine.settings import GenerationSettings
from valle_studio.engine.synthesizer import Synthesizer
from valle_studio.engine.tasks import TaskError, clean_inputs, convert_inputs, generate, task_support

FAST = GenerationSettings(max_steps=3, max_duration=2.0, seed=3)


def _record(model: Any) -> list[ModelInput]:
    """Every ModelInput the model is run on (or prefilled with) from now on."""
    seen: list[ModelInput] = []
    forward, prefill = model.forward, model.prefill

    def spy_forward(inputs, last=1):
        seen.extend(inputs)
        return forward(inputs, last)

    def spy_prefill(inputs, cache, last=1):
        seen.extend(inputs)
        return prefill(inputs, cache, last)

    model.forward, model.prefill = spy_forward, spy_prefill
    return seen


# -- capabilities -----------------------------------------------------------------------------------
def _variant(tmp_path: Path, name: str, *, drop: tuple[str, ...] = (), config: dict[str, Any] | None = None,
             **kwargs: Any) -> Path:
    path = write_tiny_checkpoint(tmp_path / f"{name}.sft", **kwargs)
    if drop or config:
        from safetensors import safe_open

        with safe_open(str(path), "pt") as handle:
            meta = dict(handle.metadata())
        tensors = {k: v for k, v in load_file(str(path)).items() if not k.startswith(drop)}
        stored = json.loads(meta["config"]) | (config or {})
        save_file(tensors, str(path), metadata={**meta, "config": json.dumps(stored)})
    return path


def test_tasks_follow_the_checkpoints_metadata(tmp_path: Path) -> None:
    full = task_support(load_model(_variant(tmp_path, "full")))
    assert all(full[t].available and not full[t].needs_text for t in ("ns", "sr", "vc"))
    ar_nar = task_support(load_model(_variant(tmp_path, "arnar", capabilities=("ar", "nar"))))
    assert ar_nar["ns"].available and not ar_nar["vc"].available
    assert "lists no 'len' capability" in ar_nar["vc"].reason
    few = task_support(load_model(_variant(tmp_path, "few", config={"tasks": 3})))
    assert few["ns"].available and not few["sr"].available
    assert few["sr"].reason == "this model's config declares 3 tasks, not speech removal (task 3)"
    no_task = task_support(load_model(_variant(tmp_path, "notask", drop=("tasks_emb",))))
    assert not no_task["ns"].available and "no task embedding for noise suppression" in no_task["ns"].reason
    deaf = task_support(load_model(_variant(tmp_path, "deaf", drop=("classifiers.proj.9",))))
    assert deaf["ns"].needs_text and deaf["vc"].needs_text


# -- layouts --------------------------------------------------------------------------------------------
def test_clean_builds_upstreams_ns_prompt_layout(parity_dir: Path) -> None:
    """The NAR-len input of a clean-up run is exactly the golden ``nar_len_ns_task_prompt`` case: text,
    lang, quant level, then ``tasks_emb(ns)`` and the clip inside the prompt segment (positions shifted)."""
    cases = json.loads((parity_dir / "cases.json").read_text())
    case = next(c for c in cases["forward_cases"]["ar+nar-len"] if c["id"] == "nar_len_ns_task_prompt")
    expected = load_file(parity_dir / "expected.safetensors")
    model = load_model(parity_dir / "tiny-ar+nar-len.sft")
    inputs = cases["inputs"]
    clip = torch.tensor(inputs["prom"])
    task = clean_inputs(torch.tensor(inputs["phn"]), inputs["lang"], clip, "ns", FAST)
    assert (task.prompt_task, task.length) == ("ns", 30) and torch.equal(task.prompt, clip)  # the clip's length
    seen = _record(model)
    generate(model, task, FAST.replace(max_steps=1), use_nar_len=True, generator=torch.Generator().manual_seed(0),
             progress=None, cancel=None)
    first = next(i for i in seen if i.kind == "nar_len")
    assert first.prom_task == TASKS["ns"] and all(i.prom_task == TASKS["ns"] for i in seen if i.kind == "nar")
    resp = torch.tensor(case["inputs_spec"]["resp"])
    trace = model.trace(ModelInput.nar_len(first.text, first.lang, first.prom, resp, prom_task=first.prom_task),
                        last=20)
    assert trace.position_ids.tolist() == case["position_ids"]
    torch.testing.assert_close(trace.inputs_embeds, expected[case["inputs_embeds"]], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(trace.logits, expected[case["logits"]], atol=1e-4, rtol=1e-4)


def test_vc_start_scatters_the_masked_source_as_upstream() -> None:
    """§3.4: the source with 25 % of its frames and the last 75 masked, written onto the picked positions
    in the order topk picked them (Tensor.scatter), and masked where the response equals that copy."""
    frames = 100
    source = torch.randint(0, 1024, (frames,), generator=torch.Generator().manual_seed(1))
    resp = torch.full((frames,), MASK_TOKEN)
    picked = torch.randperm(frames, generator=torch.Generator().manual_seed(2))[:60]
    gen = torch.Generator().manual_seed(9)
    out, masked = vc_start(resp, picked, source, generator=gen)
    # The same by hand: the draw, the copy, the scatter, the comparison.
    draw = torch.rand(frames, generator=torch.Generator().manual_seed(9))
    copy = torch.where(draw < 0.25, torch.full_like(source, MASK_TOKEN), source)
    copy[-VC_MASKED_TAIL:] = MASK_TOKEN
    want = resp.clone()
    for j, position in enumerate(picked.tolist()):
        want[position] = copy[j]
    assert torch.equal(out, want) and torch.equal(masked, want == copy)
    share = float((copy[:-VC_MASKED_TAIL] == MASK_TOKEN).float().mean())
    assert 0.05 < share < 0.5  # about a quarter of the frames before the tail


def test_convert_uses_the_target_voice_and_the_sources_length() -> None:
    voice = torch.randint(0, 1024, (12, 8))
    source = torch.randint(0, 1024, (40, 8))
    task = convert_inputs(torch.tensor([1, 5, 2]), 0, source, voice, FAST.replace(max_duration=0.4))
    assert task.length == 30 and task.vc_source is not None and task.vc_source.shape == (30, 8)  # capped: 0.4 s
    assert torch.equal(task.prompt, voice) and task.prompt_task is None


# -- whole runs --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def synth(tiny_tokenizer: Path, tmp_path_factory: pytest.TempPathFactory) -> Synthesizer:
    path = write_tiny_checkpoint(tmp_path_factory.mktemp("tasks") / "tiny.sft", seed=3)
    return Synthesizer.load(path, device="cpu", codec=EncodecVocosCodec.random(seed=0), tokenizer=tiny_tokenizer)


CLIP = np.random.default_rng(0).integers(0, 1024, (45, 8))


def test_clean_keeps_the_clips_length_and_hears_its_words(synth: Synthesizer) -> None:
    seen = _record(synth.model)
    result = synth.clean(CLIP, task="ns", settings=FAST)
    assert result.codes.shape == (45, 8) and result.audio is not None and len(result.audio) == 45 * 320
    assert "(ns)" in result.modality
    stt = [i for i in seen if i.kind == "stt"]
    assert stt, "the transcript comes from the model's own speech-to-text head"
    nar_len = [i for i in seen if i.kind == "nar_len" and i.prom is not None]
    assert nar_len and torch.equal(nar_len[0].prom.cpu(), torch.as_tensor(CLIP))
    assert nar_len[0].text[0] == 1 and nar_len[0].text[-1] == 2  # <bos> transcript </eos>
    given = synth.clean(CLIP, task="sr", text="hello", settings=FAST)
    assert given.sentences[0].text == "hello" and given.codes.shape == (45, 8)


def test_convert_speaks_the_source_in_the_voice(synth: Synthesizer) -> None:
    voice = np.random.default_rng(1).integers(0, 1024, (20, 8))
    request = SynthesisRequest(prompts=(voice,), settings=FAST)
    seen = _record(synth.model)
    result = synth.convert(CLIP, request, text="hello")
    assert result.codes.shape == (45, 8) and "(vc)" in result.modality
    first = next(i for i in seen if i.kind == "nar_len" and i.prom is not None)
    assert torch.equal(first.prom.cpu(), torch.as_tensor(voice)) and first.prom_task is None
    with pytest.raises(TaskError, match="needs a target voice"):
        synth.convert(CLIP, SynthesisRequest(settings=FAST), text="hello")


def test_a_model_without_nar_len_refuses_conversion(tiny_tokenizer: Path, tmp_path: Path) -> None:
    path = write_tiny_checkpoint(tmp_path / "arnar.sft", capabilities=("ar", "nar"), noncausal_masks=False)
    synth = Synthesizer.load(path, device="cpu", codec=EncodecVocosCodec.random(seed=0), tokenizer=tiny_tokenizer)
    with pytest.raises(TaskError, match="voice conversion needs NAR-len"):
        synth.convert(CLIP, SynthesisRequest(prompts=(CLIP,), settings=FAST), text="hi")
    result = synth.clean(CLIP, settings=FAST.replace(max_duration=0.3))  # the AR says it, up to the cap
    assert 1 <= len(result.codes) <= 22 and result.modality == "ar+nar (ns)"
