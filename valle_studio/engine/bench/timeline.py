"""The expected course of one request: its takes, pieces and stages, and the time left while it runs (no torch).

A request of ``P`` pieces (sentences) with best-of ``N`` runs, per take: every piece's generation stages
(``predicting length``, ``generating`` or ``demasking``, ``refining``), then ``decoding`` over all pieces,
then, when takes are checked, ``checking`` piece by piece. The reference voice is encoded once for the
whole request (``encoding prompt``, before the first take), since the best-of loop encodes it once.
``retry bad K`` adds up to ``K`` more takes, one at a time, only while no take is good: how many run is
not known in advance, so :attr:`Estimate.seconds` counts the ``N`` takes and :attr:`Estimate.most_seconds`
all ``N + K``.

:class:`RunEta` maps the engine's progress events (stage, done/total, and ``sentence i/n`` and
``take i/N`` / ``retry r/K`` in the detail) onto that course and turns the work done so far into the
time left.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: The progress stages of a take (their names are the engine's), in the order they run.
STAGES = ("encoding prompt", "predicting length", "generating", "demasking", "refining", "decoding", "checking")
ONCE = "encoding prompt"  # once per request, before the first take
AFTER = ("decoding", "checking")  # once per take, over all pieces, after every piece is generated

_SENTENCE = re.compile(r"\bsentence (\d+)/(\d+)")
_TAKE = re.compile(r"\b(take|retry) (\d+)/(\d+)")


def _share(done: int, total: int) -> float:
    return min(max(done, 0), total) / total if total > 0 else 0.0


@dataclass(frozen=True)
class Estimate:
    """Expected seconds of a request: ``pieces[i][stage]`` of one take (``encoding prompt`` only in
    ``pieces[0]``), ``takes`` takes (best-of N) and up to ``retries`` more (see the module docstring).

    ``source``: ``"benchmark"`` (measured on this machine) or ``"conservative"`` (no benchmark: a
    deliberately slow machine is assumed).
    """

    pieces: tuple[dict[str, float], ...]
    source: str
    device: str
    precision: str
    takes: int = 1
    retries: int = 0

    @property
    def once_s(self) -> float:
        """Seconds spent once per request (encoding the reference voice)."""
        return self.pieces[0].get(ONCE, 0.0) if self.pieces else 0.0

    @property
    def take_s(self) -> float:
        """Seconds of one take: generating, decoding and checking every piece."""
        return sum(v for piece in self.pieces for k, v in piece.items() if k != ONCE)

    @property
    def check_s(self) -> float:
        """Seconds of checking one take (0 when takes are not checked)."""
        return sum(piece.get("checking", 0.0) for piece in self.pieces)

    @property
    def seconds(self) -> float:
        """The expected duration: the reference once, then ``takes`` takes."""
        return self.once_s + self.takes * self.take_s

    @property
    def most_seconds(self) -> float:
        """The longest it can take: every retry runs too."""
        return self.once_s + (self.takes + self.retries) * self.take_s

    def done_by(self, stage: str, done: int, total: int, piece: int = 0, take: int = 0) -> float:
        """Estimated seconds of work finished when ``stage`` of ``pieces[piece]`` of take ``take`` (0-based,
        retries counting on after the ``takes``) is ``done/total`` through. ``decoding`` counts pieces
        decoded; ``checking`` runs piece by piece after it."""
        if stage == ONCE:
            return self.once_s * _share(done, total)
        if not self.pieces:
            return self.once_s
        piece = min(max(piece, 0), len(self.pieces) - 1)
        start = self.once_s + max(take, 0) * self.take_s
        generated = sum(v for p in self.pieces for k, v in p.items() if k != ONCE and k not in AFTER)
        decoding = sum(p.get("decoding", 0.0) for p in self.pieces)
        if stage == "decoding":
            return start + generated + decoding * _share(done, total)
        if stage == "checking":
            earlier = sum(p.get("checking", 0.0) for p in self.pieces[:piece])
            checking = self.pieces[piece].get("checking", 0.0)
            return start + generated + decoding + earlier + checking * _share(done, total)
        before = sum(v for p in self.pieces[:piece] for k, v in p.items() if k != ONCE and k not in AFTER)
        parts = self.pieces[piece]
        order = [s for s in STAGES if s in parts and s != ONCE and s not in AFTER]
        if stage not in order:
            return start + before
        index = order.index(stage)
        return start + before + sum(parts[s] for s in order[:index]) + parts[stage] * _share(done, total)


def where(detail: str, takes: int) -> tuple[int, int]:
    """``(piece, take)``, both 0-based, that an event's detail names (``"sentence 2/3 · take 2/4"``;
    ``"retry r/K"`` is take ``takes + r - 1``); ``(0, 0)`` for what it does not name."""
    piece = take = 0
    sentence = _SENTENCE.search(detail or "")
    if sentence is not None:
        piece = max(0, int(sentence.group(1)) - 1)
    tag = _TAKE.search(detail or "")
    if tag is not None:
        index = max(0, int(tag.group(2)) - 1)
        take = index if tag.group(1) == "take" else takes + index
    return piece, take


class RunEta:
    """Time left of a running request: the estimate's remaining work, scaled by how fast the work so far went.

    Feed it the run's progress events (:meth:`update`); :meth:`seconds_left` then takes the time spent
    so far. Until a few percent of the estimated work is done it trusts the estimate; after that the
    observed speed takes over. A retry (``retry r/K``) adds its take to the work expected.
    """

    TRUST_AFTER = 0.03  # share of the estimated work after which the observed speed is used

    def __init__(self, estimate: Estimate) -> None:
        self.estimate = estimate
        self.done_s = 0.0
        self.takes = estimate.takes  # takes expected so far (grows with each retry that starts)

    @property
    def total_s(self) -> float:
        return self.estimate.once_s + self.takes * self.estimate.take_s

    def update(self, stage: str, done: int, total: int, detail: str = "") -> None:
        if stage not in STAGES:
            return
        piece, take = where(detail, self.estimate.takes)
        self.takes = max(self.takes, take + 1)
        self.done_s = max(self.done_s, self.estimate.done_by(stage, done, total, piece, take))

    def seconds_left(self, elapsed_s: float) -> float:
        total = self.total_s
        if total <= 0:
            return 0.0
        if self.done_s < self.TRUST_AFTER * total:
            return max(0.0, total - elapsed_s)
        return max(0.0, (total - self.done_s) * elapsed_s / self.done_s)


__all__ = ["AFTER", "ONCE", "STAGES", "Estimate", "RunEta", "where"]
