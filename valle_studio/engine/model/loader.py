"""``load_model``: checkpoint file -> ready-to-run :class:`VallEModel` on the chosen device and dtype.

The model is built on the meta device (no random init, no memory) and each stored tensor is read,
cast and moved one at a time, then assigned -- so peak memory is the model plus one tensor.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path

import torch

from valle_studio.engine.embedding_sums import decide as decide_embedding_sums
from valle_studio.engine.model.checkpoint import CheckpointError, open_checkpoint
from valle_studio.engine.model.config import HEAD_LEN, ConfigError, flags_from_metadata
from valle_studio.engine.model.devices import resolve_device, resolve_dtype
from valle_studio.engine.model.layout import config_from_shapes
from valle_studio.engine.model.vall_e import VallEModel

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        return None


def trim_heap() -> None:
    """Hand memory freed during loading back to the OS (glibc keeps it otherwise: measured on the
    full-size model, resident memory after loading fell from 2.2 to 1.8 GiB, and after int8
    quantisation from 2.1 to 1.2 GiB). A no-op off Linux/glibc."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def load_model(
    path: str | Path,
    *,
    device: str | torch.device = "cpu",
    dtype: torch.dtype | str = torch.float32,
    legacy_summing: bool | None = None,
    quantize: str | None = None,
) -> VallEModel:
    """Load an ecker VALL-E v1 checkpoint (``.sft`` safetensors or ``.pth`` with a ``module`` key).

    ``device``: "cpu", "cuda", "cuda:N", "mps" or "auto". ``dtype``: float32 (the only choice on the
    CPU), float16 or bfloat16 (GPUs), or "auto". ``legacy_summing``: None lets the file decide
    (:func:`~valle_studio.engine.embedding_sums.decide`: the registry of known files, then the
    metadata); True/False forces it.
    ``quantize="int8"``: int8 dynamic quantisation of the backbone (CPU and float32 only; faster, less
    exact -- see :mod:`valle_studio.engine.quantize`); None keeps the weights as loaded.

    Raises :class:`CheckpointError` (a readable sentence) for every problem with the file, and
    :class:`~valle_studio.engine.model.devices.DeviceError` for an unusable device or dtype.
    """
    if quantize not in (None, "int8"):
        raise ValueError(f"unknown quantisation {quantize!r}: the only choice is 'int8' (or None for none)")
    dev = resolve_device(device)
    dt = resolve_dtype(dtype, dev)
    if quantize == "int8":
        from valle_studio.engine.quantize import QuantizationError, refusal

        reason = refusal(dev, dt)
        if reason is not None:  # before reading gigabytes
            raise QuantizationError(reason)
    with open_checkpoint(path) as ckpt:
        name = ckpt.path.name
        try:
            flags = flags_from_metadata(
                ckpt.config, has_len_head=f"classifiers.proj.{HEAD_LEN}.weight" in ckpt.shapes
            )
        except ConfigError as exc:
            raise CheckpointError(f"{name}: {exc}") from None
        if legacy_summing is None:  # decided by the file itself, wherever it was opened from
            decision = decide_embedding_sums(ckpt.path, ckpt.config, ckpt.stats, ckpt.shapes)
            legacy_summing, sums_reason = decision.legacy, decision.reason
        else:
            sums_reason = "chosen explicitly"
        config, expected, ignored = config_from_shapes(
            name, ckpt.shapes, flags, legacy_summing=legacy_summing
        )
        with torch.device("meta"):
            model = VallEModel(config)
        state: dict[str, torch.Tensor] = {}
        for key in expected:
            stored = ckpt.tensor(key)
            if not stored.is_floating_point():
                raise CheckpointError(
                    f"{name}: tensor {key} holds {stored.dtype} values, expected floating point"
                )
            weight = stored.to(device=dev).to(dt)
            del stored
            if not bool(torch.isfinite(weight).all()):
                raise CheckpointError(
                    f"{name}: tensor {key} contains NaN or infinite values; the file is corrupt"
                )
            state[key] = weight
    model.load_state_dict(state, strict=True, assign=True)
    del state
    model.requires_grad_(False)
    model.eval()
    model.fuse()
    if quantize == "int8":
        from valle_studio.engine.quantize import quantize_int8

        quantize_int8(model)
    trim_heap()
    model.ignored_tensors = ignored
    model.embedding_sums_reason = sums_reason
    log.info("%s: %s embedding sums (%s)", name, "legacy" if config.legacy_summing else "fixed", sums_reason)
    if ignored:
        log.debug("%s: ignoring %d unused tensors: %s", name, len(ignored), ", ".join(ignored[:8]))
    if config.inferred:
        log.warning("%s has no stored config; guessed its behaviour flags from the tensors", name)
    return model
