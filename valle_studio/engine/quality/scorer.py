"""The scorer: what was asked and what came out in, a :class:`~.verdict.TakeQuality` out.

:func:`score_take` runs every check of :mod:`.code_checks` on each generated piece of text (a take of
several sentences is several pieces), keeps the worst finding of each check, adds the checks of
:mod:`.audio_checks` on the whole decoded take, and combines them (:func:`.verdict.combine`). The STT
pass is handed in as a function (``hear``), so this module needs no model: the engine passes the
model's KV-cached speech-to-text loop, tests pass what they want the model to have heard.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from valle_studio.core.codec_format import FRAMES_PER_SECOND, SAMPLE_RATE
from valle_studio.engine.quality import code_checks
from valle_studio.engine.quality.audio_checks import check_audio
from valle_studio.engine.quality.verdict import Finding, TakeQuality, combine

#: The STT pass: ``hear(codes [T, 8] int, max_phonemes)`` -> the phoneme ids heard (no ``<bos>``/``</eos>``).
Hearer = Callable[[np.ndarray, int], Sequence[int]]


@dataclass(frozen=True)
class PieceInput:
    """One generated piece. ``asked_ids``: the phoneme ids asked for, without ``<bos>``/``</eos>``;
    ``phonemes``: how many phonemes they spell (:func:`.code_checks.count_phonemes`); ``codes``:
    ``[T, 8]`` int, what the model generated (``[0, 8]`` when it stopped at once)."""

    asked_ids: tuple[int, ...]
    phonemes: int
    codes: np.ndarray


@dataclass(frozen=True)
class TakeInput:
    """Everything the checks read of one take.

    ``cap_frames``: the duration cap per piece (None: the user fixed the NAR-len length, so there is no
    cap to run into); ``prompt_codes``: ``[P, 8]`` reference codes or None; ``audio``: the decoded take
    ``[S]`` float32 (None without a codec); ``reference_db``: the reference clip's speech level (dBFS,
    None when unknown); ``gap_s``: the pause inserted between pieces.
    """

    pieces: tuple[PieceInput, ...]
    language: str
    modality: str
    cap_frames: int | None
    prompt_codes: np.ndarray | None = None
    audio: np.ndarray | None = None
    sample_rate: int = SAMPLE_RATE
    reference_db: float | None = None
    gap_s: float = 0.0


def piece_findings(piece: PieceInput, take: TakeInput, hear: Hearer | None) -> list[Finding]:
    """Every code check of one piece, in report order."""
    codes = np.asarray(piece.codes, dtype=np.int64)
    codes = codes[:, None] if codes.ndim == 1 else codes
    level0 = codes[:, 0] if len(codes) else np.zeros(0, np.int64)
    heard: Sequence[int] | None = None
    if hear is not None:
        heard = hear(codes, code_checks.stt_token_cap(len(piece.asked_ids))) if len(codes) else []
    prompt0 = None if take.prompt_codes is None or not len(take.prompt_codes) else take.prompt_codes[:, 0]
    loop, held = code_checks.check_loops(level0)
    return [code_checks.check_intelligibility(piece.asked_ids, heard),
            code_checks.check_duration(len(codes) / FRAMES_PER_SECOND, piece.phonemes, take.language),
            code_checks.check_cap(len(codes), take.cap_frames, take.modality),
            loop, held, code_checks.check_prompt_leak(level0, prompt0)]


def _worst(findings: list[Finding]) -> Finding:
    """The measured finding with the least goodness (the first one when none was measured)."""
    measured = [f for f in findings if f.measured]
    return min(measured, key=lambda f: f.goodness) if measured else findings[0]


def score_take(take: TakeInput, hear: Hearer | None) -> TakeQuality:
    """The verdict on ``take``; ``hear`` is the STT pass, None when the model has none (the reasons then
    say that intelligibility was not checked)."""
    if not take.pieces:
        raise ValueError("a take to score needs at least one piece")
    per_piece = [piece_findings(piece, take, hear) for piece in take.pieces]
    count = len(per_piece)
    findings: list[Finding] = []
    for column in zip(*per_piece, strict=True):
        worst = _worst(list(column))
        where = column.index(worst)
        if count > 1 and worst.measured and worst.reason:
            worst = Finding(worst.name, worst.value, worst.level, worst.goodness,
                            f"sentence {where + 1}/{count}: {worst.reason}")
        findings.append(worst)
    findings += check_audio(take.audio, take.sample_rate, reference_db=take.reference_db, gap_s=take.gap_s)
    return combine(findings)


__all__ = ["Hearer", "PieceInput", "TakeInput", "piece_findings", "score_take"]
