"""Exporting a batch: one WAV per row, manifests (CSV + JSON), an optional combined WAV, SRT and WebVTT.

Provenance (issue 17): every WAV carries the watermark (unless ``ExportOptions.watermark`` is off) and
tags (:mod:`valle_studio.studio.provenance_export`), each written file is appended to the audit log, and
the manifests repeat the provenance read back from each file's tags (model, voice, app version, the
synthetic-speech marker, whether the watermark was confirmed). The one per-run timestamp of a row is the
column ``generated_utc`` (when its take was generated); the JSON manifest's ``exported_utc`` says when the
manifest was written: tools that compare manifests between runs leave out those two.

Names come from the naming template (or a row's own ``filename``) through :mod:`valle_studio.batch.
names`, so nothing a script says can leave the chosen folder. :func:`plan_export` fixes every name
before anything is written and records it in the project, which is how an interrupted export (or an
interrupted CLI batch, which exports as it goes) recognises its own files later.

Existing files are never silently overwritten: a file in the way is replaced only when this project
wrote it and it still holds exactly what was written (same SHA-256). Anything else is a conflict,
settled by the ``on_conflict`` policy: ``rename`` (add ``-2``...), ``overwrite`` (the user said so) or
``error``. Files of this project that a new export supersedes (a row was renamed or deleted) are
removed if untouched, so the folder matches its manifest.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from valle_studio.audio.io import load_audio
from valle_studio.audio.tags import TagError, provenance_from_tags, read_tags, tag_file
from valle_studio.batch.csv_safe import spreadsheet_safe
from valle_studio.batch.names import (
    DEFAULT_TEMPLATE,
    check_template,
    render_template,
    sanitize_stem,
    slugify,
    strip_audio_extension,
    unique_name,
)
from valle_studio.batch.project import BatchProject, ProjectError
from valle_studio.batch.quality import manifest_columns
from valle_studio.batch.rows import ExportedFile, ExportRecord, Row
from valle_studio.core.atomic import atomic_write, atomic_write_text
from valle_studio.core.codec_format import SAMPLE_RATE
from valle_studio.core.commit import same_file
from valle_studio.core.provenance import Provenance
from valle_studio.engine.progress import CancelToken, ProgressCallback, report
from valle_studio.studio.audit import AuditLog
from valle_studio.studio.provenance_export import export_clip, file_confidence, log_audit, take_provenance
from valle_studio.studio.takes import Take

MANIFEST_CSV, MANIFEST_JSON = "@manifest.csv", "@manifest.json"
COMBINED_WAV, COMBINED_SRT, COMBINED_VTT = "@combined.wav", "@combined.srt", "@combined.vtt"
#: Manifest columns that differ between two runs of the same script (see the module docstring).
TIMESTAMP_COLUMNS = ("generated_utc", "exported_utc")
WAV_FORMATS = {"pcm16": "PCM_16", "pcm24": "PCM_24", "float": "FLOAT"}
CONFLICT_POLICIES = ("rename", "overwrite", "error")
SRT_LINE_CHARS = 42  # the usual subtitle line length
_RF64_BYTES = 4_000_000_000  # plain WAV cannot hold more than 4 GiB


class ExportConflict(ProjectError):
    """Files not written by this project are in the way; ``paths`` lists them."""

    def __init__(self, paths: list[Path]) -> None:
        shown = ", ".join(p.name for p in paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
        super().__init__(f"{len(paths)} file(s) already exist in {paths[0].parent} and were not written by "
                         f"this batch: {shown}. Choose another folder, or allow renaming or overwriting.")
        self.paths = paths


@dataclass(frozen=True)
class ExportOptions:
    """Where and how to export. ``combined_gap_s`` is the silence between rows in the combined file;
    the SRT's timings are those of the combined file (written or not)."""

    folder: Path
    template: str = DEFAULT_TEMPLATE
    wav_format: str = "pcm16"
    combined: bool = False
    combined_gap_s: float = 0.5
    srt: bool = False
    on_conflict: str = "rename"
    #: Embed the imperceptible watermark in every file written (the app's and the CLI's default).
    watermark: bool = True
    #: Files the batch reads (its script, prompts, model): never overwritten, whatever ``on_conflict`` says;
    #: an output that would land on one gets another name.
    protect: tuple[Path, ...] = ()

    def __post_init__(self) -> None:
        check_template(self.template)
        if self.wav_format not in WAV_FORMATS:
            raise ValueError(f"wav format {self.wav_format!r}: use one of {', '.join(WAV_FORMATS)}")
        if self.on_conflict not in CONFLICT_POLICIES:
            raise ValueError(f"on_conflict {self.on_conflict!r}: use one of {', '.join(CONFLICT_POLICIES)}")
        if not 0.0 <= self.combined_gap_s <= 60.0:
            raise ValueError(f"the gap between lines must be 0 to 60 seconds, not {self.combined_gap_s}")


