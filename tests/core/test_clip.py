"""The shared clip record and the code checks (core.clip), and the codec numbers (core.codec_format)."""

from __future__ import annotations

import numpy as np
import pytest

from valle_studio.core import codec_format
from valle_studio.core.clip import SILENCE_DBFS, Clip, PromptError, validate_codes


def test_codec_numbers_agree_with_each_other() -> None:
    f = codec_format
    assert (f.SAMPLE_RATE, f.FRAMES_PER_SECOND, f.HOP_LENGTH, f.LEVELS, f.CODEBOOK_SIZE) == (24_000, 75, 320, 8, 1024)
    assert f.HOP_LENGTH * f.FRAMES_PER_SECOND == f.SAMPLE_RATE
    assert f.STOP_TOKEN == f.MASK_TOKEN == f.CODEBOOK_SIZE  # one past the last code


def test_clip_stores_contiguous_float32_mono() -> None:
    samples = np.arange(10, dtype=np.float64)[::2]  # float64 and strided
    clip = Clip(samples, 16_000.0, "a.wav", ["loud"])  # type: ignore[arg-type]
    assert clip.samples.dtype == np.float32 and clip.samples.flags.c_contiguous
    assert clip.sample_rate == 16_000 and isinstance(clip.sample_rate, int)
    assert clip.notes == ("loud",) and clip.seconds == pytest.approx(5 / 16_000)
    with pytest.raises(ValueError, match="mono"):
        Clip(np.zeros((10, 2), np.float32), 24_000, "stereo.wav")
    assert Clip(np.zeros(3, np.float32), 0).seconds == 0.0  # an invalid rate is the engine's to refuse


def test_clip_silence_threshold() -> None:
    just_below = 10 ** (SILENCE_DBFS / 20) * 0.99
    assert Clip(np.full(100, just_below, np.float32), 24_000).is_silent
    assert not Clip(np.full(100, just_below * 1.1, np.float32), 24_000).is_silent
    assert Clip(np.zeros(0, np.float32), 24_000).is_silent


def test_validate_codes_names_the_source() -> None:
    good = np.ones((3, 8), np.int16)
    out = validate_codes(good, "x.npy")
    assert out.dtype == np.int64 and out.shape == (3, 8)
    for bad, words in [(np.ones((3, 8), np.float32), "integers"), (np.ones((3, 7), np.int64), r"\[T, 8\]"),
                       (np.ones((0, 8), np.int64), "empty"), (np.full((2, 8), 1024), "0..1023"),
                       (np.full((2, 8), -1), "0..1023")]:
        with pytest.raises(PromptError, match=words) as info:
            validate_codes(bad, "x.npy")
        assert str(info.value).startswith("x.npy: ")
