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
from valle_studio.studio.takes import Take

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EncodedExport:
    """The file's bytes, its record (``watermark`` confirmed or not) and the detector's confidence
    (None when the watermark was switched off)."""

    data: bytes
    record: Provenance
    confidence: float | None


def take_provenance(take: Take) -> Provenance:
    """The provenance record of a take (``created``: when it was generated)."""
    return Provenance(text=take.text, voice=take.voice, model=take.model, created=take.created)


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
class WatermarkCheck:
    """What :func:`check_file` found: the detector's confidence and verdict, and the provenance the
    file's tags claim (None: no VALL-E Studio tags; tags are easy to strip, the watermark is not)."""

    path: Path
    confidence: float
    watermarked: bool
    tagged: Provenance | None

    def sentence(self) -> str:
        """One line for people: the verdict, the confidence, what the tags say."""
        verdict = ("carries the VALL-E Studio watermark" if self.watermarked else
                   "does not carry the watermark")
        text = f"{self.path.name} {verdict} (detector confidence {self.confidence:.0%})."
        if self.tagged is not None:
            text += (f" Its tags say: synthetic speech made with {self.tagged.software}, model "
                     f"'{self.tagged.model}', voice '{self.tagged.voice}', on {self.tagged.created[:10]}.")
        else:
            text += " It has no VALL-E Studio provenance tags."
        return text


def check_file(path: str | os.PathLike[str]) -> WatermarkCheck:
    """Read an audio file (anything :func:`~valle_studio.audio.io.load_audio` reads, up to 30 min) and run
    the watermark detector on it; its tags are read too where the format has them.

    Raises:
        AudioError: the file cannot be read as audio (the message names it).
        WatermarkUnavailable: resemble-perth is not installed.
    """
    from valle_studio.audio.io import load_audio
    from valle_studio.audio.tags import TagError, provenance_from_tags, read_tags
    from valle_studio.engine.watermark import detect_watermark, is_watermarked

    clip = load_audio(path)
    confidence = detect_watermark(clip.samples, clip.sample_rate)
    try:
        tagged = provenance_from_tags(read_tags(path))
    except TagError:
        tagged = None
    return WatermarkCheck(Path(path), confidence, is_watermarked(confidence), tagged)


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


__all__ = ["EncodedExport", "ExportOutcome", "WatermarkCheck", "check_file", "decoded_confidence",
           "encode_with_provenance", "export_clip", "file_confidence", "log_audit", "take_provenance"]
