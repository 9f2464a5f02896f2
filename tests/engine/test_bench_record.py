"""The saved benchmark: written whole or not at all, read back checked, used only on the machine it measured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.engine.bench_records import cpu_record
from valle_studio.engine.bench import choice
from valle_studio.engine.bench.record import RecordError, benchmark_path, load_record, save_record
from valle_studio.engine.model import kernels


def test_a_record_round_trips_through_its_file(tmp_path: Path) -> None:
    rec = cpu_record()
    path = save_record(rec, tmp_path / "b.json")
    assert load_record(path) == rec
    assert [p.name for p in tmp_path.iterdir()] == ["b.json"]  # no temporary file left behind
    assert load_record(tmp_path / "none.json") is None


def test_the_default_place_is_the_user_data_folder() -> None:
    path = save_record(cpu_record())
    assert path == benchmark_path() and load_record() == cpu_record()


def test_a_failed_write_leaves_the_old_file_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = save_record(cpu_record(), tmp_path / "b.json")
    before = path.read_bytes()

    def explode(*_a: object, **_k: object) -> None:
        raise KeyboardInterrupt  # Ctrl-C in the middle of writing

    monkeypatch.setattr(json, "dump", explode)
    monkeypatch.setattr(json, "dumps", explode)
    with pytest.raises(KeyboardInterrupt):
        save_record(cpu_record(bf16_speedup=None), path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["b.json"]


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "invalid JSON"),
    ("[]", "expected a JSON object"),
    ('{"version": 99}', "another version"),
])
def test_unusable_files_are_reported_with_their_name(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "b.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RecordError, match=message) as caught:
        load_record(path)
    assert str(path) in str(caught.value)


def test_broken_fields_are_named(tmp_path: Path) -> None:
    data = cpu_record().to_dict()
    data["variants"][0]["measurements"][0]["seconds"] = -1
    path = tmp_path / "b.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(RecordError, match="seconds must be a positive number"):
        load_record(path)
    del data["machine"]
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(RecordError, match="missing field 'machine'"):
        load_record(path)


def test_auto_follows_a_benchmark_of_this_machine_only() -> None:
    assert choice.cpu_auto_precision()[0] == "float32"  # nothing saved yet
    save_record(cpu_record(here=False))
    record, note = choice.saved_benchmark()
    assert record is None and "measured with the CPU Some Other CPU" in note and "torch 0.0 (here:" in note
    assert "run it again here" in choice.cpu_auto_precision()[1]
    save_record(cpu_record(bf16_speedup=1.8))
    assert choice.cpu_auto_precision()[0] == "bfloat16"
    save_record(cpu_record(bf16_speedup=1.8, bf16_native=False))
    assert choice.cpu_auto_precision()[0] == "float32"
    benchmark_path().write_text("garbage", encoding="utf-8")
    precision, why = choice.cpu_auto_precision()
    assert precision == "float32" and "invalid JSON" in why


def test_the_saved_kernels_are_installed_and_a_foreign_one_is_ignored() -> None:
    rec = cpu_record()
    data = rec.to_dict()
    data["variants"][0]["kernels"] = {"float32/matvec": "mv", "float32/gemm": "torch"}
    benchmark_path().write_text(json.dumps(data), encoding="utf-8")
    try:
        assert choice.apply_saved_kernels() == {"float32/matvec": "mv", "float32/gemm": "torch"}
        assert kernels.configured() == {"float32/matvec": "mv", "float32/gemm": "torch"}
        data["variants"][0]["kernels"] = {"float32/gemm": "mv"}  # not a kernel this slot can run
        benchmark_path().write_text(json.dumps(data), encoding="utf-8")
        assert choice.apply_saved_kernels() == {} and kernels.configured() == {}
    finally:
        kernels.configure({})
