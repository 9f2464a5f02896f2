"""What the benchmark advises: the precision ``auto`` picks, and a "Fast on this CPU" preset (no torch).

Both are derived from a saved :class:`~valle_studio.engine.bench.record.BenchRecord` and state what
they cost from its measurements:

- :func:`auto_precision`: bfloat16 on a CPU that computes it natively *and* where the benchmark
  measured both the AR step and the NAR-len step at least :data:`BF16_MIN_GAIN` times faster than
  float32; float32 everywhere else. The reason names the speed-ups and the greedy-code agreement.
- :func:`recommend`: the fastest of AR+NAR and NAR-len at :data:`FAST_STEPS` demasking steps, in
  the fastest float precision ``auto`` allows, or in int8 where int8 makes a 10 s line at least
  :data:`INT8_MIN_GAIN` times faster and its logit error stays under :data:`INT8_MAX_LOGIT_ERROR`.
  It is offered as its own preset and never replaces the upstream-default one; its tooltip states
  the measured cost, and why not int8 where int8 was measured but not chosen.
"""

from __future__ import annotations

from dataclasses import dataclass

from valle_studio.engine.bench.estimate import Estimator, format_duration
from valle_studio.engine.bench.record import BenchRecord, PrecisionCost, Variant
from valle_studio.engine.settings import GenerationSettings, Preset

REFERENCE_SECONDS = 10.0  # the line length the advice is worded for
DEFAULT_STEPS = GenerationSettings().max_steps  # the web UI's 50
FAST_STEPS = 25  # upstream's internal default number of demasking steps
BF16_MIN_GAIN = 1.05
INT8_MIN_GAIN = 1.25
INT8_MAX_LOGIT_ERROR = 0.15
FLOAT_PRECISIONS = ("float32", "bfloat16", "float16")
MODALITY_WORDS = {"ar+nar": "AR+NAR", "nar-len": "NAR-len"}


def _gain(record: BenchRecord, device: str, precision: str, item: str) -> float | None:
    """How many times faster ``precision`` ran ``item`` than float32 on ``device`` (None: not measured)."""
    base, other = record.variant(device, "float32"), record.variant(device, precision)
    a = base.measurement(item) if base is not None else None
    b = other.measurement(item) if other is not None else None
    return a.seconds / b.seconds if a is not None and b is not None else None


def cost_words(cost: PrecisionCost | None) -> str:
    """``"greedy codes agree with float32 on 97% of AR steps and 95% of NAR-len frames; logit error 1.9% /
    1.2% of the logits' spread"``."""
    if cost is None:
        return "its accuracy against float32 was not measured"
    return (f"greedy codes agree with float32 on {100 * cost.ar_agreement:.0f}% of AR steps and "
            f"{100 * cost.nar_len_agreement:.0f}% of NAR-len frames; logit error {100 * cost.ar_logit_error:.1f}% "
            f"/ {100 * cost.nar_len_logit_error:.1f}% of the logits' spread")


def auto_precision(record: BenchRecord | None, device: str = "cpu") -> tuple[str, str]:
    """``(precision, reason)`` that ``auto`` means on the CPU (see the module docstring)."""
    if device != "cpu":
        return "auto", "half precision, as on every GPU"
    if record is None:
        return "float32", "float32, because there is no benchmark of this machine yet (Help → Benchmark this machine)"
    if not record.machine.bf16_native:
        return "float32", "float32, because this CPU has no native bfloat16 (emulated it runs about 200x slower)"
    ar = _gain(record, "cpu", "bfloat16", "ar_step")
    nar_len = _gain(record, "cpu", "bfloat16", "nar_len_step")
    if ar is None or nar_len is None:
        return "float32", ("float32, because the benchmark did not measure bfloat16 (this CPU has "
                           f"{record.machine.bf16_feature})")
    speed = f"AR step {ar:.2f}x, NAR-len step {nar_len:.2f}x the speed of float32"
    if min(ar, nar_len) < BF16_MIN_GAIN:
        return "float32", f"float32, because bfloat16 was not at least {BF16_MIN_GAIN:g}x faster here ({speed})"
    variant = record.variant("cpu", "bfloat16")
    cost = variant.cost if variant is not None else None
    return "bfloat16", (f"bfloat16, because this CPU computes it natively ({record.machine.bf16_feature}) and the "
                        f"benchmark measured {speed}; {cost_words(cost)}")


