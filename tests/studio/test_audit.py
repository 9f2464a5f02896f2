"""The audit log (issue 17): JSON lines, $VALLE_AUDIT_DIR, safe appends from several processes at once,
and a torn line skipped instead of hiding the rest."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from valle_studio.core.provenance import Provenance
from valle_studio.studio.audit import AUDIT_ENV, LOG_NAME, AuditLog, audit_dir

PER_PROCESS = 40


def _append_many(folder: str, worker: int) -> None:
    log = AuditLog(folder)
    for i in range(PER_PROCESS):
        log.record(Provenance(text=f"w{worker} line {i} " + "x" * 300, voice="v", model="m"),
                   Path(f"/tmp/w{worker}-{i}.wav"), "batch")


def test_env_override_and_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(AUDIT_ENV, str(tmp_path / "audit"))
    assert audit_dir() == tmp_path / "audit"
    log = AuditLog()
    entry = log.record(Provenance(text="Hello", voice="Alice", model="tiny", watermark=True), tmp_path / "a.wav",
                       "studio")
    assert log.path == tmp_path / "audit" / LOG_NAME
    assert log.entries() == [entry] and entry.watermark and entry.path == str(tmp_path / "a.wav")


def test_default_folder_is_in_the_app_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    from valle_studio.paths import user_data_dir

    monkeypatch.delenv(AUDIT_ENV, raising=False)
    assert audit_dir() == user_data_dir() / "audit"


def test_concurrent_processes_lose_no_line(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_many, args=(str(tmp_path), n)) for n in range(4)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(120)
        assert process.exitcode == 0
    entries = AuditLog(tmp_path).entries()
    assert len(entries) == 4 * PER_PROCESS
    assert len({e.path for e in entries}) == 4 * PER_PROCESS  # every line whole, none interleaved


def test_a_torn_line_is_skipped(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)
    log.record(Provenance(text="kept", voice="", model="m"), tmp_path / "k.wav", "synth")
    with open(log.path, "a", encoding="utf-8") as handle:
        handle.write('{"time": "2026-12-02T1')  # a crash mid-write
    log.record(Provenance(text="after", voice="", model="m"), tmp_path / "b.wav", "synth")
    assert [e.text for e in log.entries()] == ["kept", "after"]  # the next line starts on a line of its own
