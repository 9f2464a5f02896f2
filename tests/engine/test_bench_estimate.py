"""The estimator, fed timings chosen by hand: each stage is the sum the module docstring describes."""

from __future__ import annotations

import pytest

from tests.engine.bench_records import cpu_record, timings
from valle_studio.engine.bench.estimate import (
    Estimator,
    LineModel,
    conservative_timings,
    format_duration,
    speech_seconds,
)
from valle_studio.engine.bench.shape import V1_SHAPE, pass_flops
from valle_studio.engine.bench.timeline import RunEta, where
from valle_studio.engine.quality.options import QualityOptions


def test_ar_steps_sum_a_line_through_the_measured_contexts() -> None:
    model = LineModel(timings(ar_ms=10.0, ar_slope_ms=10.0))  # 10 ms + 10 ms per 1000 positions
    # 100 steps from context 500: sum(0.010 + 1e-5 * c) for c = 500..599
    want = sum(0.010 + 1e-5 * c for c in range(500, 600))
    assert model.ar_steps_s(500, 100) == pytest.approx(want)


def test_a_line_in_each_modality_is_its_stages() -> None:
    t = timings(ar_ms=50.0, gflops=100.0, decode=0.1, encode=0.2, pair=1.5)
    model = LineModel(t)
    frames, tokens, prompt = 750, 142, 225
    context = tokens + prompt + 3
    ar = model.stages(10.0, modality="ar+nar", steps=50, cfg_strength=1.0, encode_prompt=True)
    assert ar["generating"] == pytest.approx(pass_flops(V1_SHAPE, context, head_rows=1) / 100e9 + 750 * 0.05)
    assert ar["refining"] == pytest.approx(7 * pass_flops(V1_SHAPE, context + frames, head_rows=frames) / 100e9)
    assert ar["decoding"] == pytest.approx(1.0) and ar["encoding prompt"] == pytest.approx(0.6)
    nl = model.stages(10.0, modality="nar-len", steps=20, cfg_strength=1.0)
    pair = pass_flops(V1_SHAPE, context + frames, head_rows=frames) + pass_flops(V1_SHAPE, 5 + frames, head_rows=frames)
    assert nl["demasking"] == pytest.approx(20 * pair / 100e9)
    assert "generating" not in nl and "encoding prompt" not in nl
    guided = model.stages(10.0, modality="ar+nar", steps=50, cfg_strength=3.0)
    assert guided["generating"] > ar["generating"] * 1.4  # the CFG pair factor
    assert guided["refining"] > ar["refining"]  # the null passes


def test_estimates_grow_with_steps_and_length_and_fall_with_faster_rates() -> None:
    slow, fast = Estimator(cpu_record(), device="cpu", precision="float32"), Estimator(
        cpu_record(), device="cpu", precision="bfloat16")
    for estimator in (slow, fast):
        assert estimator.source == "benchmark"
        assert estimator.line(10, modality="nar-len", steps=50).seconds > estimator.line(
            10, modality="nar-len", steps=25).seconds
        assert estimator.line(30, modality="ar+nar", steps=50).seconds > estimator.line(
            10, modality="ar+nar", steps=50).seconds
    assert fast.line(10, modality="ar+nar", steps=50).seconds < slow.line(10, modality="ar+nar", steps=50).seconds


def test_without_a_benchmark_the_conservative_guess_is_slower_than_this_kind_of_machine() -> None:
    guess = Estimator(None, device="cpu", precision="float32")
    measured = Estimator(cpu_record(), device="cpu", precision="float32")
    assert guess.source == "conservative"
    for modality in ("ar+nar", "nar-len"):
        assert guess.line(10, modality=modality, steps=50).seconds > measured.line(10, modality=modality,
                                                                                     steps=50).seconds
    # a precision the record did not measure falls back to the guess too
    assert Estimator(cpu_record(), device="cuda", precision="float16").source == "conservative"
    gpu = conservative_timings("cuda", "float16")
    assert gpu.ar_step_s[300] < conservative_timings("cpu", "float32").ar_step_s[300]


def test_a_request_is_estimated_piece_by_piece_and_progress_maps_onto_it() -> None:
    estimator = Estimator(cpu_record(), device="cpu", precision="float32")
    pieces = ["Hello there, this is the first sentence.", "And a second one."]
    estimate = estimator.pieces(pieces, modality="nar-len", steps=10, cfg_strength=1.0, max_duration=12.0)
    assert len(estimate.pieces) == 2 and "encoding prompt" in estimate.pieces[0]
    assert "encoding prompt" not in estimate.pieces[1]
    total = estimate.seconds
    assert estimate.done_by("predicting length", 0, 3, piece=0) == pytest.approx(estimate.pieces[0]["encoding prompt"])
    halfway = estimate.done_by("demasking", 5, 10, piece=1)
    assert sum(v for k, v in estimate.pieces[0].items() if k != "decoding") < halfway < total
    assert estimate.done_by("decoding", 2, 2) == pytest.approx(total)
    fixed = estimator.pieces(pieces, modality="nar-len", steps=10, cfg_strength=1.0, max_duration=12.0,
                             duration_s=8.0)
    assert fixed.pieces[1]["decoding"] == pytest.approx(8.0 * 0.05)