@dataclass(frozen=True)
class Recommendation:
    """The advice of one benchmark for one device; ``preset`` carries the settings, ``precision`` the
    model precision they were timed with. ``seconds`` / ``default_seconds``: a 10 s line with the
    advice / with the default preset in the default precision."""

    device: str
    precision: str
    modality: str
    steps: int
    seconds: float
    default_seconds: float
    default_words: str
    sentence: str
    tip: str
    preset: Preset


def _line_seconds(record: BenchRecord, device: str, precision: str, modality: str, steps: int) -> float:
    estimator = Estimator(record, device=device, precision=precision)
    cfg = GenerationSettings().cfg_strength
    return estimator.line(REFERENCE_SECONDS, modality=modality, steps=steps, cfg_strength=cfg).seconds


def _precisions(record: BenchRecord, device: str) -> list[str]:
    """The precisions the advice may use on ``device``: the floats ``auto`` allows, and int8 (checked later)."""
    measured = [v.precision for v in record.variants if v.device == device]
    if device == "cpu":
        floats = ["float32"] + (["bfloat16"] if auto_precision(record)[0] == "bfloat16" else [])
    else:
        floats = [p for p in FLOAT_PRECISIONS if p in measured]
    return [p for p in floats if p in measured] + (["int8"] if "int8" in measured else [])


def _how(modality: str, steps: int, precision: str) -> str:
    words = MODALITY_WORDS[modality] + (f" at {steps} steps" if modality == "nar-len" else "")
    return f"{words} in {precision}"


def recommend(record: BenchRecord | None, *, device: str | None = None, can_nar_len: bool = True
              ) -> Recommendation | None:
    """The advice of ``record`` for ``device`` (default: its first, fastest device), or None without one."""
    if record is None or not record.variants:
        return None
    device = device or record.devices()[0]
    precisions = _precisions(record, device)
    if not precisions:
        return None
    modalities = [("ar+nar", DEFAULT_STEPS)] + ([("nar-len", FAST_STEPS)] if can_nar_len else [])
    default_modality = "nar-len" if can_nar_len else "ar+nar"
    # what the default preset runs in: "auto", which on the CPU means what this benchmark makes it mean
    default_precision = precisions[0] if device != "cpu" else auto_precision(record, "cpu")[0]
    default_seconds = _line_seconds(record, device, default_precision, default_modality, DEFAULT_STEPS)
    floats = [p for p in precisions if p != "int8"]
    best_float = min(((_line_seconds(record, device, p, m, s), p, m, s) for p in floats for (m, s) in modalities),
                     default=None)
    best = best_float
    int8_note = ""
    variant = record.variant(device, "int8")
    if variant is not None and variant.cost is not None and "int8" in precisions:
        int8 = min((_line_seconds(record, device, "int8", m, s), "int8", m, s) for (m, s) in modalities)
        error = max(variant.cost.ar_logit_error, variant.cost.nar_len_logit_error)
        if error <= INT8_MAX_LOGIT_ERROR and (best is None or int8[0] * INT8_MIN_GAIN <= best[0]):
            best = int8
        elif best is not None:
            int8_note = _int8_refused(int8[0], best[0], error, variant.cost)
    if best is None:
        return None
    seconds, precision, modality, steps = best
    default_words = _how(default_modality, DEFAULT_STEPS, default_precision)
    sentence = (f"On this machine a {REFERENCE_SECONDS:g} s line takes about {format_duration(seconds)} with "
                f"{_how(modality, steps, precision)} (the default settings, {default_words}: about "
                f"{format_duration(default_seconds)}).")
    tip = _tip(record, device, precision, modality, steps, seconds, default_seconds, default_words, best_float,
               int8_note)
    settings = GenerationSettings(modality=modality, max_steps=steps)  # type: ignore[arg-type]
    where = "CPU" if device == "cpu" else "GPU"
    preset = Preset("fast", f"Fast on this {where}", tip, settings)
    return Recommendation(device, precision, modality, steps, seconds, default_seconds, default_words, sentence,
                          tip, preset)


