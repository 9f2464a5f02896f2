"""Loading checkpoints: formats, metadata flags, optional tensors, the legacy switch and every refusal."""

from __future__ import annotations

import json
import pathlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from valle_studio.engine import generation as gen
from valle_studio.engine.debug import write_tiny_checkpoint
from valle_studio.engine.model import CheckpointError, DeviceError, ModelInput, VallEModel, load_model
from valle_studio.engine.model.inputs import prompt_levels, resp_levels
from valle_studio.engine.sampling import SamplerConfig

GREEDY = SamplerConfig(temperature=0.0)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny-ar+nar-len.sft", seed=1)


@pytest.fixture(scope="module")
def stored(tiny: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    with safe_open(str(tiny), framework="pt") as fh:
        return {k: fh.get_tensor(k) for k in fh.keys()}, dict(fh.metadata())  # noqa: SIM118


def _save(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> Path:
    save_file(tensors, str(path), metadata=metadata)
    return path


def _text() -> torch.Tensor:
    return torch.tensor([1, 40, 50, 60, 70, 2])


def _prompt() -> torch.Tensor:
    return torch.randint(0, 1024, (9, 8), generator=torch.Generator().manual_seed(0))


# -- the real file format ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "caps", "noncausal", "legacy"),
    [
        ("tiny-ar+nar-len.sft", {"ar", "nar", "len", "lang"}, True, False),
        ("tiny-ar+nar.sft", {"ar", "nar", "lang"}, False, False),
    ],
    ids=["ar+nar-len", "ar+nar"],
)
def test_upstream_files_load_with_their_flags(
    parity_dir: Path, name: str, caps: set[str], noncausal: bool, legacy: bool
) -> None:
    model = load_model(parity_dir / name)
    cfg = model.config
    assert (cfg.dim, cfg.heads, cfg.layers, cfg.ffn_dim) == (64, 4, 2, 256)
    assert cfg.capabilities == caps and cfg.version == 5
    assert cfg.noncausal_masks is noncausal and cfg.legacy_summing is legacy
    assert not cfg.unified_position_ids and not cfg.inferred
    assert model.can_nar_len is ("len" in caps)
    assert all(p.dtype == torch.float32 and not p.requires_grad for p in model.parameters())
    assert "dropout_token" in model.ignored_tensors


def test_tiny_checkpoint_matches_upstream_format(tiny: Path, stored: tuple[dict, dict]) -> None:
    tensors, meta = stored
    assert set(meta) == {"config", "userdata", "stats"}
    config = json.loads(meta["config"])
    assert config["capabilities"] == ["ar", "nar", "len", "lang"] and config["path"] is None
    assert config["experimental"]["noncausal_masks"] is True
    assert json.loads(meta["stats"])["global_step"] == 0
    assert all(t.dtype == torch.float16 for t in tensors.values())
    assert tensors["classifiers.proj.10.weight"].shape == (11, 64)
    model = load_model(tiny)
    # weights are exactly the stored fp16 values, cast (no random init survives)
    assert torch.equal(model.sep, tensors["sep"].float())
    assert torch.equal(
        model.model.layers[1].mlp.down_proj.weight, tensors["model.layers.1.mlp.down_proj.weight"].float()
    )


def test_tiny_checkpoint_loops_stop_on_their_own(tiny: Path) -> None:
    model = load_model(tiny)
    level0 = gen.generate_ar(model, text=_text(), prompt=_prompt(), sampler=GREEDY, max_frames=300)
    assert 0 < len(level0) < 300


def test_capabilities_are_a_set(tmp_path: Path, stored: tuple[dict, dict]) -> None:
    tensors, meta = stored
    config = json.loads(meta["config"]) | {"capabilities": ["ar", "nar", "len", "lang", "lang"]}
    model = load_model(_save(tmp_path / "m.sft", tensors, meta | {"config": json.dumps(config)}))
    assert model.config.capabilities == {"ar", "nar", "len", "lang"}


def test_missing_config_metadata_is_inferred(tmp_path: Path, stored: tuple[dict, dict]) -> None:
    tensors, meta = stored
    model = load_model(_save(tmp_path / "m.sft", tensors, {"userdata": meta["userdata"]}))
    assert model.config.inferred and "len" in model.config.capabilities and model.config.noncausal_masks


def test_pth_with_module_key_gives_the_same_model(
    tmp_path: Path, tiny: Path, stored: tuple[dict, dict]
) -> None:
    tensors, meta = stored
    path = tmp_path / "m.pth"
    torch.save({"module": tensors, "config": json.loads(meta["config"])}, path)
    legacy_path = tmp_path / "old.pth"
    torch.save(
        {"module": tensors, "config": json.loads(meta["config"])},
        legacy_path,
        _use_new_zipfile_serialization=False,
    )
    inp = [ModelInput.nar(_text(), 0, _prompt(), _prompt()[:5], 4)]
    want = load_model(tiny)(inp, last=5)
    for p in (path, legacy_path):
        model = load_model(p)
        assert model.config.noncausal_masks
        assert torch.equal(model(inp, last=5), want)


# -- optional tensors ---------------------------------------------------------------------------------
OPTIONAL = [
    "raw_text_emb.weight",
    "resps_emb.embeddings.8.weight",
    "classifiers.proj.8.weight",
    "classifiers.proj.8.bias",
    "classifiers.proj.9.weight",
    "classifiers.proj.9.bias",
    "classifiers.proj.10.weight",
    "classifiers.proj.10.bias",
    "len_emb.weight",
    "tasks_emb.weight",
]


def test_missing_optional_tensors_disable_their_features(tmp_path: Path, stored: tuple[dict, dict]) -> None:
    tensors, meta = stored
    kept = {k: v for k, v in tensors.items() if k not in OPTIONAL}
    model = load_model(_save(tmp_path / "m.sft", kept, meta))
    cfg = model.config
    assert not (cfg.supports_raw_text or cfg.has_nar_len or cfg.has_stt_head or cfg.supports_len)
    assert not model.can_nar_len
    # AR + NAR still work
    level0 = gen.generate_ar(model, text=_text(), sampler=GREEDY, max_frames=6)
    if len(level0):
        assert gen.generate_nar(model, level0=level0, text=_text(), sampler=GREEDY).shape == (len(level0), 8)
    checks: list[tuple[Callable[[], Any], str]] = [
        (lambda: gen.predict_length(model, text=_text()), "duration head"),
        (lambda: gen.generate_nar_len(model, length=5, text=_text(), sampler=GREEDY), "NAR-len"),
        (lambda: gen.transcribe(model, _prompt()), "speech-to-text"),
        (
            lambda: gen.generate_ar(model, text=_text(), raw_text=True, sampler=GREEDY, max_frames=2),
            "raw-text",
        ),
        (
            lambda: gen.generate_ar(
                model, text=_text(), prompt=_prompt(), prompt_task="ns", sampler=GREEDY, max_frames=2
            ),
            "task embedding",
        ),
    ]
    for call, words in checks:
        with pytest.raises(ValueError, match=words):
            call()


# -- the legacy level-summing switch ------------------------------------------------------------------
def test_legacy_summing_rule_and_override(tiny: Path, tmp_path: Path) -> None:
    # a file on its own gets HEAD's summing, as upstream HEAD gives it (the golden files' flags are
    # checked in test_upstream_files_load_with_their_flags); both layouts, both overrides
    ar_nar = write_tiny_checkpoint(tmp_path / "tiny-ar+nar.sft", capabilities=("ar", "nar"), noncausal_masks=False)
    assert not load_model(ar_nar).config.legacy_summing
    assert not load_model(tiny).config.legacy_summing
    assert load_model(tiny, legacy_summing=True).config.legacy_summing
    assert not load_model(ar_nar, legacy_summing=False).config.legacy_summing


@pytest.mark.parametrize("level", range(1, 8), ids=[f"L{i}" for i in range(1, 8)])
def test_legacy_summing_drops_the_last_input_level(tiny: Path, level: int) -> None:
    """HEAD sums prompt levels 0..max(L-1,0) and input levels 0..L-1; legacy stops one level earlier
    (at max(L-2, 0)), so both agree for L = 1 and differ from L = 2 on."""
    head, legacy = load_model(tiny, legacy_summing=False), load_model(tiny, legacy_summing=True)
    prompt, codes = _prompt(), _prompt()[:4]
    inp = ModelInput.nar(_text(), 0, prompt, codes, level)
    e_head, e_legacy = head.embed(inp).embeds, legacy.embed(inp).embeds
    p0 = len(_text()) + 1 + 2 + 2  # text + sep, lang + sep, quant level + sep
    for model, emb, is_legacy in ((head, e_head, False), (legacy, e_legacy, True)):
        prom_want = sum(
            model.proms_emb.embeddings[lv](prompt[:, lv]) for lv in prompt_levels(level, is_legacy)
        )
        resp_want = sum(
            model.resps_emb.embeddings[lv + 1](codes[:, lv]) for lv in resp_levels(level, is_legacy)
        )
        assert torch.allclose(emb[p0 : p0 + 9], prom_want, atol=1e-6)
        assert torch.allclose(emb[-4:], resp_want, atol=1e-6)
    assert list(resp_levels(level, False)) == list(range(level))
    assert list(resp_levels(level, True)) == list(range(max(level - 1, 1)))
    assert torch.equal(e_head, e_legacy) is (level == 1)


# -- refusals ------------------------------------------------------------------------------------------
def _drop(prefix: str) -> Callable[[dict, dict], tuple[dict, dict]]:
    return lambda t, m: ({k: v for k, v in t.items() if not k.startswith(prefix)}, m)


def _with_config(**changes: Any) -> Callable[[dict, dict], tuple[dict, dict]]:
    def edit(t: dict, m: dict) -> tuple[dict, dict]:
        config = json.loads(m["config"])
        for key, value in changes.items():
            if key in config.get("experimental", {}):
                config["experimental"][key] = value
            else:
                config[key] = value
        return t, m | {"config": json.dumps(config)}

    return edit


def _set(name: str, value: torch.Tensor) -> Callable[[dict, dict], tuple[dict, dict]]:
    return lambda t, m: (t | {name: value}, m)


BROKEN = [
    pytest.param(_set("sep", torch.zeros(32, dtype=torch.float16)), "wrong shape.*sep", id="shape-mismatch"),
    pytest.param(
        _drop("classifiers.proj.3."), "missing: classifiers.proj.3.weight", id="missing-required-head"
    ),
    pytest.param(_drop("model.layers.0."), r"decoder layers \[0\] are missing", id="missing-layer"),
    pytest.param(
        _set("proms_emb.embs.0.weight", torch.zeros(1000, 64)), "v2.*not supported yet", id="v2-nemo-keys"
    ),
    pytest.param(_with_config(version=7), "not supported yet", id="v2-version-7"),
    pytest.param(_with_config(version=3), "only versions 5-6", id="unknown-version"),
    pytest.param(_with_config(version="five"), "version must be an integer", id="version-not-a-number"),
    pytest.param(_with_config(noncausal_masks="yes"), "noncausal_masks must be true or false", id="bad-flag"),
    pytest.param(_with_config(capabilities=5), "capabilities must be a list", id="bad-capabilities"),
    pytest.param(_with_config(split_classifiers=False), "split_classifiers", id="unsupported-flag"),
    pytest.param(
        _with_config(size={"dim": 64, "heads": 5, "layers": 2}), "attention heads", id="impossible-heads"
    ),
    pytest.param(lambda t, m: (t, m | {"config": "{not json"}), "not valid JSON", id="config-not-json"),
    pytest.param(_set("sep", torch.full((64,), float("nan"), dtype=torch.float16)), "NaN", id="nan-weights"),
    pytest.param(_set("sep", torch.zeros(64, dtype=torch.int32)), "floating point", id="integer-weights"),
    pytest.param(_set("model.layers.0.self_attn.q_proj.lora_A", torch.zeros(4, 64)), "LoRA", id="lora-file"),
]


@pytest.mark.parametrize(("edit", "message"), BROKEN)
def test_broken_safetensors_are_refused(
    tmp_path: Path, stored: tuple[dict, dict], edit: Callable, message: str
) -> None:
    tensors, meta = edit(dict(stored[0]), dict(stored[1]))
    path = _save(tmp_path / "broken.sft", tensors, meta)
    with pytest.raises(CheckpointError, match=message):
        load_model(path)


def test_another_models_safetensors_names_what_is_missing(tmp_path: Path) -> None:
    path = _save(
        tmp_path / "whisper.safetensors", {"encoder.conv1.weight": torch.zeros(8, 3)}, {"format": "pt"}
    )
    with pytest.raises(CheckpointError) as info:
        load_model(path)
    message = str(info.value)
    assert "does not look like a VALL-E" in message and "text_emb.weight" in message
    assert "encoder.conv1.weight" in message


def _truncate(fraction: float) -> Callable[[Path, Path], Path]:
    def make(src: Path, dst: Path) -> Path:
        data = src.read_bytes()
        dst.write_bytes(data[: int(len(data) * fraction)])
        return dst

    return make


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(lambda src, dst: dst, "not found", id="missing-file"),
        pytest.param(lambda src, dst: dst.parent, "is a folder", id="a-folder"),
        pytest.param(lambda src, dst: (dst.write_bytes(b""), dst)[1], r"empty \(0 bytes\)", id="zero-bytes"),
        pytest.param(_truncate(0.6), "truncated.*60%", id="truncated-data"),
        pytest.param(_truncate(0.0005), "truncated: its header", id="truncated-header"),
        pytest.param(
            lambda src, dst: (dst.write_text("hello " * 100), dst)[1], "neither a safetensors", id="text-file"
        ),
        pytest.param(
            lambda src, dst: (dst.write_bytes(b"PK\x03\x04" + b"\0" * 200), dst)[1],
            "truncated or corrupt",
            id="broken-zip",
        ),
    ],
)
def test_unreadable_files_are_refused(tmp_path: Path, tiny: Path, make: Callable, message: str) -> None:
    path = make(tiny, tmp_path / "model.sft")
    with pytest.raises(CheckpointError, match=message):
        load_model(path)


