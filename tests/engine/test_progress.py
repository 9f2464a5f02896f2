"""ProgressThrottle: the one rule every progress sink uses (engine jobs, background tasks, batch, CLI)."""

from __future__ import annotations

from valle_studio.engine.progress import Progress, ProgressThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_passes_stage_changes_last_steps_and_one_event_per_interval() -> None:
    clock, seen = Clock(), []
    throttle = ProgressThrottle(seen.append, 0.05, clock=clock)
    for step in range(1, 101):  # 100 steps in 0.1 s
        clock.now = step * 0.001
        throttle(Progress("demasking", step, 100))
    assert [e.done for e in seen] == [1, 51, 100]  # the first, one after 50 ms, and the last step
    throttle(Progress("refining", 1, 7))  # a new stage always gets through
    clock.now += 0.2
    throttle(Progress("refining", 2, 7))
    assert [(e.stage, e.done) for e in seen[3:]] == [("refining", 1), ("refining", 2)]


def test_unknown_totals_are_throttled_and_the_key_can_include_the_detail() -> None:
    clock, seen = Clock(), []
    throttle = ProgressThrottle(seen.append, 1.0, clock=clock)
    for _ in range(5):
        throttle(Progress("downloading", 10, 0))  # total 0: no last step to wait for
    assert len(seen) == 1
    detailed: list[Progress] = []
    by_detail = ProgressThrottle(detailed.append, 1.0, key=lambda e: (e.stage, e.detail), clock=clock)
    for sentence in ("1/3", "1/3", "2/3"):
        by_detail(Progress("generating", 1, 10, f"sentence {sentence}"))
    assert [e.detail for e in detailed] == ["sentence 1/3", "sentence 2/3"]
