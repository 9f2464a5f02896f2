"""atomic_write: all-or-nothing replacement, clean-up on every failure, clear error types."""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path

import pytest

from valle_studio.core import atomic
from valle_studio.core.atomic import (
    AtomicWriteError,
    DiskFullError,
    FolderMissingError,
    ReadOnlyFolderError,
    atomic_write,
    atomic_write_json,
    atomic_write_text,
)


def _leftovers(folder: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


def test_writes_bytes_text_and_callable(tmp_path: Path) -> None:
    assert atomic_write(tmp_path / "a.bin", b"\x00\x01") == tmp_path / "a.bin"
    atomic_write(tmp_path / "b.txt", "héllo\r\n")
    atomic_write(tmp_path / "c.dat", lambda p: p.write_bytes(b"from writer"))
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "b.txt").read_bytes() == "héllo\r\n".encode()  # newlines untouched
    assert (tmp_path / "c.dat").read_bytes() == b"from writer"
    assert _leftovers(tmp_path, {"a.bin", "b.txt", "c.dat"}) == []


def test_replaces_existing_file_and_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "settings.ini"
    target.write_text("old")
    os.chmod(target, 0o640)
    atomic_write(target, "new")
    assert target.read_text() == "new"
    if os.name == "posix":
        assert stat.S_IMODE(target.stat().st_mode) == 0o640


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_new_file_gets_umask_mode_not_private_temp_mode(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "new.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o644


@pytest.mark.parametrize("failure", [ValueError("boom"), KeyboardInterrupt()])
def test_writer_failure_keeps_old_content_and_removes_temp(tmp_path: Path, failure: BaseException) -> None:
    target = tmp_path / "voice.json"
    target.write_text("original")

    def writer(path: Path) -> None:
        path.write_text("half-writt")
        raise failure

    with pytest.raises(type(failure)):
        atomic_write(target, writer)
    assert target.read_text() == "original"
    assert _leftovers(tmp_path, {"voice.json"}) == []


def test_writer_failure_on_new_file_leaves_nothing(tmp_path: Path) -> None:
    def writer(path: Path) -> None:
        path.write_bytes(b"partial")
        raise RuntimeError("encoder crashed")

    with pytest.raises(RuntimeError, match="encoder crashed"):
        atomic_write(tmp_path / "out.wav", writer)
    assert list(tmp_path.iterdir()) == []


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(FolderMissingError) as info:
        atomic_write(tmp_path / "nope" / "x.txt", "x")
    assert isinstance(info.value, FileNotFoundError)
    assert "does not exist" in str(info.value) and "nope" in str(info.value)


def test_parent_is_a_file_or_target_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(AtomicWriteError, match="not a folder"):
        atomic_write(tmp_path / "file" / "x.txt", "x")
    (tmp_path / "dir").mkdir()
    with pytest.raises(AtomicWriteError, match="folder of that name"):
        atomic_write(tmp_path / "dir", "x")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root (or Windows) can write into a read-only folder; simulated below")
def test_real_read_only_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "a.txt").write_text("old")
    folder.chmod(0o555)
    try:
        with pytest.raises(ReadOnlyFolderError, match="read-only"):
            atomic_write(folder / "a.txt", "new")
        assert (folder / "a.txt").read_text() == "old"
        assert _leftovers(folder, {"a.txt"}) == []
    finally:
        folder.chmod(0o755)


def test_simulated_read_only_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = os.open

    def refusing_open(path, flags, *args, **kwargs):  # type: ignore[no-untyped-def]
        if Path(path).parent == tmp_path and flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(atomic.os, "open", refusing_open)
    with pytest.raises(ReadOnlyFolderError) as info:
        atomic_write(tmp_path / "a.txt", "x")
    assert isinstance(info.value, PermissionError)
    assert "read-only" in str(info.value) and str(tmp_path) in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_replace_refused_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "a.txt"
    target.write_text("old")

    def refusing_replace(src, dst):  # type: ignore[no-untyped-def]
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(atomic.os, "replace", refusing_replace)
    with pytest.raises(ReadOnlyFolderError):
        atomic_write(target, "new")
    assert target.read_text() == "old"
    assert _leftovers(tmp_path, {"a.txt"}) == []


def test_disk_full_while_flushing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "a.txt"
    target.write_text("old")

    def full_fsync(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full_fsync)
    with pytest.raises(DiskFullError, match="disk is full") as info:
        atomic_write(target, b"new content")
    assert info.value.errno == errno.ENOSPC and info.value.path == target
    assert target.read_text() == "old"
    assert _leftovers(tmp_path, {"a.txt"}) == []


def test_disk_full_inside_writer(tmp_path: Path) -> None:
    def writer(path: Path) -> None:
        path.write_bytes(b"abc")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(DiskFullError):
        atomic_write(tmp_path / "big.wav", writer)
    assert list(tmp_path.iterdir()) == []


def test_json_and_text_helpers(tmp_path: Path) -> None:
    atomic_write_json(tmp_path / "v.json", {"name": "Ünïcode", "n": [1, 2]})
    raw = (tmp_path / "v.json").read_text(encoding="utf-8")
    assert raw.endswith("\n") and "Ünïcode" in raw
    assert json.loads(raw) == {"name": "Ünïcode", "n": [1, 2]}
    atomic_write_text(tmp_path / "t.txt", "line\n", encoding="utf-16")
    assert (tmp_path / "t.txt").read_text(encoding="utf-16") == "line\n"
    with pytest.raises(TypeError):
        atomic_write_text(tmp_path / "t.txt", b"bytes")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [{"x": object()}, {"x": float("nan")}])
def test_json_that_cannot_be_encoded_leaves_old_file(tmp_path: Path, bad: dict) -> None:
    target = tmp_path / "v.json"
    target.write_text('{"ok": true}')
    with pytest.raises((TypeError, ValueError)):
        atomic_write_json(target, bad)
    assert json.loads(target.read_text()) == {"ok": True}
    assert _leftovers(tmp_path, {"v.json"}) == []


def test_error_is_an_oserror_with_plain_message(tmp_path: Path) -> None:
    err = DiskFullError(errno.ENOSPC, "Cannot save 'x': the disk is full.", tmp_path / "x")
    assert isinstance(err, OSError) and str(err) == "Cannot save 'x': the disk is full."
