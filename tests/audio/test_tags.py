"""Provenance tags (issue 17): written into WAV, FLAC and Ogg Vorbis bytes, read back by mutagen."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from valle_studio.audio.io import encode_audio
from valle_studio.audio.tags import TagError, provenance_from_tags, read_tags, tag_bytes, tag_file
from valle_studio.core.provenance import SYNTHETIC_MARKER, Provenance

RECORD = Provenance(text="Grüße, «world» — line two?", voice="Alice 🎙", model="ar+nar-len-llama-8",
                    created="2026-12-02T10:11:12+00:00", app_version="0.1.0", watermark=True)


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".ogg"])
def test_tags_round_trip_and_audio_untouched(suffix: str, tmp_path: Path) -> None:
    samples = (0.2 * np.sin(np.arange(24_000) / 7)).astype(np.float32)
    data = encode_audio(f"x{suffix}", samples, 24_000, subtype="PCM_16" if suffix == ".wav" else None)
    path = tmp_path / f"take{suffix}"
    path.write_bytes(tag_bytes(data, suffix, RECORD))
    tags = read_tags(path)
    assert tags["TITLE"] == RECORD.text and tags["ARTIST"] == RECORD.voice and tags["DATE"] == "2026-12-02"
    assert tags["ENCODER"] == "VALL-E Studio 0.1.0" and "Synthetic speech" in tags["COMMENT"]
    assert tags["VALLE_SYNTHETIC"] == SYNTHETIC_MARKER and tags["VALLE_WATERMARK"] == "perth-implicit"
    assert provenance_from_tags(tags) == RECORD
    before, _ = sf.read(__import__("io").BytesIO(data), dtype="float32")
    after, rate = sf.read(path, dtype="float32")
    assert rate == 24_000 and np.array_equal(before, after)


def test_untagged_and_foreign_files(tmp_path: Path) -> None:
    plain = tmp_path / "plain.flac"
    sf.write(plain, np.zeros(100, np.float32), 24_000)
    assert provenance_from_tags(read_tags(plain)) is None
    with pytest.raises(TagError):
        tag_bytes(b"not audio", ".flac", RECORD)
    with pytest.raises(TagError, match="mp3"):
        tag_bytes(b"", ".mp3", RECORD)


def test_tag_file_in_place_with_a_temporary_name(tmp_path: Path) -> None:
    temp = tmp_path / ".combined.wav.0123abcd.tmp"
    sf.write(temp, np.zeros(100, np.float32), 24_000, format="WAV", subtype="PCM_16")
    tag_file(temp, RECORD, suffix=".wav")
    final = temp.rename(tmp_path / "combined.wav")
    assert read_tags(final)["VALLE_MODEL"] == RECORD.model
