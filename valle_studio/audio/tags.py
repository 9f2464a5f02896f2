"""Provenance tags in exported WAV, FLAC and Ogg Vorbis files, written and read with mutagen.

FLAC and Ogg Vorbis get Vorbis comments: the standard TITLE (the text), DATE, ENCODER (the app),
COMMENT (one human sentence saying the file is synthetic speech), ARTIST (the voice) and our own
``VALLE_*`` fields (:data:`valle_studio.core.provenance.TAG_FIELDS`). WAV gets an ID3v2.4 chunk with the
same information: TIT2, TDRC, TSSE, COMM, TPE1 and ``TXXX:VALLE_*`` frames (RIFF INFO is not written:
mutagen cannot, and ID3-in-WAV is what mutagen, ffprobe, foobar2000 and most editors read).

Tags are written into the encoded bytes in memory (:func:`tag_bytes`), so the file still reaches the
disk in one atomic write (or one output commit); :func:`read_tags` reads them back from a file.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from valle_studio.core.provenance import TAG_FIELDS, Provenance

TAGGED_SUFFIXES = (".wav", ".flac", ".ogg")


class TagError(ValueError):
    """Tags could not be written or read; the message names the file."""


def _vorbis_comments(record: Provenance) -> dict[str, str]:
    return {"TITLE": record.text, "ARTIST": record.voice, "DATE": record.created[:10], "ENCODER": record.software,
            "COMMENT": record.comment(), **record.tag_values()}


def tag_bytes(data: bytes, suffix: str, record: Provenance) -> bytes:
    """``data`` (an encoded WAV/FLAC/Ogg file) with ``record`` written into its tags.

    Raises:
        TagError: an unknown suffix, or bytes mutagen cannot parse as that format.
    """
    suffix = suffix.lower()
    buffer = io.BytesIO(data)
    try:
        if suffix in (".flac", ".ogg"):
            from mutagen.flac import FLAC
            from mutagen.oggvorbis import OggVorbis

            audio = FLAC(buffer) if suffix == ".flac" else OggVorbis(buffer)
            if audio.tags is None:
                audio.add_tags()
            for key, value in _vorbis_comments(record).items():
                audio[key] = [value]
            buffer.seek(0)
            audio.save(buffer)
        elif suffix == ".wav":
            _tag_wave(buffer, record)
        else:
            raise TagError(f"cannot tag a '{suffix}' file (use {', '.join(TAGGED_SUFFIXES)})")
    except TagError:
        raise
    except Exception as exc:  # mutagen raises its own error types per format
        raise TagError(f"could not write tags into the {suffix} data: {exc}") from exc
    return buffer.getvalue()


def _tag_wave(buffer: io.BytesIO, record: Provenance) -> None:
    from mutagen.id3 import COMM, TDRC, TIT2, TPE1, TSSE, TXXX
    from mutagen.wave import WAVE

    audio = WAVE(buffer)
    if audio.tags is None:
        audio.add_tags()
    tags = audio.tags
    assert tags is not None
    tags.add(TIT2(encoding=3, text=[record.text]))
    tags.add(TPE1(encoding=3, text=[record.voice]))
    tags.add(TDRC(encoding=3, text=[record.created[:10]]))
    tags.add(TSSE(encoding=3, text=[record.software]))
    tags.add(COMM(encoding=3, lang="eng", desc="", text=[record.comment()]))
    for key, value in record.tag_values().items():
        tags.add(TXXX(encoding=3, desc=key, text=[value]))
    buffer.seek(0)
    audio.save(buffer)


def tag_file(path: str | os.PathLike[str], record: Provenance, suffix: str | None = None) -> None:
    """Write ``record`` into the tags of a file in place: for the temporary file a streaming writer filled,
    before its atomic rename (``suffix`` then names the format, as the temporary name ends in ``.tmp``)."""
    path = Path(path)
    path.write_bytes(tag_bytes(path.read_bytes(), suffix or path.suffix, record))


def read_tags(path: str | os.PathLike[str]) -> dict[str, str]:
    """Every text tag of a WAV/FLAC/Ogg file as ``{NAME: value}``: Vorbis comment names upper-cased; ID3
    frames under the Vorbis name of the same field (TIT2 -> TITLE, TXXX:VALLE_MODEL -> VALLE_MODEL, ...).
    An untagged file gives ``{}``.

    Raises:
        TagError: the file is not one mutagen can read.
    """
    import mutagen

    path = Path(path)
    try:
        audio = mutagen.File(path)
    except Exception as exc:
        raise TagError(f"cannot read the tags of '{path}': {exc}") from exc
    if audio is None:
        raise TagError(f"cannot read the tags of '{path}': not a WAV, FLAC or Ogg file mutagen knows")
    if audio.tags is None:
        return {}
    if path.suffix.lower() == ".wav" or hasattr(audio.tags, "getall"):
        return _id3_values(audio.tags)
    return {str(key).upper(): "; ".join(str(v) for v in values) for key, values in audio.tags.as_dict().items()}


_ID3_NAMES = {"TIT2": "TITLE", "TPE1": "ARTIST", "TDRC": "DATE", "TSSE": "ENCODER"}


def _id3_values(tags: object) -> dict[str, str]:
    values: dict[str, str] = {}
    for frame in tags.values():  # type: ignore[attr-defined]
        frame_id = frame.FrameID
        text = "; ".join(str(t) for t in getattr(frame, "text", []))
        if frame_id == "TXXX":
            values[str(frame.desc).upper()] = text
        elif frame_id == "COMM":
            values["COMMENT"] = text
        elif frame_id in _ID3_NAMES:
            values[_ID3_NAMES[frame_id]] = text
    return values


def provenance_from_tags(tags: dict[str, str]) -> Provenance | None:
    """The record a file's tags describe, or None when it carries no VALL-E Studio provenance."""
    fields = {attribute: tags.get(name) for name, attribute in TAG_FIELDS}
    if fields["model"] is None or fields["synthetic"] is None:
        return None
    return Provenance(text=fields["text"] or "", voice=fields["voice"] or "", model=fields["model"] or "",
                      created=fields["created"] or "", app_version=fields["app_version"] or "",
                      watermark=fields["watermark_tag"] not in (None, "", "none"))


__all__ = ["TAGGED_SUFFIXES", "TagError", "provenance_from_tags", "read_tags", "tag_bytes", "tag_file"]
