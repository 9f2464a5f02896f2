"""The figures ``gpu_check`` reports: value, unit, goal or bound, verdict (PASS / FAIL / N-A), note.

A figure either has a number or says why not (``note``): "not implemented", "skipped: ...", an
error. A verdict is PASS or FAIL only where a goal applies to this run (the issue's speed goals are
set for an H200-class GPU, so on the CPU they are N-A with that reason); figures without a goal are
N-A too, with their bound printed beside them where there is one. The results are printed as they
come and again as one table at the end, and written as JSON after every item, so a run stopped by
its time limit still leaves what it measured.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PASS, FAIL, NA = "PASS", "FAIL", "N-A"
NAME = 62  # width of the figure column


@dataclass(frozen=True)
class Goal:
    """``value op threshold`` must hold (``op``: ">=" or "<="); ``applies`` False gives N-A and ``why_not``."""

    op: str
    threshold: float
    text: str
    applies: bool = True
    why_not: str = ""

    def judge(self, value: float) -> str:
        ok = value >= self.threshold if self.op == ">=" else value <= self.threshold
        return PASS if ok else FAIL


@dataclass
class Figure:
    item: str
    name: str
    value: float | None
    unit: str
    goal: str  # the goal, or the bound it is compared with; "" for a plain figure
    verdict: str
    note: str  # how it was obtained, or why there is no number / no verdict


@dataclass
class Item:
    title: str
    figures: list[Figure] = field(default_factory=list)
    seconds: float | None = None


class Results:
    """Every item's figures; prints each figure as it is added."""

    def __init__(self, header: dict[str, Any], json_path: Path | None) -> None:
        self.header = header
        self.items: dict[str, Item] = {}
        self.json_path = json_path

    def start(self, key: str, title: str) -> None:
        self.items[key] = Item(title)
        print(f"\n== ({key}) {title} " + "=" * max(0, 70 - len(title)), flush=True)

    def add(self, item: str, name: str, value: float | None, unit: str = "", *, goal: Goal | None = None,
            bound: str = "", note: str = "", passed: bool | None = None) -> Figure:
        """Record one figure; ``value`` None needs a ``note`` saying why there is no number.

        ``goal``: judged here (PASS / FAIL, or N-A where it does not apply); ``bound``: printed beside
        a figure without a goal; ``passed``: the verdict of a check judged by the caller (``bound``
        then says what was checked)."""
        if value is not None and not math.isfinite(value):
            note = f"{note}; " if note else ""
            note += f"measured value was {value!r}"
            value = None
        if value is None and not note:
            raise ValueError(f"{item}/{name}: a figure without a number must say why (note)")
        if passed is not None:
            verdict = PASS if passed else FAIL
        elif value is None or goal is None:
            verdict = NA
        elif not goal.applies:
            verdict, note = NA, "; ".join(x for x in (note, goal.why_not) if x)
        else:
            verdict = goal.judge(value)
        target = goal.text if goal is not None else bound
        fig = Figure(item, name, value, unit, target, verdict, note)
        self.items[item].figures.append(fig)
        print("   " + format_row(fig), flush=True)
        if fig.note:
            print(f"        {fig.note}", flush=True)
        return fig

    def fail(self, item: str, name: str, error: BaseException) -> None:
        """An item that raised: one FAIL figure carrying the error, and the run goes on."""
        fig = Figure(item, name, None, "", "", FAIL, f"error: {type(error).__name__}: {error}")
        self.items[item].figures.append(fig)
        print("   " + format_row(fig) + f"\n        {fig.note}", flush=True)

    def finish_item(self, key: str, seconds: float) -> None:
        self.items[key].seconds = seconds
        self.write()

    def to_json(self, **extra: Any) -> dict[str, Any]:
        items = {k: {"title": v.title, "seconds": v.seconds, "figures": [asdict(f) for f in v.figures]}
                 for k, v in self.items.items()}
        return {**self.header, **extra, "items": items}

    def write(self, **extra: Any) -> None:
        """The JSON, atomically (a temporary file renamed over the target): never a half-written file."""
        if self.json_path is None:
            return
        partial = self.json_path.with_name(self.json_path.name + ".part")
        partial.write_text(json.dumps(self.to_json(**extra), indent=2), encoding="utf-8")
        os.replace(partial, self.json_path)

    def table(self) -> list[str]:
        lines = [f"{'':4}{'figure':{NAME}} {'value':>14}  {'goal / bound':34} verdict"]
        for key, item in self.items.items():
            lines.append(f"({key}) {item.title}")
            lines += ["    " + format_row(f) for f in item.figures]
        return lines

    def counts(self) -> dict[str, int]:
        verdicts = [f.verdict for item in self.items.values() for f in item.figures]
        return {v: verdicts.count(v) for v in (PASS, FAIL, NA)}


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    magnitude = abs(value)
    text = f"{value:.3g}" if magnitude < 0.01 and value else f"{value:.2f}" if magnitude < 100 else f"{value:.0f}"
    return f"{text} {unit}".strip()


def format_row(fig: Figure) -> str:
    return f"{fig.name[:NAME]:{NAME}} {format_value(fig.value, fig.unit):>14}  {fig.goal[:34]:34} {fig.verdict}"