def test_truncated_pth_is_refused(tmp_path: Path, stored: tuple[dict, dict]) -> None:
    full = tmp_path / "full.pth"
    torch.save({"module": stored[0]}, full)
    cut = _truncate(0.5)(full, tmp_path / "cut.pth")
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_model(cut)


class _RunsCode:
    """Unpickling this calls ``Path.touch(marker)``: a stand-in for arbitrary code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def test_pth_that_would_run_code_is_refused_without_running_it(tmp_path: Path) -> None:
    marker = tmp_path / "code-ran"
    path = tmp_path / "evil.pth"
    torch.save({"module": {"sep": torch.zeros(4)}, "payload": _RunsCode(marker)}, path)
    # the file really is dangerous: an unsafe load runs the payload
    torch.load(path, weights_only=False)
    assert marker.exists()
    marker.unlink()
    with pytest.raises(CheckpointError, match=r"Refused to load evil\.pth.*could run code"):
        load_model(path)
    assert not marker.exists()


# -- devices ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("device", "dtype", "message"),
    [
        ("cpu", torch.float16, "float16 on the CPU is about 200x slower"),
        ("cpu", "int8", "unknown precision"),
        ("tpu", torch.float32, "unknown device"),
    ],
)
def test_bad_device_or_dtype_is_refused(tiny: Path, device: str, dtype: Any, message: str) -> None:
    with pytest.raises(DeviceError, match=message):
        load_model(tiny, device=device, dtype=dtype)


def test_bfloat16_on_the_cpu_needs_native_support(tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from valle_studio.engine.model import devices

    monkeypatch.setattr(devices, "cpu_bf16_native", lambda: (False, ""))
    with pytest.raises(DeviceError, match="bfloat16 on the CPU needs native support"):
        load_model(tiny, device="cpu", dtype="bf16")
    monkeypatch.setattr(devices, "cpu_bf16_native", lambda: (True, "AVX512_BF16"))
    assert load_model(tiny, device="cpu", dtype="bf16").dtype == torch.bfloat16


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_gpu_says_so(tiny: Path) -> None:
    with pytest.raises(DeviceError, match="no NVIDIA GPU"):
        load_model(tiny, device="cuda", dtype=torch.float16)


def test_auto_dtype_on_cpu_is_float32(tiny: Path) -> None:
    model: VallEModel = load_model(tiny, device="cpu", dtype="auto")
    assert model.dtype == torch.float32 and model.device.type == "cpu"
