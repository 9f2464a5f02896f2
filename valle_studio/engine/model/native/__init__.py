"""The native bfloat16 kernels of the AR step (``bf16_kernels.c``): found, built once, checked, then called.

They are the one-row product (:func:`bf16_matvec`) and the one-row LLaMA MLP in one call
(:func:`bf16_mlp`). They are optional. It exists where the CPU has AVX512_BF16 and a C compiler built the library
(or the app bundle ships it); everywhere else :func:`available` is False, :func:`reason` says why,
and the engine keeps PyTorch's kernels. Nothing here runs at import.

Where the library comes from, in order:
1. a copy shipped beside this file (the frozen app; ``python -m valle_studio.engine.model.native
   build DIR`` makes it),
2. the user cache folder (``<cache>/native``), where an earlier run built it,
3. a build now, with ``$CC`` or ``cc``/``gcc``/``clang`` (about a second), into the cache folder.
The file name carries a hash of the source and the flags, so an edited kernel is never run stale;
the build writes a temporary file and renames it, so two processes building at once cannot leave a
half-written library. Before first use the library is checked against ``torch.mv`` on odd shapes.

``VALLE_NATIVE_KERNELS=0`` turns it off.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

SOURCE = Path(__file__).with_name("bf16_kernels.c")
SHIPPED_FOLDER = Path(__file__).parent  # where the frozen app carries a prebuilt library
FLAGS = ("-O3", "-fPIC", "-shared", "-fopenmp", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512bf16")
ABI_VERSION = 4
LIBS = ("-lm",)  # erff, for the MLP's GELU
COMPILE_TIMEOUT_S = 120


@dataclass
class _Loaded:
    function: Callable[..., Any] | None = None  # valle_bf16_matvec
    mlp: Callable[..., Any] | None = None  # valle_bf16_mlp
    norm: Callable[..., Any] | None = None  # valle_bf16_rms_norm
    reason: str = ""
    tried: bool = False


_state = _Loaded()
_lock = threading.Lock()


def library_name() -> str:
    """``bf16_kernels-<hash>.so``: the hash covers the source and the compiler flags."""
    digest = hashlib.sha256(SOURCE.read_bytes() + " ".join(FLAGS + LIBS).encode()).hexdigest()[:12]
    return f"bf16_kernels-{digest}.so"


def compiler() -> str | None:
    """The C compiler a build would use: ``$CC``, else the first of cc, gcc, clang on PATH."""
    named = os.environ.get("CC")
    if named:
        return shutil.which(named)
    for name in ("cc", "gcc", "clang"):
        found = shutil.which(name)
        if found:
            return found
    return None


def build(folder: Path) -> Path:
    """Compile the kernel into ``folder`` (atomically) and return the library's path.

    Raises RuntimeError with the compiler's message when there is no compiler or the build fails."""
    cc = compiler()
    if cc is None:
        raise RuntimeError("no C compiler found (set CC, or install gcc)")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / library_name()
    handle, temporary = tempfile.mkstemp(prefix=".bf16_kernels-", suffix=".so", dir=folder)
    os.close(handle)
    try:
        done = subprocess.run([cc, *FLAGS, str(SOURCE), "-o", temporary, *LIBS], capture_output=True, text=True,
                              timeout=COMPILE_TIMEOUT_S)
        if done.returncode != 0:
            message = (done.stderr or done.stdout).strip().splitlines()
            raise RuntimeError(f"{Path(cc).name} could not build the kernel: " + (message[-1] if message else "?"))
        os.chmod(temporary, 0o755)  # mkstemp makes it 0600: another user of a shared bundle could not load it
        os.replace(temporary, target)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"{Path(cc).name} took over {COMPILE_TIMEOUT_S} s to build the kernel") from exc
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return target


def _cache_folder() -> Path:
    from valle_studio.paths import user_cache_dir

    return user_cache_dir() / "native"


