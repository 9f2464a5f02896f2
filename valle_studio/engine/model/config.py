"""What a checkpoint says about the model: sizes (from tensor shapes) and behaviour flags (from metadata).

Sizes are never trusted from the stored ``config``: they are read off the tensors, so a file whose
metadata was lost (upstream silently drops ``config`` when it cannot JSON-encode it) still loads.
Behaviour flags (``version``, ``capabilities``, ``experimental.*``) can only come from the metadata;
when it is missing, :func:`flags_from_metadata` falls back to documented guesses and marks the
config as ``inferred``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# The codec's numbers (codes per level, levels, the stop/mask token 1024) are declared once in
# core.codec_format; AUDIO_TOKENS is the model's name for the codebook size.
from valle_studio.core.codec_format import CODEBOOK_SIZE
from valle_studio.core.codec_format import LEVELS as LEVELS
from valle_studio.core.codec_format import MASK_TOKEN as MASK_TOKEN
from valle_studio.core.codec_format import STOP_TOKEN as STOP_TOKEN

AUDIO_TOKENS = CODEBOOK_SIZE

#: Classifier indices of upstream's split heads.
HEAD_AR = 0
HEAD_NAR_LEN = 8
HEAD_STT = 9
HEAD_LEN = 10
#: len task: digits 0..9, 10 = stop.
LEN_STOP = 10
#: Phoneme ids: <bos> = 1, </eos> = 2 (the STT stop token).
BOS_TOKEN = 1
EOS_TOKEN = 2
#: Rows of ``tasks_emb`` (language ids live in ``valle_studio.engine.text.languages``).
TASKS: dict[str, int] = {
    "tts": 0,
    "tts-c": 1,
    "ns": 2,
    "sr": 3,
    "tse": 4,
    "soe": 5,
    "mask": 6,
    "eoe": 7,
    "stt": 8,
}

#: Versions this implementation knows the layout of. >= 7 is the v2 (NeMo) architecture.
SUPPORTED_VERSIONS = (5, 6)


class ConfigError(ValueError):
    """The stored config holds a value this implementation cannot honour; the message names the field."""


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to build a :class:`~valle_studio.engine.model.vall_e.VallEModel`.

    Sizes come from tensor shapes; flags from the checkpoint's ``config`` metadata.
    """

    # -- sizes (tensor shapes) ------------------------------------------------------------------
    dim: int
    heads: int
    kv_heads: int
    layers: int
    ffn_dim: int
    text_tokens: int = 256
    raw_text_tokens: int = 0  # 0 = no raw_text_emb (feature disabled)
    langs: int = 6
    tasks: int = 0  # 0 = no tasks_emb (ns/sr prompts disabled)
    rvq_levels: int = LEVELS
    len_tokens: int = 0  # 0 = no len_emb
    audio_tokens: int = AUDIO_TOKENS
    # -- optional heads / tables present in the file --------------------------------------------
    has_len_head: bool = False  # classifiers.proj.10 + len_emb
    has_nar_len: bool = False  # resps_emb.embeddings.8 + classifiers.proj.8
    has_stt_head: bool = False  # classifiers.proj.9
    # -- behaviour flags (metadata) -------------------------------------------------------------
    name: str = ""
    version: int = 5
    capabilities: frozenset[str] = frozenset({"ar", "nar"})
    noncausal_masks: bool = False
    audio_embedding_sums: bool = True
    split_classifiers: bool = True
    unified_position_ids: bool = False
    # Sum one level fewer in the NAR embeddings, as upstream did before its 2025-03-18 fix.
    legacy_summing: bool = False
    # True when the metadata had no ``config`` and the flags above are guesses.
    inferred: bool = False
    # The task count the stored config declares (``config.tasks``); None when it does not say.
    declared_tasks: int | None = None
    rms_eps: float = 1e-6
    rope_theta: float = 10000.0

    @property
    def head_dim(self) -> int:
        return self.dim // self.heads

    @property
    def supports_len(self) -> bool:
        """Can predict durations and run the NAR-len modality."""
        return self.has_len_head and self.has_nar_len and self.len_tokens > 0

    @property
    def supports_raw_text(self) -> bool:
        return self.raw_text_tokens > 0

    def replace(self, **changes: Any) -> ModelConfig:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Flags:
    """Behaviour flags read from the stored ``config`` (see :func:`flags_from_metadata`)."""

    name: str
    version: int
    capabilities: frozenset[str]
    noncausal_masks: bool
    audio_embedding_sums: bool
    split_classifiers: bool
    unified_position_ids: bool
    heads: int | None
    inferred: bool
    tasks: int | None = None
    # What ``config.size`` claims the width and depth are (None: not stated); checked against the tensors.
    claimed_dim: int | None = None
    claimed_layers: int | None = None


def _flag(section: Mapping[str, Any], key: str, default: bool, where: str) -> bool:
    value = section.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ConfigError(f"{where}{key} must be true or false, not {value!r}")
    return value


