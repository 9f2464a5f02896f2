"""Resolve device and dtype names ("auto", "cuda", "bf16", ...) with messages a user can act on."""

from __future__ import annotations

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


def resolve_dtype(name: str | torch.dtype, device: torch.device) -> torch.dtype:
    """``"auto"`` = float32 on the CPU, bfloat16 (or float16) on CUDA, float16 on MPS.

    Half precision is refused on the CPU: it is about 200 times slower there than float32.
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
    if device.type == "cpu" and dtype != torch.float32:
        raise DeviceError(
            f"{str(dtype).removeprefix('torch.')} on the CPU is about 200x slower than float32; use float32 "
            "on the CPU (half precision is for GPUs)"
        )
    if device.type == "cuda" and dtype == torch.bfloat16 and not torch.cuda.is_bf16_supported():
        raise DeviceError("this GPU does not support bfloat16; use float16")
    return dtype
