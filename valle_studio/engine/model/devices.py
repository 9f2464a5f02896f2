"""Resolve device and dtype names ("auto", "cuda", "bf16", ...) with messages a user can act on."""

from __future__ import annotations

import functools
import platform

import torch


class DeviceError(ValueError):
    """The requested device or dtype is not available here."""


_DTYPES: dict[str, torch.dtype] = {
    "float32": torch.float32,
    "fp32": torch.float32,
    "float": torch.float32,
    "float16": torch.float16,
    "fp16": torch.float16,
    "half": torch.float16,
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
}


def mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def resolve_device(name: str | torch.device = "auto") -> torch.device:
    """``"auto"`` picks CUDA, then Apple MPS, then the CPU; ``"cuda:1"`` style names are accepted."""
    if isinstance(name, torch.device):
        name = str(name)
    key = name.strip().lower()
    if key == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if mps_available() else torch.device("cpu")
    if key == "cpu":
        return torch.device("cpu")
    if key.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceError(
                "CUDA was requested but no NVIDIA GPU is usable here (no GPU, no driver, or a CPU-only "
                "build of PyTorch); choose the CPU instead"
            )
        dev = torch.device(key)
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise DeviceError(
                f"{key} does not exist: this machine has {torch.cuda.device_count()} CUDA GPU(s)"
            )
        return dev
    if key == "mps":
        if not mps_available():
            raise DeviceError(
                "Apple MPS was requested but is not available (needs Apple silicon and macOS 12.3+)"
            )
        return torch.device("mps")
    raise DeviceError(f"unknown device {name!r}: use auto, cpu, cuda, cuda:N or mps")


@functools.lru_cache(maxsize=1)
def cpu_bf16_native() -> tuple[bool, str]:
    """Whether this CPU computes bfloat16 products in hardware, and the feature that says so.

    x86: AVX512_BF16 or AMX-BF16 (Intel Cooper Lake / Sapphire Rapids and later, AMD Zen 4 and later);
    ARM: the BF16 extension (``bf16`` in ``/proc/cpuinfo``). Elsewhere PyTorch emulates bfloat16 and
    a product runs hundreds of times slower than in float32 (measured: ~200x on an AVX-512 CPU
    without AVX512_BF16).
    """
    cpu = getattr(torch, "cpu", None)
    machine = platform.machine().lower()
    if machine in ("x86_64", "amd64"):
        for probe, feature in (("_is_amx_tile_supported", "AMX"), ("_is_avx512_bf16_supported", "AVX512_BF16")):
            check = getattr(cpu, probe, None)
            try:
                if check is not None and bool(check()):
                    return True, feature
            except RuntimeError:
                continue
    from valle_studio.engine.bench.machine import cpu_bf16_flag

    feature = cpu_bf16_flag()
    return bool(feature), feature


def resolve_dtype(name: str | torch.dtype, device: torch.device) -> torch.dtype:
    """``"auto"`` = float32 on the CPU, bfloat16 (or float16) on CUDA, float16 on MPS.

    bfloat16 on the CPU is accepted where the CPU computes it natively (:func:`cpu_bf16_native`) and
    refused elsewhere, as float16 on the CPU always is: emulated they run hundreds of times slower than
    float32. (The Synthesizer turns "auto" into bfloat16 on a CPU where a saved benchmark of this
    machine measured it faster; see :mod:`valle_studio.engine.bench.choice`.)
    """
    if isinstance(name, torch.dtype):
        dtype = name
    else:
        key = name.strip().lower()
        if key == "auto":
            if device.type == "cuda":
                return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
            return torch.float16 if device.type == "mps" else torch.float32
        if key not in _DTYPES:
            raise DeviceError(f"unknown precision {name!r}: use auto, float32, float16 or bfloat16")
        dtype = _DTYPES[key]
    if dtype not in (torch.float32, torch.float16, torch.bfloat16):
        raise DeviceError(f"precision {dtype} is not supported: use float32, float16 or bfloat16")
    if device.type == "cpu" and dtype == torch.float16:
        raise DeviceError(
            "float16 on the CPU is about 200x slower than float32; use float32 on the CPU (or bfloat16 "
            "where the CPU has it natively; float16 is for GPUs)"
        )
    if device.type == "cpu" and dtype == torch.bfloat16 and not cpu_bf16_native()[0]:
        raise DeviceError(
            "bfloat16 on the CPU needs native support (AVX512_BF16 or AMX on x86, BF16 on ARM), which this "
            "CPU lacks: emulated it is about 200x slower than float32; use float32"
        )
    if device.type == "cuda" and dtype == torch.bfloat16 and not torch.cuda.is_bf16_supported():
        raise DeviceError("this GPU does not support bfloat16; use float16")
    return dtype