def flags_from_metadata(config: Mapping[str, Any] | None, *, has_len_head: bool) -> Flags:
    """Read the behaviour flags from upstream's exported ``config`` dict.

    ``capabilities`` is treated as a set: upstream's constructor appends ``"lang"`` to the stored
    list in place, so exported files carry it once and reloaded configs carry it twice.
    Without a config the guesses are: version 5, capabilities from the heads present, and
    ``noncausal_masks`` = has a len head (the NAR-len model was retrained after the mask fix).
    """
    if config is None:
        caps = {"ar", "nar", "lang"} | ({"len"} if has_len_head else set())
        return Flags("", 5, frozenset(caps), has_len_head, True, True, False, None, inferred=True)
    if not isinstance(config, Mapping):
        raise ConfigError(f"config must be a JSON object, not {type(config).__name__}")

    version = config.get("version", 5)
    if isinstance(version, bool) or not isinstance(version, int):
        raise ConfigError(f"config.version must be an integer, not {version!r}")

    caps_raw = config.get("capabilities", ["ar", "nar"])
    if isinstance(caps_raw, str):
        caps_raw = [caps_raw]
    if not isinstance(caps_raw, list | tuple) or not all(isinstance(c, str) for c in caps_raw):
        raise ConfigError(f"config.capabilities must be a list of names, not {caps_raw!r}")
    capabilities = frozenset(caps_raw)

    experimental = config.get("experimental") or {}
    if not isinstance(experimental, Mapping):
        raise ConfigError(f"config.experimental must be a JSON object, not {experimental!r}")
    where = "config.experimental."
    heads = _heads_from_size(config.get("size"))
    claimed_dim, claimed_layers = _claimed_size(config.get("size"))
    name = config.get("name") or ""
    # Only read for what the model can do (engine/tasks.py): anything but a count is ignored, never refused.
    raw_tasks = config.get("tasks")
    tasks = raw_tasks if isinstance(raw_tasks, int) and not isinstance(raw_tasks, bool) and raw_tasks >= 0 else None
    return Flags(
        name=str(name),
        version=version,
        capabilities=capabilities,
        noncausal_masks=_flag(experimental, "noncausal_masks", False, where),
        audio_embedding_sums=_flag(experimental, "audio_embedding_sums", True, where),
        split_classifiers=_flag(experimental, "split_classifiers", True, where),
        unified_position_ids=_flag(experimental, "unified_position_ids", False, where),
        heads=heads,
        inferred=False,
        tasks=tasks,
        claimed_dim=claimed_dim,
        claimed_layers=claimed_layers,
    )


#: Upstream's size presets (``config.size`` may be a preset name instead of a dict).
_SIZE_PRESETS: dict[str, int] = {"full": 16, "half": 8, "quarter": 4}


#: Width of each size preset (upstream's ``Config.size``); their depth is not fixed by the name.
_PRESET_DIMS: dict[str, int] = {"full": 1024, "half": 512, "quarter": 256}


def _positive(size: Mapping[str, Any], key: str) -> int | None:
    value = size.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"config.size.{key} must be a positive integer, not {value!r}")
    return value


def _claimed_size(size: Any) -> tuple[int | None, int | None]:
    """``(dim, layers)`` as ``config.size`` states them; the shapes must agree (see layout)."""
    if isinstance(size, str):
        return _PRESET_DIMS.get(size), None
    if isinstance(size, Mapping):
        return _positive(size, "dim"), _positive(size, "layers")
    return None, None


def _heads_from_size(size: Any) -> int | None:
    if size is None:
        return None
    if isinstance(size, str):
        return _SIZE_PRESETS.get(size)
    if isinstance(size, Mapping):
        return _positive(size, "heads")
    raise ConfigError(f"config.size must be a preset name or an object, not {size!r}")


def check_supported(flags: Flags) -> None:
    """Refuse configurations whose behaviour this implementation does not reproduce."""
    if flags.version >= 7:
        raise ConfigError(
            f"config.version is {flags.version}: the v2 (NeMo 44 kHz) models are not supported yet"
        )
    if flags.version not in SUPPORTED_VERSIONS:
        raise ConfigError(
            f"config.version is {flags.version}; only versions "
            f"{SUPPORTED_VERSIONS[0]}-{SUPPORTED_VERSIONS[-1]} (the published v1 VALL-E layout) are supported"
        )
    if not flags.split_classifiers:
        raise ConfigError(
            "config.experimental.split_classifiers is false; only per-level heads are supported"
        )
    if not flags.audio_embedding_sums:
        raise ConfigError(
            "config.experimental.audio_embedding_sums is false; only summed audio embeddings are supported"
        )


def auto_legacy_summing(flags: Flags) -> bool:
    """The summing rule the behaviour flags alone imply: always the current one (False).

    A stored config carries no field that dates the training, so the flags cannot tell. The loader decides
    from the whole file instead (:func:`valle_studio.engine.embedding_sums.decide`: the registry of
    known files, then the stats and capabilities); this default is what a shape check without a file
    (``store/validate.py``) assumes. ``flags`` is accepted so the rule can grow if upstream ever records
    the summing in the config.
    """
    del flags
    return False
