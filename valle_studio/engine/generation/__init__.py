"""Single-sentence generation loops: codes in, codes out (no text front end, no codec).

- :func:`generate_ar` -- AR level 0 (KV cache, optional CFG and rolling-context prefix)
- :func:`generate_ar_beam` -- AR level 0 by deterministic, length-normalised beam search
- :func:`generate_nar` -- NAR levels 1..7
- :func:`predict_length` / :func:`predict_length_tokens` -- the len task (frames before padding)
- :func:`generate_nar_len` -- NAR-len level-0 demasking
- :func:`transcribe` -- speech-to-text with the phoneme head

Every loop takes ``progress`` / ``cancel`` (checked between model steps) and a ``torch.Generator``
where it samples, and runs under ``torch.inference_mode()``.
"""

from __future__ import annotations

from valle_studio.engine.generation.ar import generate_ar
from valle_studio.engine.generation.beam import generate_ar_beam
from valle_studio.engine.generation.length import predict_length, predict_length_tokens, tokens_to_frames
from valle_studio.engine.generation.nar import generate_nar
from valle_studio.engine.generation.nar_len import generate_nar_len
from valle_studio.engine.generation.stt import transcribe

__all__ = [
    "generate_ar",
    "generate_ar_beam",
    "generate_nar",
    "generate_nar_len",
    "predict_length",
    "predict_length_tokens",
    "tokens_to_frames",
    "transcribe",
]
