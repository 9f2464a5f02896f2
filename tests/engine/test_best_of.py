"""The best-of-N and retry loop: seeds derived from the request's, every candidate handed out, the best
chosen, retries only while no take is good, progress tagged and cancel honoured across the loop."""

from __future__ import annotations

import numpy as np
import pytest

from valle_studio.core.clip import Clip
from valle_studio.engine.pipeline import NOTHING_GENERATED, NothingGenerated
from valle_studio.engine.progress import Cancelled, CancelToken, Progress, report
from valle_studio.engine.quality import Candidate, QualityError, QualityOptions, TakeQuality, derive_seed, run_best_of
from valle_studio.engine.quality.best_of import candidate_tag, loop_fraction
from valle_studio.engine.quality.options import MAX_BEST_OF
from valle_studio.engine.quality.report import report_of, verdict_line
from valle_studio.engine.requests import SynthesisRequest, SynthesisResult
from valle_studio.engine.settings import GenerationSettings


class ScoredSynth:
    """Makes a take of ``frames_of(seed)`` frames and judges it with ``verdicts`` in order of the calls."""

    def __init__(self, verdicts: list[tuple[str, float]], *, empty: set[int] = frozenset(),
                 cancel_at: int | None = None, cancel: CancelToken | None = None) -> None:
        self.verdicts = list(verdicts)
        self.empty = empty  # call numbers (0-based) where the model says nothing
        self.cancel_at, self.cancel = cancel_at, cancel
        self.seeds: list[int] = []
        self.prompts: list[tuple] = []
        self.encoded = 0
        self.checked_seeds: list[int] = []

    def encode_prompts(self, sources, length_frames=0):
        self.encoded += 1
        return np.zeros((10, 8), np.int64)

    def synthesize(self, request, *, progress=None, cancel=None, decode=True):
        call = len(self.seeds)
        self.seeds.append(request.settings.seed)
        self.prompts.append(request.prompts)
        for step in range(3):
            if call == self.cancel_at and step == 1:
                self.cancel.cancel()
            report(progress, cancel, "demasking", step, 3)
        if call in self.empty:
            raise NothingGenerated(NOTHING_GENERATED)
        frames = 10 + request.settings.seed % 50
        return SynthesisResult(audio=np.zeros(frames * 320, np.float32), sample_rate=24_000,
                               codes=np.zeros((frames, 8), np.int64), sentences=(), seed=request.settings.seed,
                               modality="nar-len", elapsed_s=0.1)

    def check(self, request, result, *, progress=None, cancel=None):
        report(progress, cancel, "checking", 0, 1)
        self.checked_seeds.append(request.settings.seed)
        verdict, score = self.verdicts.pop(0)
        return TakeQuality(verdict, score, () if verdict == "good" else (f"{verdict} for a reason",),
                           {"phoneme_error_rate": 1 - score})


def request(seed: int | None = 5, prompts=()) -> SynthesisRequest:
    return SynthesisRequest(text="Hello.", prompts=prompts, settings=GenerationSettings(seed=seed))


def test_best_of_three_keeps_every_candidate_and_chooses_the_highest_score() -> None:
    synth = ScoredSynth([("bad", 0.2), ("good", 0.8), ("suspect", 0.5)])
    handed: list[Candidate] = []
    events: list[Progress] = []
    takes = run_best_of(synth, request(5), QualityOptions(best_of=3), on_candidate=handed.append,
                        progress=events.append)
    assert synth.seeds == [5, derive_seed(5, 1), derive_seed(5, 2)] == [c.seed for c in takes.takes]
    assert synth.checked_seeds == synth.seeds  # each checked with its own seed
    assert [c.index for c in handed] == [0, 1, 2] and takes.chosen == 1 and takes.best.quality.good
    assert {e.detail for e in events} == {"take 1/3", "take 2/3", "take 3/3"}
    assert {e.stage for e in events} == {"demasking", "checking"}
    report = report_of(takes)
    assert report["version"] == 1 and report["chosen"] == 1
    assert [t["seed"] for t in report["takes"]] == synth.seeds
    assert report["takes"][0] == {"seed": 5, "frames": 15, "verdict": "bad", "score": 0.2,
                                  "reasons": ["bad for a reason"], "checks": {"phoneme_error_rate": 0.8},
                                  "retry": False}


def test_the_same_request_gives_the_same_candidates() -> None:
    first, second = ScoredSynth([("good", 0.7)] * 4), ScoredSynth([("good", 0.7)] * 4)
    run_best_of(first, request(123), QualityOptions(best_of=4))
    run_best_of(second, request(123), QualityOptions(best_of=4))
    assert first.seeds == second.seeds and len(set(first.seeds)) == 4
    assert derive_seed(5, 0) == 5 and derive_seed(5, 1) == 1040783599  # pinned: reports stay reproducible
    assert all(0 <= derive_seed(2**62, i) < 2**31 for i in range(1, 20))


