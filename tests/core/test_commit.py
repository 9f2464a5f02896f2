"""The output-commit step: all outputs or none, rolled back on a late failure, inputs never touched; and
the atomic writer's temporary names (bounded length, recognisable, swept)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from valle_studio.core import atomic, commit
from valle_studio.core.atomic import (
    NAME_MAX_BYTES,
    AtomicWriteError,
    DiskFullError,
    SpecialTargetError,
    atomic_write,
    is_temp_name,
    sweep_temp_files,
    temp_name,
)
from valle_studio.core.commit import Input, InputOverwriteError, Output, check_outputs
from valle_studio.core.files import NotARegularFileError, kind_of_mode, require_regular_file


def test_every_output_appears_together(tmp_path: Path) -> None:
    a, b = tmp_path / "a.wav", tmp_path / "b.npy"
    a.write_bytes(b"old a")
    assert commit.commit([Output(a, b"new a"), Output(b, lambda p: p.write_bytes(b"new b"))]) == [a, b]
    assert a.read_bytes() == b"new a" and b.read_bytes() == b"new b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav", "b.npy"]


def test_a_failing_second_output_leaves_the_first_untouched(tmp_path: Path) -> None:
    a, b = tmp_path / "take.flac", tmp_path / "take.npy"
    a.write_bytes(b"the user's old take")

    def full(_temp: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(DiskFullError, match=r"take\.npy"):
        commit.commit([Output(a, b"replacement"), Output(b, full)])
    assert a.read_bytes() == b"the user's old take" and not b.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["take.flac"]


def test_a_rename_that_fails_late_is_rolled_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Staging succeeded, the first rename too, the second fails: the first target gets its old content."""
    first, second = tmp_path / "one.txt", tmp_path / "two.txt"
    first.write_text("first, old")
    second.write_text("second, old")
    real = os.replace

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if Path(dst) == second:
            raise OSError(errno.EIO, "Input/output error")
        real(src, dst)

    monkeypatch.setattr(commit.os, "replace", replace)
    with pytest.raises(AtomicWriteError, match=r"two\.txt"):
        commit.commit([Output(first, b"first, new"), Output(second, b"second, new")])
    assert first.read_text() == "first, old" and second.read_text() == "second, old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.txt", "two.txt"]  # no backup or temp left


def test_an_input_is_never_an_output(tmp_path: Path) -> None:
    voice = tmp_path / "voice.npy"
    voice.write_bytes(b"reference codes")
    link = tmp_path / "alias.npy"
    os.link(voice, link)  # another name of the same file
    inputs = [Input(voice, "--prompt")]
    for target in (voice, link, tmp_path / "." / "voice.npy"):
        with pytest.raises(InputOverwriteError, match="--prompt"):
            commit.commit([Output(target, b"generated", "--out-codes")], inputs)
    assert voice.read_bytes() == b"reference codes"
    with pytest.raises(InputOverwriteError, match="also the output of --out"):
        check_outputs([Output(tmp_path / "x.wav", b"", "--out"), Output(tmp_path / "x.wav", b"", "--out-codes")])


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_devices_and_pipes_are_never_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "take.wav"
    os.mkfifo(fifo)
    with pytest.raises(SpecialTargetError, match="named pipe"):
        atomic_write(fifo, b"x")
    assert kind_of_mode(fifo.stat().st_mode) == "a named pipe (FIFO)"
    with pytest.raises(NotARegularFileError, match=r"is a named pipe \(FIFO\), not a script"):
        require_regular_file(fifo, "a script")
    if Path("/dev/null").exists():
        with pytest.raises(SpecialTargetError, match="character device"):
            atomic_write("/dev/null", b"x")  # as root, os.replace would have turned the device into a file
        assert kind_of_mode(os.stat("/dev/null").st_mode) == "a character device"


@pytest.mark.parametrize("name", ["a" * 250 + ".wav", "é" * 125 + ".wav", "語" * 80 + ".npy", "x.wav"])
def test_temporary_names_fit_whatever_the_target_can_be_called(tmp_path: Path, name: str) -> None:
    assert len(name.encode("utf-8")) <= NAME_MAX_BYTES
    temp = temp_name(name, "0123abcd")
    assert len(temp.encode("utf-8")) <= NAME_MAX_BYTES and is_temp_name(temp)
    temp.encode("utf-8").decode("utf-8")  # never a split character
    atomic_write(tmp_path / name, b"ok")  # the file system agrees
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_sweep_removes_only_the_writers_leftovers(tmp_path: Path) -> None:
    long = "b" * 250 + ".wav"
    names = [temp_name("a.wav", "11112222"), temp_name(long, "33334444"), temp_name("other.wav", "55556666"),
             ".a.wav.zzzz.tmp", "a.wav", ".hidden.tmp", "notes.txt"]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    assert sorted(sweep_temp_files(tmp_path, ["a.wav", long])) == sorted(names[:2])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[2:])
    assert sweep_temp_files(tmp_path) == [names[2]]  # without targets: every temporary file of the pattern


def test_name_too_long_is_worded(tmp_path: Path) -> None:
    with pytest.raises(AtomicWriteError, match="256 bytes long"):
        atomic.atomic_write(tmp_path / ("c" * 252 + ".wav"), b"x")
