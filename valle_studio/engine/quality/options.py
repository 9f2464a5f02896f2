"""How many candidates a request gets and whether they are checked: :class:`QualityOptions`.

The CLI's ``--best-of``, ``--retry-bad`` and ``--no-check``, the app's Best-of control and a batch run
all make one of these; it is validated once, here, and front ends word a refusal with their own flag or
label (``QualityError.field``). No torch, so the GUI and the CLI build it before the engine loads.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Most candidates one request may ask for, and most retries: each costs a whole generation, and past
#: a handful the chance that one more helps is small while the wait is not.
MAX_BEST_OF = 16
MAX_RETRY_BAD = 16


class QualityError(ValueError):
    """A quality option is out of range or contradicts another; ``field`` names the option
    (``best_of``, ``retry_bad``), ``problem`` what is wrong."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True)
class QualityOptions:
    """``best_of``: candidates generated (each with its own seed, derived from the request's); the best
    one is kept. ``retry_bad``: further candidates, one at a time, while the best is not good.
    ``check``: score every candidate (off: one unchecked take, as before the check existed)."""

    best_of: int = 1
    retry_bad: int = 0
    check: bool = True

    def __post_init__(self) -> None:
        for name, value, low, high in (("best_of", self.best_of, 1, MAX_BEST_OF),
                                       ("retry_bad", self.retry_bad, 0, MAX_RETRY_BAD)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise QualityError(name, f"must be a whole number, not {value!r}")
            if not low <= value <= high:
                raise QualityError(name, f"must be between {low} and {high}, not {value}")
        if not self.check and (self.best_of > 1 or self.retry_bad > 0):
            field = "best_of" if self.best_of > 1 else "retry_bad"
            raise QualityError(field, "needs the quality check to pick or retry takes; it cannot be turned off")

    @property
    def most_takes(self) -> int:
        """The most candidates a request can cost."""
        return self.best_of + self.retry_bad

    @property
    def single(self) -> bool:
        """One take and no retry: nothing to choose between."""
        return self.most_takes == 1


__all__ = ["MAX_BEST_OF", "MAX_RETRY_BAD", "QualityError", "QualityOptions"]