@dataclass
class ExportResult:
    """What an export did; names are file names inside ``folder``."""

    folder: Path
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)  # wanted name -> name used (a file was in the way)
    removed: list[str] = field(default_factory=list)  # superseded files of this project
    missing_rows: list[int] = field(default_factory=list)  # 1-based rows without a take (not exported)
    manifests: list[str] = field(default_factory=list)
    combined: str | None = None
    srt: str | None = None
    vtt: str | None = None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def row_stem(project: BatchProject, row: Row, index: int, template: str) -> str:
    """The stem row ``index`` (0-based) gets: its own ``filename`` if set, else the template."""
    if row.filename:
        return sanitize_stem(strip_audio_extension(row.filename))
    return render_template(template, index=index + 1, voice=project.voice_label(row), slug=slugify(row.text),
                           lang=project.language_for(row), check=False)


# -- planning ---------------------------------------------------------------------------------------

def _entries(project: BatchProject, options: ExportOptions) -> list[tuple[str, str, str]]:
    """(key, stem, suffix) of every file, fixed project-wide files first so they keep their names."""
    entries = [(MANIFEST_CSV, "manifest", ".csv"), (MANIFEST_JSON, "manifest", ".json")]
    if options.combined:
        entries.append((COMBINED_WAV, "combined", ".wav"))
    if options.srt:
        entries.append((COMBINED_SRT, "combined", ".srt"))
        entries.append((COMBINED_VTT, "combined", ".vtt"))
    entries += [(row.id, row_stem(project, row, i, options.template), ".wav") for i, row in enumerate(project.rows)]
    return entries


def _is_ours(path: Path, key: str, old: dict[str, ExportedFile]) -> bool:
    """Did this project write ``path``, and does it still hold what was written?"""
    prev = old.get(key)
    if prev is not None and prev.name == path.name and prev.sha256 is None:
        return True  # reserved for this row; a crash hit between writing it and recording it
    recorded = {f.sha256 for f in old.values() if f.name == path.name and f.sha256}
    return bool(recorded) and sha256_of(path) in recorded


@dataclass
class ExportPlan:
    """The outcome of :func:`plan_export`: the record (names of every file), the names changed because
    a foreign file was in the way (wanted -> used), and superseded files of this project removed."""

    record: ExportRecord
    renamed: dict[str, str]
    removed: list[str]


