"""The reference-clip record every layer shares, and the checks a code prompt must pass.

``audio/`` makes a :class:`Clip` from a file (``audio.prompts.read_prompt_file``), the studio from a
saved voice, the app from a recording or an imported draft; the engine takes it in a request and
never opens a file itself. A prompt is a clip or an int code matrix ``[T, 8]`` (:data:`Prompt`).

:func:`validate_codes` lives here rather than in the engine so that reading a ``.npy`` file can name
the file in its message while the engine checks code arrays handed to it with the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from valle_studio.core.codec_format import CODEBOOK_SIZE, LEVELS

#: A clip whose loudest sample stays below this (dBFS) holds no speech to copy a voice from.
SILENCE_DBFS = -60.0


class PromptError(ValueError):
    """A reference prompt cannot be used; the message names the prompt and the problem."""


@dataclass(frozen=True, eq=False)
class Clip:
    """Mono audio: ``samples [S] float32`` at ``sample_rate`` Hz.

    ``name`` says where it came from in messages (a file path, "Alice 2"; "" lets the engine call it
    "voice clip N"); ``notes`` carries advice about it worth showing (clipping, a low sample rate, a
    long file). The samples are stored as a contiguous float32 array; anything with more than one
    dimension is refused, since mixing channels down is the reader's job.
    """

    samples: np.ndarray
    sample_rate: int
    name: str = ""
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        samples = np.ascontiguousarray(self.samples, dtype=np.float32)
        if samples.ndim != 1:
            raise ValueError(f"{self.name or 'a clip'}: samples must be mono [S], got shape {samples.shape}")
        object.__setattr__(self, "samples", samples)
        object.__setattr__(self, "sample_rate", int(self.sample_rate))
        object.__setattr__(self, "notes", tuple(self.notes))

    @property
    def seconds(self) -> float:
        """Length in seconds (0 for an invalid sample rate, which the engine's checks refuse)."""
        return self.samples.size / self.sample_rate if self.sample_rate > 0 else 0.0

    @property
    def is_silent(self) -> bool:
        """True when empty or when no sample reaches :data:`SILENCE_DBFS`."""
        if self.samples.size == 0:
            return True
        threshold: float = 10.0 ** (SILENCE_DBFS / 20.0)  # float ** float is typed Any (it may be complex)
        return float(np.max(np.abs(self.samples))) < threshold


#: One reference prompt: a clip still to encode, or int codes ``[T, 8]``.
Prompt = Clip | np.ndarray


def validate_codes(codes: np.ndarray, name: str) -> np.ndarray:
    """Check a code matrix and return it as int64 ``[T, 8]``; :class:`PromptError` names ``name``."""
    if codes.dtype.kind not in "iu":
        raise PromptError(f"{name}: codes must be integers, got {codes.dtype}")
    if codes.ndim != 2 or codes.shape[1] != LEVELS:
        raise PromptError(f"{name}: codes must be shaped [T, {LEVELS}], got {list(codes.shape)}")
    if codes.shape[0] == 0:
        raise PromptError(f"{name}: the code matrix is empty")
    if codes.min() < 0 or codes.max() >= CODEBOOK_SIZE:
        raise PromptError(f"{name}: codes must lie in 0..{CODEBOOK_SIZE - 1}")
    return codes.astype(np.int64, copy=False)


__all__ = ["SILENCE_DBFS", "Clip", "Prompt", "PromptError", "validate_codes"]
