"""The native kernels' build command and the loader's edge cases that ``test_native_kernels.py`` leaves out.

- ``python -m valle_studio.engine.model.native build DIR`` (what a bundle build runs): the library and
  nothing else in DIR, its path on stdout; exit 1 with the reason, and no file, when it cannot build.
- A failing compiler leaves no temporary file; a library of another ABI version, or one without the
  kernels, is refused with a reason; a library shipped beside the source is tried before the cache.
- Whatever the reason the kernels are off, the kernel choice falls back to PyTorch's and products run.
- NaN and infinities come out where ``torch.mv`` puts them; a model configured for the native kernel
  really calls it, and decodes like ``"mv"``.

The loader tests run on any CPU: they never let a real library load under a faked CPU check. They
use a cache folder of their own (never the user's) and load the real library again afterwards, so
tests after them find the kernels as they were.
"""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch

from tests.engine.test_native_kernels import _teacher_forced_logits as teacher_forced_logits
from valle_studio.engine.debug import write_tiny_checkpoint
from valle_studio.engine.model import kernels, native
from valle_studio.engine.model.native.__main__ import main as native_cli

REPO = Path(__file__).resolve().parents[2]
X86 = platform.machine().lower() in ("x86_64", "amd64")
COMPILER = native.compiler()  # read before any test points CC elsewhere


@pytest.fixture(scope="module")
def library_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This module's cache folder for the real library: built at most once, never the user's cache."""
    return tmp_path_factory.mktemp("native-cache")


@pytest.fixture(autouse=True)
def _own_cache(library_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(native, "_cache_folder", lambda: library_home)
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)
    kernels.configure({})


@dataclass
class Loader:
    """A loader that finds nothing shipped or cached and has no compiler; ``patch`` changes more."""

    cache: Path
    shipped: Path
    patch: pytest.MonkeyPatch


@pytest.fixture
def loader(tmp_path: Path) -> Iterator[Loader]:
    with pytest.MonkeyPatch.context() as patch:
        state = Loader(tmp_path / "cache", tmp_path / "shipped", patch)
        patch.setattr(native, "_cache_folder", lambda: state.cache)
        patch.setattr(native, "SHIPPED_FOLDER", state.shipped)
        patch.setattr(native, "_cpu_reason", lambda: "")  # any CPU: no real library is ever found here
        patch.setenv("CC", str(tmp_path / "no-such-cc"))  # nor built
        patch.delenv("VALLE_NATIVE_KERNELS", raising=False)
        native.reset()
        yield state
    native.reset()
    native.available()  # the real library again (this module's cache), for the tests that follow


def _need_kernels() -> None:
    if not native.available():
        pytest.skip(f"native kernels unavailable: {native.reason()}")


def _need_compiler() -> str:
    if COMPILER is None:
        pytest.skip("no C compiler ($CC, cc, gcc or clang) on PATH")
    return COMPILER


def _tiny_library(path: Path, body: str) -> Path:
    """A real shared library holding ``body`` (C), compiled with the system's compiler."""
    cc = _need_compiler()
    path.parent.mkdir(parents=True, exist_ok=True)
    source = path.with_suffix(".c")
    source.write_text(body, encoding="utf-8")
    subprocess.run([cc, "-shared", "-fPIC", str(source), "-o", str(path)], check=True, capture_output=True)
    source.unlink()
    return path


# --- the build command ----------------------------------------------------------------------------


@pytest.mark.skipif(not X86, reason="the kernel's flags are for x86-64 compilers")
def test_the_build_command_writes_only_the_library_and_prints_its_path(tmp_path: Path) -> None:
    _need_compiler()
    folder = tmp_path / "bundle" / "native"
    done = subprocess.run([sys.executable, "-m", "valle_studio.engine.model.native", "build", str(folder)],
                          capture_output=True, text=True, cwd=REPO, timeout=240)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(folder / native.library_name())
    assert [p.name for p in folder.iterdir()] == [native.library_name()]  # no temporary file left
    assert (folder / native.library_name()).read_bytes()[:4] == b"\x7fELF"


def test_the_build_command_exits_1_with_the_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CC", str(tmp_path / "no-such-cc"))
    assert native_cli(["build", str(tmp_path / "out")]) == 1
    captured = capsys.readouterr()
    assert "compiler" in captured.err and captured.out == ""
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    with pytest.raises(SystemExit):
        native_cli([])  # a command is required


