"""Encoding one generated clip for export with its provenance: watermark, confirm, tag, (write, log).

:func:`encode_with_provenance` is what every export path shares (the Studio tab's export, ``synth``'s
``--out``, each batch row): it embeds the watermark (unless switched off), encodes the file, *decodes the
encoded bytes again* and runs the watermark detector on them, so the record (and so the tags and the audit
log) says "watermarked" only when the mark survived into the very bytes that are written; then the tags go
in. :func:`export_clip` also writes the file atomically and appends it to the audit log.
"""

from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from valle_studio.audio.io import encode_audio
from valle_studio.audio.tags import tag_bytes
from valle_studio.core.atomic import atomic_write
from valle_studio.core.provenance import Provenance
from valle_studio.studio.audit import AuditLog

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EncodedExport:
    """The file's bytes, its record (``watermark`` confirmed or not) and the detector's confidence
    (None when the watermark was switched off)."""

    data: bytes
    record: Provenance
    confidence: float | None


def decoded_confidence(data: bytes) -> float:
    """The watermark detector's confidence on the audio an encoded file holds."""
    import soundfile as sf

    from valle_studio.engine.watermark import detect_watermark

    samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    return detect_watermark(samples.mean(axis=1), int(rate))


def file_confidence(path: str | os.PathLike[str], block_seconds: float = 30.0) -> float:
    """The detector's confidence on a written file, read back block by block (any length), averaged by length."""
    import soundfile as sf

    from valle_studio.engine.watermark import detect_watermark

    total, frames = 0.0, 0
    with sf.SoundFile(str(path)) as handle:
        rate = int(handle.samplerate)
        for block in handle.blocks(blocksize=int(block_seconds * rate), dtype="float32", always_2d=True):
            if len(block):
                total += detect_watermark(block.mean(axis=1), rate) * len(block)
                frames += len(block)
    return total / frames if frames else 0.0


def encode_with_provenance(path: str | os.PathLike[str], samples: np.ndarray, sample_rate: int,
                           record: Provenance, *, watermark: bool = True,
                           subtype: str | None = None) -> EncodedExport:
    """The bytes to write at ``path`` (format from its extension); see the module docstring.

    Raises:
        WatermarkUnavailable: ``watermark`` is asked for but resemble-perth is not installed.
        AudioError, ValueError: the audio cannot be encoded.
    """
    path = Path(path)
    confidence = None
    if watermark:
        from valle_studio.engine.watermark import apply_watermark, is_watermarked

        data = encode_audio(path, apply_watermark(samples, sample_rate), sample_rate, subtype=subtype)
        confidence = decoded_confidence(data)
        record = record.with_watermark(is_watermarked(confidence))
        if not record.watermark:
            log.warning("%s: the watermark was applied but not detected in the encoded file (confidence %.2f)",
                        path, confidence)
    else:
        data = encode_audio(path, samples, sample_rate, subtype=subtype)
        record = record.with_watermark(False)
    return EncodedExport(tag_bytes(data, path.suffix, record), record, confidence)


@dataclass(frozen=True)
class ExportOutcome:
    """A written export: where, its record, the detector's confidence (None: watermark off)."""

    path: Path
    record: Provenance
    confidence: float | None


def export_clip(path: str | os.PathLike[str], samples: np.ndarray, sample_rate: int, record: Provenance, *,
                watermark: bool = True, subtype: str | None = None, source: str = "studio",
                audit: AuditLog | None = None) -> ExportOutcome:
    """Encode (:func:`encode_with_provenance`), write atomically, append to ``audit`` (the default log when
    None). A failing audit log is logged, never loses the written file."""
    encoded = encode_with_provenance(path, samples, sample_rate, record, watermark=watermark, subtype=subtype)
    target = atomic_write(Path(path), encoded.data)
    log_audit(audit, encoded.record, target, source)
    return ExportOutcome(target, encoded.record, encoded.confidence)


def log_audit(audit: AuditLog | None, record: Provenance, path: Path, source: str) -> None:
    """Append one export to the audit log; an unwritable log is reported in the app log, not raised
    (the export itself succeeded and must not look failed)."""
    try:
        (audit or AuditLog()).record(record, path, source)
    except (OSError, TimeoutError) as exc:
        log.error("could not add %s to the audit log: %s", path, exc)


__all__ = ["EncodedExport", "ExportOutcome", "decoded_confidence", "encode_with_provenance", "file_confidence", "export_clip",
           "log_audit"]