def _cpu_reason() -> str:
    """Why this CPU cannot run the kernel, or "" when it can."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return f"the kernel is for x86-64 CPUs; this is {platform.machine()}"
    check = getattr(getattr(torch, "cpu", None), "_is_avx512_bf16_supported", None)
    try:
        if check is None or not bool(check()):
            return "this CPU has no AVX512_BF16"
    except RuntimeError:
        return "this CPU has no AVX512_BF16"
    return ""


def _open(path: Path) -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    """The library's kernels, with their C signatures declared."""
    lib = ctypes.CDLL(str(path))
    if lib.valle_bf16_kernels_version() != ABI_VERSION:
        raise RuntimeError(f"{path.name} is another version of the kernels")
    matvec, mlp = lib.valle_bf16_matvec, lib.valle_bf16_mlp
    matvec.restype = mlp.restype = None
    matvec.argtypes = [ctypes.c_void_p] * 4 + [ctypes.c_int64, ctypes.c_int64, ctypes.c_int]
    mlp.argtypes = [ctypes.c_void_p] * 5 + [ctypes.c_int64, ctypes.c_int64, ctypes.c_int]
    norm = lib.valle_bf16_rms_norm
    norm.restype = None
    norm.argtypes = [ctypes.c_void_p] * 3 + [ctypes.c_int64, ctypes.c_float]
    return matvec, mlp, norm


def _self_check(matvec: Callable[..., Any], mlp: Callable[..., Any]) -> str:
    """"" when both kernels agree with float64 on shapes that reach every code path, else why not."""
    gen = torch.Generator().manual_seed(0)
    threads = torch.get_num_threads()
    for out, inner, bias in ((37, 100, True), (256, 1024, False), (5, 7, True), (1024, 4096, False)):
        w = torch.randn(out, inner, generator=gen).to(torch.bfloat16)
        x = torch.randn(inner, generator=gen).to(torch.bfloat16)
        b = torch.randn(out, generator=gen).to(torch.bfloat16) if bias else None
        got = torch.empty(out, dtype=torch.bfloat16)
        matvec(w.data_ptr(), x.data_ptr(), None if b is None else b.data_ptr(), got.data_ptr(), out, inner, threads)
        exact = w.double() @ x.double() + (0 if b is None else b.double())
        # one bfloat16 rounding of a float32 sum: within 2^-8 of the value, plus float32 sum error
        allowed = exact.abs() * 2.0**-7 + 1e-5 * (w.double().abs() @ x.double().abs())
        if not bool(((got.double() - exact).abs() <= allowed).all()):
            return f"the built kernel gave wrong results on a {out}x{inner} product"
    dim, ffn = 64, 160
    gate_up = (torch.randn(2 * ffn, dim, generator=gen) / 8).to(torch.bfloat16)
    down = (torch.randn(dim, ffn, generator=gen) / 8).to(torch.bfloat16)
    x = torch.randn(dim, generator=gen).to(torch.bfloat16)
    got, hidden = torch.empty(dim, dtype=torch.bfloat16), torch.empty(2 * ffn, dtype=torch.bfloat16)
    mlp(gate_up.data_ptr(), down.data_ptr(), x.data_ptr(), hidden.data_ptr(), got.data_ptr(), ffn, dim, threads)
    gate, up = (gate_up.double() @ x.double()).chunk(2)
    exact = down.double() @ (torch.nn.functional.gelu(gate) * up)
    if not bool(((got.double() - exact).abs() <= 0.02 * exact.abs().max() + 2.0**-6 * exact.abs()).all()):
        return "the built MLP kernel gave wrong results"
    return ""


def _check_norm(norm: Callable[..., Any]) -> str:
    """"" when the RMSNorm kernel agrees with the float64 formula to bfloat16 rounding, else why not."""
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(1000, generator=gen).to(torch.bfloat16)
    w = torch.randn(1000, generator=gen).to(torch.bfloat16)
    got = torch.empty(1000, dtype=torch.bfloat16)
    norm(x.data_ptr(), w.data_ptr(), got.data_ptr(), 1000, 1e-5)
    exact = w.double() * x.double() * torch.rsqrt(x.double().pow(2).mean() + 1e-5)
    if not bool(((got.double() - exact).abs() <= 2.0**-6 * exact.abs() + 1e-6).all()):
        return "the built RMSNorm kernel gave wrong results"
    return ""


def _load() -> None:
    if os.environ.get("VALLE_NATIVE_KERNELS", "1").strip() in ("0", "false", "no", "off"):
        _state.reason = "turned off by VALLE_NATIVE_KERNELS=0"
        return
    _state.reason = _cpu_reason()
    if _state.reason:
        return
    try:
        name = library_name()  # reads the source: a bundle without it has no kernels, not an error
        shipped, cached = SHIPPED_FOLDER / name, _cache_folder() / name
        path = shipped if shipped.exists() else cached if cached.exists() else build(cached.parent)
        matvec, mlp, norm = _open(path)
    except (OSError, RuntimeError, AttributeError) as exc:
        _state.reason = str(exc) or type(exc).__name__
        return
    _state.reason = _self_check(matvec, mlp) or _check_norm(norm)
    if not _state.reason:
        _state.function, _state.mlp, _state.norm = matvec, mlp, norm


