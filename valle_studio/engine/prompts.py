"""Reference prompts: clips or code arrays turned into one ``[T, 8]`` code matrix.

Upstream encodes each reference separately, concatenates them in the order given, and only then
repeats/trims the result to the requested length, keeping its start
(``shared/reference/generation-semantics.md``, "Prompts").

The engine never opens a file: callers read audio and ``.npy`` files with
``audio.prompts.read_prompt_file`` and hand over :class:`~valle_studio.core.clip.Clip`
records or int code arrays. Checking and encoding are two steps: :func:`check_prompts` checks every
prompt without the codec (empty, silent or far too long clips are reported before anything heavy
loads), :func:`encode_prompts` then turns the audio into codes.
:meth:`Synthesizer.encode_prompts <valle_studio.engine.synthesizer.Synthesizer.encode_prompts>` does
both, and is what every caller uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from valle_studio.core.clip import Clip, Prompt, PromptError, validate_codes
from valle_studio.core.codec_format import FRAMES_PER_SECOND

if TYPE_CHECKING:
    from valle_studio.engine.codec import Codec

#: Longest reference used as a prompt (the prompt-length setting's own maximum). The model was trained
#: on 3-6 s prompts; minutes of prompt only cost memory and time (a 10 min clip is 45,000 frames).
MAX_PROMPT_SECONDS = 60.0
_CUT_MARGIN_S = 1.0  # audio kept past the prompt length, so the codec sees the same context there


def _length(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}:{secs:02d} min" if minutes else f"{seconds:.1f} s"


def _too_long(name: str, seconds: float) -> PromptError:
    return PromptError(
        f"{name}: the reference is {_length(seconds)} long, but at most {MAX_PROMPT_SECONDS:.0f} s can be used "
        "as a voice prompt (3-10 s of clean speech works best). Trim it to its best few seconds, or set a "
        "prompt length (Reference length; --prompt-length) to use only its start")


def check_prompt(source: Prompt, name: str = "voice clip", *, keep_seconds: float = 0.0) -> Prompt:
    """Check one prompt without the codec; returns int64 codes ``[T, 8]`` or the clip.

    ``name`` is used for a clip that has none of its own. ``keep_seconds`` > 0 keeps only that much
    of the start of a clip (the rest could not be used). Raises :class:`PromptError` naming the prompt.
    """
    if isinstance(source, np.ndarray):
        return validate_codes(source, "prompt codes")
    if not isinstance(source, Clip):
        raise PromptError(f"{name}: a prompt must be a Clip or a [T, 8] code array, not {type(source).__name__} "
                          "(read files with audio.prompts.read_prompt_file)")
    clip = source if source.name else replace(source, name=name)
    if clip.sample_rate <= 0:
        raise PromptError(f"{clip.name}: invalid sample rate {clip.sample_rate}")
    if clip.samples.size == 0:
        raise PromptError(f"{clip.name}: the clip is empty")
    if not np.all(np.isfinite(clip.samples)):
        raise PromptError(f"{clip.name}: the clip contains invalid samples (NaN or infinity)")
    if clip.is_silent:
        raise PromptError(f"{clip.name}: the clip is silent; record or choose a clip with speech in it")
    if keep_seconds > 0 and clip.seconds > keep_seconds:
        clip = replace(clip, samples=clip.samples[: int(keep_seconds * clip.sample_rate)])
    return clip


def _seconds(part: Prompt) -> float:
    return part.seconds if isinstance(part, Clip) else len(part) / FRAMES_PER_SECOND


def check_prompts(sources: Sequence[Prompt], length_frames: int = 0) -> list[Prompt]:
    """Check every prompt in order (see :func:`check_prompt`); nothing is encoded yet.

    With ``length_frames`` > 0 only the start that the repeat/trim step keeps is retained, so a long
    recording with a short prompt length is fine. Without it the prompts together may last at most
    :data:`MAX_PROMPT_SECONDS`.
    """
    parts: list[Prompt] = []
    remaining = length_frames / FRAMES_PER_SECOND
    for index, source in enumerate(sources):
        name = f"voice clip {index + 1}" if len(sources) > 1 else "voice clip"
        keep = max(remaining, 0.0) + _CUT_MARGIN_S if length_frames > 0 else 0.0
        part = check_prompt(source, name, keep_seconds=keep)
        if length_frames <= 0 and _seconds(part) > MAX_PROMPT_SECONDS:
            raise _too_long(part.name if isinstance(part, Clip) else name, _seconds(part))
        parts.append(part)
        remaining -= _seconds(part)
    total = sum(_seconds(p) for p in parts)
    if length_frames <= 0 and total > MAX_PROMPT_SECONDS:
        raise _too_long(f"the {len(parts)} voice clips together", total)
    return parts


def needs_codec(parts: Sequence[Prompt]) -> bool:
    """Whether any part is audio (codes need no codec)."""
    return any(isinstance(p, Clip) for p in parts)


def _encode(clip: Clip, codec: Codec | None) -> np.ndarray:
    if codec is None:
        raise PromptError(f"{clip.name}: audio prompts need the codec weights; give .npy codes instead, "
                          "or install the codec from the model manager")
    codes = codec.encode(clip.samples, clip.sample_rate)
    return validate_codes(np.asarray(codes.cpu() if hasattr(codes, "cpu") else codes), clip.name)


def encode_prompts(parts: Sequence[Prompt], codec: Codec | None, length_frames: int = 0) -> np.ndarray | None:
    """Checked parts as codes, concatenated in order, then repeated/trimmed to ``length_frames``
    (0 = as is): int64 ``[T, 8]``. None when there is no prompt (the model then runs without the
    prompt segment)."""
    if not parts:
        return None
    codes = np.concatenate([_encode(p, codec) if isinstance(p, Clip) else p for p in parts], axis=0)
    if length_frames > 0:
        repeats = -(-length_frames // len(codes))  # ceil
        codes = np.tile(codes, (repeats, 1))[:length_frames]
    return codes


__all__ = ["MAX_PROMPT_SECONDS", "PromptError", "check_prompt", "check_prompts", "encode_prompts", "needs_codec",
           "validate_codes"]
