"""Sampler settings: one frozen, validated record that :func:`~.pipeline.sample` turns into processors.

:class:`SamplerConfig` declares no user-facing ranges: those belong to the settings' one declaration
(``engine.settings.SPECS``), which the GUI, the CLI and the stored settings use. Its checks are only the
sanity checks of the maths, documented per field: the right type, finite, and the sign or interval in
which the processor is defined (a temperature below 0 or a top-p above 1 means nothing). Every value
the settings allow lies inside them (``tests/engine/test_setting_specs.py`` builds the sampler from
each range end), so a valid :class:`GenerationSettings` always makes a valid :class:`SamplerConfig`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._checks import check_int, check_number


@dataclass(frozen=True)
class SamplerConfig:
    """The knobs of one sampling call. The defaults switch every optional processor off.

    Unlike upstream's internal default (``top_no=1.0`` when not passed), ``top_no`` defaults to 0 here,
    which is what upstream's web UI and CLI pass.
    """

    # <= 0 picks the argmax; > 0 divides the logits and draws from the softmax.
    temperature: float = 1.0
    # Dynamic temperature floor (>= 0); None = off. Active when |temperature - floor| >= 0.001.
    min_temperature: float | None = None
    # Keep the k highest logits (0 = off).
    top_k: int = 0
    # Nucleus: keep the smallest set whose probability exceeds p (1.0 = off).
    top_p: float = 1.0
    # Drop tokens less likely than min_p times the best one, keeping at least 32 (0 = off).
    min_p: float = 0.0
    # Top-nσ: keep logits >= max - top_no * std (0 = off).
    top_no: float = 0.0
    # Divide the logits of earlier tokens by this factor (1.0 = off).
    repetition_penalty: float = 1.0
    # Divisor factor * d**decay for a token d steps back: 0 = flat, > 0 hits OLDER tokens harder (upstream's
    # math, despite the name "decay"), < 0 softer. Upstream's UI offers -2..2.
    repetition_penalty_decay: float = 0.0
    # Stop logit divided by (len(history) + 1) ** length_penalty (0 = off; needs a stop token).
    length_penalty: float = 0.0

    def __post_init__(self) -> None:
        # Type, finiteness and mathematical domain only; see the module docstring.
        name = type(self).__name__
        check_number(f"{name}.temperature", self.temperature, low=0.0)
        if self.min_temperature is not None:
            check_number(f"{name}.min_temperature", self.min_temperature, low=0.0)
        check_int(f"{name}.top_k", self.top_k, low=0)
        check_number(f"{name}.top_p", self.top_p, low=0.0, high=1.0)
        check_number(f"{name}.min_p", self.min_p, low=0.0, high=1.0)
        check_number(f"{name}.top_no", self.top_no, low=0.0)
        check_number(f"{name}.repetition_penalty", self.repetition_penalty, low=0.0, low_inclusive=False)
        check_number(f"{name}.repetition_penalty_decay", self.repetition_penalty_decay)
        check_number(f"{name}.length_penalty", self.length_penalty)

    @property
    def dynamic_temperature(self) -> bool:
        """True when the dynamic temperature replaces the plain one (upstream's 0.001 rule)."""
        return self.min_temperature is not None and abs(self.temperature - self.min_temperature) >= 0.001
