"""Sampler flags that the run's generation path would silently ignore: refused, or noted.

Some settings act on one generation path only (their declaration says which: ``FieldSpec.only_for`` in
``engine/settings.py``): ``--duration`` and ``--steps`` shape NAR-len's output, ``--length-penalty`` acts on
AR decoding. Given on a run that takes the other path (``--modality ar+nar``, or a model without a
NAR-len head under ``auto``), they change nothing, and the user would believe they had. Once the model
is loaded and the path is known, a flag that asks for a property of the result (``fixes_result``: the
fixed length of ``--duration``) is refused, since the request cannot be met; the others get a note.
"""

from __future__ import annotations

import argparse

from valle_studio.cli.options import SPEC_OF_DEST, CliError
from valle_studio.engine.setting_spec import FieldSpec
from valle_studio.engine.settings import SPECS, GenerationSettings

_PATH_NAMES = {"ar+nar": "AR+NAR", "nar-len": "NAR-len"}


def idle_flags(args: argparse.Namespace, modality: str) -> list[FieldSpec]:
    """The specs of the sampler flags given in ``args`` that do nothing on ``modality``."""
    given = [SPEC_OF_DEST[dest] for dest, value in vars(args).items() if value is not None and dest in SPEC_OF_DEST]
    return [spec for spec in given if not spec.acts_on(modality)]


def check_flags_apply(args: argparse.Namespace, settings: GenerationSettings, can_nar_len: bool,
                      model: str) -> list[str]:
    """Raise :class:`CliError` for a result-fixing flag the run's path ignores; returns the notes for the
    other ignored flags (the caller prints them unless ``--quiet``)."""
    modality = settings.modality if settings.modality != "auto" else ("nar-len" if can_nar_len else "ar+nar")
    idle = idle_flags(args, modality)
    if not idle:
        return []
    modality_flag = SPECS["modality"].cli_flag
    if settings.modality == "auto":
        why = (f"the model {model} has no NAR-len head, so this run uses AR+NAR" if not can_nar_len
               else f"the model {model} runs NAR-len")
    else:
        why = f"{modality_flag} {settings.modality} was chosen"
    refused = [spec for spec in idle if spec.fixes_result]
    if refused:
        spec = refused[0]
        way_out = (f"leave out {spec.cli_flag}" if spec.only_for == "nar-len" and not can_nar_len
                   else f"leave out {spec.cli_flag}, or use {modality_flag} {spec.only_for}")
        raise CliError(f"{spec.cli_flag} only acts on {_PATH_NAMES[spec.only_for]} generation, but {why}: "
                       f"{way_out}")
    return [f"{spec.cli_flag} has no effect: it only acts on {_PATH_NAMES[spec.only_for]} generation, and {why}"
            for spec in idle]


__all__ = ["check_flags_apply", "idle_flags"]
