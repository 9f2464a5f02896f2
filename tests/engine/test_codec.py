"""EncodecVocosCodec with random weights: shapes, rates, round trips, loading from files, errors."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from valle_studio.audio.io import load_audio, save_audio
from valle_studio.engine.codec import (
    Codec,
    CodecError,
    EncodecVocosCodec,
    MissingWeightsError,
    prepare_codes,
)
from valle_studio.engine.codec.builders import DEFAULT_VOCOS_CONFIG

SR = 24_000
HOP = 320


@pytest.fixture(scope="module")
def codec() -> EncodecVocosCodec:
    return EncodecVocosCodec.random(seed=0)


def speechlike(seconds: float, sr: int, seed: int = 0) -> np.ndarray:
    """A gliding tone plus noise: changes every frame, so codes must change too."""
    t = np.arange(round(seconds * sr)) / sr
    rng = np.random.default_rng(seed)
    glide = 0.3 * np.sin(2 * np.pi * (150 * t + 400 * t**2))
    return (glide + 0.05 * rng.standard_normal(t.size)).astype(np.float32)


def test_protocol_and_constants(codec: EncodecVocosCodec) -> None:
    assert isinstance(codec, Codec)
    assert (codec.sample_rate, codec.frame_rate, codec.n_levels) == (24_000, 75, 8)
    assert codec.vocoder == "vocos"


def test_wav_round_trip(codec: EncodecVocosCodec, tmp_path: Path) -> None:
    x = speechlike(1.0, SR)
    save_audio(tmp_path / "in.wav", x, SR)
    clip = load_audio(tmp_path / "in.wav")
    codes = codec.encode(clip.samples, clip.sample_rate)
    assert codes.dtype == torch.int64 and codes.device.type == "cpu"
    assert tuple(codes.shape) == (75, 8)  # 75 frames per second
    assert int(codes.min()) >= 0 and int(codes.max()) < 1024
    assert all(codes[:, level].unique().numel() > 5 for level in range(8))  # the audio drives the codes
    audio = codec.decode(codes)
    assert audio.dtype == np.float32 and audio.ndim == 1 and np.all(np.isfinite(audio))
    assert abs(audio.size - x.size) < HOP
    save_audio(tmp_path / "out.wav", audio, codec.sample_rate)
    assert load_audio(tmp_path / "out.wav").sample_rate == 24_000


def test_44k_stereo_file(codec: EncodecVocosCodec, tmp_path: Path) -> None:
    left, right = speechlike(1.2, 44_100, seed=1), speechlike(1.2, 44_100, seed=2)
    save_audio(tmp_path / "st.wav", np.stack([left, right], axis=1), 44_100)
    clip = load_audio(tmp_path / "st.wav")
    assert clip.channels == 2
    codes = codec.encode(clip.samples, 44_100)
    expected = math.ceil(math.ceil(left.size * SR / 44_100) / HOP)
    assert codes.shape == (expected, 8) == (codec.frames_for(left.size, 44_100), 8)
    assert abs(codes.shape[0] - 1.2 * 75) <= 1
    # [C, S] input is averaged like load_audio's mixdown
    torch.testing.assert_close(codec.encode(np.stack([left, right]), 44_100), codes)
    audio = codec.decode(codes)
    assert abs(audio.size - round(1.2 * SR)) < HOP


def test_resampling_matches_native_rate(codec: EncodecVocosCodec) -> None:
    """A 48 kHz clip encodes like the same clip generated at 24 kHz (torchaudio resampling)."""
    t48 = np.arange(24_000) / 48_000
    t24 = np.arange(12_000) / 24_000
    x48 = (0.4 * np.sin(2 * np.pi * 300 * t48)).astype(np.float32)
    x24 = (0.4 * np.sin(2 * np.pi * 300 * t24)).astype(np.float32)
    a, b = codec.encode(x48, 48_000), codec.encode(x24, SR)
    assert a.shape == b.shape and float((a == b).float().mean()) > 0.9


def test_deterministic_seeds_and_rng_untouched(codec: EncodecVocosCodec) -> None:
    before = torch.random.get_rng_state()
    again = EncodecVocosCodec.random(seed=0, with_vocos=False)
    assert torch.equal(torch.random.get_rng_state(), before)
    x = speechlike(0.5, SR)
    torch.testing.assert_close(again.encode(x, SR), codec.encode(x, SR))
    other = EncodecVocosCodec.random(seed=4, with_vocos=False)
    assert not torch.equal(other.encode(x, SR), codec.encode(x, SR))


def test_codes_at_or_above_1024_decode_as_zero(codec: EncodecVocosCodec) -> None:
    codes = codec.encode(speechlike(0.4, SR), SR)
    leaked = codes.clone()
    leaked[::3, 0] = 1024  # stop token
    leaked[1::5, 4] = 1025
    zeroed = leaked.clone()
    zeroed[zeroed >= 1024] = 0
    np.testing.assert_array_equal(codec.decode(leaked), codec.decode(zeroed))
    assert torch.equal(prepare_codes(leaked), zeroed)
    assert not np.array_equal(codec.decode(zeroed), codec.decode(codes))  # the replacement mattered


def test_encodec_fallback_decoder(codec: EncodecVocosCodec) -> None:
    codes = codec.encode(speechlike(0.5, SR), SR)
    audio = codec.decode(codes.numpy().astype(np.int16), vocoder="encodec")
    assert audio.shape == (codes.shape[0] * HOP,) and np.all(np.isfinite(audio))
    assert not np.allclose(audio, codec.decode(codes))  # a different network really ran


def test_encode_output_is_an_ordinary_tensor(codec: EncodecVocosCodec) -> None:
    codes = codec.encode(speechlike(0.2, SR), SR)
    assert not codes.is_inference()
    codes[0, 0] = 1  # callers may edit codes in place


def test_decode_edge_cases_and_bad_codes(codec: EncodecVocosCodec) -> None:
    assert codec.decode(torch.zeros(0, 8, dtype=torch.long)).shape == (0,)
    assert codec.decode(torch.zeros(4, 1, dtype=torch.long)).shape == (4 * HOP,)  # level 0 only
    with pytest.raises(ValueError, match="integers"):
        codec.decode(torch.zeros(3, 8))
    with pytest.raises(ValueError, match=r"\[T, 8\]"):
        codec.decode(torch.zeros(8, 3, 9, dtype=torch.long))
    with pytest.raises(ValueError, match=r"\[T, 8\]"):
        codec.decode(torch.zeros(3, 9, dtype=torch.long))
    with pytest.raises(ValueError, match=">= 0"):
        codec.decode(torch.full((2, 8), -1))
    with pytest.raises(ValueError, match="vocoder"):
        codec.decode(torch.zeros(2, 8, dtype=torch.long), vocoder="hifigan")  # type: ignore[arg-type]


def test_encode_rejects_bad_audio(codec: EncodecVocosCodec) -> None:
    with pytest.raises(ValueError, match="empty"):
        codec.encode(np.zeros(0, np.float32), SR)
    with pytest.raises(ValueError, match="NaN"):
        codec.encode(np.array([0.0, np.nan], np.float32), SR)
    with pytest.raises(ValueError, match="floating"):
        codec.encode(np.zeros(100, np.int16), SR)
    with pytest.raises(ValueError, match="shape"):
        codec.encode(np.zeros((1, 2, 100), np.float32), SR)
    with pytest.raises(ValueError, match="channels first"):
        codec.encode(np.zeros((100, 2), np.float32), SR)  # soundfile's [S, C] layout
    with pytest.raises(ValueError, match="sample_rate"):
        codec.encode(np.zeros(100, np.float32), 0)
    assert codec.encode(np.zeros(1, np.float32), SR).shape == (1, 8)  # shorter than a frame: one frame


# --- loading from local files -------------------------------------------------------------------


@pytest.fixture(scope="module")
def weight_files(codec: EncodecVocosCodec, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The random codec saved in the published files' formats (plain state dicts + config.yaml)."""
    folder = tmp_path_factory.mktemp("codec")
    torch.save(codec.encodec_model.state_dict(), folder / "encodec_24khz-d7cc33bc.th")
    assert codec.vocos_model is not None
    vocos_state = {k: v for k, v in codec.vocos_model.state_dict().items()
                   if not k.startswith("feature_extractor.encodec.")}  # as in pytorch_model.bin
    torch.save(vocos_state, folder / "pytorch_model.bin")
    (folder / "config.yaml").write_text(yaml.safe_dump(DEFAULT_VOCOS_CONFIG))
    return {"encodec_weights": folder / "encodec_24khz-d7cc33bc.th",
            "vocos_config": folder / "config.yaml", "vocos_weights": folder / "pytorch_model.bin"}


