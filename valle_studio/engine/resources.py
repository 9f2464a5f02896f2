"""Find the files a synthesizer needs: the checkpoint, its tokenizers, the codec weights.

Lookup order for tokenizers: the explicit path, then files beside the checkpoint, then the model store.
Nothing here downloads: a missing file is reported with what to do about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from valle_studio.engine.interfaces import ModelFilesProtocol

if TYPE_CHECKING:
    from valle_studio.engine.codec import EncodecVocosCodec
    from valle_studio.engine.store import CodecPaths, ModelStore

PHONEME_TOKENIZER = "tokenizer.json"
TEXT_TOKENIZER = "text_tokenizer.json"


class MissingResourceError(FileNotFoundError):
    """A file the engine needs is not on disk; the message names it and how to get it."""

    def __str__(self) -> str:  # FileNotFoundError's default formatting would add errno noise
        return str(self.args[0]) if self.args else "a required file is missing"


@dataclass(frozen=True)
class ResolvedModel:
    """Paths of one model's files (``text_tokenizer`` is optional: only "no phonemize" mode needs it)."""

    name: str
    path: Path
    tokenizer: Path
    text_tokenizer: Path | None
    store: ModelFilesProtocol | None


def _store(store: ModelFilesProtocol | None) -> ModelFilesProtocol:
    """``store``, or the user's model store when None."""
    if store is not None:
        return store
    return default_store()


def default_store() -> ModelStore:
    """The user's model store (``user_data_dir()/models``)."""
    from valle_studio.engine.store import ModelStore

    return ModelStore()


def resolve_model(model: str | Path, *, tokenizer: Path | None = None,
                  store: ModelFilesProtocol | None = None) -> ResolvedModel:
    """Resolve a checkpoint path or installed model name and its tokenizer files."""
    path = Path(model)
    if path.suffix.lower() in {".sft", ".safetensors", ".pth", ".pt"} or path.exists():
        if not path.exists():
            raise MissingResourceError(f"model file not found: {path}")
        name = path.stem if path.stem not in {"fp32", "fp16", "model"} else path.parent.name
        store_obj: ModelFilesProtocol | None = store  # a file, but the given store still holds its LoRAs and codec
    else:
        store_obj = _store(store)
        if not store_obj.is_installed(str(model)):
            known = ", ".join(store_obj.available())
            raise MissingResourceError(
                f"model '{model}' is not installed; install it from the model manager or give a file path"
                + (f" (known models: {known})" if known else ""))
        path = store_obj.path_of(str(model))
        name = str(model)
        _record_catalog_rule(store_obj, name, path)

    if tokenizer is not None:
        phoneme_tok = Path(tokenizer)
        if not phoneme_tok.exists():  # anything else that is not a usable file: the tokenizer's own message
            raise MissingResourceError(f"tokenizer file not found: {phoneme_tok}")
        text_tok = phoneme_tok.with_name(TEXT_TOKENIZER)
    elif (path.parent / PHONEME_TOKENIZER).is_file():
        phoneme_tok, text_tok = path.parent / PHONEME_TOKENIZER, path.parent / TEXT_TOKENIZER
    else:
        store_obj = store_obj or _store(store)
        phoneme_tok, text_tok = store_obj.tokenizer_paths()
        if not Path(phoneme_tok).is_file():
            raise MissingResourceError(
                f"the phoneme tokenizer is not installed ({phoneme_tok}); download a model from the model "
                "manager, or pass --tokenizer PATH/TO/tokenizer.json")
    text_tok = Path(text_tok)
    return ResolvedModel(name=name, path=path, tokenizer=Path(phoneme_tok),
                         text_tokenizer=text_tok if text_tok.is_file() else None, store=store_obj)


def _record_catalog_rule(store: ModelFilesProtocol, name: str, path: Path) -> None:
    """A catalog model trained before the embedding fix, installed before the store recorded it: record its
    file now, so that it gets the legacy sums by path and after an import too (embedding_sums.py)."""
    from valle_studio.engine.embedding_sums import record, recorded

    try:
        legacy = bool(store.entry(name).legacy_summing)
    except Exception:  # imported models are not in the catalog
        return
    if legacy and recorded(path) is None:
        record(path, True, f"installed as the catalog's {name}, trained before upstream's 2025-03 embedding fix")


def resolve_codec(store: ModelFilesProtocol | None, *, device: torch.device) -> EncodecVocosCodec | None:
    """The installed EnCodec/Vocos codec, or None when its weights are not on disk."""
    from valle_studio.engine.codec import EncodecVocosCodec

    paths = _store(store).codec_paths()
    if not all(p.is_file() for p in _codec_files(paths)):
        return None
    return EncodecVocosCodec.from_files(**paths, device=device)


def _codec_files(paths: CodecPaths) -> list[Path]:
    return [Path(paths["encodec_weights"]), Path(paths["vocos_config"]), Path(paths["vocos_weights"])]


def missing_codec_message(store: ModelFilesProtocol | None) -> str:
    missing = [str(p) for p in _codec_files(_store(store).codec_paths()) if not p.is_file()]
    return ("the audio codec (EnCodec + Vocos) is not installed: missing " + ", ".join(missing)
            + ". Open the model manager and download it, or use .npy code prompts and --out-codes")
