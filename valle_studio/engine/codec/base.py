"""The codec contract shared by the engine: audio <-> ``[T, 8]`` EnCodec token matrices.

VALL-E's v1 models speak EnCodec 24 kHz at 6 kbps: 8 residual codebooks of 1024 entries, 75 frames per
second (one frame per 320 samples; the numbers live in :mod:`valle_studio.core.codec_format`). Any
:class:`Codec` must honour them.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import torch

from valle_studio.core.codec_format import CODEBOOK_SIZE
from valle_studio.core.codec_format import LEVELS as N_LEVELS

BANDWIDTH_KBPS = 6.0  # 8 codebooks x 10 bits x 75 fps


class CodecError(RuntimeError):
    """The codec could not be built or its weights do not fit the architecture."""


class MissingWeightsError(CodecError, FileNotFoundError):
    """A codec weights/config file named by the caller is not on disk; ``path`` says which one."""

    def __init__(self, path: object, what: str) -> None:
        super().__init__(f"{what} not found: '{path}'. Download the codec from the model manager "
                         "(nothing is downloaded automatically here).")
        self.path = path


@runtime_checkable
class Codec(Protocol):
    """Turns mono audio into ``[T, n_levels]`` integer codes and back."""

    @property
    def sample_rate(self) -> int:
        """Rate of decoded audio in Hz (24000)."""
        ...

    @property
    def frame_rate(self) -> int:
        """Code frames per second (75)."""
        ...

    @property
    def n_levels(self) -> int:
        """Codebooks per frame (8)."""
        ...

    def encode(self, samples: np.ndarray, sample_rate: int) -> torch.Tensor:
        """``samples: [S] float32`` mono at ``sample_rate`` Hz -> ``codes: [T, n_levels] int64`` (CPU)."""
        ...

    def decode(self, codes: torch.Tensor | np.ndarray) -> np.ndarray:
        """``codes: [T, n_levels] int`` -> ``[T * hop] float32`` mono audio at :attr:`sample_rate`."""
        ...


def prepare_codes(codes: torch.Tensor | np.ndarray, n_levels: int = N_LEVELS) -> torch.Tensor:
    """Check a ``[T, K]`` code matrix (1 <= K <= ``n_levels``) and return it as int64.

    Codes >= 1024 (the models' stop/mask tokens that can leak into a sequence) become 0, as upstream
    does before decoding; negative codes are an error.
    """
    tensor = torch.as_tensor(np.asarray(codes) if not isinstance(codes, torch.Tensor) else codes)
    if tensor.is_floating_point() or tensor.is_complex() or tensor.dtype == torch.bool:
        raise ValueError(f"codes must be integers, got dtype {tensor.dtype}")
    if tensor.ndim != 2 or not 1 <= tensor.shape[1] <= n_levels:
        raise ValueError(f"codes must be a [T, {n_levels}] matrix (frames x codebooks), "
                         f"got shape {tuple(tensor.shape)}")
    tensor = tensor.to(torch.int64)
    if tensor.numel() and int(tensor.min()) < 0:
        raise ValueError(f"codes must be >= 0, found {int(tensor.min())}")
    return torch.where(tensor >= CODEBOOK_SIZE, torch.zeros_like(tensor), tensor)