def test_from_files_reproduces_the_saved_codec(codec: EncodecVocosCodec,
                                               weight_files: dict[str, Path]) -> None:
    loaded = EncodecVocosCodec.from_files(**weight_files)
    assert loaded.vocoder == "vocos"
    x = speechlike(0.6, SR, seed=5)
    codes = loaded.encode(x, SR)
    torch.testing.assert_close(codes, codec.encode(x, SR))
    np.testing.assert_allclose(loaded.decode(codes), codec.decode(codes), atol=1e-5)


def test_from_files_without_vocos_uses_encodec(codec: EncodecVocosCodec,
                                               weight_files: dict[str, Path]) -> None:
    loaded = EncodecVocosCodec.from_files(weight_files["encodec_weights"])
    assert loaded.vocoder == "encodec"
    codes = codec.encode(speechlike(0.3, SR), SR)
    np.testing.assert_allclose(loaded.decode(codes), codec.decode(codes, vocoder="encodec"), atol=1e-5)
    with pytest.raises(ValueError, match="without Vocos"):
        loaded.decode(codes, vocoder="vocos")


@pytest.mark.parametrize("which", ["encodec_weights", "vocos_config", "vocos_weights"])
def test_missing_file_is_named(weight_files: dict[str, Path], tmp_path: Path, which: str) -> None:
    files = dict(weight_files)
    files[which] = tmp_path / f"absent-{which}"
    with pytest.raises(MissingWeightsError) as info:
        EncodecVocosCodec.from_files(**files)
    assert str(files[which]) in str(info.value) and isinstance(info.value, FileNotFoundError)


