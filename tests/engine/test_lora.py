"""LoRA: read, merge at a strength, remove bit for bit, refuse what does not fit; the store and the
synthesizer's per-request slot. All on the tiny models and LoRAs of engine/debug.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from valle_studio.engine.debug import write_tiny_checkpoint, write_tiny_lora
from valle_studio.engine.lora import LoraError, LoraSlot, apply_lora, read_lora, resolve_lora
from valle_studio.engine.model import ModelInput, load_model
from valle_studio.engine.store import ModelStore
from valle_studio.engine.store.errors import InvalidModelFileError, StoreError

TEXT = torch.tensor([1, 20, 31, 42, 53, 64, 2])
PROMPT = torch.randint(0, 1024, (15, 8), generator=torch.Generator().manual_seed(4))
RESP = torch.randint(0, 1024, (10, 8), generator=torch.Generator().manual_seed(5))


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("lora")
    return {
        "model": write_tiny_checkpoint(root / "m.sft"),
        "lora": write_tiny_lora(root / "glados" / "lora.sft", name="glados"),
        "other": write_tiny_lora(root / "other.sft", name="other", seed=7, rank=2, alpha=2.0),
        "narrow": write_tiny_lora(root / "narrow.sft", dim=32, name="narrow"),
        "deep": write_tiny_lora(root / "deep.sft", layers=3, name="deep"),
        "partial": write_tiny_lora(root / "partial.sft", rvq_levels=(0,), name="partial"),
    }


def logits_of(model) -> list[torch.Tensor]:
    """Logits of every kind of pass: AR, NAR level 3, NAR-len, len."""
    return [
        model([ModelInput.ar(TEXT, 0, PROMPT, RESP[:6, 0])], last=6),
        model([ModelInput.nar(TEXT, 0, PROMPT, RESP, 3)], last=10),
        model([ModelInput.nar_len(TEXT, 0, PROMPT, torch.full((10,), 1024))], last=10),
        model([ModelInput.length(TEXT, 0, PROMPT, torch.tensor([0, 7]))], last=2),
    ]


def test_apply_then_remove_gives_the_base_logits_bit_for_bit(files: dict[str, Path]) -> None:
    model = load_model(files["model"], dtype=torch.float32)
    base = logits_of(model)
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    applied = apply_lora(model, read_lora(files["lora"]), 1.0, model_name="tiny")
    changed = logits_of(model)
    assert all((a - b).abs().max() > 1e-3 for a, b in zip(base, changed, strict=True))  # it does something
    assert len(applied.changed) == 2 * 6  # 2 layers x q, v, o, gate, up, down; never k_proj
    assert not any("k_proj" in name for name in applied.changed)
    applied.remove()
    assert all(torch.equal(a, b) for a, b in zip(base, logits_of(model), strict=True))
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in weights.items())
    applied.remove()  # twice is harmless


def test_merged_equals_upstreams_unmerged_computation(files: dict[str, Path]) -> None:
    """Upstream adds (x A^T B^T) * alpha/rank on the fly; merged it is the same to float rounding (§9)."""
    lora = read_lora(files["lora"])
    merged = load_model(files["model"], dtype=torch.float32)
    apply_lora(merged, lora, 0.8, model_name="tiny")
    reference = load_model(files["model"], dtype=torch.float32)
    modules = dict(reference.named_modules())
    for pair in lora.pairs:
        module = modules[pair.target.removesuffix(".weight")]
        module.weight = torch.nn.Parameter(module.weight.detach().clone(), requires_grad=False)  # unfused

        def hook(mod, args, out, a=pair.a, b=pair.b):
            return out + (args[0] @ a.T @ b.T) * (0.8 * lora.scale)

        module.register_forward_hook(hook)
    for got, want in zip(logits_of(merged), logits_of(reference), strict=True):
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


def test_strength_scales_the_update_and_zero_changes_nothing(files: dict[str, Path]) -> None:
    lora = read_lora(files["lora"])
    model = load_model(files["model"], dtype=torch.float32)
    base = dict(model.named_parameters())
    target = lora.pairs[0].target
    original = base[target].detach().clone()
    delta = (lora.pairs[0].b @ lora.pairs[0].a) * lora.scale
    assert lora.scale == 2.0  # alpha 8 / rank 4, from the config metadata
    for strength in (0.0, 0.5, 1.5):
        applied = apply_lora(model, lora, strength, model_name="tiny")
        torch.testing.assert_close(base[target].detach(), original + strength * delta, atol=1e-6, rtol=1e-6)
        applied.remove()
        assert torch.equal(base[target].detach(), original)


def test_a_lora_for_another_base_is_refused_naming_both(files: dict[str, Path]) -> None:
    model = load_model(files["model"], dtype=torch.float32)
    before = logits_of(model)
    with pytest.raises(LoraError, match=r"LoRA narrow \(narrow\.sft\) does not fit the model 'ar\+nar-len-tiny': "
                                         r"model\.layers\.0\.mlp\.down_proj\.weight is \[64, 256\] in the model "
                                         r"but \[32, 128\] in the LoRA"):
        apply_lora(model, read_lora(files["narrow"]), 1.0, model_name="ar+nar-len-tiny")
    with pytest.raises(LoraError, match=r"LoRA deep \(deep\.sft\) does not fit the model 'tiny': "
                                         r"model\.layers\.2\..* does not exist in the model"):
        apply_lora(model, read_lora(files["deep"]), 1.0, model_name="tiny")
    assert all(torch.equal(a, b) for a, b in zip(before, logits_of(model), strict=True))  # untouched


def test_quantised_models_are_refused(files: dict[str, Path]) -> None:
    model = load_model(files["model"], dtype=torch.float32)
    model.quantized = "int8"  # what engine/quantize.py sets; its weights are no longer float matrices
    with pytest.raises(LoraError, match="quantised to int8; load it without quantisation"):
        apply_lora(model, read_lora(files["lora"]), 1.0, model_name="tiny")


def _save(path: Path, tensors: dict[str, torch.Tensor], config: object = None) -> Path:
    metadata = {} if config is None else {"config": config if isinstance(config, str) else json.dumps(config)}
    save_file(tensors, str(path), metadata=metadata)
    return path


@pytest.mark.parametrize(("tensors", "config", "message"), [
    ({"model.layers.0.self_attn.q_proj.lora_A": torch.zeros(4, 64)}, {"rank": 4, "alpha": 4},
     r"q_proj has no lora_B \(every adapted layer needs both halves\)"),
    ({"text_emb.weight": torch.zeros(4, 64)}, {"rank": 4, "alpha": 4}, "is not a LoRA file: tensors text_emb.weight"),
    ({"a.lora_A": torch.zeros(4, 64), "a.lora_B": torch.zeros(64, 4)}, None, "has no 'config' metadata"),
    ({"a.lora_A": torch.zeros(4, 64), "a.lora_B": torch.zeros(64, 4)}, "{", "not valid JSON"),
    ({"a.lora_A": torch.zeros(4, 64), "a.lora_B": torch.zeros(64, 4)}, {"rank": 0, "alpha": 4}, "config.rank must"),
    ({"a.lora_A": torch.zeros(4, 64), "a.lora_B": torch.zeros(64, 4)}, {"rank": 4, "alpha": "x"}, "config.alpha"),
    ({"a.lora_A": torch.zeros(2, 64), "a.lora_B": torch.zeros(64, 2)}, {"rank": 4, "alpha": 4}, "has rank 2"),
    ({"a.lora_A": torch.zeros(4, 64), "a.lora_B": torch.zeros(64, 3)}, {"rank": 4, "alpha": 4}, "expected"),
    ({"a.lora_A": torch.full((4, 64), float("nan")), "a.lora_B": torch.zeros(64, 4)}, {"rank": 4, "alpha": 4},
     "NaN or infinite"),
])
def test_unusable_lora_files_are_refused(tmp_path: Path, tensors: dict[str, torch.Tensor], config: object,
                                         message: str) -> None:
    with pytest.raises(LoraError, match=message):
        read_lora(_save(tmp_path / "bad.sft", tensors, config))


def test_other_bad_files(tmp_path: Path, files: dict[str, Path]) -> None:
    with pytest.raises(LoraError, match="LoRA file not found"):
        read_lora(tmp_path / "missing.sft")
    (tmp_path / "junk.sft").write_bytes(b"not a safetensors file at all")
    with pytest.raises(LoraError, match="not a readable safetensors LoRA file"):
        read_lora(tmp_path / "junk.sft")
    with pytest.raises(LoraError, match=r"trained for RVQ levels \[0\] only"):
        read_lora(files["partial"])
    with pytest.raises(LoraError, match="is not a LoRA file"):
        read_lora(files["model"])  # a full model


def test_parametrized_names_and_the_config_name_are_read(tmp_path: Path) -> None:
    a, b = torch.randn(2, 64), torch.randn(64, 2)
    path = _save(tmp_path / "lora.sft", {"model.layers.0.self_attn.q_proj.parametrizations.weight.0.lora_A": a,
                                         "model.layers.0.self_attn.q_proj.parametrizations.weight.0.lora_B": b},
                 {"rank": 2, "alpha": 2, "name": "p"})
    lora = read_lora(path)
    assert [p.target for p in lora.pairs] == ["model.layers.0.self_attn.q_proj.weight"] and lora.name == "p"


def test_the_slot_swaps_loras_exactly(files: dict[str, Path]) -> None:
    model = load_model(files["model"], dtype=torch.float32)
    base = logits_of(model)
    slot = LoraSlot(model, "tiny")
    slot.use(str(files["lora"]), 1.0, None)
    first = logits_of(model)
    applied = slot.applied
    slot.use(str(files["lora"]), 1.0, None)  # the same again: nothing happens
    assert slot.applied is applied and slot.active == "glados"
    slot.use(str(files["other"]), 0.5, None)
    assert slot.active == "other" and not torch.equal(first[0], logits_of(model)[0])
    slot.use(str(files["lora"]), 1.0, None)
    assert all(torch.equal(a, b) for a, b in zip(first, logits_of(model), strict=True))
    slot.use("", 1.0, None)
    assert all(torch.equal(a, b) for a, b in zip(base, logits_of(model), strict=True))
    slot.use(str(files["lora"]), 0.0, None)  # strength 0 is no LoRA
    assert slot.applied is None
    with pytest.raises(LoraError, match="does not fit"):  # refused before the merged one is taken out
        slot.use(str(files["lora"]), 1.0, None)
        slot.use(str(files["narrow"]), 1.0, None)
    assert slot.active == "glados"


def test_store_imports_lists_resolves_and_removes_loras(tmp_path: Path, files: dict[str, Path]) -> None:
    store = ModelStore(tmp_path / "models")
    assert "lora-glados" in store.available_loras() and store.installed_loras() == []
    assert "model card" in store.entry("lora-glados").licence and store.entry("lora-glados").kind == "lora"
    name = store.import_lora(files["other"])
    assert name == "other" and store.installed_loras() == ["other"]
    assert resolve_lora("other", store) == tmp_path / "models" / "_loras" / "other" / "lora.sft"
    with pytest.raises(StoreError, match="already installed"):
        store.import_lora(files["other"])
    with pytest.raises(InvalidModelFileError, match="is not a LoRA file"):
        store.import_lora(files["model"], "x")
    with pytest.raises(StoreError, match="belongs to a model of the catalog"):
        store.import_lora(files["lora"], "ar+nar-llama-8")
    with pytest.raises(LoraError, match=r"the LoRA 'nope' is not installed: .*models download lora-nope"):
        resolve_lora("nope", store)
    assert store.remove_lora("other") and store.installed_loras() == []
    assert store.installed() == []  # a LoRA never shows up as a model


def test_a_catalog_lora_downloads_into_the_store_and_applies(tmp_path: Path, files: dict[str, Path]) -> None:
    from tests.engine.test_store_fakehub import FakeHub, serve_catalog

    with FakeHub() as hub:
        world = serve_catalog(hub)
        entry = world.catalog["lora-glados"]
        hub.add_hub_file(entry.files[0].repo, entry.files[0].path, files["lora"].read_bytes(), lfs=True)
        store = ModelStore(tmp_path / "models", endpoints=hub.endpoints, catalog=world.catalog)
        [written] = store.download("lora-glados")
    assert written == tmp_path / "models" / "_loras" / "lora-glados" / "lora.sft"
    assert store.installed_loras() == ["lora-glados"] and store.lora_path("glados") == written
    model = load_model(files["model"], dtype=torch.float32)
    LoraSlot(model, "tiny").use("glados", 1.0, store)  # the short name finds lora-glados
    assert entry.files[0].path == "loras/ckpt/lora-glados-r128-a128/lora.sft"
