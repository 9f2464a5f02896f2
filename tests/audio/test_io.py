"""load_audio / save_audio: formats, mixdown, every AudioError (resampling: tests/core/test_resample.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from valle_studio.audio import io as audio_io
from valle_studio.audio.io import AudioClip, AudioError, load_audio, save_audio
from valle_studio.core.atomic import FolderMissingError

SR = 24_000


def tone(seconds: float, freq: float = 440.0, amplitude: float = 0.5, sr: int = SR) -> np.ndarray:
    t = np.arange(round(seconds * sr)) / sr
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def fit_sine(y: np.ndarray, sr: int, freq: float) -> tuple[float, float]:
    """Least-squares amplitude of a ``freq`` sine in the middle half of ``y``, and the residual RMS.

    A small residual means the signal is a sine of exactly that frequency.
    """
    n = y.size
    t = np.arange(n // 4, 3 * n // 4) / sr
    basis = np.stack([np.sin(2 * np.pi * freq * t), np.cos(2 * np.pi * freq * t)], axis=1)
    part = y[n // 4: 3 * n // 4].astype(np.float64)
    coef, *_ = np.linalg.lstsq(basis, part, rcond=None)
    return float(np.hypot(*coef)), float(np.sqrt(np.mean((part - basis @ coef) ** 2)))


def kind_of(path: Path, **kwargs: object) -> str:
    with pytest.raises(AudioError) as info:
        load_audio(path, **kwargs)  # type: ignore[arg-type]
    assert str(path) in str(info.value)  # every message names the file
    return info.value.kind


# --- loading -------------------------------------------------------------------------------------


def test_load_float_wav_exactly(tmp_path: Path) -> None:
    x = tone(0.5)
    sf.write(tmp_path / "a.wav", x, SR, subtype="FLOAT")
    clip = load_audio(tmp_path / "a.wav")
    assert isinstance(clip, AudioClip)
    assert clip.samples.dtype == np.float32 and clip.samples.ndim == 1
    assert np.array_equal(clip.samples, x)
    assert (clip.sample_rate, clip.channels, clip.format) == (SR, 1, "WAV")
    assert clip.duration == pytest.approx(0.5) and clip.source == tmp_path / "a.wav"
    assert clip.notes == ()


def test_stereo_is_mixed_to_mono_by_mean(tmp_path: Path) -> None:
    left, right = tone(0.3, 440), tone(0.3, 660, 0.25)
    sf.write(tmp_path / "s.wav", np.stack([left, right], axis=1), 44_100, subtype="FLOAT")
    clip = load_audio(tmp_path / "s.wav")
    assert clip.channels == 2 and clip.sample_rate == 44_100
    np.testing.assert_allclose(clip.samples, (left + right) / 2, atol=1e-7)


@pytest.mark.parametrize(("name", "fmt", "subtype", "tolerance"), [
    ("a.flac", "FLAC", "PCM_16", 1 / 32768),
    ("a.ogg", "OGG", "VORBIS", 0.05),
    ("a.mp3", "MP3", "MPEG_LAYER_III", 0.08),
])
def test_compressed_formats(tmp_path: Path, name: str, fmt: str, subtype: str, tolerance: float) -> None:
    if fmt not in sf.available_formats():
        pytest.skip(f"this libsndfile ({sf.__libsndfile_version__}) has no {fmt} support")
    x = tone(1.0, 440, 0.5)
    sf.write(tmp_path / name, x, SR, format=fmt, subtype=subtype)
    clip = load_audio(tmp_path / name)
    assert clip.format == fmt and abs(clip.samples.size - x.size) <= 1152
    amplitude, residual = fit_sine(clip.samples, SR, 440.0)
    assert amplitude == pytest.approx(0.5, abs=tolerance) and residual < tolerance


def test_missing_file_and_folder(tmp_path: Path) -> None:
    assert kind_of(tmp_path / "nope.wav") == "missing"
    assert kind_of(tmp_path) == "directory"


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.wav").write_bytes(b"")
    assert kind_of(tmp_path / "empty.wav") == "empty"


def test_zero_length_audio(tmp_path: Path) -> None:
    sf.write(tmp_path / "zero.wav", np.zeros(0, np.float32), SR)
    assert (tmp_path / "zero.wav").stat().st_size > 0  # a valid header with no samples
    assert kind_of(tmp_path / "zero.wav") == "empty"


def test_text_file_named_wav(tmp_path: Path) -> None:
    (tmp_path / "notes.wav").write_text("this is not audio\n" * 20)
    assert kind_of(tmp_path / "notes.wav") == "not_audio"


def test_truncated_wav(tmp_path: Path) -> None:
    sf.write(tmp_path / "full.wav", tone(1.0), SR, subtype="PCM_16")
    data = (tmp_path / "full.wav").read_bytes()
    (tmp_path / "cut.wav").write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioError, match="truncated") as info:
        load_audio(tmp_path / "cut.wav")
    assert info.value.kind == "truncated"


def test_truncated_mp3(tmp_path: Path) -> None:
    if "MP3" not in sf.available_formats():
        pytest.skip(f"this libsndfile ({sf.__libsndfile_version__}) has no MP3 support")
    sf.write(tmp_path / "a.mp3", tone(2.0), SR, format="MP3", subtype="MPEG_LAYER_III")
    data = (tmp_path / "a.mp3").read_bytes()
    (tmp_path / "cut.mp3").write_bytes(data[: len(data) // 2])
    assert kind_of(tmp_path / "cut.mp3") in {"truncated", "corrupt"}


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_damaged_flac(tmp_path: Path, damage: str) -> None:
    sf.write(tmp_path / "a.flac", np.random.default_rng(0).uniform(-0.5, 0.5, SR).astype(np.float32), SR)
    data = bytearray((tmp_path / "a.flac").read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    else:
        middle = len(data) // 2
        data[middle: middle + 4000] = np.random.default_rng(1).integers(0, 256, 4000, np.uint8).tobytes()
    (tmp_path / "bad.flac").write_bytes(bytes(data))
    assert kind_of(tmp_path / "bad.flac") in {"corrupt", "truncated"}


def test_nan_samples(tmp_path: Path) -> None:
    x = tone(0.2)
    x[100] = np.nan
    sf.write(tmp_path / "nan.wav", x, SR, subtype="FLOAT")
    assert kind_of(tmp_path / "nan.wav") == "invalid_samples"


def test_silence_loads_unless_rejected(tmp_path: Path) -> None:
    sf.write(tmp_path / "quiet.wav", np.zeros(SR, np.float32), SR)
    assert load_audio(tmp_path / "quiet.wav").samples.size == SR
    assert kind_of(tmp_path / "quiet.wav", reject_silent=True) == "silent"
    sf.write(tmp_path / "voice.wav", tone(0.5), SR)
    assert load_audio(tmp_path / "voice.wav", reject_silent=True).samples.size == SR // 2


def test_long_clip_loads_with_trim_advice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audio_io, "LONG_CLIP_SECONDS", 1.0)
    sf.write(tmp_path / "long.wav", tone(2.0), SR)
    clip = load_audio(tmp_path / "long.wav")
    assert clip.samples.size == 2 * SR
    assert any("trim" in note.lower() for note in clip.notes)


def test_too_long_clip_is_refused(tmp_path: Path) -> None:
    sf.write(tmp_path / "long.wav", tone(2.0), SR)
    with pytest.raises(AudioError, match=r"[Tt]rim") as info:
        load_audio(tmp_path / "long.wav", max_seconds=1.0)
    assert info.value.kind == "too_long"


def test_clipping_and_low_rate_notes(tmp_path: Path) -> None:
    x = np.clip(tone(0.5, amplitude=2.0, sr=8000), -1.0, 1.0)
    sf.write(tmp_path / "hot.wav", x, 8000, subtype="FLOAT")
    notes = " ".join(load_audio(tmp_path / "hot.wav").notes)
    assert "clipped" in notes and "8000 Hz" in notes


# --- saving --------------------------------------------------------------------------------------


def test_save_wav_defaults_to_float(tmp_path: Path) -> None:
    x = tone(0.25, amplitude=1.5)  # float WAV keeps values beyond full scale
    assert save_audio(tmp_path / "o.wav", x, SR) == tmp_path / "o.wav"
    info = sf.info(tmp_path / "o.wav")
    assert (info.format, info.subtype, info.samplerate) == ("WAV", "FLOAT", SR)
    assert np.array_equal(sf.read(tmp_path / "o.wav", dtype="float32")[0], x)
    assert [p.name for p in tmp_path.iterdir()] == ["o.wav"]


def test_save_pcm16_clips_instead_of_wrapping(tmp_path: Path) -> None:
    x = np.array([0.0, 0.5, 1.7, -3.0], np.float32)
    save_audio(tmp_path / "o.wav", x, SR, subtype="pcm_16")
    assert sf.info(tmp_path / "o.wav").subtype == "PCM_16"
    y = sf.read(tmp_path / "o.wav", dtype="float32")[0]
    np.testing.assert_allclose(y, [0.0, 0.5, 1.0, -1.0], atol=1 / 16384)


@pytest.mark.parametrize(("name", "fmt", "subtype"),
                         [("o.flac", "FLAC", "PCM_16"), ("o.ogg", "OGG", "VORBIS")])
def test_save_flac_and_ogg(tmp_path: Path, name: str, fmt: str, subtype: str) -> None:
    save_audio(tmp_path / name, tone(0.5), SR)
    info = sf.info(tmp_path / name)
    assert (info.format, info.subtype) == (fmt, subtype)
    clip = load_audio(tmp_path / name)
    assert fit_sine(clip.samples, SR, 440.0)[0] == pytest.approx(0.5, abs=0.05)


def test_save_stereo(tmp_path: Path) -> None:
    x = np.stack([tone(0.1), -tone(0.1)], axis=1)
    save_audio(tmp_path / "st.wav", x, SR)
    assert sf.info(tmp_path / "st.wav").channels == 2


def test_save_rejects_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="extension"):
        save_audio(tmp_path / "o.mp4", tone(0.1), SR)
    with pytest.raises(ValueError, match="subtype"):
        save_audio(tmp_path / "o.ogg", tone(0.1), SR, subtype="PCM_16")
    with pytest.raises(ValueError, match="NaN"):
        save_audio(tmp_path / "o.wav", np.array([0.0, np.nan], np.float32), SR)
    with pytest.raises(ValueError, match="non-empty"):
        save_audio(tmp_path / "o.wav", np.zeros(0, np.float32), SR)
    with pytest.raises(FolderMissingError):
        save_audio(tmp_path / "missing" / "o.wav", tone(0.1), SR)
    assert list(tmp_path.iterdir()) == []


def test_save_failure_leaves_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    save_audio(tmp_path / "o.wav", tone(0.1), SR)
    before = (tmp_path / "o.wav").read_bytes()

    def failing_write(file, data, samplerate, **kwargs):  # type: ignore[no-untyped-def]
        file.write(b"RIFF partial")  # the encoder writes into memory; the target is not touched
        raise sf.LibsndfileError(0, prefix="simulated: ")

    monkeypatch.setattr(audio_io.sf, "write", failing_write)
    with pytest.raises(AudioError) as info:
        save_audio(tmp_path / "o.wav", tone(0.2), SR)
    assert info.value.kind == "write_failed"
    assert (tmp_path / "o.wav").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["o.wav"]
