"""Tiny random-weight checkpoints, LoRAs and tokenizers, for tests and demos without downloaded files.

:func:`write_tiny_checkpoint` writes upstream's exact ``.sft`` format; :func:`write_tiny_lora` a
``lora.sft`` for it in upstream's LoRA layout; :func:`write_tiny_tokenizers`
writes a ``tokenizer.json`` (phonemes, ids 0-255, the rows of ``text_emb``) and a
``text_tokenizer.json`` (raw characters, ids below the 8575 rows of ``raw_text_emb``) in the HF
``tokenizers`` format the engine reads. Together they let every test that needs *a* model and *a*
tokenizer run on a plain clone; only the golden-vector tests need upstream's own files.

The checkpoint matches what upstream's exporter writes: safetensors with every tensor in float16 and three
JSON metadata entries (``config``, ``userdata``, ``stats``). Weights are drawn at unit scale (like the
parity fixtures' tiny models) rather than with LLaMA's 0.02 init, so the layers actually do
something, and the stop logits get a bias that makes greedy and sampled loops end after a
few dozen frames instead of always running to the cap.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

#: Bias on the AR stop logit (index 1024) and the len stop digit (10); see the module docstring.
AR_STOP_BIAS = 3.5
LEN_STOP_BIAS = 4.0
_TEXT_TOKENS = 256
_RAW_TEXT_TOKENS = 8575


def _shapes(capabilities: Sequence[str], dim: int, layers: int, ffn: int, stt_head: bool = True
            ) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {
        "text_emb.weight": (_TEXT_TOKENS, dim),
        "raw_text_emb.weight": (_RAW_TEXT_TOKENS, dim),
        "langs_emb.weight": (6, dim),
        "tasks_emb.weight": (9, dim),
        "tones_emb.weight": (1, dim),
        "rvq_l_emb.weight": (8, dim),
        "len_emb.weight": (11, dim),
        "sep": (dim,),
        "dropout_token": (dim,),
    }
    for i in range(8):
        shapes[f"proms_emb.embeddings.{i}.weight"] = (1024, dim)
    for i in range(9):
        shapes[f"resps_emb.embeddings.{i}.weight"] = (1025 if i in (0, 8) else 1024, dim)
    heads = {0: 1025, **{i: 1024 for i in range(1, 9)}, 9: _TEXT_TOKENS}
    if not stt_head:
        del heads[9]
    if "len" in capabilities:
        heads[10] = 11
    for i, n in heads.items():
        shapes[f"classifiers.proj.{i}.weight"] = (n, dim)
        shapes[f"classifiers.proj.{i}.bias"] = (n,)
    for layer in range(layers):
        p = f"model.layers.{layer}."
        for name in ("q_proj", "k_proj", "v_proj", "o_proj"):
            shapes[f"{p}self_attn.{name}.weight"] = (dim, dim)
        shapes[p + "mlp.gate_proj.weight"] = (ffn, dim)
        shapes[p + "mlp.up_proj.weight"] = (ffn, dim)
        shapes[p + "mlp.down_proj.weight"] = (dim, ffn)
        shapes[p + "input_layernorm.weight"] = (dim,)
        shapes[p + "post_attention_layernorm.weight"] = (dim,)
    shapes["model.norm.weight"] = (dim,)
    return shapes


def _draw(name: str, shape: tuple[int, ...], dim: int, gen: torch.Generator) -> torch.Tensor:
    noise = torch.randn(shape, generator=gen)
    if name.startswith("model.") and name.endswith("norm.weight"):
        return 1.0 + 0.25 * noise
    if name.startswith("model.layers."):
        return noise / math.sqrt(shape[1])  # fan-in scaling
    if name.startswith("classifiers.") and name.endswith(".weight"):
        return noise * 2.0 / math.sqrt(dim)
    if name.startswith("classifiers."):
        return noise * 0.5
    return noise  # embeddings, sep, dropout_token: N(0, 1)


def _config(
    capabilities: Sequence[str], dim: int, heads: int, layers: int, noncausal: bool, version: int
) -> dict[str, Any]:
    caps = [*capabilities, "lang"]  # upstream's constructor appends "lang" before export
    return {
        "name": "ar+nar-len" if "len" in capabilities else "ar+nar",
        "version": version,
        "size": {"dim": dim, "heads": heads, "layers": layers},
        "tasks": 9,
        "langs": 6,
        "tones": 1,
        "experts": 1,
        "arch_type": "llama",
        "training": False,
        "attention": "auto",
        "dropout": 0.1,
        "path": None,
        "capabilities": caps,
        "experimental": {
            "split_classifiers": True,
            "audio_embedding_sums": True,
            "unified_position_ids": False,
            "noncausal_masks": noncausal,
            "classifiers_bias": True,
            "max_position_embeddings": 22750,
            "kv_heads": 0,
        },
    }


def write_tiny_checkpoint(
    path: str | Path,
    *,
    capabilities: Sequence[str] = ("ar", "nar", "len"),
    seed: int = 0,
    dim: int = 64,
    heads: int = 4,
    layers: int = 2,
    noncausal_masks: bool = True,
    version: int = 5,
    global_step: int = 0,
    stt_head: bool = True,
) -> Path:
    """Write a random-weight v1 checkpoint (``ar+nar`` or ``ar+nar-len`` layout) to ``path``; returns it.

    Same tensor names and metadata as upstream's exporter, float16 storage, written atomically.
    ``global_step`` > 0 writes training stats as a trained export has them (untrained: all zero).
    ``stt_head=False`` leaves out the speech-to-text head (``classifiers.proj.9``), as a model trained
    without that task would.
    """
    if dim % heads or (dim // heads) % 2:
        raise ValueError(f"dim {dim} must split into {heads} heads of even size")
    caps = [c for c in capabilities if c != "lang"]
    gen = torch.Generator().manual_seed(seed)
    tensors: dict[str, torch.Tensor] = {}
    for name, shape in _shapes(caps, dim, layers, 4 * dim, stt_head).items():
        tensors[name] = _draw(name, shape, dim, gen).to(torch.float16)
    tensors["classifiers.proj.0.bias"][1024] = AR_STOP_BIAS
    if "len" in caps:
        tensors["classifiers.proj.10.bias"][10] = LEN_STOP_BIAS
    metadata = {
        "config": json.dumps(_config(caps, dim, heads, layers, noncausal_masks, version)),
        "userdata": json.dumps({"symmap": {}}),
        "stats": json.dumps({"global_step": global_step, "micro_step": global_step * 8,
                             "global_samples": global_step * 16, "tokens_processed": global_step * 16_000}),
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return _atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=metadata))


#: The layers upstream's llama LoRA policy adapts (ecker-vall-e.md §9): no k_proj, nothing outside the layers.
LORA_TARGETS = ("self_attn.q_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj",
                "mlp.down_proj")


def write_tiny_lora(
    path: str | Path,
    *,
    dim: int = 64,
    layers: int = 2,
    ffn: int | None = None,
    rank: int = 4,
    alpha: float = 8.0,
    seed: int = 0,
    name: str = "tiny",
    targets: Sequence[str] = LORA_TARGETS,
    rvq_levels: Sequence[int] = (),
    magnitude: float = 0.5,
) -> Path:
    """Write a random LoRA for a ``write_tiny_checkpoint`` model of the same ``dim``/``layers`` to ``path``.

    Same layout as upstream's exported ``lora.sft``: ``model.layers.N.<target>.lora_A`` ``[rank, in]`` and
    ``.lora_B`` ``[out, rank]`` in float16, and a ``config`` metadata entry with ``name``, ``rank``,
    ``alpha``, ``embeddings``, ``parametrize`` and ``rvq_levels``. B is drawn random rather than zero (as
    training starts it), so that applying the LoRA visibly changes the logits; ``magnitude`` scales it.
    """
    ffn = 4 * dim if ffn is None else ffn
    shapes = {"self_attn.q_proj": (dim, dim), "self_attn.k_proj": (dim, dim), "self_attn.v_proj": (dim, dim),
              "self_attn.o_proj": (dim, dim), "mlp.gate_proj": (ffn, dim), "mlp.up_proj": (ffn, dim),
              "mlp.down_proj": (dim, ffn)}
    gen = torch.Generator().manual_seed(seed)
    tensors: dict[str, torch.Tensor] = {}
    for layer in range(layers):
        for target in targets:
            out, inp = shapes[target]
            key = f"model.layers.{layer}.{target}"
            tensors[key + ".lora_A"] = (torch.randn(rank, inp, generator=gen) / math.sqrt(inp)).to(torch.float16)
            tensors[key + ".lora_B"] = (torch.randn(out, rank, generator=gen) * magnitude / math.sqrt(rank)
                                        ).to(torch.float16)
    config = {"name": name, "rank": rank, "alpha": alpha, "embeddings": False, "parametrize": False,
              "rvq_levels": list(rvq_levels)}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return _atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata={"config": json.dumps(config)}))


def _atomic_write(path: Path, write: Callable[[str], None]) -> Path:
    """``write(temporary path)`` beside ``path``, then rename it over ``path``: a crash leaves no half file.

    The pattern by hand rather than the app's atomic module: the engine does not import the layers
    above it, and these files are test and demo inputs only.
    """
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# -- tokenizers ------------------------------------------------------------------------------------------------
_SPECIALS = ("<unk>", "<bos>", "</eos>", "<mask>")  # ids 0-3, as the engine's tokenizer module expects
#: Phoneme symbols in id order from 4: what espeak's IPA is made of first (so real phonemized text
#: mostly hits known ids), then whole Unicode blocks to fill all 252 ids a tiny model's head can emit.
_PHONEME_SOURCES = (
    " .,!?;:-'\"()…«»¡¿",
    "abcdefghijklmnopqrstuvwxyz",
    "ˈˌːˑʰʲʷˠˤ˞ʼ\u0303\u031e\u0320\u0329\u032f\u0325\u0330\u0361ˉˊˇˋ˙˥˦˧˨˩",  # marks, tones
    "æçðøœŋθχβᵻ",
    "".join(map(chr, range(0x250, 0x2B0))),  # IPA Extensions
    ("aɪ", "aʊ", "eɪ", "oʊ", "ɔɪ", "tʃ", "dʒ", "iː", "uː", "ɑː", "ɔː", "ɜː", "ɪə", "ʊə", "eə"),  # BPE merges
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    "".join(map(chr, range(0x20, 0x7F))),
    "".join(map(chr, range(0x2B0, 0x300))),  # Spacing Modifier Letters
)
#: Second spellings of an id (like upstream's ``a``/``ä``): decoding must pick the first spelling.
_PHONEME_ALIASES = {"ä": "a", "ö": "ø", "ü": "y"}
#: Raw-text symbols: letters first, so the same ASCII text gets other ids than from the phoneme file.
_TEXT_SOURCES = (
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    "".join(map(chr, range(0x20, 0x7F))),
    "".join(map(chr, range(0xA1, 0x100))),  # Latin-1 letters and signs
    "–—‘’“”„…€",
)


def _vocab(sources: Sequence[str | Sequence[str]], size: int | None) -> dict[str, int]:
    """Specials, then every symbol of ``sources`` once, in order; exactly ``size`` ids when given."""
    vocab = {token: idx for idx, token in enumerate(_SPECIALS)}
    for source in sources:
        for token in source:
            if size is not None and len(vocab) == size:
                return vocab
            vocab.setdefault(token, len(vocab))
    if size is not None and len(vocab) < size:
        raise ValueError(f"only {len(vocab)} symbols for a vocabulary of {size}")
    return vocab


def _tokenizer_json(vocab: dict[str, int], merges: list[str]) -> dict[str, Any]:
    """An HF ``tokenizers`` BPE file without normalizer or pre-tokenizer that wraps text as <bos> … </eos>."""
    added = [{"id": idx, "content": token, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for idx, token in enumerate(_SPECIALS)]
    wrap = {token: {"id": token, "ids": [vocab[token]], "tokens": [token]} for token in ("<bos>", "</eos>")}
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": None, "pre_tokenizer": None,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<bos>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "</eos>", "type_id": 0}}],
            "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": wrap,
        },
        "decoder": None,
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": merges},
    }


def tiny_phoneme_tokenizer_json() -> dict[str, Any]:
    """The content of the tiny ``tokenizer.json``: 256 ids (every id a tiny model's phoneme head can
    emit decodes), a few BPE merges (diphthongs, affricates, long vowels) and a few ids that two
    spellings share."""
    vocab = _vocab(_PHONEME_SOURCES, _TEXT_TOKENS)
    merges = [f"{token[0]} {token[1]}" for token in vocab if len(token) == 2 and token not in _SPECIALS]
    for alias, token in _PHONEME_ALIASES.items():
        vocab[alias] = vocab[token]  # after the first spelling: the file order decides the decode
    return _tokenizer_json(vocab, merges)


def tiny_text_tokenizer_json() -> dict[str, Any]:
    """The content of the tiny ``text_tokenizer.json``: one id per character (ASCII, Latin-1, typographic
    punctuation), all below the 8575 rows of ``raw_text_emb``."""
    vocab = _vocab(_TEXT_SOURCES, None)
    assert len(vocab) <= _RAW_TEXT_TOKENS
    return _tokenizer_json(vocab, [])


def write_tiny_tokenizers(folder: str | Path, *, text_tokenizer: bool = True) -> Path:
    """Write ``tokenizer.json`` (and ``text_tokenizer.json`` unless told not to) into ``folder``; returns it.

    The names are the ones :meth:`~valle_studio.engine.text.TextFrontend.from_dir` and the model
    store look for, so the folder works wherever upstream's tokenizer folder does.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = {"tokenizer.json": tiny_phoneme_tokenizer_json()}
    if text_tokenizer:
        files["text_tokenizer.json"] = tiny_text_tokenizer_json()
    for name, content in files.items():
        _write_json(folder / name, content)
    return folder


def _write_json(path: Path, content: dict[str, Any]) -> Path:
    text = json.dumps(content, ensure_ascii=False, indent=1) + "\n"

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)

    return _atomic_write(path, write)
