"""A benchmark record in words and tables, as the CLI prints it and the dialog shows it (no torch).

- :func:`item_rows`: each measured item beside its bound and their ratio;
- :func:`estimate_rows`: the expected time of a 3 s, 10 s and 30 s line per device, precision,
  modality and steps;
- :func:`summary`: the one plain sentence and the ``auto`` precision with its reason;
- :func:`to_json`: all of it as one JSON-ready dict (``valle-studio-cli bench --json``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from valle_studio.engine.bench.estimate import Estimator, format_duration
from valle_studio.engine.bench.recommend import DEFAULT_STEPS, FAST_STEPS, auto_precision, cost_words, recommend
from valle_studio.engine.bench.record import ITEM_LABELS, BenchRecord

LINE_SECONDS = (3.0, 10.0, 30.0)
#: (modality, steps) of the estimate table: AR+NAR, NAR-len at the web UI's 50 and upstream's 25 steps.
PLANS = (("ar+nar", DEFAULT_STEPS), ("nar-len", DEFAULT_STEPS), ("nar-len", FAST_STEPS))


@dataclass(frozen=True)
class ItemRow:
    device: str
    precision: str
    item: str
    label: str
    seconds: float
    bound_s: float
    ratio: float
    bound: str
    work: str


@dataclass(frozen=True)
class EstimateRow:
    device: str
    precision: str
    modality: str
    steps: int
    seconds: tuple[float, ...]  # one per LINE_SECONDS

    @property
    def plan(self) -> str:
        return "AR+NAR" if self.modality == "ar+nar" else f"NAR-len, {self.steps} steps"


def item_rows(record: BenchRecord) -> list[ItemRow]:
    return [ItemRow(v.device, v.precision, m.item, ITEM_LABELS.get(m.item, m.item), m.seconds, m.bound_s, m.ratio,
                    m.bound, m.work) for v in record.variants for m in v.measurements]


def estimate_rows(record: BenchRecord, *, can_nar_len: bool = True) -> list[EstimateRow]:
    rows = []
    for v in record.variants:
        estimator = Estimator(record, device=v.device, precision=v.precision)
        for modality, steps in PLANS:
            if modality == "nar-len" and not can_nar_len:
                continue
            times = tuple(estimator.line(s, modality=modality, steps=steps).seconds for s in LINE_SECONDS)
            rows.append(EstimateRow(v.device, v.precision, modality, steps, times))
    return rows


def summary(record: BenchRecord, *, can_nar_len: bool = True) -> list[str]:
    """The plain sentence, then what ``auto`` means on the CPU and why."""
    lines = []
    advice = recommend(record, can_nar_len=can_nar_len)
    if advice is not None:
        lines.append(advice.sentence)
    if record.variant("cpu", "float32") is not None:
        _precision, why = auto_precision(record, "cpu")
        lines.append(f"Precision 'auto' on this CPU means {why}.")
    int8 = record.variant("cpu", "int8")
    if int8 is not None:
        lines.append(f"int8 (opt-in): {cost_words(int8.cost)}.")
    return lines


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def text_lines(record: BenchRecord, *, can_nar_len: bool = True) -> list[str]:
    """The whole report as the CLI prints it."""
    m = record.machine
    out = [f"VALL-E Studio benchmark ({'quick' if record.quick else 'full'}), {record.created}",
           f"  machine: {m.cpu}, {m.logical_cores} logical cores, {m.threads} torch thread(s), torch {m.torch}"
           + (f", native bfloat16 ({m.bf16_feature})" if m.bf16_native else ", no native bfloat16")
           + (f", GPU {m.gpu}" if m.gpu else ""),
           f"  model: {record.model} ({'installed weights' if record.weights == 'installed' else 'random weights'})",
           f"  load: {record.load}", "",
           f"  {'device':7s}{'precision':10s}{'item':16s}{'time':>11s}{'bound':>11s}{'ratio':>8s}  bound is / work"]
    for row in item_rows(record):
        out.append(f"  {row.device:7s}{row.precision:10s}{row.label:16s}{_ms(row.seconds):>11s}{_ms(row.bound_s):>11s}"
                   f"{row.ratio:7.2f}x  {row.bound}; {row.work}")
    out += ["", "  kernels chosen by measurement (median rate of each candidate):"]
    for v in record.variants:
        for key, rates in v.kernel_rates.items():
            unit = "GB/s" if key.endswith("matvec") else "GFLOP/s"
            listed = ", ".join(f"{k} {r:.1f}" for k, r in rates.items())
            out.append(f"    {key}: {v.kernels.get(key, '?')} ({listed} {unit})")
    heads = "".join(f"{f'{s:g} s line':>14s}" for s in LINE_SECONDS)
    out += ["", f"  expected time {'':35s}{heads}"]
    for est in estimate_rows(record, can_nar_len=can_nar_len):
        cells = "".join(f"{format_duration(t):>14s}" for t in est.seconds)
        out.append(f"  {est.device:7s}{est.precision:10s}{est.plan:31s}{cells}")
    out += ["", *[f"  {line}" for line in summary(record, can_nar_len=can_nar_len)]]
    return out


def to_json(record: BenchRecord, *, can_nar_len: bool = True, saved: str | None = None) -> dict[str, Any]:
    """What ``bench --json`` prints: per item time, bound and ratio; the estimates; the advice; the record."""
    advice = recommend(record, can_nar_len=can_nar_len)
    precision, why = auto_precision(record, "cpu")
    return {
        "items": [{"device": r.device, "precision": r.precision, "item": r.item, "seconds": r.seconds,
                   "bound_s": r.bound_s, "ratio": r.ratio, "bound": r.bound, "work": r.work}
                  for r in item_rows(record)],
        "estimates": [{"device": e.device, "precision": e.precision, "modality": e.modality, "steps": e.steps,
                       "line_s": dict(zip((f"{s:g}" for s in LINE_SECONDS), e.seconds, strict=True))}
                      for e in estimate_rows(record, can_nar_len=can_nar_len)],
        "recommendation": None if advice is None else {
            "device": advice.device, "precision": advice.precision, "modality": advice.modality,
            "steps": advice.steps, "line_10s_s": advice.seconds, "default_10s_s": advice.default_seconds,
            "sentence": advice.sentence, "cost": advice.tip},
        "auto_precision_cpu": {"precision": precision, "reason": why},
        "saved": saved,
        "record": record.to_dict(),
    }


__all__ = ["LINE_SECONDS", "PLANS", "EstimateRow", "ItemRow", "estimate_rows", "item_rows", "summary", "text_lines",
           "to_json"]
