"""Sampler settings: one frozen, validated record that :func:`~.pipeline.sample` turns into processors.

:class:`SamplerConfig` declares no user-facing ranges: those belong to the settings' one declaration
(``engine.settings.SPECS``), which the GUI, the CLI and the stored settings use. Its checks are only the
sanity checks of the maths, documented per field: the right type, finite, and the sign or interval in
which the processor is defined (a temperature below 0 or a top-p above 1 means nothing). Every value
the settings allow lies inside them (``tests/engine/test_setting_specs.py`` builds the sampler from
each range end), so a valid :class:`GenerationSettings` always makes a valid :class:`SamplerConfig`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

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
    # DRY (dry.py): lower a token's logit by multiplier * base ** (n - allowed_length) when emitting it would
    # repeat the last n >= allowed_length tokens of the history (0 = off). Breakers end a match.
    dry_multiplier: float = 0.0
    dry_base: float = 1.75
    dry_allowed_length: int = 2
    dry_sequence_breakers: tuple[int, ...] = ()
    # Mirostat v2 (choosers.py): target surprise tau in bits (0 = off) and learning rate eta; replaces the
    # categorical draw of one sequence (needs temperature > 0 and a MirostatState across steps).
    mirostat_tau: float = 0.0
    mirostat_eta: float = 0.1
    # Repetition-aware sampling (choosers.py): redraw from the unfiltered distribution when the chosen
    # token fills more than ras_threshold of the last ras_window history tokens (window 0 = off).
    ras_window: int = 0
    ras_threshold: float = 0.1

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
        check_number(f"{name}.dry_multiplier", self.dry_multiplier, low=0.0)
        check_number(f"{name}.dry_base", self.dry_base, low=1.0, low_inclusive=False)
        check_int(f"{name}.dry_allowed_length", self.dry_allowed_length, low=1)
        if not isinstance(self.dry_sequence_breakers, tuple):
            raise ValueError(f"{name}.dry_sequence_breakers must be a tuple of token ids, "
                             f"got {type(self.dry_sequence_breakers).__name__}")
        for token in self.dry_sequence_breakers:
            check_int(f"{name}.dry_sequence_breakers", token, low=0)
        check_number(f"{name}.mirostat_tau", self.mirostat_tau, low=0.0)
        check_number(f"{name}.mirostat_eta", self.mirostat_eta, low=0.0, low_inclusive=False)
        check_int(f"{name}.ras_window", self.ras_window, low=0)
        check_number(f"{name}.ras_threshold", self.ras_threshold, low=0.0, high=1.0)

    @property
    def uses_mirostat(self) -> bool:
        """Mirostat replaces the draw: only when it has a target and the draw is random (temperature > 0)."""
        return self.mirostat_tau > 0.0 and self.temperature > 0.0

    @property
    def uses_ras(self) -> bool:
        """Repetition-aware sampling is on (and mirostat, which takes precedence, is not)."""
        return self.ras_window > 0 and not self.uses_mirostat

    def without_sequence_choosers(self) -> SamplerConfig:
        """This config with DRY, mirostat and RAS off: for passes that sample many positions at once
        (NAR levels, NAR-len demasking), where "the sequence so far" means nothing."""
        return replace(self, dry_multiplier=0.0, mirostat_tau=0.0, ras_window=0)

    @property
    def dynamic_temperature(self) -> bool:
        """True when the dynamic temperature replaces the plain one (upstream's 0.001 rule)."""
        return self.min_temperature is not None and abs(self.temperature - self.min_temperature) >= 0.001