@pytest.mark.skipif(shutil.which("false") is None, reason="needs the `false` program as a failing compiler")
def test_a_failing_compiler_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CC", "false")
    with pytest.raises(RuntimeError, match="could not build"):
        native.build(tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


# --- the loader -----------------------------------------------------------------------------------


def test_a_library_of_another_version_is_refused(loader: Loader) -> None:
    _tiny_library(loader.cache / native.library_name(), "int valle_bf16_kernels_version(void) { return 3; }\n")
    assert not native.available()
    assert "another version" in native.reason()


def test_a_library_without_the_kernels_is_refused(loader: Loader) -> None:
    body = f"int valle_bf16_kernels_version(void) {{ return {native.ABI_VERSION}; }}\n"
    _tiny_library(loader.cache / native.library_name(), body)
    assert not native.available()
    assert "valle_bf16" in native.reason()  # the missing symbol is named


def test_the_shipped_library_is_tried_before_the_cache(loader: Loader) -> None:
    _tiny_library(loader.shipped / native.library_name(), "int valle_bf16_kernels_version(void) { return 3; }\n")
    loader.cache.mkdir(parents=True)
    (loader.cache / native.library_name()).write_bytes(b"garbage")
    assert not native.available()
    assert "another version" in native.reason()  # the shipped one's reason: the cache was not consulted


@pytest.mark.parametrize("cause", ["switched off", "garbage in the cache", "no compiler"])
def test_without_the_kernels_products_fall_back_to_torch(loader: Loader, cause: str) -> None:
    if cause == "switched off":
        loader.patch.setenv("VALLE_NATIVE_KERNELS", "0")
    elif cause == "garbage in the cache":
        loader.cache.mkdir(parents=True)
        (loader.cache / native.library_name()).write_bytes(b"\x7fELF but not really")
    assert not native.available() and native.reason()
    if cause == "no compiler":
        assert "compiler" in native.reason()
    assert "native" not in kernels.candidates(torch.bfloat16, 1)
    with pytest.raises(ValueError, match="cannot run bfloat16/matvec"):
        kernels.configure({"bfloat16/matvec": "native"})
    if X86:
        assert kernels.default_kernel(torch.bfloat16, 1) == "mv"
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(1, 1, 40, generator=gen).to(torch.bfloat16)
    w = torch.randn(6, 40, generator=gen).to(torch.bfloat16)
    with torch.inference_mode():
        got = kernels.linear(x, w)
    assert got.shape == (1, 1, 6)
    assert torch.equal(got.view(-1), torch.mv(w, x.view(-1)))


# --- numbers and the model ------------------------------------------------------------------------


def test_nan_and_infinities_come_out_where_torch_puts_them() -> None:
    _need_kernels()
    gen = torch.Generator().manual_seed(2)
    w = torch.randint(-2, 3, (37, 100), generator=gen).to(torch.bfloat16)  # zeros: inf * 0 is NaN
    w[:, 3] = torch.tensor([1.0, -1.0, 0.0] * 12 + [2.0])
    w[:, 90] = torch.tensor([1.0, 1.0, 0.0, -1.0] * 9 + [0.0])
    for bad in ({3: float("inf")}, {3: float("-inf"), 90: float("inf")}, {90: float("nan")}):
        x = torch.randn(100, generator=gen).to(torch.bfloat16)
        for index, value in bad.items():
            x[index] = value
        got, want = native.bf16_matvec(x, w), torch.mv(w, x)
        assert torch.equal(torch.isnan(got), torch.isnan(want)), bad
        finite = ~torch.isnan(want)
        assert torch.equal(got[finite].isinf(), want[finite].isinf()), bad
        assert torch.equal(got[want.isinf()], want[want.isinf()]), bad  # the same signs
    x = torch.ones(100, dtype=torch.bfloat16)
    x[50] = float("nan")
    assert torch.isnan(native.bf16_matvec(x, w)).all()  # a NaN in x spoils every row, even across zeros


def _decode(path: Path, kernel: str, monkeypatch: pytest.MonkeyPatch) -> tuple[torch.Tensor, int]:
    """Teacher-forced AR logits ``[16, C]`` with ``kernel`` for one-row products; and native calls made."""
    calls = [0]
    real = native.bf16_matvec

    def counting(*args: Any) -> torch.Tensor:
        calls[0] += 1
        return real(*args)

    monkeypatch.setattr(native, "bf16_matvec", counting)
    logits = teacher_forced_logits(path, "bfloat16", kernel)
    monkeypatch.setattr(native, "bf16_matvec", real)
    return logits, calls[0]


def test_a_configured_model_calls_the_kernel_and_decodes_like_mv(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    _need_kernels()
    tiny = write_tiny_checkpoint(tmp_path / "tiny.sft", seed=3, dim=96, heads=4)  # 96 = 64 + a 32-wide tail
    ours, used = _decode(tiny, "native", monkeypatch)
    theirs, unused = _decode(tiny, "mv", monkeypatch)
    assert used >= 12 and unused == 0  # at least the AR head of every step ran natively; none with "mv"
    assert torch.equal(ours.argmax(-1), theirs.argmax(-1))
    spread = (theirs.max() - theirs.min()).item()
    assert (ours - theirs).abs().max().item() <= 0.02 * spread
