"""What callers hand the :class:`~valle_studio.engine.synthesizer.Synthesizer` and what they get back.

Plain data, no torch import, so the GUI, the CLI and batch can build requests before the engine is loaded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from valle_studio.core.clip import Prompt
from valle_studio.core.codec_format import FRAMES_PER_SECOND
from valle_studio.engine.settings import GenerationSettings
from valle_studio.engine.text.lexicon import Lexicon

#: A reference prompt: a mono :class:`~valle_studio.core.clip.Clip` or an int code array ``[T, 8]``,
#: never a path (files are read by ``audio.prompts.read_prompt_file``).
PromptSource = Prompt


@dataclass(frozen=True)
class BlendPart:
    """One voice of a blend: its reference prompts (concatenated, as a voice's clips are) and its weight
    (any positive number; the weights of a blend are normalised to sum to 1)."""

    prompts: tuple[PromptSource, ...]
    weight: float
    name: str = ""

    def __post_init__(self) -> None:
        if not self.prompts:
            raise ValueError(f"the blended voice {self.name!r} has no reference clips" if self.name
                             else "a blended voice has no reference clips")
        if isinstance(self.weight, bool) or not isinstance(self.weight, (int, float)) \
                or not math.isfinite(self.weight) or self.weight <= 0:
            raise ValueError(f"the weight of {self.name or 'a blended voice'} must be a number above 0, "
                             f"not {self.weight!r}")


@dataclass(frozen=True)
class SynthesisRequest:
    """One thing to say, in one voice.

    ``text`` is split into sentences per ``settings.split``; ``phonemes`` (IPA) bypasses the text
    front end entirely (one line, no splitting). ``prompts`` are concatenated in order. ``blend``
    (experimental) mixes two or more voices at the prompt embedding instead
    (:mod:`valle_studio.engine.model.prompt_mix`); it replaces ``prompts``, which must then be empty.
    ``lexicon``: pronunciations applied before espeak (global, voice and project entries already merged).
    """

    text: str = ""
    language: str = "en"
    prompts: tuple[PromptSource, ...] = ()
    settings: GenerationSettings = field(default_factory=GenerationSettings)
    phonemes: str | None = None
    blend: tuple[BlendPart, ...] = ()
    lexicon: Lexicon | None = None

    def __post_init__(self) -> None:
        if self.blend and self.prompts:
            raise ValueError("a request has either reference prompts or a blend of voices, not both")
        if len(self.blend) == 1:
            raise ValueError("a blend needs at least two voices (one voice is just that voice)")


@dataclass(frozen=True)
class SentenceResult:
    """One generated piece. ``codes``: ``[T, 8]`` int64."""

    text: str
    phonemes: str
    codes: np.ndarray


@dataclass(frozen=True)
class SynthesisResult:
    """The outcome of :meth:`Synthesizer.synthesize`.

    ``audio`` is mono float32 ``[S]`` at ``sample_rate`` (None when the synthesizer has no codec:
    code-in/code-out mode). ``codes`` is all sentences' codes concatenated, ``[T, 8]`` int64.
    """

    audio: np.ndarray | None
    sample_rate: int
    codes: np.ndarray
    sentences: tuple[SentenceResult, ...]
    seed: int
    modality: str
    elapsed_s: float

    @property
    def duration_s(self) -> float:
        """Length of the generated speech in seconds."""
        if self.audio is not None:
            return len(self.audio) / self.sample_rate
        return len(self.codes) / FRAMES_PER_SECOND

    @property
    def real_time_factor(self) -> float:
        """Seconds of compute per second of speech (below 1 = faster than real time)."""
        return self.elapsed_s / self.duration_s if self.duration_s > 0 else float("inf")
