"""One frozen set of generation settings, shared by the GUI, the CLI and batch.

Upstream's web UI builds one dict and every stage (AR level 0, NAR levels 1..7, NAR-len demasking) reads
the same keys from it (see ``shared/reference/generation-semantics.md``). :class:`GenerationSettings`
is that dict, typed and validated once in ``__post_init__``. The defaults are the web UI's.

Nothing here imports torch, so the GUI can build and validate settings before the engine is loaded.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from valle_studio.core.codec_format import FRAMES_PER_SECOND

Modality = Literal["auto", "ar+nar", "nar-len"]
SplitMode = Literal["sentences", "lines", "none"]

MODALITIES: tuple[str, ...] = ("auto", "ar+nar", "nar-len")
SPLIT_MODES: tuple[str, ...] = ("sentences", "lines", "none")


class SettingsError(ValueError):
    """A setting is out of range or contradicts another one; the message names the field."""


@dataclass(frozen=True)
class GenerationSettings:
    """Every knob of one generation run. Defaults match upstream's web UI.

    Temperatures of 0 mean greedy (argmax). Durations are in seconds; :meth:`max_duration_frames`
    converts them the way upstream does (truncation).
    """

    # Which generation path: "auto" picks NAR-len when the model has a len head, else AR+NAR.
    modality: Modality = "auto"
    # AR level-0 temperature; also the start temperature of NAR-len demasking (annealed by 1 - t).
    ar_temperature: float = 1.0
    # Temperature of the NAR refinement levels 1..7 (0 = greedy, what upstream's UI sends).
    nar_temperature: float = 0.0
    # Dynamic temperature floor; None disables it. When set (>= 0) the temperature slides from
    # ``ar/nar_temperature`` toward this value as the model gets more confident.
    min_temperature: float | None = None
    # Keep only the k most likely tokens (0 = off).
    top_k: int = 0
    # Nucleus sampling: keep the smallest set whose probability reaches p (1.0 = off).
    top_p: float = 1.0
    # Drop tokens less likely than min_p times the best one (0 = off).
    min_p: float = 0.0
    # Top-nσ: keep logits within n standard deviations of the best (0 = off).
    top_no: float = 0.0
    # Divide the logits of already generated tokens by this factor (1.0 = off).
    repetition_penalty: float = 1.0
    # Scales the penalty with distance: each earlier token divides by factor * distance**decay, so a
    # positive decay penalises older repeats more, a negative one less (0 = same for all).
    repetition_penalty_decay: float = 0.0
    # AR only: make stopping less (positive) or more (negative) likely as the output grows.
    length_penalty: float = 0.0
    # Classifier-free guidance strength (0 = no unconditional pass; NAR-len always uses >= 2.5).
    cfg_strength: float = 1.0
    # Rescale the guided logits back toward the conditional spread (0 = off, 1 = full).
    cfg_rescale: float = 0.75
    # NAR-len demasking steps.
    max_steps: int = 50
    # Upper bound on the length of each generated sentence, in seconds.
    max_duration: float = 12.0
    # Fixed NAR-len length in frames instead of predicting it (None = predict).
    duration_frames: int | None = None
    # NAR-len: re-mask a little more each step (upstream's "Remask").
    remask: bool = False
    # NAR-len: only re-score masked positions (upstream's "Sampled Scores: Masked Only").
    scores_masked_only: bool = False
    # Repeat/trim the reference prompt to this many seconds (0 = use it as is).
    prompt_length: float = 0.0
    # How the text is cut into separately generated pieces.
    split: SplitMode = "sentences"
    # How many previous sentences are fed back as context (0-4).
    context_history: int = 0
    # Silence inserted between generated sentences, in seconds.
    gap: float = 0.0
    # Random seed; None draws a fresh one per run (recorded with the take).
    seed: int | None = None
    # Treat the input as raw text through the text tokenizer instead of phonemizing it.
    no_phonemize: bool = False

    def __post_init__(self) -> None:
        _validate(self)

    # -- derived values -------------------------------------------------------------------------
    def max_duration_frames(self) -> int:
        """The duration cap in codec frames: ``int(seconds * 75)`` (upstream truncates)."""
        return int(self.max_duration * FRAMES_PER_SECOND)

    def prompt_length_frames(self) -> int:
        """The prompt repeat/trim target in frames (0 = off)."""
        return int(self.prompt_length * FRAMES_PER_SECOND)

    def replace(self, **changes: Any) -> GenerationSettings:
        """A copy with some fields changed, validated again."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible dict (for takes, manifests and project files)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenerationSettings:
        """Build from a dict, ignoring unknown keys (files written by newer versions)."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def _check(cond: bool, name: str, message: str) -> None:
    if not cond:
        raise SettingsError(f"{name}: {message}")


def _validate(s: GenerationSettings) -> None:
    _check(s.modality in MODALITIES, "modality", f"must be one of {', '.join(MODALITIES)}")
    _check(s.split in SPLIT_MODES, "split", f"must be one of {', '.join(SPLIT_MODES)}")
    _check(0.0 <= s.ar_temperature <= 10.0, "ar_temperature", "must be between 0 and 10")
    _check(0.0 <= s.nar_temperature <= 10.0, "nar_temperature", "must be between 0 and 10")
    if s.min_temperature is not None:
        _check(0.0 <= s.min_temperature <= 10.0, "min_temperature", "must be between 0 and 10")
    _check(0 <= s.top_k <= 8575, "top_k", "must be between 0 and 8575")
    _check(0.0 < s.top_p <= 1.0, "top_p", "must be above 0 and at most 1")
    _check(0.0 <= s.min_p < 1.0, "min_p", "must be at least 0 and below 1")
    _check(0.0 <= s.top_no <= 10.0, "top_no", "must be between 0 and 10")
    _check(0.0 < s.repetition_penalty <= 10.0, "repetition_penalty", "must be above 0 and at most 10")
    _check(-4.0 <= s.repetition_penalty_decay <= 4.0, "repetition_penalty_decay", "must be between -4 and 4")
    _check(-4.0 <= s.length_penalty <= 4.0, "length_penalty", "must be between -4 and 4")
    _check(0.0 <= s.cfg_strength <= 20.0, "cfg_strength", "must be between 0 and 20")
    _check(0.0 <= s.cfg_rescale <= 1.0, "cfg_rescale", "must be between 0 and 1")
    _check(1 <= s.max_steps <= 500, "max_steps", "must be between 1 and 500")
    _check(0.0 < s.max_duration <= 120.0, "max_duration", "must be above 0 and at most 120 seconds")
    _check(s.max_duration_frames() >= 1, "max_duration", "must be at least one frame (1/75 s)")
    if s.duration_frames is not None:
        _check(1 <= s.duration_frames <= 120 * FRAMES_PER_SECOND, "duration_frames", "must be 1..9000")
    _check(0.0 <= s.prompt_length <= 60.0, "prompt_length", "must be between 0 and 60 seconds")
    _check(0 <= s.context_history <= 4, "context_history", "must be between 0 and 4")
    _check(0.0 <= s.gap <= 10.0, "gap", "must be between 0 and 10 seconds")
    if s.seed is not None:
        _check(0 <= s.seed < 2**63, "seed", "must be a non-negative 63-bit integer")


#: Named starting points offered by the GUI. "default" is exactly upstream's web UI.
PRESETS: dict[str, GenerationSettings] = {
    "default": GenerationSettings(),
    # Lower temperatures and a little repetition control: fewer artefacts, flatter delivery.
    "stable": GenerationSettings(
        ar_temperature=0.6, min_p=0.05, repetition_penalty=1.1, repetition_penalty_decay=0.5,
        cfg_strength=3.0, max_steps=50,
    ),
    # Hotter sampling with a nucleus cap: livelier prosody, more variation between takes.
    "expressive": GenerationSettings(ar_temperature=1.1, top_p=0.95, cfg_strength=2.5, max_steps=50),
}

__all__ = [
    "FRAMES_PER_SECOND", "MODALITIES", "PRESETS", "SPLIT_MODES",
    "GenerationSettings", "Modality", "SettingsError", "SplitMode",
]
