"""ModelStore bookkeeping: what is installed, what is missing (and the message), default model,
removal, and the promise that nothing touches the network when every file is present."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from valle_studio.engine.store import (
    CATALOG,
    DEFAULT_MODEL,
    ENCODEC,
    TOKENIZERS,
    VOCOS,
    MissingModelError,
    ModelStore,
    UnknownModelError,
)
from valle_studio.paths import user_data_dir

REPO_ROOT = Path(__file__).resolve().parents[2]


def populate(store: ModelStore, models: tuple[str, ...] = (DEFAULT_MODEL,)) -> None:
    """Lay files out where the store expects them, as a finished download would."""
    for name in (*models, TOKENIZERS, ENCODEC, VOCOS):
        for item in store.missing_files(name):
            item.path.parent.mkdir(parents=True, exist_ok=True)
            item.path.write_bytes(b"x")


def test_default_root_is_under_the_user_data_folder() -> None:
    assert ModelStore().root == user_data_dir() / "models"


def test_empty_store_lists_what_is_missing(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    assert store.available() == ["ar+nar-len-llama-8", "ar+nar-llama-8"]
    assert store.installed() == [] and not store.is_installed(DEFAULT_MODEL)
    missing = store.missing_files(DEFAULT_MODEL)
    assert [(m.entry, m.local_name) for m in missing] == [
        (DEFAULT_MODEL, "model.sft"), (TOKENIZERS, "tokenizer.json"), (TOKENIZERS, "text_tokenizer.json"),
        (ENCODEC, "encodec_24khz-d7cc33bc.th"), (VOCOS, "config.yaml"), (VOCOS, "pytorch_model.bin")]
    assert missing[0].path == tmp_path / DEFAULT_MODEL / "model.sft"
    assert missing[3].source == "https://dl.fbaipublicfiles.com/encodec/v0/encodec_24khz-d7cc33bc.th"
    assert [m.local_name for m in store.missing_files(VOCOS)] == [  # Vocos needs EnCodec's weights too
        "config.yaml", "pytorch_model.bin", "encodec_24khz-d7cc33bc.th"]


def test_missing_model_message_names_each_file_and_the_fix(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    populate(store)
    (store.folder_of(VOCOS) / "pytorch_model.bin").unlink()
    (store.root / DEFAULT_MODEL / "model.sft").unlink()

    with pytest.raises(MissingModelError) as failure:
        store.ensure_available([DEFAULT_MODEL, "ar+nar-llama-8", "my-own"])
    error = failure.value
    message = str(error)
    assert [m.local_name for m in error.missing] == ["model.sft", "pytorch_model.bin", "model.sft"]
    assert error.unknown == ("my-own",)
    assert "3 file(s) needed to run are missing" in message
    assert str(store.folder_of(VOCOS) / "pytorch_model.bin") in message
    assert "https://huggingface.co/ecker/vall-e/resolve/main/models/ckpt/ar%2Bnar-llama-8/fp32.sft" in message
    assert "`valle-studio-cli models download ar+nar-len-llama-8 ar+nar-llama-8`" in message
    assert "Models > Download" in message
    assert "'my-own' is neither in the model catalog nor installed" in message
    assert "tokenizer.json" not in message  # present files are not listed

    with pytest.raises(MissingModelError, match=r"model\.sft"):
        store.path_of(DEFAULT_MODEL)
    with pytest.raises(MissingModelError, match=r"pytorch_model\.bin") as codec_failure:
        store.ensure_available([ENCODEC, VOCOS])
    assert "valle-studio-cli models download vocos-encodec-24khz" in str(codec_failure.value)
    store.ensure_available([TOKENIZERS])
    # The path getters only say where files belong; they never raise for a missing one.
    assert store.tokenizer_paths().phonemes == store.folder_of(TOKENIZERS) / "tokenizer.json"
    assert not store.codec_paths()["vocos_weights"].exists()


def test_complete_store(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    populate(store, (DEFAULT_MODEL, "ar+nar-llama-8"))
    store.ensure_available(store.available())
    assert store.installed() == ["ar+nar-len-llama-8", "ar+nar-llama-8"]
    assert store.is_installed(VOCOS) and store.is_installed(TOKENIZERS)
    assert store.path_of("ar+nar-llama-8") == tmp_path / "ar+nar-llama-8" / "model.sft"
    codecs = store.codec_paths()
    assert codecs["encodec_weights"].name == "encodec_24khz-d7cc33bc.th"
    assert all(path.is_file() for path in codecs.values())
    with pytest.raises(UnknownModelError, match="not a model"):
        store.path_of(VOCOS)


def test_default_model_is_persisted(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    assert store.default_model == DEFAULT_MODEL
    store.default_model = "ar+nar-llama-8"
    assert ModelStore(tmp_path).default_model == "ar+nar-llama-8"
    assert [p.name for p in tmp_path.iterdir()] == ["_store.json"]  # written atomically, no temp left
    with pytest.raises(UnknownModelError):
        store.default_model = "nope"
    (tmp_path / "_store.json").write_text("{broken", encoding="utf-8")
    assert ModelStore(tmp_path).default_model == DEFAULT_MODEL


def test_remove(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    populate(store, (DEFAULT_MODEL, "ar+nar-llama-8"))
    store.default_model = "ar+nar-llama-8"
    partial = tmp_path / ".partial" / "ar+nar-llama-8" / "model.sft.part"
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"x")

    assert store.remove("ar+nar-llama-8") is True
    assert store.installed() == [DEFAULT_MODEL] and not partial.exists()
    assert store.default_model == DEFAULT_MODEL
    assert store.remove("ar+nar-llama-8") is False
    assert store.remove(VOCOS) is True and not store.is_installed(VOCOS)
    with pytest.raises(UnknownModelError):
        store.remove("never-there")


def test_licences_of_a_model(tmp_path: Path) -> None:
    terms = dict(ModelStore(tmp_path).licences(DEFAULT_MODEL))
    assert terms[CATALOG[ENCODEC].display_name].startswith("CC-BY-NC 4.0")
    assert terms[CATALOG[VOCOS].display_name].startswith("MIT")
    assert DEFAULT_MODEL in terms  # the model itself by its catalog id, as the manager and the CLI name it


def _forbid_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_no_network_when_everything_is_present(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = ModelStore(tmp_path)
    populate(store)
    _forbid_network(monkeypatch)
    assert store.download(DEFAULT_MODEL) == []
    store.ensure_available([DEFAULT_MODEL])
    assert store.path_of(DEFAULT_MODEL).is_file()
    store.tokenizer_paths()
    store.codec_paths()
    store.default_model = DEFAULT_MODEL
    # With the network forbidden, a missing file is reported, never fetched behind the user's back.
    (store.folder_of(VOCOS) / "config.yaml").unlink()
    with pytest.raises(MissingModelError, match=r"config\.yaml"):
        store.ensure_available([DEFAULT_MODEL])


def test_no_network_at_import_time(tmp_path: Path) -> None:
    """A fresh interpreter with every socket connection failing imports the store and uses it."""
    store = ModelStore(tmp_path)
    populate(store)
    script = textwrap.dedent(f"""
        import socket, sys
        def refuse(*a, **k):
            raise AssertionError("network access attempted")
        socket.socket.connect = socket.socket.connect_ex = refuse
        socket.create_connection = socket.getaddrinfo = refuse
        from valle_studio.engine.store import ModelStore
        store = ModelStore({str(tmp_path)!r})
        assert store.installed() == ["ar+nar-len-llama-8"], store.installed()
        assert store.download("ar+nar-len-llama-8") == []
        store.codec_paths(); store.tokenizer_paths()
        assert "huggingface_hub" not in sys.modules and "torch" not in sys.modules
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO_ROOT,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