def test_wrong_or_damaged_files(weight_files: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(CodecError, match="does not fit"):
        EncodecVocosCodec.from_files(weight_files["vocos_weights"])  # Vocos file given as EnCodec's
    files = dict(weight_files, vocos_weights=weight_files["encodec_weights"])
    with pytest.raises(CodecError, match="does not fit"):
        EncodecVocosCodec.from_files(**files)
    (tmp_path / "junk.th").write_bytes(b"not a checkpoint")
    with pytest.raises(CodecError, match="could not be read"):
        EncodecVocosCodec.from_files(tmp_path / "junk.th")
    mel_features = {"class_path": "vocos.feature_extractors.MelSpectrogramFeatures"}
    mel = {**DEFAULT_VOCOS_CONFIG, "feature_extractor": mel_features}
    (tmp_path / "mel.yaml").write_text(yaml.safe_dump(mel))
    with pytest.raises(CodecError, match="EncodecFeatures"):
        EncodecVocosCodec.from_files(**dict(weight_files, vocos_config=tmp_path / "mel.yaml"))
    with pytest.raises(ValueError, match="both"):
        EncodecVocosCodec.from_files(weight_files["encodec_weights"],
                                     vocos_config=weight_files["vocos_config"])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu(codec: EncodecVocosCodec, weight_files: dict[str, Path]) -> None:
    gpu = EncodecVocosCodec.from_files(**weight_files, device="cuda")
    x = speechlike(1.0, 44_100, seed=7)
    cpu_codes, gpu_codes = codec.encode(x, 44_100), gpu.encode(x, 44_100)
    assert gpu_codes.device.type == "cpu" and float((cpu_codes == gpu_codes).float().mean()) > 0.95
    np.testing.assert_allclose(gpu.decode(cpu_codes), codec.decode(cpu_codes), atol=1e-3)
