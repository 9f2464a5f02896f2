"""The tensor layout of upstream's v1 ``AR_NAR`` model: which names must exist, with which shapes.

:func:`config_from_shapes` turns a checkpoint's tensor shapes plus its metadata flags into a
:class:`ModelConfig`, refusing files of other models with messages that name what is missing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from valle_studio.engine.model.checkpoint import CheckpointError
from valle_studio.engine.model.config import (
    AUDIO_TOKENS,
    HEAD_LEN,
    HEAD_NAR_LEN,
    HEAD_STT,
    LEVELS,
    ConfigError,
    Flags,
    ModelConfig,
    auto_legacy_summing,
    check_supported,
)

_LAYER_RE = re.compile(r"^model\.layers\.(\d+)\.")


def required_keys() -> list[str]:
    """Names without which no v1 generation path works (layers excluded: their count varies)."""
    keys = ["text_emb.weight", "langs_emb.weight", "rvq_l_emb.weight", "sep", "model.norm.weight"]
    keys += [f"proms_emb.embeddings.{i}.weight" for i in range(LEVELS)]
    keys += [f"resps_emb.embeddings.{i}.weight" for i in range(LEVELS)]
    for i in range(LEVELS):
        keys += [f"classifiers.proj.{i}.weight", f"classifiers.proj.{i}.bias"]
    return keys


def _describe_missing(name: str, missing: list[str], shapes: Mapping[str, tuple[int, ...]]) -> str:
    shown = ", ".join(missing[:6]) + (f" and {len(missing) - 6} more" if len(missing) > 6 else "")
    sample = ", ".join(sorted(shapes)[:4])
    return (
        f"{name} does not look like a VALL-E (ecker) model: required tensors are missing: {shown}. "
        f"It holds {len(shapes)} tensors such as {sample}."
    )


def _check_claimed_size(file_name: str, flags: Flags, dim: int, layers: int) -> None:
    """Refuse a stored config whose size contradicts the tensors.

    Sizes are read off the tensors, but the head count can only come from the config; a config that
    is wrong about the width or the depth (copied from another model, hand-edited) cannot be trusted
    about the heads either, and a model built with the wrong head count runs and speaks garbage.
    """
    claims = [(what, claimed, real) for what, claimed, real in
              (("dim", flags.claimed_dim, dim), ("layers", flags.claimed_layers, layers))
              if claimed is not None and claimed != real]
    if claims:
        said = " and ".join(f"{what} {claimed}" for what, claimed, _real in claims)
        found = " and ".join(f"{what} {real}" for what, _claimed, real in claims)
        raise CheckpointError(
            f"{file_name}: its config says {said}, but its tensors have {found}; the config belongs to "
            "another model (or was edited), so its head count cannot be trusted either. Export the "
            "checkpoint again with its own config"
        )


def config_from_shapes(
    file_name: str,
    shapes: Mapping[str, tuple[int, ...]],
    flags: Flags,
    *,
    legacy_summing: bool | None,
) -> tuple[ModelConfig, dict[str, tuple[int, ...]], list[str]]:
    """Validate the tensor layout and build the config.

    Returns ``(config, expected, ignored)``: ``expected`` maps every tensor the model will load to its
    shape; ``ignored`` lists stored tensors that inference does not use.
    """
    if any(k.startswith("proms_emb.embs.") for k in shapes) or flags.version >= 7:
        raise CheckpointError(
            f"{file_name} is a v2 (NeMo 44 kHz, version >= 7) VALL-E model; these are not supported yet"
        )
    if any(k.startswith("retnet.") for k in shapes):
        raise CheckpointError(f"{file_name} uses the RetNet backbone, which upstream itself no longer loads")
    if any(k.endswith(("lora_A", "lora_B")) or ".lora_" in k for k in shapes):
        raise CheckpointError(f"{file_name} is a LoRA adapter, not a full model: load the base model and apply the "
                              "LoRA to it (--lora, or the LoRA control of the Studio tab)")
    missing = [k for k in required_keys() if k not in shapes]
    layer_ids = sorted({int(m.group(1)) for k in shapes if (m := _LAYER_RE.match(k))})
    if missing or not layer_ids:
        missing = missing or ["model.layers.0.*"]
        raise CheckpointError(_describe_missing(file_name, missing, shapes))
    try:
        check_supported(flags)
    except ConfigError as exc:
        raise CheckpointError(f"{file_name}: {exc}") from None

    dim = shapes["text_emb.weight"][1] if len(shapes["text_emb.weight"]) == 2 else 0
    if dim <= 0:
        raise CheckpointError(
            f"{file_name}: text_emb.weight must be a 2-D table, has shape {shapes['text_emb.weight']}"
        )
    layers = layer_ids[-1] + 1
    if layer_ids != list(range(layers)):
        gaps = sorted(set(range(layers)) - set(layer_ids))
        raise CheckpointError(
            f"{file_name}: decoder layers {gaps} are missing (found up to layer {layers - 1})"
        )
    _check_claimed_size(file_name, flags, dim, layers)
    heads = flags.heads if flags.heads else (dim // 64 if dim % 64 == 0 else 0)
    if heads <= 0 or dim % heads or (dim // heads) % 2:
        raise CheckpointError(
            f"{file_name}: cannot split dim {dim} into {heads or '?'} attention heads of even size "
            "(check config.size.heads)"
        )
    head_dim = dim // heads
    k_rows = shapes.get("model.layers.0.self_attn.k_proj.weight", (0,))[0]
    if k_rows <= 0 or k_rows % head_dim or heads % (k_rows // head_dim):
        raise CheckpointError(
            f"{file_name}: k_proj has {k_rows} rows, not a multiple of head size {head_dim}"
        )
    kv_heads = k_rows // head_dim
    ffn = shapes.get("model.layers.0.mlp.gate_proj.weight", (0,))[0]

    def rows(key: str) -> int:
        return shapes[key][0] if key in shapes and len(shapes[key]) == 2 else 0

    has_len_head = f"classifiers.proj.{HEAD_LEN}.weight" in shapes and "len_emb.weight" in shapes
    has_nar_len = (
        f"classifiers.proj.{HEAD_NAR_LEN}.weight" in shapes and "resps_emb.embeddings.8.weight" in shapes
    )
    has_stt = f"classifiers.proj.{HEAD_STT}.weight" in shapes

    expected: dict[str, tuple[int, ...]] = {
        "text_emb.weight": (shapes["text_emb.weight"][0], dim),
        "langs_emb.weight": (rows("langs_emb.weight"), dim),
        "rvq_l_emb.weight": (LEVELS, dim),
        "sep": (dim,),
        "model.norm.weight": (dim,),
    }
    for opt in ("raw_text_emb.weight", "tasks_emb.weight"):
        if opt in shapes:
            expected[opt] = (rows(opt), dim)
    if has_len_head:
        expected["len_emb.weight"] = (11, dim)
    for i in range(LEVELS):
        expected[f"proms_emb.embeddings.{i}.weight"] = (AUDIO_TOKENS, dim)
        expected[f"resps_emb.embeddings.{i}.weight"] = (AUDIO_TOKENS + (1 if i == 0 else 0), dim)
    if has_nar_len:
        expected["resps_emb.embeddings.8.weight"] = (AUDIO_TOKENS + 1, dim)
    heads_out = {i: AUDIO_TOKENS + (1 if i == 0 else 0) for i in range(LEVELS)}
    if has_nar_len:
        heads_out[HEAD_NAR_LEN] = AUDIO_TOKENS
    if has_stt:
        heads_out[HEAD_STT] = shapes["text_emb.weight"][0]
    if has_len_head:
        heads_out[HEAD_LEN] = 11
    for i, classes in heads_out.items():
        expected[f"classifiers.proj.{i}.weight"] = (classes, dim)
        expected[f"classifiers.proj.{i}.bias"] = (classes,)
    for layer in range(layers):
        p = f"model.layers.{layer}."
        expected[p + "self_attn.q_proj.weight"] = (dim, dim)
        expected[p + "self_attn.k_proj.weight"] = (kv_heads * head_dim, dim)
        expected[p + "self_attn.v_proj.weight"] = (kv_heads * head_dim, dim)
        expected[p + "self_attn.o_proj.weight"] = (dim, dim)
        expected[p + "mlp.gate_proj.weight"] = (ffn, dim)
        expected[p + "mlp.up_proj.weight"] = (ffn, dim)
        expected[p + "mlp.down_proj.weight"] = (dim, ffn)
        expected[p + "input_layernorm.weight"] = (dim,)
        expected[p + "post_attention_layernorm.weight"] = (dim,)

    absent = [k for k in expected if k not in shapes]
    if absent:
        raise CheckpointError(_describe_missing(file_name, absent, shapes))
    wrong = [f"{k} is {tuple(shapes[k])}, expected {v}" for k, v in expected.items() if tuple(shapes[k]) != v]
    if wrong:
        shown = "; ".join(wrong[:4]) + (f"; and {len(wrong) - 4} more" if len(wrong) > 4 else "")
        raise CheckpointError(f"{file_name} has tensors of the wrong shape for a dim-{dim} model: {shown}")
    # A config that promises "len" without the tensors simply gets the feature disabled.
    ignored = sorted(k for k in shapes if k not in expected)

    config = ModelConfig(
        dim=dim,
        heads=heads,
        kv_heads=kv_heads,
        layers=layers,
        ffn_dim=ffn,
        text_tokens=shapes["text_emb.weight"][0],
        raw_text_tokens=rows("raw_text_emb.weight"),
        langs=rows("langs_emb.weight"),
        tasks=rows("tasks_emb.weight"),
        len_tokens=11 if has_len_head else 0,
        has_len_head=has_len_head,
        has_nar_len=has_nar_len,
        has_stt_head=has_stt,
        name=flags.name,
        version=flags.version,
        capabilities=flags.capabilities,
        noncausal_masks=flags.noncausal_masks,
        audio_embedding_sums=flags.audio_embedding_sums,
        split_classifiers=flags.split_classifiers,
        unified_position_ids=flags.unified_position_ids,
        legacy_summing=auto_legacy_summing(flags) if legacy_summing is None else bool(legacy_summing),
        inferred=flags.inferred,
        declared_tasks=flags.tasks,
    )
    return config, expected, ignored