def test_a_request_without_a_seed_draws_one_and_derives_from_it() -> None:
    synth = ScoredSynth([("good", 0.7), ("good", 0.9)])
    takes = run_best_of(synth, request(None), QualityOptions(best_of=2))
    assert synth.seeds == [takes.base_seed, derive_seed(takes.base_seed, 1)] and takes.chosen == 1


def test_retries_run_only_while_the_best_is_not_good() -> None:
    synth = ScoredSynth([("bad", 0.1), ("suspect", 0.4), ("good", 0.7), ("good", 0.9)])
    events: list[Progress] = []
    takes = run_best_of(synth, request(), QualityOptions(best_of=1, retry_bad=5), progress=events.append)
    assert len(takes.takes) == 3 and takes.chosen == 2  # stopped at the first good take
    assert [c.retry for c in takes.takes] == [False, True, True]
    assert {e.detail for e in events} == {"", "retry 1/5", "retry 2/5"}
    assert "retry" in verdict_line(takes.takes[1], 1)
    good_first = ScoredSynth([("good", 0.8), ("good", 0.9)])
    assert len(run_best_of(good_first, request(), QualityOptions(retry_bad=3)).takes) == 1
    never = ScoredSynth([("bad", 0.1)] * 3)
    assert len(run_best_of(never, request(), QualityOptions(best_of=1, retry_bad=2)).takes) == 3


def test_cancel_stops_the_whole_loop_within_a_step() -> None:
    token = CancelToken()
    synth = ScoredSynth([("bad", 0.1)] * 5, cancel_at=1, cancel=token)
    handed: list[Candidate] = []
    with pytest.raises(Cancelled):
        run_best_of(synth, request(), QualityOptions(best_of=3), cancel=token, on_candidate=handed.append)
    assert len(handed) == 1 and len(synth.seeds) == 2  # the second candidate stopped mid-way, no third


def test_a_candidate_that_says_nothing_is_skipped_while_others_remain() -> None:
    synth = ScoredSynth([("suspect", 0.5)], empty={0})
    takes = run_best_of(synth, request(), QualityOptions(best_of=2))
    assert [c.index for c in takes.takes] == [1] and takes.chosen == 0
    with pytest.raises(NothingGenerated):
        run_best_of(ScoredSynth([], empty={0, 1}), request(), QualityOptions(best_of=2))
    with pytest.raises(NothingGenerated):  # a lone take fails as it always did
        run_best_of(ScoredSynth([], empty={0}), request(), QualityOptions())
    retried = run_best_of(ScoredSynth([("good", 0.9)], empty={0}), request(), QualityOptions(retry_bad=1))
    assert [c.retry for c in retried.takes] == [True]


def test_clips_are_encoded_once_for_all_candidates() -> None:
    clip = Clip(np.full(24_000, 0.1, np.float32), 24_000)
    synth = ScoredSynth([("good", 0.5)] * 3)
    run_best_of(synth, request(prompts=(clip,)), QualityOptions(best_of=3))
    assert synth.encoded == 1 and all(p[0].shape == (10, 8) for p in synth.prompts)
    lone = ScoredSynth([("good", 0.5)])
    run_best_of(lone, request(prompts=(clip,)), QualityOptions())
    assert lone.encoded == 0 and lone.prompts[0][0] is clip  # one take: the synthesizer encodes as usual


def test_without_the_check_one_unchecked_take_is_made() -> None:
    synth = ScoredSynth([])
    takes = run_best_of(synth, request(), QualityOptions(check=False))
    assert len(takes.takes) == 1 and takes.best.quality is None and not takes.checked
    assert verdict_line(takes.best, 1).endswith("not checked")
    with pytest.raises(ValueError, match="unchecked"):
        report_of(takes)


def test_options_are_validated_with_the_field_named() -> None:
    for kwargs, field in (({"best_of": 0}, "best_of"), ({"best_of": MAX_BEST_OF + 1}, "best_of"),
                          ({"retry_bad": -1}, "retry_bad"), ({"best_of": True}, "best_of"),
                          ({"best_of": 2.0}, "best_of"), ({"best_of": 2, "check": False}, "best_of"),
                          ({"retry_bad": 1, "check": False}, "retry_bad")):
        with pytest.raises(QualityError) as caught:
            QualityOptions(**kwargs)
        assert caught.value.field == field
    assert QualityOptions(best_of=3, retry_bad=2).most_takes == 5 and QualityOptions().single


def test_the_loop_fraction_places_each_candidate_on_one_bar() -> None:
    assert loop_fraction("", 0.5) == 0.5
    assert loop_fraction("take 2/4", 0.5) == pytest.approx(0.375)
    assert loop_fraction("sentence 1/2 · take 3/3", 1.0) == 1.0
    assert loop_fraction("retry 1/2", 0.0) == 0.0
    options = QualityOptions(best_of=2, retry_bad=1)
    assert [candidate_tag(i, options) for i in range(3)] == ["take 1/2", "take 2/2", "retry 1/1"]
    assert candidate_tag(0, QualityOptions()) == ""
