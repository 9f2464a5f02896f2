"""The bad-input matrix through ``valle-studio-cli``: one-line error, exit code 1, no output file.

Every case of :mod:`tests.reliability.cases` that the CLI can receive runs through ``cli.main`` (the
console script's own function) with a tiny model. Accepted inputs must produce their file, and their
advice appears as ``note:`` lines. Downloads run against the loopback hub of the store tests.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from tests.engine.test_store_fakehub import FakeHub, World, serve_catalog
from tests.reliability.cases import (
    AUDIO_CASES,
    CHECKPOINT_CASES,
    MARKER,
    TEXT_CASES,
    AudioCase,
    CheckpointCase,
    TextCase,
)
from tests.reliability.helpers import (
    FAST_FLAGS,
    assert_cli_error,
    assert_no_temp_files,
    disk_fills_up,
    files_under,
    make_read_only,
    run_cli,
)
from valle_studio.engine.store import ENCODEC, TOKENIZERS, Endpoints, ModelStore
from valle_studio.engine.store import catalog as catalog_module


@pytest.fixture()
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def synth_args(model: Path, tokenizer: Path, *extra: str) -> list[str]:
    return ["synth", "--model", str(model), "--tokenizer", str(tokenizer), *FAST_FLAGS, *extra]


# -- audio ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", AUDIO_CASES, ids=lambda c: c.id)
def test_reference_audio(case: AudioCase, tmp_path: Path, out: Path, tiny_model: Path, tokenizer: Path,
                         with_codec: Any, capsys: pytest.CaptureFixture[str]) -> None:
    source = case.make(tmp_path)
    take = out / "take.wav"
    outcome = run_cli(capsys, synth_args(tiny_model, tokenizer, "--text", "Hello there.", "--prompt", str(source),
                                         "--out", str(take)))
    if case.refused:
        line = assert_cli_error(outcome, *case.says)
        assert source.name in line
        assert "demasking" not in outcome.stderr  # refused before anything was generated
        assert files_under(out) == set()
        return
    assert outcome.code == 0, outcome.stderr
    audio, rate = sf.read(take, dtype="float32")
    assert rate == 24_000 and len(audio) > 0 and np.all(np.isfinite(audio))
    notes = " ".join(outcome.notes)
    for word in case.says:  # the advice reached the user
        assert word.lower() in notes.lower(), outcome.stderr
    if not case.says:
        assert outcome.notes == []
    assert_no_temp_files(out)


def test_a_long_reference_works_with_a_prompt_length(tmp_path: Path, out: Path, tiny_model: Path,
                                                     tokenizer: Path, with_codec: Any,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """The advice of the 10-minute case is real: with --prompt-length only its start is used."""
    source = next(c for c in AUDIO_CASES if c.id == "10-minutes").make(tmp_path)
    outcome = run_cli(capsys, synth_args(tiny_model, tokenizer, "--text", "Hi.", "--prompt", str(source),
                                         "--prompt-length", "3", "--out", str(out / "take.flac")))
    assert outcome.code == 0, outcome.stderr
    assert any("10:00 min long" in note for note in outcome.notes)  # the trim advice still shows
    assert sf.info(out / "take.flac").frames > 0


# -- text -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", TEXT_CASES, ids=lambda c: c.id)
def test_text(case: TextCase, out: Path, tiny_model: Path, tokenizer: Path,
              capsys: pytest.CaptureFixture[str]) -> None:
    codes = out / "codes.npy"
    outcome = run_cli(capsys, synth_args(tiny_model, tokenizer, "--text", case.text, "--lang", case.language,
                                         "--out-codes", str(codes)))
    if case.refused:
        assert_cli_error(outcome, *case.says)
        assert files_under(out) == set()
        return
    assert outcome.code == 0, outcome.stderr
    result = np.load(codes)
    assert result.ndim == 2 and result.shape[1] == 8 and len(result) > 0


def test_undecodable_command_line_bytes(out: Path, tiny_model: Path, tokenizer: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Bytes that are not UTF-8 reach Python as lone surrogates; alone they are nothing to say."""
    outcome = run_cli(capsys, synth_args(tiny_model, tokenizer, "--text", "\udcff\udcfe",
                                         "--out-codes", str(out / "c.npy")))
    assert_cli_error(outcome, "nothing to say")
    outcome = run_cli(capsys, synth_args(tiny_model, tokenizer, "--text", "Caf\udce9 ok.",
                                         "--out-codes", str(out / "c.npy")))
    assert outcome.code == 0, outcome.stderr


