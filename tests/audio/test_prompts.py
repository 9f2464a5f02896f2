"""read_prompt_file: audio files become 24 kHz mono clips, .npy files checked codes, failures name the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from valle_studio.audio.io import AudioError, load_audio
from valle_studio.audio.prompts import read_prompt_file, read_prompt_files
from valle_studio.core.clip import Clip, PromptError
from valle_studio.core.resample import resample


def _tone(seconds: float, rate: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * (180 + 40 * t) * t)).astype(np.float32)


def test_audio_file_becomes_a_24khz_mono_clip_named_by_its_path(tmp_path: Path) -> None:
    path = tmp_path / "stereo.wav"
    stereo = np.stack([_tone(1.0, 44_100), 0.5 * _tone(1.0, 44_100)], axis=1)
    sf.write(path, stereo, 44_100, subtype="FLOAT")
    clip = read_prompt_file(path)
    assert isinstance(clip, Clip)
    assert clip.sample_rate == 24_000 and clip.name == str(path) and clip.samples.size == 24_000
    mono = load_audio(path)
    np.testing.assert_array_equal(clip.samples, resample(mono.samples, 44_100, 24_000))  # the one resampler


def test_24khz_file_is_not_touched(tmp_path: Path) -> None:
    samples = _tone(0.5, 24_000)
    sf.write(tmp_path / "a.flac", samples, 24_000, subtype="PCM_24")
    clip = read_prompt_file(tmp_path / "a.flac")
    assert isinstance(clip, Clip)
    np.testing.assert_array_equal(clip.samples, load_audio(tmp_path / "a.flac").samples)


def test_the_files_advice_travels_in_the_notes(tmp_path: Path) -> None:
    sf.write(tmp_path / "8k.wav", _tone(1.0, 8_000), 8_000)
    clip = read_prompt_file(tmp_path / "8k.wav")
    assert isinstance(clip, Clip) and any("8000 Hz" in note for note in clip.notes)


def test_npy_codes_are_read_checked_and_never_unpickled(tmp_path: Path) -> None:
    codes = np.arange(24, dtype=np.int16).reshape(3, 8)
    np.save(tmp_path / "c.npy", codes)
    read = read_prompt_file(tmp_path / "c.npy")
    assert isinstance(read, np.ndarray) and read.dtype == np.int64
    np.testing.assert_array_equal(read, codes)
    np.save(tmp_path / "wide.npy", np.zeros((3, 9), np.int64))
    with pytest.raises(PromptError, match=r"wide\.npy: codes must be shaped"):
        read_prompt_file(tmp_path / "wide.npy")
    np.save(tmp_path / "pickled.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(PromptError, match=r"pickled\.npy: not a readable \.npy code file"):
        read_prompt_file(tmp_path / "pickled.npy")


def test_missing_folder_and_broken_files_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(PromptError, match=r"missing\.wav: prompt file not found"):
        read_prompt_file(tmp_path / "missing.wav")
    (tmp_path / "folder.wav").mkdir()
    with pytest.raises(PromptError, match="is a folder"):
        read_prompt_file(tmp_path / "folder.wav")
    (tmp_path / "notes.wav").write_text("not audio\n" * 50)
    with pytest.raises(AudioError) as info:
        read_prompt_file(tmp_path / "notes.wav")
    assert info.value.kind == "not_audio"


def test_several_files_keep_their_order(tmp_path: Path) -> None:
    sf.write(tmp_path / "a.wav", _tone(0.2, 24_000), 24_000)
    np.save(tmp_path / "b.npy", np.ones((2, 8), np.int64))
    first, second = read_prompt_files([tmp_path / "a.wav", str(tmp_path / "b.npy")])
    assert isinstance(first, Clip) and isinstance(second, np.ndarray)
