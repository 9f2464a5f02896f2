"""The records of a quality check: one :class:`Finding` per check, one :class:`TakeQuality` per take.

Plain data (no numpy, no torch), so the studio, batch, the CLI and the app can store, show and read back
a verdict without the engine: :meth:`TakeQuality.to_dict` is the JSON form the report, the take records
and the manifests use.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from valle_studio.engine.quality.thresholds import SCORE_BAND_WIDTH, SCORE_BANDS, Limits

Level = Literal["good", "suspect", "bad"]
GOOD: Level = "good"
SUSPECT: Level = "suspect"
BAD: Level = "bad"
LEVELS: tuple[Level, ...] = (GOOD, SUSPECT, BAD)
_RANK = {GOOD: 0, SUSPECT: 1, BAD: 2}

#: A check's value in the report: a number, a yes/no, or None when the check could not run.
CheckValue = float | bool | None


@dataclass(frozen=True)
class Finding:
    """The outcome of one check.

    ``name``: the key in the report's ``checks``; ``value``: what was measured (None: not measured,
    ``reason`` then says why); ``level``: how bad it is; ``goodness``: 1 (fine) .. 0 (as bad as it
    gets), which ranks takes of the same verdict; ``reason``: plain words, "" when there is nothing
    to say. A finding that was not measured does not count towards the score.
    """

    name: str
    value: CheckValue
    level: Level = GOOD
    goodness: float = 1.0
    reason: str = ""

    @property
    def measured(self) -> bool:
        return self.value is not None


def level_of(value: float, limits: Limits) -> Level:
    """``bad`` at ``limits.bad`` or above, ``suspect`` at ``limits.suspect`` or above, else ``good``."""
    if value >= limits.bad:
        return BAD
    if value >= limits.suspect:
        return SUSPECT
    return GOOD


def goodness_of(value: float, limits: Limits) -> float:
    """1 at 0, falling linearly to 0 at ``limits.bad`` (a measure where more is worse)."""
    return min(1.0, max(0.0, 1.0 - value / limits.bad))


def worse(a: Level, b: Level) -> Level:
    return a if _RANK[a] >= _RANK[b] else b


@dataclass(frozen=True)
class TakeQuality:
    """The verdict on one take: ``verdict``, ``score`` in 0..1 (higher is better), ``reasons`` in plain
    words (what is wrong, and which checks could not run) and ``checks`` (every measure by name)."""

    verdict: Level
    score: float
    reasons: tuple[str, ...] = ()
    checks: Mapping[str, CheckValue] = field(default_factory=dict)

    @property
    def good(self) -> bool:
        return self.verdict == GOOD

    @property
    def summary(self) -> str:
        """``"good"``, ``"bad: too short: ..."``: the verdict and its first reason."""
        problems = [r for r in self.reasons if not r.startswith(NOT_CHECKED)]
        return f"{self.verdict}: {problems[0]}" if problems and not self.good else self.verdict

    def to_dict(self) -> dict[str, object]:
        """``{"verdict", "score", "reasons", "checks"}``, JSON-ready (floats rounded for people)."""
        return {"verdict": self.verdict, "score": round(self.score, 4), "reasons": list(self.reasons),
                "checks": {k: _rounded(v) for k, v in self.checks.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> TakeQuality:
        """Read :meth:`to_dict`'s form back. Raises ValueError for anything else."""
        verdict = data.get("verdict")
        if verdict not in LEVELS:
            raise ValueError(f"a verdict must be one of {', '.join(LEVELS)}, not {verdict!r}")
        score = data.get("score")
        if isinstance(score, bool) or not isinstance(score, (int, float)) or not 0.0 <= float(score) <= 1.0:
            raise ValueError(f"a score must be a number from 0 to 1, not {score!r}")
        reasons = data.get("reasons") or []
        checks = data.get("checks") or {}
        if not isinstance(reasons, list) or not isinstance(checks, dict):
            raise ValueError("reasons must be a list and checks an object")
        values: dict[str, CheckValue] = {}
        for key, value in checks.items():
            if value is not None and not isinstance(value, (bool, int, float)):
                raise ValueError(f"check {key!r} must be a number, true/false or null, not {value!r}")
            values[str(key)] = value if value is None or isinstance(value, bool) else float(value)
        return cls(verdict, float(score), tuple(str(r) for r in reasons), values)


#: Reasons that say a check did not run (rather than that something is wrong) start with this.
NOT_CHECKED = "not checked:"


def combine(findings: Iterable[Finding]) -> TakeQuality:
    """The verdict of a take from its findings (see ``thresholds.py``, "the verdict and the score").

    The worst measured finding decides the verdict; the mean goodness of the measured findings places
    the score within the verdict's band. Reasons list what is wrong first (worst first), then what
    was not checked.
    """
    found = list(findings)
    measured = [f for f in found if f.measured]
    verdict: Level = GOOD
    for finding in measured:
        verdict = worse(verdict, finding.level)
    mean = sum(f.goodness for f in measured) / len(measured) if measured else 1.0
    score = SCORE_BANDS[verdict] + SCORE_BAND_WIDTH * mean
    if verdict != GOOD:  # a suspect take never reaches the good band, however fine its other checks
        score = min(score, SCORE_BANDS[verdict] + SCORE_BAND_WIDTH * (1 - 1e-6))
    problems = sorted((f for f in measured if f.level != GOOD and f.reason), key=lambda f: -_RANK[f.level])
    skipped = [f.reason for f in found if not f.measured and f.reason]
    reasons = [f.reason for f in problems] + list(dict.fromkeys(skipped))
    return TakeQuality(verdict, score, tuple(reasons), {f.name: f.value for f in found})


def best_index(qualities: Sequence[TakeQuality | None]) -> int:
    """The index of the highest score (the earliest on a tie; an unchecked take ranks last)."""
    if not qualities:
        raise ValueError("there is no take to choose from")
    scores = [q.score if q is not None else -1.0 for q in qualities]
    return max(range(len(scores)), key=lambda i: (scores[i], -i))


def _rounded(value: CheckValue) -> CheckValue:
    if isinstance(value, bool) or value is None:
        return value
    if not math.isfinite(value):
        return None
    return round(float(value), 4)


__all__ = ["BAD", "GOOD", "LEVELS", "NOT_CHECKED", "SUSPECT", "CheckValue", "Finding", "Level", "TakeQuality",
           "best_index", "combine", "goodness_of", "level_of", "worse"]
