"""Which generation paths (modalities) the loaded model can take, in words the sampler's combo shows.

The engine reports a checkpoint's abilities on its :class:`~valle_studio.engine.synthesizer.ModelInfo`:
``capabilities`` (the config's ``ar``/``nar``/``len``) and ``can_nar_len`` (the length head and the NAR-len
table are both there). A choice the model cannot take is disabled with the reason as its tooltip, and a
saved choice it cannot take falls back to "auto" with a notice (see :func:`modality_limits`).
"""

from __future__ import annotations


def modality_limits(info: object | None) -> dict[str, str]:
    """``{modality: why the model cannot take it}`` for the impossible ones ({} when no model is loaded:
    nothing is known, so nothing is refused)."""
    if info is None:
        return {}
    name = str(getattr(info, "name", "") or "this model")
    capabilities = set(getattr(info, "capabilities", ()) or ())
    limits: dict[str, str] = {}
    if not bool(getattr(info, "can_nar_len", True)):
        limits["nar-len"] = (f"{name} has no length head (it was trained as AR + NAR only), so it cannot "
                             "generate with NAR-len.")
    if capabilities and not {"ar", "nar"} <= capabilities:
        limits["ar+nar"] = f"{name} has no autoregressive head, so it cannot generate with AR + NAR."
    return limits


def fallback_notice(model: str, dropped: str) -> str:
    """The status-bar notice when a restored choice is impossible for the loaded model."""
    shown = {"nar-len": "NAR-len", "ar+nar": "AR + NAR"}.get(dropped, dropped)
    return f"{model} cannot generate with {shown}: the Modality is set to Auto (what it supports)."
