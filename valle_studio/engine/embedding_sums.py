"""Which embedding-sum rule a checkpoint was trained with, decided by the file, not by how it was opened.

Until upstream's 2025-03-18 "off by one" fix, the summed audio embeddings stopped one level short
(:func:`~valle_studio.engine.model.inputs.prompt_levels`). ``ar+nar-len-llama-8`` was post-trained
with the fix; ``ar+nar-llama-8`` and every older v1 model were trained before it. Loading such a file
with the current rule gives worse audio, so :func:`decide` looks, in order, at:

1. the registry (``user_data_dir()/embedding-sums.json``): file fingerprints with a recorded rule. The
   model store records the catalog's pre-fix models when it installs or loads them, and the model
   manager records a user's explicit choice for a file; the same file then gets the same rule whether
   it is opened by catalog name, by path or after an import;
2. the file's own metadata: a trained (``stats.global_step > 0``) v1 checkpoint without the ``len``
   capability predates the fix, as every published one does; the untrained golden ``tiny-ar+nar``
   export of upstream HEAD keeps the current rule;
3. otherwise the current (fixed) rule, as upstream HEAD applies to every file.

A fingerprint is the SHA-256 of a safetensors file's header (tensor names, shapes, offsets and
metadata: unique per export, and read in microseconds), or of a torch file's size, first and last MiB.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = ["EMBEDDING_SUMS", "REGISTRY_FILE", "Decision", "EmbeddingSums", "choice_of", "decide",
           "file_fingerprint", "metadata_says_legacy", "record", "recorded", "registry_path", "user_choice"]

log = logging.getLogger(__name__)

EmbeddingSums = Literal["auto", "legacy", "fixed"]
EMBEDDING_SUMS: tuple[EmbeddingSums, ...] = ("auto", "legacy", "fixed")
REGISTRY_FILE = "embedding-sums.json"
_MIB = 1024 * 1024


@dataclass(frozen=True)
class Decision:
    """The rule for one file: ``legacy`` (pre-fix sums) or not, and why, in words."""

    legacy: bool
    reason: str


def choice_of(value: str) -> bool | None:
    """``"legacy"`` -> True, ``"fixed"`` -> False, ``"auto"`` -> None (the loader's ``legacy_summing``)."""
    if value not in EMBEDDING_SUMS:
        raise ValueError(f"embedding sums must be one of {', '.join(EMBEDDING_SUMS)}, not {value!r}")
    return {"auto": None, "legacy": True, "fixed": False}[value]


def file_fingerprint(path: str | Path) -> str:
    """``sft:<sha256 of the header>`` or ``pth:<sha256 of size, first and last MiB>`` (module docstring)."""
    path = Path(path)
    with path.open("rb") as fh:
        head = fh.read(8)
        if len(head) == 8:
            size = int.from_bytes(head, "little")
            if 0 < size <= 100 * _MIB:
                header = fh.read(size)
                if header[:1] == b"{" and len(header) == size:
                    return "sft:" + hashlib.sha256(head + header).hexdigest()
        total = path.stat().st_size
        fh.seek(0)
        digest = hashlib.sha256(str(total).encode())
        digest.update(fh.read(_MIB))
        fh.seek(max(0, total - _MIB))
        digest.update(fh.read(_MIB))
    return "pth:" + digest.hexdigest()


def registry_path() -> Path:
    from valle_studio.paths import user_data_dir

    return user_data_dir() / REGISTRY_FILE


def _read_registry() -> dict[str, Any]:
    with contextlib.suppress(OSError, ValueError):
        data = json.loads(registry_path().read_text(encoding="utf-8"))
        if isinstance(data, dict):
            return data
    return {}


def recorded(path: str | Path) -> Decision | None:
    """The rule recorded for the file at ``path``, if any."""
    item = _read_registry().get(file_fingerprint(path))
    if isinstance(item, dict) and isinstance(item.get("legacy"), bool):
        return Decision(bool(item["legacy"]), str(item.get("why", "recorded for this file")))
    return None


def record(path: str | Path, legacy: bool | None, why: str, *, by_user: bool = False) -> None:
    """Record the rule for the file at ``path`` (``None`` forgets it, so the file decides again).

    ``by_user``: an explicit choice (the model manager's field), shown as such by :func:`user_choice`;
    otherwise a fact the store knows (a catalog model trained before the fix).
    """
    from valle_studio.core.atomic import atomic_write_json

    registry = _read_registry()
    key = file_fingerprint(path)
    if legacy is None:
        registry.pop(key, None)
    else:
        registry[key] = {"legacy": legacy, "why": why, "file": Path(path).name, "by_user": by_user}
    atomic_write_json(registry_path(), registry)


def user_choice(path: str | Path) -> EmbeddingSums:
    """The explicit choice recorded for the file (``"legacy"``/``"fixed"``), else ``"auto"``."""
    item = _read_registry().get(file_fingerprint(path))
    if isinstance(item, dict) and item.get("by_user") and isinstance(item.get("legacy"), bool):
        return "legacy" if item["legacy"] else "fixed"
    return "auto"


def metadata_says_legacy(config: Mapping[str, Any] | None, stats: Mapping[str, Any] | None,
                         shapes: Mapping[str, tuple[int, ...]]) -> Decision | None:
    """Rule 2 of the module docstring; None when the metadata says nothing either way."""
    if not config:
        return None
    capabilities = {str(c) for c in config.get("capabilities") or ()}
    version = config.get("version")
    counts = stats or {}
    trained = any(isinstance(counts.get(k), int | float) and counts[k] > 0
                  for k in ("global_step", "global_samples", "tokens_processed"))
    has_len_head = any(name.startswith("classifiers.proj.10.") for name in shapes)
    if isinstance(version, int) and version < 7 and trained and "len" not in capabilities and not has_len_head:
        steps = counts.get("global_step")
        return Decision(True, f"a trained v1 model without a length head (global_step {steps}): every published "
                              "one predates upstream's 2025-03 embedding fix")
    return None


def decide(path: str | Path, config: Mapping[str, Any] | None, stats: Mapping[str, Any] | None,
           shapes: Mapping[str, tuple[int, ...]]) -> Decision:
    """The rule for the checkpoint at ``path`` with the given metadata (see the module docstring)."""
    try:
        found = recorded(path)
    except OSError as exc:
        log.debug("cannot fingerprint %s: %s", path, exc)
        found = None
    if found is not None:
        return found
    by_metadata = metadata_says_legacy(config, stats, shapes)
    if by_metadata is not None:
        return by_metadata
    return Decision(False, "upstream's current embedding sums (nothing marks this file as pre-fix)")
