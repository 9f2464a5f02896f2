"""Voice blending (issue 18) inside the quality guard's best-of loop (issue 14): a blend's voices are encoded
once for the whole loop, each candidate gets the same encoded blend, and the quality check takes the blend's
voices as its reference (a take that repeats one of them leaks the prompt)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.engine.test_best_of import ScoredSynth
from valle_studio.core.clip import Clip
from valle_studio.engine.quality import QualityOptions, derive_seed, run_best_of
from valle_studio.engine.quality.assess import TakeChecker
from valle_studio.engine.requests import BlendPart, SynthesisRequest, SynthesisResult
from valle_studio.engine.settings import GenerationSettings


class BlendSynth(ScoredSynth):
    """ScoredSynth that records the blend each candidate was asked for."""

    def __init__(self, verdicts: list[tuple[str, float]]) -> None:
        super().__init__(verdicts)
        self.blends: list[tuple[BlendPart, ...]] = []

    def synthesize(self, request: SynthesisRequest, **kwargs: Any) -> SynthesisResult:
        self.blends.append(request.blend)
        return super().synthesize(request, **kwargs)


def clip(seconds: float = 1.0, base: float = 200.0) -> Clip:
    t = np.arange(int(seconds * 24_000)) / 24_000
    return Clip((0.3 * np.sin(2 * np.pi * base * t)).astype(np.float32), 24_000, f"tone {base:g}")


def blend_request(seed: int = 5) -> SynthesisRequest:
    return SynthesisRequest(text="Hello.", settings=GenerationSettings(seed=seed),
                            blend=(BlendPart((clip(),), 0.6, "Alice"), BlendPart((clip(base=300.0),), 0.4, "Bob")))


def test_best_of_encodes_each_voice_of_a_blend_once_and_keeps_the_weights() -> None:
    synth = BlendSynth([("bad", 0.2), ("good", 0.9)])
    takes = run_best_of(synth, blend_request(5), QualityOptions(best_of=2))
    assert synth.encoded == 2  # two voices, encoded once each for both candidates
    assert synth.seeds == [5, derive_seed(5, 1)] and takes.chosen == 1
    for blend in synth.blends:
        assert [(p.name, p.weight) for p in blend] == [("Alice", 0.6), ("Bob", 0.4)]
        assert all(isinstance(p.prompts[0], np.ndarray) and len(p.prompts) == 1 for p in blend)
    assert synth.prompts == [(), ()]  # a blend never turns into plain prompts


def test_a_single_take_of_a_blend_is_left_to_the_synthesizer() -> None:
    synth = BlendSynth([("good", 0.9)])
    run_best_of(synth, blend_request(), QualityOptions())
    assert synth.encoded == 0 and isinstance(synth.blends[0][0].prompts[0], Clip)


class _Stop(Exception):
    pass


def test_the_check_takes_the_blends_voices_as_its_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[Any, ...]] = []

    def reference(_self: TakeChecker, sources: Any, length_frames: int = 0) -> Any:
        seen.append(tuple(sources))
        raise _Stop

    monkeypatch.setattr(TakeChecker, "reference", reference)
    checker = TakeChecker(type("Synth", (), {"frontend": None})())  # type: ignore[arg-type]
    request = blend_request()
    result = SynthesisResult(audio=None, sample_rate=24_000, codes=np.zeros((4, 8), np.int64), sentences=(), seed=5,
                             modality="nar-len", elapsed_s=0.0)
    with pytest.raises(_Stop):
        checker.check(request, result)
    assert seen == [tuple(p for part in request.blend for p in part.prompts)]