def _int8_refused(int8_s: float, best_s: float, error: float, cost: PrecisionCost) -> str:
    """Why the preset does not use int8 although it was measured (its tooltip's line on int8)."""
    if error > INT8_MAX_LOGIT_ERROR:
        why = f"its logit error is above {100 * INT8_MAX_LOGIT_ERROR:.0f}% of the logits' spread"
    else:
        why = (f"that is {best_s / int8_s:.2f}x as fast, short of the {INT8_MIN_GAIN:g}x that would pay for "
               "its accuracy cost")
    return (f"Not int8: a {REFERENCE_SECONDS:g} s line would take about {format_duration(int8_s)} in int8; {why} "
            f"({cost_words(cost)}).")


def _tip(record: BenchRecord, device: str, precision: str, modality: str, steps: int, seconds: float,
         default_seconds: float, default_words: str,
         best_float: tuple[float, str, str, int] | None, int8_note: str = "") -> str:
    """The preset's cost, stated from the measurements (its tooltip)."""
    weights = "the installed model's weights" if record.weights == "installed" else "random weights of its shape"
    lines = [f"Measured on this machine ({'quick' if record.quick else 'full'} benchmark, {record.created[:10]}, "
             f"{weights}): a {REFERENCE_SECONDS:g} s line takes about {format_duration(seconds)} with "
             f"{_how(modality, steps, precision)}, against {format_duration(default_seconds)} with the default "
             f"settings ({default_words})."]
    if modality == "nar-len":
        per_step = _line_seconds(record, device, precision, "nar-len", steps + 1) - _line_seconds(
            record, device, precision, "nar-len", steps)
        lines.append(f"Steps: {steps} demasking steps instead of {DEFAULT_STEPS} (upstream's own default is "
                     f"{FAST_STEPS}); each step of a {REFERENCE_SECONDS:g} s line takes {format_duration(per_step)}. "
                     "Fewer steps decide more frames per pass; the benchmark times this, it does not judge the sound.")
    else:
        nar_len = _line_seconds(record, device, precision, "nar-len", FAST_STEPS)
        lines.append(f"AR+NAR (one frame at a time) measured faster here than NAR-len at {FAST_STEPS} steps "
                     f"({format_duration(nar_len)} per {REFERENCE_SECONDS:g} s line); it decides when to stop "
                     "by itself.")
    variant: Variant | None = record.variant(device, precision)
    if precision == "int8" and variant is not None:
        float_words = f"{best_float[1]} ({format_duration(best_float[0])})" if best_float else "float"
        lines.append(f"Precision int8 (CPU only; Apply loads the model in it): faster than {float_words}; "
                     f"{cost_words(variant.cost)}.")
    elif precision != "float32" and variant is not None:
        lines.append(f"Precision {precision}: {cost_words(variant.cost)}.")
    if int8_note:
        lines.append(int8_note)
    lines.append("It never replaces the default preset.")
    return "\n".join(lines)


__all__ = ["BF16_MIN_GAIN", "FAST_STEPS", "INT8_MAX_LOGIT_ERROR", "INT8_MIN_GAIN", "REFERENCE_SECONDS",
           "Recommendation", "auto_precision", "cost_words", "recommend"]