def test_a_checked_take_adds_its_speech_to_text_pass_and_best_of_counts_every_take() -> None:
    estimator = Estimator(cpu_record(), device="cpu", precision="float32")  # 80 ms steps, 150 GFLOP/s
    pieces = ["Hello there, this is the first sentence.", "A second piece."]
    plain = estimator.pieces(pieces, modality="ar+nar", steps=50, cfg_strength=1.0, max_duration=12.0)
    checked = estimator.pieces(pieces, modality="ar+nar", steps=50, cfg_strength=1.0, max_duration=12.0,
                               quality=QualityOptions())
    assert "checking" not in plain.pieces[0] and plain.check_s == 0 and plain.takes == 1
    # the check of piece 1 (15 characters: 1 s, 75 frames, 14 phonemes): a pass over its frames, then one
    # step per phoneme asked and one for </eos>
    frames = 75
    want = pass_flops(V1_SHAPE, frames + 3, head_rows=1) / 150e9 + 15 * 0.080
    assert checked.pieces[1]["checking"] == pytest.approx(want)
    assert checked.seconds == pytest.approx(plain.seconds + checked.check_s)
    best = estimator.pieces(pieces, modality="ar+nar", steps=50, cfg_strength=1.0, max_duration=12.0,
                            quality=QualityOptions(best_of=3, retry_bad=2))
    once = best.once_s
    assert once == pytest.approx(checked.pieces[0]["encoding prompt"])  # the reference is encoded once
    assert best.seconds == pytest.approx(once + 3 * (checked.seconds - once))
    assert best.most_seconds == pytest.approx(once + 5 * (checked.seconds - once))
    # progress of the second take maps after the whole first one; a take ends with its checks
    assert best.done_by("generating", 0, 10, piece=0, take=1) == pytest.approx(once + best.take_s)
    assert best.done_by("checking", 1, 1, piece=1, take=2) == pytest.approx(best.seconds)
    assert best.done_by("decoding", 2, 2, take=0) == pytest.approx(once + best.take_s - best.check_s)


def test_the_time_left_follows_takes_and_retries() -> None:
    estimator = Estimator(cpu_record(), device="cpu", precision="float32")
    best = estimator.pieces(["One sentence.", "Two sentences."], modality="nar-len", steps=10, cfg_strength=1.0,
                            max_duration=12.0, quality=QualityOptions(best_of=2, retry_bad=1))
    assert where("sentence 2/2 · take 2/2", 2) == (1, 1) and where("retry 1/1", 2) == (0, 2) and where("", 2) == (0, 0)
    eta = RunEta(best)
    assert eta.seconds_left(0.0) == pytest.approx(best.seconds)  # nothing done yet: the estimate
    eta.update("demasking", 5, 10, "sentence 1/2 · take 2/2")
    done = best.done_by("demasking", 5, 10, piece=0, take=1)
    assert eta.done_s == pytest.approx(done)
    # it went twice as fast as estimated: the rest is expected twice as fast too
    assert eta.seconds_left(done / 2) == pytest.approx((best.seconds - done) / 2)
    eta.update("demasking", 0, 10, "retry 1/1")  # no take was good: one more take is expected
    assert eta.total_s == pytest.approx(best.most_seconds)
    eta.update("not a stage", 1, 1, "take 1/2")
    assert eta.total_s == pytest.approx(best.most_seconds)


def test_speech_seconds_follows_the_text_and_the_cap() -> None:
    assert speech_seconds("x" * 150, phonemes=False, max_duration=60) == pytest.approx(10.0)
    assert speech_seconds("x" * 140, phonemes=True, max_duration=60) == pytest.approx(10.0)
    assert speech_seconds("x" * 1500, phonemes=False, max_duration=12) == 12
    assert speech_seconds("hi", phonemes=False, max_duration=12) == 1.0  # a floor, as upstream's length has


@pytest.mark.parametrize(("seconds", "text"), [(3.24, "3.2 s"), (42, "42 s"), (200, "3 min 20 s"), (725, "12 min"),
                                               (3725, "1 h 02 min"), (float("inf"), "unknown")])
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
