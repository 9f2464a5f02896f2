"""The catalog's facts (paths, pins, terms) and how they turn into URLs."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from huggingface_hub import hf_hub_url

from tests.engine.test_store_fakehub import FakeHub
from valle_studio.engine.store import (
    CATALOG,
    DEFAULT_MODEL,
    ENCODEC,
    TOKENIZERS,
    VOCOS,
    Endpoints,
    ModelStore,
    RemoteFile,
)
from valle_studio.engine.store.catalog import licence_notes

COMMIT = "73833ee56d163998d295b25f88bd295d27ed8768"


def test_models_and_their_published_paths() -> None:
    assert DEFAULT_MODEL == "ar+nar-len-llama-8"
    expected = {
        "ar+nar-len-llama-8": "models/ckpt/ar+nar-len-llama-8/ckpt/fp32.sft",
        "ar+nar-llama-8": "models/ckpt/ar+nar-llama-8/fp32.sft",
    }
    for name, path in expected.items():
        [file] = CATALOG[name].files
        assert (file.origin, file.repo, file.revision) == ("huggingface", "ecker/vall-e", "main")
        assert file.path == path
        assert CATALOG[name].requires == (TOKENIZERS, ENCODEC, VOCOS)
        assert "model card" in CATALOG[name].licence


def test_the_default_model_url_is_upstreams() -> None:
    file = CATALOG[DEFAULT_MODEL].files[0]
    url = Endpoints().url_for(file)
    # The URL upstream's download_model() hard-codes (reference §1).
    assert url == "https://huggingface.co/ecker/vall-e/resolve/main/models/ckpt/ar%2Bnar-len-llama-8/ckpt/fp32.sft"
    assert url == hf_hub_url(file.repo, file.path, revision=file.revision)


def test_tokenizers_are_pinned_to_the_upstream_commit() -> None:
    files = {f.local_name: f for f in CATALOG[TOKENIZERS].files}
    assert files["tokenizer.json"].sha256 == (
        "6fe259457bcd02fc62fb7a429daf496599394f153a4f26b292aef6e16dba923a")
    assert files["text_tokenizer.json"].sha256 == (
        "31511da1ba11d5a11ddc9b8fa8f71878f3492a2c8fedad10f5d5c4e320a46447")
    assert Endpoints().url_for(files["tokenizer.json"]) == (
        f"https://raw.githubusercontent.com/e-c-k-e-r/vall-e/{COMMIT}/data/tokenizer.json")
    assert "AGPL" in CATALOG[TOKENIZERS].licence


def test_pinned_tokenizer_hashes_and_sizes_match_upstreams_bytes(parity_dir: Path) -> None:
    for file in CATALOG[TOKENIZERS].files:
        data = (parity_dir / file.local_name).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (file.size, file.sha256)


def test_real_tokenizer_entries_download_and_verify(parity_dir: Path, tmp_path: Path) -> None:
    """The real catalog entry (URL layout and pinned hashes), served upstream's bytes, installs."""
    with FakeHub() as hub:
        for file in CATALOG[TOKENIZERS].files:
            data = (parity_dir / file.local_name).read_bytes()
            hub.add_plain(f"/gh/{file.repo}/{file.revision}/{file.path}", data)
        store = ModelStore(tmp_path, endpoints=hub.endpoints)
        assert store.download(TOKENIZERS)
    paths = store.tokenizer_paths()
    assert paths.phonemes.read_bytes() == (parity_dir / "tokenizer.json").read_bytes()
    assert paths.text.read_bytes() == (parity_dir / "text_tokenizer.json").read_bytes()


def test_codec_sources() -> None:
    [encodec] = CATALOG[ENCODEC].files
    assert Endpoints().url_for(encodec) == "https://dl.fbaipublicfiles.com/encodec/v0/encodec_24khz-d7cc33bc.th"
    assert encodec.sha256_prefix == "d7cc33bc"
    assert [(f.repo, f.path) for f in CATALOG[VOCOS].files] == [
        ("charactr/vocos-encodec-24khz", "config.yaml"),
        ("charactr/vocos-encodec-24khz", "pytorch_model.bin"),
    ]
    assert CATALOG[ENCODEC].licence.startswith("CC-BY-NC 4.0")
    assert CATALOG[VOCOS].licence.startswith("MIT")


def test_licence_notes_cover_everything_a_model_needs() -> None:
    notes = dict(licence_notes(CATALOG, DEFAULT_MODEL))
    # The model by its catalog id (as everywhere it is named), the files it needs by their titles.
    assert set(notes) == {DEFAULT_MODEL, *(CATALOG[n].display_name for n in (TOKENIZERS, ENCODEC, VOCOS))}


def test_endpoints_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VALLE_STUDIO_OFFLINE", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "https://hf-mirror.com/")
    endpoints = Endpoints.from_env()
    assert endpoints.huggingface == "https://hf-mirror.com" and not endpoints.offline
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert Endpoints.from_env().offline
    with pytest.raises(ValueError, match="http"):
        Endpoints(huggingface="ftp://x")


def test_remote_file_rejects_bad_pins() -> None:
    with pytest.raises(ValueError, match="64 hex"):
        RemoteFile("github", "a/b", "c", "d", "e", sha256="abc")
    with pytest.raises(ValueError, match="bare file name"):
        RemoteFile("github", "a/b", "c", "d", "../e")


def test_only_the_pre_fix_model_is_marked_for_legacy_summing() -> None:
    from valle_studio.engine.store.catalog import CATALOG

    assert CATALOG["ar+nar-llama-8"].legacy_summing
    assert not CATALOG["ar+nar-len-llama-8"].legacy_summing
