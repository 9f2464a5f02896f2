"""The engine's prompt checks (engine.prompts): clips and code arrays only, names, lengths, repeat/trim."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from valle_studio.core.clip import Clip, PromptError
from valle_studio.engine.prompts import MAX_PROMPT_SECONDS, check_prompts, encode_prompts, needs_codec

SR = 24_000


def _voice(seconds: float, rate: int = SR, name: str = "") -> Clip:
    t = np.arange(int(seconds * rate)) / rate
    return Clip((0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32), rate, name)


class _CountingCodec:
    """Stands in for the codec: one frame of codes 7 per 320 samples, counting its calls."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def encode(self, samples: np.ndarray, sample_rate: int) -> np.ndarray:
        self.calls.append(sample_rate)
        return np.full((-(-samples.size // 320), 8), 7, np.int64)


@pytest.mark.parametrize("source", [Path("voice.wav"), "voice.wav", (np.zeros(10, np.float32), SR)],
                         ids=["path", "str", "pair"])
def test_paths_and_pairs_are_refused_with_the_way_to_read_them(source: object) -> None:
    with pytest.raises(PromptError, match="read_prompt_file"):
        check_prompts([source])  # type: ignore[list-item]


def test_clips_without_a_name_are_numbered() -> None:
    silent = Clip(np.zeros(SR, np.float32), SR)
    with pytest.raises(PromptError, match=r"^voice clip: the clip is silent"):
        check_prompts([silent])
    with pytest.raises(PromptError, match=r"^voice clip 2: the clip is silent"):
        check_prompts([_voice(1.0), silent])
    with pytest.raises(PromptError, match=r"^take\.wav: the clip is empty"):
        check_prompts([Clip(np.zeros(0, np.float32), SR, "take.wav")])
    with pytest.raises(PromptError, match="NaN"):
        check_prompts([Clip(np.array([0.5, np.nan], np.float32), SR, "x")])
    with pytest.raises(PromptError, match="invalid sample rate"):
        check_prompts([Clip(np.ones(10, np.float32), 0, "x")])


def test_length_limit_and_prompt_length_trim() -> None:
    long = _voice(MAX_PROMPT_SECONDS + 5, rate=8_000, name="long.wav")
    with pytest.raises(PromptError, match=r"long\.wav: the reference is 1:05 min long"):
        check_prompts([long])
    with pytest.raises(PromptError, match="the 2 voice clips together"):
        check_prompts([_voice(40, 8_000), _voice(30, 8_000)])
    kept = check_prompts([long], length_frames=3 * 75)[0]  # 3 s wanted: 3 s + 1 s margin kept
    assert isinstance(kept, Clip) and kept.seconds == pytest.approx(4.0) and kept.name == "long.wav"


def test_codes_are_checked_concatenated_and_repeated_from_the_start() -> None:
    codes = np.arange(16, dtype=np.int32).reshape(2, 8)
    with pytest.raises(PromptError, match="prompt codes: codes must be shaped"):
        check_prompts([np.zeros((2, 7), np.int64)])
    codec = _CountingCodec()
    parts = check_prompts([_voice(0.1), codes])  # 2400 samples: 8 frames
    assert needs_codec(parts) and not needs_codec(parts[1:])
    joined = encode_prompts(parts, codec)  # type: ignore[arg-type]
    assert joined is not None and joined.shape == (10, 8) and codec.calls == [SR]
    np.testing.assert_array_equal(joined[8:], codes)
    repeated = encode_prompts(parts, codec, length_frames=25)  # type: ignore[arg-type]
    np.testing.assert_array_equal(repeated, np.concatenate([joined, joined, joined[:5]]))  # from the start
    assert encode_prompts([], codec) is None  # type: ignore[arg-type]
    with pytest.raises(PromptError, match="need the codec weights"):
        encode_prompts(parts, None)
