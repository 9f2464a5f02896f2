"""Downloads against a real HTTP server on 127.0.0.1: progress, resume, checksums, cancel, offline."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from huggingface_hub import constants as hf_constants

from tests.engine.test_store_fakehub import FakeHub, World, serve_catalog
from valle_studio.engine.progress import Cancelled, CancelToken, Progress
from valle_studio.engine.store import (
    DEFAULT_MODEL,
    ENCODEC,
    TOKENIZERS,
    VOCOS,
    ChecksumError,
    DownloadError,
    Endpoints,
    ModelStore,
    OfflineError,
)

HF_CHUNK = hf_constants.DOWNLOAD_CHUNK_SIZE  # huggingface_hub writes (and we report) per chunk


@pytest.fixture
def hub() -> FakeHub:
    with FakeHub() as server:
        yield server


def _store(tmp_path: Path, hub: FakeHub, world: World) -> ModelStore:
    return ModelStore(tmp_path / "models", endpoints=hub.endpoints, catalog=world.catalog)


def _partials(store: ModelStore) -> list[Path]:
    return sorted(p for p in (store.root / ".partial").rglob("*.part"))


def test_download_fetches_every_file_with_progress(tmp_path: Path, hub: FakeHub) -> None:
    world = serve_catalog(hub)
    store = _store(tmp_path, hub, world)
    events: list[Progress] = []

    written = store.download(DEFAULT_MODEL, progress=events.append)

    assert len(written) == 6 and store.missing_files(DEFAULT_MODEL) == []
    assert store.path_of(DEFAULT_MODEL).read_bytes() == world.content[f"{DEFAULT_MODEL}/model.sft"]
    tok = store.tokenizer_paths()
    assert tok.phonemes.read_bytes() == world.content[f"{TOKENIZERS}/tokenizer.json"]
    codecs = store.codec_paths()
    assert codecs["vocos_config"].read_bytes() == world.content[f"{VOCOS}/config.yaml"]
    encodec = codecs["encodec_weights"]
    assert encodec.read_bytes() == world.content[f"{ENCODEC}/{encodec.name}"]
    assert _partials(store) == []

    model_events = [e for e in events if e.stage == "downloading model.sft"]
    size = len(world.content[f"{DEFAULT_MODEL}/model.sft"])
    assert model_events[0].done == 0 and model_events[-1].done == size
    assert all(e.total == size for e in model_events)
    assert [e.done for e in model_events] == sorted(e.done for e in model_events)
    assert any(e.stage == "verifying model.sft" and e.done == size for e in events)
    assert {e.detail.split(",")[0] for e in events} == {f"file {i} of 6" for i in range(1, 7)}
    # The model came through the Hub's redirect to the CDN origin.
    assert any(p.startswith("/blobs/") for m, p, _ in hub.requests if m == "GET")


def test_nothing_is_fetched_when_everything_is_present(tmp_path: Path, hub: FakeHub) -> None:
    world = serve_catalog(hub)
    store = _store(tmp_path, hub, world)
    store.download(DEFAULT_MODEL)
    before = len(hub.requests)
    assert store.download(DEFAULT_MODEL) == []
    assert len(hub.requests) == before


def test_interrupted_hub_download_resumes_and_verifies(tmp_path: Path, hub: FakeHub) -> None:
    # Larger than one huggingface_hub chunk, so a chunk reaches the disk before the cut.
    world = serve_catalog(hub, model_size=HF_CHUNK + 300_000)
    store = _store(tmp_path, hub, world)
    store.download(VOCOS)  # shared files first, so only the model is left
    store.download(TOKENIZERS)
    hub.cut_after = HF_CHUNK + 100_000

    with pytest.raises(DownloadError, match="download again to resume") as failure:
        store.download(DEFAULT_MODEL)
    assert not isinstance(failure.value, ChecksumError)
    assert not store.is_installed(DEFAULT_MODEL)
    [part] = _partials(store)
    expected = world.content[f"{DEFAULT_MODEL}/model.sft"]
    assert part.stat().st_size == HF_CHUNK and part.read_bytes() == expected[:HF_CHUNK]

    hub.broken = False
    store.download(DEFAULT_MODEL)
    assert store.path_of(DEFAULT_MODEL).read_bytes() == expected
    assert hub.ranges("/blobs/" + _sha256(expected))[-1] == f"bytes={HF_CHUNK}-"
    assert _partials(store) == []


def test_interrupted_plain_download_resumes_with_range(tmp_path: Path, hub: FakeHub) -> None:
    world = serve_catalog(hub)
    encodec_name = world.catalog[ENCODEC].files[0].local_name
    data = world.content[f"{ENCODEC}/{encodec_name}"]
    store = _store(tmp_path, hub, world)
    hub.cut_after = 25_000

    with pytest.raises(DownloadError, match="interrupted"):
        store.download(ENCODEC)
    [part] = _partials(store)
    assert part.read_bytes() == data[:25_000]

    hub.broken = False
    store.download(ENCODEC)
    assert (store.folder_of(ENCODEC) / encodec_name).read_bytes() == data
    assert hub.ranges(encodec_name) == [None, "bytes=25000-"]


@pytest.mark.parametrize(("entry", "suffix", "check"), [
    (DEFAULT_MODEL, "", "sha256"),               # LFS: the ETag is the sha256
    (VOCOS, "config.yaml", "git-sha1"),           # small file: the ETag is the git blob id
    (TOKENIZERS, "tokenizer.json", "sha256"),     # pinned in the catalog
    (ENCODEC, ".th", "sha256-prefix"),            # prefix in the file name
])
def test_checksum_mismatch_is_refused_and_the_file_removed(tmp_path: Path, hub: FakeHub, entry: str,
                                                           suffix: str, check: str) -> None:
    world = serve_catalog(hub)
    store = _store(tmp_path, hub, world)
    blob = next(p for p in hub.blobs if hub.blobs[p] == world.content[f"{DEFAULT_MODEL}/model.sft"])
    hub.corrupt = {blob if entry == DEFAULT_MODEL else suffix}

    with pytest.raises(ChecksumError, match=check):
        store.download(entry)
    assert _partials(store) == []
    bad = [m for m in store.missing_files(entry)
           if (m.entry == entry and (not suffix or m.local_name.endswith(suffix)))]
    assert bad and not bad[0].path.exists()


def test_size_mismatch_of_a_pinned_file_is_refused(tmp_path: Path, hub: FakeHub) -> None:
    world = serve_catalog(hub)
    path = next(p for p in hub.plain if p.endswith("/data/tokenizer.json"))
    hub.plain[path] += b" "
    store = _store(tmp_path, hub, world)
    with pytest.raises(ChecksumError, match="bytes but"):
        store.download(TOKENIZERS)
    assert not (store.folder_of(TOKENIZERS) / "tokenizer.json").exists()
    assert _partials(store) == []


def test_cancel_mid_download_keeps_the_partial_then_resumes(tmp_path: Path, hub: FakeHub) -> None:
    world = serve_catalog(hub, model_size=2 * HF_CHUNK + 4096)
    store = _store(tmp_path, hub, world)
    store.download(VOCOS)
    store.download(TOKENIZERS)
    token = CancelToken()

    def cancel_once_bytes_arrive(event: Progress) -> None:
        if event.stage == "downloading model.sft" and event.done > 0:
            token.cancel()

    with pytest.raises(Cancelled):
        store.download(DEFAULT_MODEL, progress=cancel_once_bytes_arrive, cancel=token)
    assert not store.is_installed(DEFAULT_MODEL)
    [part] = _partials(store)
    expected = world.content[f"{DEFAULT_MODEL}/model.sft"]
    kept = part.stat().st_size
    assert 0 < kept < len(expected) and kept % HF_CHUNK == 0
    assert part.read_bytes() == expected[:kept]

    store.download(DEFAULT_MODEL)
    assert store.path_of(DEFAULT_MODEL).read_bytes() == expected
    assert hub.ranges("/blobs/" + _sha256(expected))[-1] == f"bytes={kept}-"


def test_a_partial_of_another_upstream_version_is_not_resumed(tmp_path: Path, hub: FakeHub) -> None:
    world = serve_catalog(hub, model_size=HF_CHUNK + 300_000)
    store = _store(tmp_path, hub, world)
    store.download(VOCOS)
    store.download(TOKENIZERS)
    hub.cut_after = HF_CHUNK + 1000
    with pytest.raises(DownloadError):
        store.download(DEFAULT_MODEL)
    hub.broken = False
    # Upstream replaces the file (new content, new ETag) before the user retries.
    file = world.catalog[DEFAULT_MODEL].files[0]
    new = bytes(reversed(world.content[f"{DEFAULT_MODEL}/model.sft"]))
    hub.add_hub_file(file.repo, file.path, new, lfs=True)

    store.download(DEFAULT_MODEL)
    assert store.path_of(DEFAULT_MODEL).read_bytes() == new
    assert hub.ranges("/blobs/" + _sha256(new)) == [None]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_server_down_gives_a_clear_offline_error(tmp_path: Path, hub: FakeHub) -> None:
    world = serve_catalog(hub)
    base = f"http://127.0.0.1:{_closed_port()}"
    store = ModelStore(tmp_path / "models", catalog=world.catalog,
                       endpoints=Endpoints(huggingface=base, github_raw=base, encodec=base, timeout=5))
    with pytest.raises(OfflineError) as failure:
        store.download(DEFAULT_MODEL)
    message = str(failure.value)
    assert f"cannot reach {base}" in message
    assert "Still missing for 'ar+nar-len-llama-8'" in message
    for name in ("model.sft", "tokenizer.json", "config.yaml", "pytorch_model.bin"):
        assert name in message
    assert not store.is_installed(DEFAULT_MODEL)

    with pytest.raises(OfflineError, match="cannot reach"):
        store.download(TOKENIZERS)  # plain-HTTP source, same clear error


def test_offline_mode_refuses_before_any_connection(tmp_path: Path, hub: FakeHub,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    world = serve_catalog(hub)
    monkeypatch.setenv("VALLE_STUDIO_OFFLINE", "1")
    store = ModelStore(tmp_path / "models", catalog=world.catalog)
    assert store.endpoints.offline
    with pytest.raises(OfflineError, match="offline mode is on"):
        store.download(DEFAULT_MODEL)
    assert hub.requests == []


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()