# -- checkpoints ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", CHECKPOINT_CASES, ids=lambda c: c.id)
def test_checkpoint(case: CheckpointCase, tmp_path: Path, out: Path, tiny_bytes: bytes, tokenizer: Path,
                    capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "downloads"
    folder.mkdir()
    model = case.make(folder, tiny_bytes)
    outcome = run_cli(capsys, synth_args(model, tokenizer, "--text", "Hello.", "--out-codes", str(out / "c.npy")))
    line = assert_cli_error(outcome, *case.says)
    assert model.name in line
    assert not (tmp_path / MARKER).exists(), "unpickling ran code from the file"
    assert files_under(out) == set()


@pytest.mark.parametrize("case", CHECKPOINT_CASES, ids=lambda c: c.id)
def test_checkpoint_import(case: CheckpointCase, tmp_path: Path, tiny_bytes: bytes,
                           capsys: pytest.CaptureFixture[str]) -> None:
    """``models import`` refuses the file before copying anything into the store."""
    folder = tmp_path / "downloads"
    folder.mkdir()
    model = case.make(folder, tiny_bytes)
    store = ModelStore()
    before = files_under(store.root)
    outcome = run_cli(capsys, ["models", "import", str(model), "--name", "mine"])
    line = assert_cli_error(outcome, *case.import_says)
    assert model.name in line
    assert not (tmp_path / MARKER).exists()
    assert files_under(store.root) == before and not store.is_installed("mine")


def test_corrupt_tokenizer_file(tmp_path: Path, out: Path, tiny_model: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "tokenizer.json"
    bad.write_text('{"model": {"vocab": ', encoding="utf-8")  # cut off mid-file
    outcome = run_cli(capsys, synth_args(tiny_model, bad, "--text", "Hello.", "--out-codes", str(out / "c.npy")))
    assert_cli_error(outcome, "tokenizer.json", "not a valid")
    assert files_under(out) == set()


# -- downloads --------------------------------------------------------------------------------------------
@pytest.fixture()
def hub() -> Any:
    with FakeHub() as server:
        yield server


def use_hub(monkeypatch: pytest.MonkeyPatch, endpoints: Endpoints, world: World | None = None) -> None:
    """Point the CLI's model store at ``endpoints`` (and the catalog of ``world``)."""
    monkeypatch.setattr(Endpoints, "from_env", classmethod(lambda cls: endpoints))
    if world is not None:
        monkeypatch.setattr(catalog_module, "CATALOG", world.catalog)


def test_tokenizer_that_fails_its_checksum(hub: FakeHub, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    # The catalog as served by the hub, each file pinned to the bytes served (upstream's real bytes
    # against the real pins: tests/engine/test_store_catalog.py).
    world = serve_catalog(hub)
    hub.corrupt = {"/tokenizer.json"}  # one flipped byte on the way
    use_hub(monkeypatch, hub.endpoints, world)
    store = ModelStore()
    outcome = run_cli(capsys, ["models", "download", TOKENIZERS])
    assert_cli_error(outcome, "tokenizer.json", "sha256 check", "damaged")
    assert not store.tokenizer_paths().phonemes.exists()
    assert not [p for p in files_under(store.root) if p.endswith(".part")]  # the bad bytes are deleted


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_no_network(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    base = f"http://127.0.0.1:{_closed_port()}"
    use_hub(monkeypatch, Endpoints(huggingface=base, github_raw=base, encodec=base, timeout=5))
    store = ModelStore()
    outcome = run_cli(capsys, ["models", "download", TOKENIZERS])
    assert_cli_error(outcome, "cannot reach", base, "network", "still missing", "tokenizer.json")
    assert not store.is_installed(TOKENIZERS)


def test_download_interrupted_then_resumed(hub: FakeHub, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    world = serve_catalog(hub)
    use_hub(monkeypatch, hub.endpoints, world)
    store = ModelStore()
    [file] = world.catalog[ENCODEC].files
    hub.cut_after = 25_000
    outcome = run_cli(capsys, ["models", "download", ENCODEC])
    assert_cli_error(outcome, "interrupted", "download again to resume")
    final = store.folder_of(ENCODEC) / file.local_name
    assert not final.exists()
    [part] = [store.root / p for p in files_under(store.root) if p.endswith(".part")]
    assert part.stat().st_size == 25_000

    hub.broken = False  # the network is back
    outcome = run_cli(capsys, ["models", "download", ENCODEC])
    assert outcome.code == 0, outcome.stderr
    assert final.read_bytes() == world.content[f"{ENCODEC}/{file.local_name}"]
    assert hub.ranges(file.local_name)[-1] == "bytes=25000-"  # resumed, not started over
    assert not part.exists()


# -- output folder ----------------------------------------------------------------------------------------
def test_read_only_output_folder(tmp_path: Path, tiny_model: Path, tokenizer: Path,
                                 monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    make_read_only(folder, monkeypatch)
    try:
        outcome = run_cli(capsys, synth_args(tiny_model, tokenizer, "--text", "Hello.",
                                             "--out", str(folder / "take.wav")))
        assert_cli_error(outcome, "read-only", str(folder))
        assert "loading" not in outcome.stderr  # told before the model was even loaded
        assert files_under(folder) == set()
    finally:
        folder.chmod(0o755)


def test_missing_output_folder(tmp_path: Path, tiny_model: Path, tokenizer: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "not-yet" / "take.wav"
    outcome = run_cli(capsys, synth_args(tiny_model, tokenizer, "--text", "Hello.", "--out", str(target)))
    assert_cli_error(outcome, "output folder does not exist", str(target.parent))
    assert not target.parent.exists()


def test_full_disk(out: Path, tiny_model: Path, tokenizer: Path, monkeypatch: pytest.MonkeyPatch,
                   capsys: pytest.CaptureFixture[str]) -> None:
    disk_fills_up(monkeypatch)
    outcome = run_cli(capsys, synth_args(tiny_model, tokenizer, "--text", "Hello.", "--out-codes",
                                         str(out / "codes.npy")))
    assert_cli_error(outcome, "disk is full", "codes.npy", "free some space")
    assert files_under(out) == set()


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to tell files apart")
def test_disk_fills_up_between_two_outputs(out: Path, tiny_model: Path, tokenizer: Path, with_codec: Any,
                                           monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """The take fits, the codes do not: the run fails and takes its first file away again."""
    disk_fills_up(monkeypatch, when="codes.npy")
    outcome = run_cli(capsys, synth_args(tiny_model, tokenizer, "--text", "Hello.", "--out", str(out / "take.wav"),
                                         "--out-codes", str(out / "codes.npy")))
    assert_cli_error(outcome, "disk is full", "codes.npy")
    assert files_under(out) == set()
