"""Importing local checkpoints: cheap validation, atomic copy, and refusal of unsafe or broken files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from valle_studio.engine.progress import Cancelled, CancelToken
from valle_studio.engine.store import (
    DEFAULT_MODEL,
    InvalidModelFileError,
    ModelStore,
    StoreError,
    inspect_checkpoint,
)
from valle_studio.engine.store.names import derive_name

V1_KEY = "proms_emb.embeddings.0.weight"
CONFIG = {"name": "ar+nar-len-llama-8", "version": 5, "capabilities": ["ar", "nar", "len", "lang"]}


def write_tiny_sft(path: Path, *, key: str = V1_KEY, config: dict | None = CONFIG) -> Path:
    """A small safetensors file laid out as upstream exports: tensors plus JSON string metadata."""
    tensors = {key: torch.randn(8, 4, dtype=torch.float16), "model.norm.weight": torch.ones(4)}
    metadata = {"userdata": json.dumps({"symmap": {"a": 1}})}
    if config is not None:
        metadata["config"] = json.dumps(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata=metadata)
    return path


@pytest.fixture
def store(tmp_path: Path) -> ModelStore:
    return ModelStore(tmp_path / "models")


def test_import_of_a_valid_sft(tmp_path: Path, store: ModelStore) -> None:
    src = write_tiny_sft(tmp_path / "downloads" / "my-voice-model" / "ckpt" / "fp32.sft")
    name = store.import_file(src)
    assert name == "my-voice-model"  # generic stems and folders ("fp32", "ckpt") are skipped
    assert store.installed() == ["my-voice-model"]
    assert store.path_of(name) == store.root / name / "model.sft"
    assert store.path_of(name).read_bytes() == src.read_bytes()
    assert [p.name for p in (store.root / name).iterdir()] == ["model.sft"]  # no temp file left
    info = inspect_checkpoint(store.path_of(name))
    assert info.format == "sft" and info.config == CONFIG and info.tensors == 2


def test_import_under_a_catalog_name_installs_that_model(tmp_path: Path, store: ModelStore) -> None:
    src = write_tiny_sft(tmp_path / "fp32.sft")
    assert store.import_file(src, name=DEFAULT_MODEL) == DEFAULT_MODEL
    assert store.is_installed(DEFAULT_MODEL) and store.installed() == [DEFAULT_MODEL]
    with pytest.raises(StoreError, match="already installed"):
        store.import_file(src, name=DEFAULT_MODEL)
    store.import_file(src, name=DEFAULT_MODEL, replace=True)
    with pytest.raises(StoreError, match="reserved"):
        store.import_file(src, name="tokenizers")
    with pytest.raises(StoreError, match="invalid model name"):
        store.import_file(src, name="../escape")


def test_import_reports_progress_and_cancel_leaves_nothing(tmp_path: Path, store: ModelStore) -> None:
    src = write_tiny_sft(tmp_path / "voice.sft")
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        store.import_file(src, cancel=token)
    assert not (store.root / "voice").exists()
    events = []
    store.import_file(src, progress=events.append)
    assert events[0].stage == "importing voice.sft"
    assert events[-1].done == events[-1].total == src.stat().st_size


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: p.write_bytes(os.urandom(4096)), "not a safetensors file"),
    (lambda p: p.write_bytes(b"\x05\x00"), "only 2 bytes"),
    (lambda p: write_tiny_sft(p, key="text_emb.weight"), "not a VALL-E v1 checkpoint"),
    (lambda p: write_tiny_sft(p, config=None), "no 'config' metadata"),
])
def test_bogus_sft_files_are_refused(tmp_path: Path, store: ModelStore, make, message: str) -> None:
    src = tmp_path / "bogus.sft"
    make(src)
    with pytest.raises(InvalidModelFileError, match=message):
        store.import_file(src)
    assert store.installed() == [] and not (store.root / "bogus").exists()


def test_truncated_sft_is_refused(tmp_path: Path, store: ModelStore) -> None:
    src = write_tiny_sft(tmp_path / "cut.sft")
    src.write_bytes(src.read_bytes()[:-10])
    with pytest.raises(InvalidModelFileError, match="truncated"):
        store.import_file(src)


def test_wrong_extension_is_refused(tmp_path: Path, store: ModelStore) -> None:
    src = write_tiny_sft(tmp_path / "model.bin")
    with pytest.raises(InvalidModelFileError, match=r"expected a \.sft"):
        store.import_file(src)


def test_import_of_a_valid_pth(tmp_path: Path, store: ModelStore) -> None:
    src = tmp_path / "legacy.pth"
    torch.save({"module": {V1_KEY: torch.zeros(4, 2)}, "config": CONFIG}, src)
    name = store.import_file(src)
    assert name == "legacy" and store.path_of(name).name == "model.pth"
    assert inspect_checkpoint(store.path_of(name)).config == CONFIG


class _RunsCode:
    """Pickles to "call os.mkdir(marker)": what a malicious checkpoint looks like."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def test_a_pickle_that_would_run_code_is_refused_without_running(tmp_path: Path, store: ModelStore) -> None:
    marker = tmp_path / "code-ran"
    src = tmp_path / "evil.pth"
    torch.save({"module": {V1_KEY: torch.zeros(2)}, "payload": _RunsCode(marker)}, src)
    assert not marker.exists()

    with pytest.raises(InvalidModelFileError, match="could run code"):
        store.import_file(src)
    assert not marker.exists()
    assert store.installed() == [] and not (store.root / "evil").exists()

    # Proof the file really is hostile: an unrestricted load runs the payload.
    torch.load(src, weights_only=False)
    assert marker.is_dir()


def test_pth_without_the_v1_key_is_refused(tmp_path: Path, store: ModelStore) -> None:
    src = tmp_path / "other.pth"
    torch.save({"weight": torch.zeros(2)}, src)
    with pytest.raises(InvalidModelFileError, match="not a VALL-E v1"):
        store.import_file(src)


def test_upstream_tiny_checkpoint_imports(parity_dir: Path, store: ModelStore) -> None:
    """The fixture .sft was written by upstream's own exporter: it must pass validation as is."""
    name = store.import_file(parity_dir / "tiny-ar+nar-len.sft")
    assert name == "tiny-ar+nar-len"
    info = inspect_checkpoint(store.path_of(name))
    assert info.config is not None and info.config["version"] == 5


@pytest.mark.parametrize(("path", "name"), [
    ("/x/ecker/ar+nar-len-llama-8/ckpt/fp32.sft", "ar+nar-len-llama-8"),
    ("/x/My Voice (v2).sft", "My-Voice-v2"),
    ("/x/y/model.pth", "y"),
    ("/fp32/ckpt/model.sft", "imported-model"),
])
def test_derived_names(path: str, name: str) -> None:
    assert derive_name(Path(path)) == name


def test_engine_tiny_checkpoint_imports(tmp_path: Path, store: ModelStore) -> None:
    """What the engine's own writer produces must pass the import checks."""
    from valle_studio.engine.debug import write_tiny_checkpoint

    src = write_tiny_checkpoint(tmp_path / "tiny" / "fp32.sft", capabilities=("ar", "nar"))
    assert store.import_file(src) == "tiny"
    assert store.installed() == ["tiny"]