def plan_export(project: BatchProject, options: ExportOptions) -> ExportPlan:
    """Fix the name of every file (see the module docstring) and store the plan in the project
    (the caller saves).

    Raises:
        ExportConflict: with ``on_conflict="error"``, when foreign files are in the way.
    """
    folder = Path(options.folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    with project.lock:
        old_record = project.export_record(folder)
        old = old_record.files if old_record else {}
        on_disk = {p.name.casefold() for p in folder.iterdir()}
        record = ExportRecord(str(folder), options.template)
        taken: set[str] = set()
        renamed: dict[str, str] = {}
        conflicts: list[Path] = []
        for key, stem, suffix in _entries(project, options):
            prev = old.get(key)
            name = prev.name if prev is not None and prev.base == stem and prev.name.endswith(suffix) else None
            if name is None or name.casefold() in taken:
                name = unique_name(stem, suffix, taken)
            path = folder / name
            if any(same_file(path, kept) for kept in options.protect):
                new = unique_name(stem, suffix, taken | on_disk)
                renamed[name], name = new, new
            elif path.exists() and not _is_ours(path, key, old):
                if options.on_conflict == "rename":
                    new = unique_name(stem, suffix, taken | on_disk)
                    renamed[name], name = new, new
                elif options.on_conflict == "error":
                    conflicts.append(path)
            if Path(name).name != name or name in {".", ".."}:  # defence in depth: names stay in the folder
                raise ProjectError(f"refusing the unsafe file name {name!r}")
            taken.add(name.casefold())
            kept = prev if prev is not None and prev.name == name else None  # same file: keep what it holds
            record.files[key] = ExportedFile(name, stem, kept.take if kept else None, kept.sha256 if kept else None)
        if conflicts:
            raise ExportConflict(conflicts)
        project.exports = [e for e in project.exports if e.folder != record.folder] + [record]
        # Superseded files of this project: still recorded under the old plan, no longer in the new one.
        keep = {f.name.casefold() for f in record.files.values()}
        record_stale = [f for f in old.values() if f.name.casefold() not in keep and f.sha256]
    stale = [f.name for f in record_stale if (folder / f.name).is_file() and sha256_of(folder / f.name) == f.sha256]
    for name in stale:
        (folder / name).unlink(missing_ok=True)
    return ExportPlan(record, renamed, stale)


# -- writing ----------------------------------------------------------------------------------------

def export_row(project: BatchProject, record: ExportRecord, row: Row, wav_format: str = "pcm16", *,
               watermark: bool = True, audit: AuditLog | None = None) -> bool:
    """Write the row's approved take to its planned name, watermarked (unless ``watermark`` is off) and
    tagged, and add it to the audit log; False when there is no take or the file there already holds it.
    Updates ``record`` (the caller saves the project)."""
    take = row.approved_take
    entry = record.files.get(row.id)
    if take is None or entry is None:
        return False
    path = Path(record.folder) / entry.name
    if entry.take == take.id and entry.sha256 and path.is_file() and sha256_of(path) == entry.sha256:
        return False
    samples, sample_rate = project.take_audio(take)
    export_clip(path, samples, sample_rate, take_provenance(take), watermark=watermark,
                subtype=WAV_FORMATS[wav_format], source="batch", audit=audit)
    with project.lock:
        entry.take, entry.sha256 = take.id, sha256_of(path)
    return True


def _exported_rows(project: BatchProject, record: ExportRecord) -> list[tuple[int, Row]]:
    """Rows whose approved take is the file in the folder, in project order."""
    out = []
    for index, row in enumerate(project.rows):
        entry, take = record.files.get(row.id), row.approved_take
        if entry is not None and take is not None and entry.take == take.id:
            out.append((index, row))
    return out


def file_provenance(path: Path) -> dict[str, Any]:
    """The provenance columns of a written file, read back from its tags (``app_version``, ``synthetic``,
    ``watermark``): what the file says, not what was meant; an untagged or unreadable file gives empty
    values and ``watermark`` False."""
    try:
        found = provenance_from_tags(read_tags(path))
    except TagError:
        found = None
    if found is None:
        return {"app_version": "", "synthetic": "", "watermark": False}
    return {"app_version": found.app_version, "synthetic": found.synthetic, "watermark": found.watermark}


def manifest_entries(project: BatchProject, record: ExportRecord) -> list[dict[str, Any]]:
    """One dict per exported file: file, text, voice, language, seed, duration_s, settings, ..., the
    take's quality check (``verdict``, ``score``, ``reasons``; None/empty when it was not checked), and its
    provenance (``app_version``, ``synthetic``, ``watermark`` read back from the file; ``generated_utc``)."""
    entries = []
    for index, row in _exported_rows(project, record):
        take = row.approved_take
        assert take is not None
        name = record.files[row.id].name
        entries.append({"index": index + 1, "file": name, "text": take.text,
                        "voice": take.voice, "language": take.language, "seed": take.seed,
                        "duration_s": round(take.duration_s, 3), "take": take.id, "model": take.model,
                        "settings": take.settings.to_dict(), **manifest_columns(take),
                        **file_provenance(Path(record.folder) / name), "generated_utc": take.created})
    return entries


def _write_tracked(record: ExportRecord, key: str, writer: Callable[[Path], object]) -> str:
    entry = record.files[key]
    path = Path(record.folder) / entry.name
    writer(path)
    entry.take, entry.sha256 = "-", sha256_of(path)
    return entry.name


def write_manifests(project: BatchProject, record: ExportRecord) -> list[str]:
    entries = manifest_entries(project, record)
    buffer = io.StringIO(newline="")
    columns = ["index", "file", "text", "voice", "language", "seed", "duration_s", "take", "model", "settings",
               "verdict", "score", "reasons", "app_version", "synthetic", "watermark", "generated_utc"]
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for entry in entries:
        cells = {**entry, "settings": json.dumps(entry["settings"], sort_keys=True, separators=(",", ":")),
                 "verdict": entry["verdict"] or "", "score": "" if entry["score"] is None else entry["score"],
                 "reasons": "; ".join(entry["reasons"]), "watermark": "yes" if entry["watermark"] else "no"}
        writer.writerow({key: spreadsheet_safe(value) for key, value in cells.items()})
    document = {"project": project.name, "exported_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "sample_rate": SAMPLE_RATE, "files": entries}
    text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return [_write_tracked(record, MANIFEST_CSV, lambda p: atomic_write_text(p, buffer.getvalue())),
            _write_tracked(record, MANIFEST_JSON, lambda p: atomic_write_text(p, text))]


def combined_timings(project: BatchProject, record: ExportRecord, gap_s: float) -> list[tuple[float, float, Row]]:
    """(start, end, row) of every exported row laid end to end with ``gap_s`` between them."""
    timings, at = [], 0.0
    for _index, row in _exported_rows(project, record):
        take = row.approved_take
        assert take is not None
        timings.append((at, at + take.duration_s, row))
        at += take.duration_s + gap_s
    return timings


def combined_provenance(takes: list[Take]) -> Provenance:
    """The record of the combined file: every line's text, the voices and models used."""
    def joined(values: list[str]) -> str:
        return ", ".join(dict.fromkeys(v for v in values if v))

    return Provenance(text=" ".join(t.text for t in takes), voice=joined([t.voice for t in takes]),
                      model=joined([t.model for t in takes]))


def write_combined(project: BatchProject, record: ExportRecord, gap_s: float, wav_format: str, *,
                   watermark: bool = True, audit: AuditLog | None = None) -> str:
    """All exported rows in one WAV (streamed: memory stays at one take), each line watermarked (unless
    ``watermark`` is off); the file is read back for the detector, then tagged and logged."""
    import soundfile as sf

    rows = [row for _i, row in _exported_rows(project, record)]
    takes = [row.approved_take for row in rows]
    sample_rate = SAMPLE_RATE  # every take is saved at the codec's rate
    gap = np.zeros(round(gap_s * sample_rate), np.float32)
    subtype = WAV_FORMATS[wav_format]
    frames = sum(round(t.duration_s * sample_rate) for t in takes if t) + len(gap) * max(0, len(takes) - 1)
    container = "RF64" if frames * 4 > _RF64_BYTES else "WAV"

    def writer(temp: Path) -> None:
        with sf.SoundFile(temp, "w", samplerate=sample_rate, channels=1, subtype=subtype, format=container) as out:
            for i, take in enumerate(takes):
                assert take is not None
                clip = load_audio(project.folder / take.audio_file)
                if clip.sample_rate != sample_rate:
                    raise ProjectError(f"{take.audio_file}: {clip.sample_rate} Hz, expected {sample_rate} Hz")
                if i and gap.size:
                    out.write(gap)
                samples = apply_watermark(clip.samples, sample_rate) if watermark else clip.samples
                out.write(samples if subtype == "FLOAT" else np.clip(samples, -1.0, 1.0))
        final = provenance.with_watermark(watermark and is_watermarked(file_confidence(temp)))
        tag_file(temp, final, suffix=".wav")
        written.append(final)

    from valle_studio.engine.watermark import apply_watermark, is_watermarked

    provenance = combined_provenance([t for t in takes if t is not None])
    written: list[Provenance] = []
    name = _write_tracked(record, COMBINED_WAV, lambda p: atomic_write(p, writer))
    log_audit(audit, written[-1], Path(record.folder) / name, "batch")
    return name


def _timestamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d},{millis:03d}"


def srt_text(cues: list[tuple[float, float, str]]) -> str:
    """SubRip text: numbered cues, ``HH:MM:SS,mmm --> HH:MM:SS,mmm``, text wrapped at 42 characters."""
    blocks = []
    for number, (start, end, text) in enumerate(cues, start=1):
        wrapped = "\n".join(textwrap.wrap(text, SRT_LINE_CHARS)) or " "
        blocks.append(f"{number}\n{_timestamp(start)} --> {_timestamp(end)}\n{wrapped}\n")
    return "\n".join(blocks)


def vtt_text(cues: list[tuple[float, float, str]]) -> str:
    """WebVTT text: the ``WEBVTT`` header, then cues ``HH:MM:SS.mmm --> HH:MM:SS.mmm`` with their text
    wrapped as in the SRT (``&``, ``<`` and ``>`` escaped, as the format requires)."""
    blocks = ["WEBVTT\n"]
    for number, (start, end, text) in enumerate(cues, start=1):
        safe = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        wrapped = "\n".join(textwrap.wrap(safe, SRT_LINE_CHARS)) or " "
        blocks.append(f"{number}\n{_timestamp(start).replace(',', '.')} --> {_timestamp(end).replace(',', '.')}\n"
                      f"{wrapped}\n")
    return "\n".join(blocks)


def _cues(project: BatchProject, record: ExportRecord, gap_s: float) -> list[tuple[float, float, str]]:
    return [(start, end, row.approved_take.text if row.approved_take else row.text)
            for start, end, row in combined_timings(project, record, gap_s)]


def write_srt(project: BatchProject, record: ExportRecord, gap_s: float) -> str:
    cues = _cues(project, record, gap_s)
    return _write_tracked(record, COMBINED_SRT, lambda p: atomic_write_text(p, srt_text(cues)))


def write_vtt(project: BatchProject, record: ExportRecord, gap_s: float) -> str:
    cues = _cues(project, record, gap_s)
    return _write_tracked(record, COMBINED_VTT, lambda p: atomic_write_text(p, vtt_text(cues)))


def export_project(project: BatchProject, options: ExportOptions, *, progress: ProgressCallback | None = None,
                   cancel: CancelToken | None = None) -> ExportResult:
    """Plan, write every row that has a take, then the manifests, combined file and SRT; saves the
    project's record of it. Rows without a take are listed in ``missing_rows``."""
    plan = plan_export(project, options)
    record = plan.record
    project.save()  # the plan (reserved names) is durable before the first file appears
    result = ExportResult(Path(record.folder), renamed=plan.renamed, removed=plan.removed)
    rows = list(project.rows)
    try:
        for index, row in enumerate(rows):
            report(progress, cancel, "exporting", index, len(rows))
            if row.approved_take is None:
                result.missing_rows.append(index + 1)
            elif export_row(project, record, row, options.wav_format, watermark=options.watermark):
                result.written.append(record.files[row.id].name)
            else:
                result.unchanged.append(record.files[row.id].name)
        report(progress, cancel, "exporting", len(rows), len(rows))
        result.manifests = write_manifests(project, record)
        if options.combined:
            result.combined = write_combined(project, record, options.combined_gap_s, options.wav_format,
                                             watermark=options.watermark)
        if options.srt:
            result.srt = write_srt(project, record, options.combined_gap_s)
            result.vtt = write_vtt(project, record, options.combined_gap_s)
    finally:
        project.save()
    return result


__all__ = [
    "CONFLICT_POLICIES",
    "TIMESTAMP_COLUMNS",
    "WAV_FORMATS",
    "ExportConflict",
    "ExportOptions",
    "ExportPlan",
    "ExportResult",
    "combined_provenance",
    "combined_timings",
    "export_project",
    "export_row",
    "file_provenance",
    "manifest_entries",
    "plan_export",
    "row_stem",
    "srt_text",
    "vtt_text",
    "write_combined",
    "write_manifests",
    "write_srt",
    "write_vtt",
]