def available() -> bool:
    """Whether the kernel runs here (the first call may build it: about a second)."""
    with _lock:
        if not _state.tried:
            _state.tried = True
            _load()
    return _state.function is not None


def reason() -> str:
    """Why the kernel is not available ("" when it is, or before :func:`available` was asked)."""
    return _state.reason


def reset() -> None:
    """Forget the outcome of :func:`available` (tests; a changed ``VALLE_NATIVE_KERNELS``)."""
    with _lock:
        _state.function, _state.mlp, _state.norm = None, None, None
        _state.reason, _state.tried = "", False


def bf16_matvec(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x`` ``[..., in]`` holding one row, ``weight`` ``[out, in]``, ``bias`` ``[out]`` (all bfloat16,
    CPU) -> ``[..., out]`` bfloat16. Call only where :func:`available` is True."""
    function = _state.function
    if function is None:
        raise RuntimeError("the native bfloat16 kernel is not available: " + (_state.reason or "not loaded"))
    inner = weight.shape[1]
    if x.numel() != inner or x.dtype != torch.bfloat16 or weight.dtype != torch.bfloat16:
        raise ValueError(f"the native kernel multiplies one bfloat16 row; got {tuple(x.shape)} {x.dtype}")
    if not weight.is_contiguous():
        raise ValueError("the native kernel needs a contiguous weight")
    if bias is not None and (bias.dtype != torch.bfloat16 or not bias.is_contiguous()):
        raise ValueError("the native kernel needs a contiguous bfloat16 bias")
    x = x.contiguous()
    y = torch.empty(*x.shape[:-1], weight.shape[0], dtype=torch.bfloat16)
    function(weight.data_ptr(), x.data_ptr(), None if bias is None else bias.data_ptr(), y.data_ptr(),
             weight.shape[0], inner, torch.get_num_threads())
    return y


def bf16_mlp(x: Tensor, gate_up: Tensor, down: Tensor) -> Tensor:
    """``down(gelu(gate x) * up x)`` for one row: ``x`` ``[..., dim]``, ``gate_up`` ``[2 ffn, dim]`` (gate
    rows, then up rows), ``down`` ``[dim, ffn]`` (bfloat16, CPU, contiguous) -> ``[..., dim]``.
    Call only where :func:`available` is True."""
    mlp = _state.mlp
    if mlp is None:
        raise RuntimeError("the native bfloat16 kernels are not available: " + (_state.reason or "not loaded"))
    dim, ffn = down.shape
    if x.numel() != dim or gate_up.shape != (2 * ffn, dim) or not (gate_up.is_contiguous() and down.is_contiguous()):
        raise ValueError(f"the native MLP needs one row and [2F, D], [D, F] weights; got {tuple(x.shape)}, "
                         f"{tuple(gate_up.shape)}, {tuple(down.shape)}")
    if {x.dtype, gate_up.dtype, down.dtype} != {torch.bfloat16}:
        raise ValueError("the native MLP multiplies bfloat16 tensors")
    x = x.contiguous()
    hidden = torch.empty(2 * ffn, dtype=torch.bfloat16)
    y = torch.empty(x.shape, dtype=torch.bfloat16)
    mlp(gate_up.data_ptr(), down.data_ptr(), x.data_ptr(), hidden.data_ptr(), y.data_ptr(), ffn, dim,
        torch.get_num_threads())
    return y


def bf16_rms_norm(x: Tensor, weight: Tensor, eps: float) -> Tensor:
    """RMSNorm of one bfloat16 row ``x`` ``[..., n]`` with ``weight`` ``[n]`` -> ``[..., n]``, rounded where
    the engine's bfloat16 formula rounds. Call only where :func:`available` is True."""
    norm = _state.norm
    if norm is None:
        raise RuntimeError("the native bfloat16 kernels are not available: " + (_state.reason or "not loaded"))
    n = weight.shape[0]
    if x.numel() != n or x.dtype != torch.bfloat16 or weight.dtype != torch.bfloat16 or not weight.is_contiguous():
        raise ValueError(f"the native RMSNorm takes one bfloat16 row; got {tuple(x.shape)} {x.dtype}")
    x = x.contiguous()
    y = torch.empty(x.shape, dtype=torch.bfloat16)
    norm(x.data_ptr(), weight.data_ptr(), y.data_ptr(), n, eps)
    return y


__all__ = ["available", "bf16_matvec", "bf16_mlp", "bf16_rms_norm", "build", "compiler", "library_name", "reason",
           "reset"]
