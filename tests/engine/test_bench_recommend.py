"""The advice of a benchmark, from records with chosen timings: what ``auto`` means and the fast preset."""

from __future__ import annotations

from tests.engine.bench_records import cpu_record, record, timings, variant
from valle_studio.engine.bench.recommend import FAST_STEPS, auto_precision, recommend
from valle_studio.engine.bench.record import PrecisionCost
from valle_studio.engine.settings import PRESETS, GenerationSettings


def test_auto_is_bfloat16_only_where_native_and_measured_faster() -> None:
    precision, why = auto_precision(cpu_record(bf16_speedup=1.8))
    assert precision == "bfloat16"
    assert "AVX512_BF16" in why and "1.80x" in why and "97% of AR steps" in why and "2.0%" in why
    assert auto_precision(cpu_record(bf16_native=False))[0] == "float32"
    assert "no native bfloat16" in auto_precision(cpu_record(bf16_native=False))[1]
    slower, why = auto_precision(cpu_record(bf16_speedup=0.9))
    assert slower == "float32" and "not at least" in why
    assert auto_precision(cpu_record(bf16_speedup=None))[0] == "float32"
    assert auto_precision(None)[0] == "float32"


def test_int8_is_advised_where_it_pays_and_its_cost_is_stated() -> None:
    advice = recommend(cpu_record(bf16_speedup=None, int8_speedup=2.5))
    assert advice is not None and advice.precision == "int8"
    assert "8.5%" in advice.tip and "90% of AR steps" in advice.tip
    assert "On this machine a 10 s line takes about" in advice.sentence


def test_int8_is_not_advised_when_it_barely_pays_or_is_too_inexact_and_the_tip_says_why() -> None:
    barely = recommend(cpu_record(bf16_speedup=None, int8_speedup=1.1))
    assert barely is not None and barely.precision == "float32"
    assert "Not int8: a 10 s line would take about" in barely.tip and "short of the 1.25x" in barely.tip
    assert "logit error 8.5%" in barely.tip  # its measured cost, beside the speed it would bring
    bad = PrecisionCost(0.5, 0.4, 0.3, 0.3, 48, 48)
    inexact = recommend(cpu_record(bf16_speedup=None, int8_speedup=3.0, int8_cost=bad))
    assert inexact is not None and inexact.precision == "float32"
    assert "its logit error is above 15% of the logits' spread" in inexact.tip and "50% of AR steps" in inexact.tip
    assert inexact.tip.endswith("It never replaces the default preset.")
    assert "Not int8" not in recommend(cpu_record(bf16_speedup=None, int8_speedup=2.5)).tip  # type: ignore[union-attr]


def test_bfloat16_is_advised_when_auto_picks_it_and_int8_is_not_much_faster_still() -> None:
    advice = recommend(cpu_record(bf16_speedup=2.0, int8_speedup=2.2))
    assert advice is not None and advice.precision == "bfloat16"
    assert "Precision bfloat16" in advice.tip


def test_the_modality_follows_the_measurements() -> None:
    # a slow AR step: NAR-len at 25 steps wins
    slow_ar = record(variant("float32", timings(ar_ms=400.0, gflops=600.0)))
    advice = recommend(slow_ar)
    assert advice is not None and (advice.modality, advice.steps) == ("nar-len", FAST_STEPS)
    assert advice.preset.settings.max_steps == FAST_STEPS and "25 demasking steps instead of 50" in advice.tip
    # a fast AR step and slow GEMMs: AR+NAR wins
    fast_ar = record(variant("float32", timings(ar_ms=20.0, gflops=40.0)))
    advice = recommend(fast_ar)
    assert advice is not None and advice.modality == "ar+nar"
    assert "AR+NAR (one frame at a time) measured faster" in advice.tip
    # a model without the length head can only do AR+NAR
    assert recommend(slow_ar, can_nar_len=False).modality == "ar+nar"  # type: ignore[union-attr]


def test_the_fast_preset_never_replaces_the_default_one() -> None:
    advice = recommend(cpu_record())
    assert advice is not None
    assert advice.preset.name == "fast" and advice.preset.label == "Fast on this CPU"
    assert "never replaces the default preset" in advice.tip
    assert PRESETS["default"] == GenerationSettings()
    assert advice.seconds < advice.default_seconds
    assert recommend(None) is None


def test_a_gpu_record_advises_its_fastest_half_precision() -> None:
    gpu = record(variant("float32", timings(ar_ms=12.0, gflops=20000.0), device="cuda"),
                 variant("float16", timings(ar_ms=7.0, gflops=60000.0), device="cuda",
                         cost=PrecisionCost(0.99, 0.99, 0.01, 0.01, 48, 48)))
    advice = recommend(gpu)
    assert advice is not None and advice.device == "cuda" and advice.precision == "float16"
    assert advice.preset.label == "Fast on this GPU"
