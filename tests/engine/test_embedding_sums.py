"""Legacy embedding sums are decided by the checkpoint file, the same whether it is opened by catalog name,
by path or after an import; ``--embedding-sums`` and the model manager's field override it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from valle_studio.engine.debug import write_tiny_checkpoint
from valle_studio.engine.embedding_sums import (
    choice_of,
    decide,
    file_fingerprint,
    metadata_says_legacy,
    record,
    recorded,
    user_choice,
)
from valle_studio.engine.model import load_model
from valle_studio.engine.store import ModelStore
from valle_studio.engine.synthesizer import Synthesizer

PRE_FIX = "ar+nar-llama-8"


def _legacy(synth: Synthesizer) -> bool:
    return synth.model.config.legacy_summing


def _install(store: ModelStore, name: str, **kwargs: object) -> Path:
    folder = store.folder_of(name)
    folder.mkdir(parents=True, exist_ok=True)
    return write_tiny_checkpoint(folder / "model.sft", capabilities=("ar", "nar"), noncausal_masks=False,
                                 **kwargs)  # type: ignore[arg-type]


def test_a_catalog_pre_fix_model_gets_legacy_sums_by_name_path_and_import(tiny_tokenizer: Path,
                                                                        tmp_path: Path) -> None:
    """The issue's bug: the same weights spoke differently depending on how they were opened."""
    store = ModelStore()
    path = _install(store, PRE_FIX)  # untrained stats: only the catalog knows it predates the fix
    store._record_embedding_sums(PRE_FIX)  # what the store does when a download completes
    by_name = Synthesizer.load(PRE_FIX, codec=None, tokenizer=tiny_tokenizer, store=store)
    by_path = Synthesizer.load(path, codec=None, tokenizer=tiny_tokenizer)
    copy = shutil.copy(path, tmp_path / "fp32.sft")
    by_copy = Synthesizer.load(copy, codec=None, tokenizer=tiny_tokenizer)
    imported = store.import_file(copy, "my-copy")
    by_import = Synthesizer.load(imported, codec=None, tokenizer=tiny_tokenizer, store=store)
    assert _legacy(by_name) and _legacy(by_path) and _legacy(by_copy) and _legacy(by_import)
    assert "catalog" in by_path.model.embedding_sums_reason


def test_a_model_installed_before_the_record_is_recorded_when_loaded_by_name(tiny_tokenizer: Path) -> None:
    store = ModelStore()
    path = _install(store, PRE_FIX)
    assert not load_model(path).config.legacy_summing  # nothing marks the file yet
    assert _legacy(Synthesizer.load(PRE_FIX, codec=None, tokenizer=tiny_tokenizer, store=store))
    assert load_model(path).config.legacy_summing  # from now on by path too
    assert recorded(path) is not None


def test_the_file_decides_from_its_metadata(tmp_path: Path) -> None:
    """A trained v1 checkpoint without a length head (as every published one predating the fix)."""
    trained_ar_nar = write_tiny_checkpoint(tmp_path / "a.sft", capabilities=("ar", "nar"), global_step=120_000)
    trained_len = write_tiny_checkpoint(tmp_path / "b.sft", capabilities=("ar", "nar", "len"), global_step=9)
    untrained = write_tiny_checkpoint(tmp_path / "c.sft", capabilities=("ar", "nar"))  # like upstream's tiny export
    assert load_model(trained_ar_nar).config.legacy_summing
    assert "global_step 120000" in load_model(trained_ar_nar).embedding_sums_reason
    assert not load_model(trained_len).config.legacy_summing
    assert not load_model(untrained).config.legacy_summing
    assert metadata_says_legacy(None, None, {}) is None
    assert metadata_says_legacy({"version": 7, "capabilities": ["ar", "nar"]}, {"global_step": 5}, {}) is None


def test_golden_tiny_ar_nar_keeps_heads_summing(parity_dir: Path) -> None:
    """Upstream HEAD exported it (stats zero): the parity cases need the current rule."""
    assert not load_model(parity_dir / "tiny-ar+nar.sft").config.legacy_summing


def test_explicit_choice_wins_and_is_recorded_per_file(tmp_path: Path, tiny_tokenizer: Path) -> None:
    store = ModelStore()
    path = _install(store, "mine", global_step=50)
    assert store.embedding_sums("mine") == "auto" and load_model(path).config.legacy_summing
    store.set_embedding_sums("mine", "fixed")
    assert store.embedding_sums("mine") == "fixed" and user_choice(path) == "fixed"
    assert not load_model(path).config.legacy_summing
    assert not _legacy(Synthesizer.load("mine", codec=None, tokenizer=tiny_tokenizer, store=store))
    store.set_embedding_sums("mine", "auto")
    assert load_model(path).config.legacy_summing and recorded(path) is None
    assert load_model(path, legacy_summing=False).embedding_sums_reason == "chosen explicitly"
    with pytest.raises(ValueError, match="auto, legacy, fixed"):
        store.set_embedding_sums("mine", "sometimes")
    assert [choice_of(c) for c in ("auto", "legacy", "fixed")] == [None, True, False]


def test_fingerprints_tell_files_apart_and_survive_copies(tmp_path: Path) -> None:
    a = write_tiny_checkpoint(tmp_path / "a.sft", seed=1)
    b = write_tiny_checkpoint(tmp_path / "b.sft", seed=1, global_step=3)
    copy = shutil.copy(a, tmp_path / "copy.sft")
    assert file_fingerprint(a) == file_fingerprint(copy) != file_fingerprint(b)
    assert file_fingerprint(a).startswith("sft:")
    pth = tmp_path / "x.pth"
    pth.write_bytes(b"PK\x03\x04" + bytes(3 * 1024 * 1024))
    assert file_fingerprint(pth).startswith("pth:")
    record(b, True, "test")
    assert decide(b, None, None, {}).legacy and decide(a, None, None, {}).reason.startswith("upstream's current")


@pytest.mark.parametrize(("flag", "legacy"), [("legacy", True), ("fixed", False), ("auto", True)])
def test_cli_embedding_sums_flag(flag: str, legacy: bool, tmp_path: Path, tiny_tokenizer: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from valle_studio import cli
    from valle_studio.engine import synthesizer

    model = write_tiny_checkpoint(tmp_path / "m.sft", capabilities=("ar", "nar"), global_step=7)
    seen: list[bool] = []
    real = synthesizer.Synthesizer.load

    def spy(*args: object, **kwargs: object) -> Synthesizer:
        loaded = real(*args, **kwargs)  # type: ignore[arg-type]
        seen.append(loaded.model.config.legacy_summing)
        return loaded

    monkeypatch.setattr(synthesizer.Synthesizer, "load", spy)
    code = cli.main(["synth", "--model", str(model), "--tokenizer", str(tiny_tokenizer), "--phonemes", "ab",
                     "--out-codes", str(tmp_path / "o.npy"), "--embedding-sums", flag, "--max-duration", "0.2",
                     "--quiet", "--device", "cpu"])
    assert code == 0 and seen == [legacy]


def test_cli_refuses_an_unknown_embedding_sums_value(capsys: pytest.CaptureFixture[str]) -> None:
    from valle_studio import cli

    with pytest.raises(SystemExit):
        cli.main(["synth", "--model", "m.sft", "--phonemes", "a", "--embedding-sums", "old"])
    assert "--embedding-sums" in capsys.readouterr().err
