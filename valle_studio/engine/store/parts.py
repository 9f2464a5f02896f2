"""The parts a model needs to speak, which of them are on disk, and adding one from a local file.

A v1 model needs four parts: its weights, the phoneme tokenizer, the EnCodec codec (reads reference audio)
and the Vocos vocoder (writes the speech). A catalog download fetches them all; an imported ``.sft`` brings
only its weights, so the model manager lists each part (:func:`model_parts`) and offers to download it
(the store's own ``download(part.entry)``) or to import a file for it (:func:`import_part`).

The tokenizer is looked up the way the engine loads it (engine/resources.py): a ``tokenizer.json`` beside
the checkpoint first (an imported model's own), then the shared one. An installed shared tokenizer is used
for an imported model where its ids fit the model's phoneme table (read from the file's header, no torch);
where they do not, the part says so and asks for the model's own tokenizer.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from valle_studio.core.atomic import atomic_write
from valle_studio.engine.store import catalog as cat
from valle_studio.engine.store.errors import StoreError

if TYPE_CHECKING:
    from valle_studio.engine.store.store import ModelStore

WEIGHTS = "model"  # the part key of the checkpoint itself (the other keys are catalog entry names)
TEXT_TABLE_KEY = "text_emb.weight"
# Pickled torch files (EnCodec's .th, Vocos' .bin) start with a zip header (torch >= 1.6) or a pickle opcode.
_TORCH_MAGIC = (b"PK\x03\x04", b"\x80")
_SHORT = {WEIGHTS: "weights", cat.TOKENIZERS: "tokenizer", cat.ENCODEC: "EnCodec", cat.VOCOS: "Vocos"}


@dataclass(frozen=True)
class ModelPart:
    """One part of a model: ``key`` (``"model"`` or the catalog entry it comes from), a short ``title``,
    whether it is ``present``, ``note`` (where it comes from, or why it does not fit), the files an import
    takes (``accepts``) and whether ``fetchable`` from the catalog."""

    key: str
    title: str
    present: bool
    note: str
    accepts: tuple[str, ...] = ()  # file names an import of this part looks for
    fetchable: bool = True

    @property
    def short(self) -> str:
        """The name a list's status column uses ("tokenizer", "EnCodec", "Vocos")."""
        return _SHORT.get(self.key, self.title.split(" (")[0])

    @property
    def importable(self) -> bool:
        return bool(self.accepts)


def own_tokenizer(store: ModelStore, name: str) -> Path | None:
    """The ``tokenizer.json`` beside model ``name``'s checkpoint (its own), if there is one."""
    checkpoint = store.find_checkpoint(name)
    path = checkpoint.parent / cat.TOKENIZER_FILE if checkpoint is not None else None
    return path if path is not None and path.is_file() else None


def model_parts(store: ModelStore, name: str) -> list[ModelPart]:
    """The parts of model ``name`` in the order it needs them (raises UnknownModelError for unknown names)."""
    requirements = store.requirements(name)
    imported = name not in store.catalog
    checkpoint = store.find_checkpoint(name)
    parts = [ModelPart(WEIGHTS, "Model weights", checkpoint is not None,
                       "imported from a file" if imported else ("installed" if checkpoint else "not downloaded"),
                       fetchable=not imported)]
    if cat.TOKENIZERS in requirements:
        parts.append(_tokenizer_part(store, name, imported))
    if cat.ENCODEC in requirements:
        parts.append(_shared_part(store, cat.ENCODEC, "EnCodec codec (reads the reference voice)"))
    if cat.VOCOS in requirements:
        parts.append(_shared_part(store, cat.VOCOS, "Vocos vocoder (turns codes into sound)"))
    return parts


def missing_parts(store: ModelStore, name: str) -> list[ModelPart]:
    """The parts of ``name`` that are not on disk (or do not fit it)."""
    return [part for part in model_parts(store, name) if not part.present]


def _tokenizer_part(store: ModelStore, name: str, imported: bool) -> ModelPart:
    title = "Phoneme tokenizer"
    accepts = (cat.TOKENIZER_FILE, cat.TEXT_TOKENIZER_FILE)
    own = own_tokenizer(store, name)
    if own is not None:
        return ModelPart(cat.TOKENIZERS, title, True, "the model's own (beside its weights)", accepts)
    shared = store.tokenizer_paths().phonemes
    if not shared.is_file():
        return ModelPart(cat.TOKENIZERS, title, False, "not installed", accepts)
    misfit = tokenizer_misfit(shared, store.find_checkpoint(name)) if imported else ""
    if misfit:
        return ModelPart(cat.TOKENIZERS, title, False, f"the installed one does not fit this model ({misfit}): "
                         "import the tokenizer.json it was trained with", accepts, fetchable=False)
    return ModelPart(cat.TOKENIZERS, title, True, "the shared one" + (", which fits it" if imported else ""),
                     accepts)


def _shared_part(store: ModelStore, entry_name: str, title: str) -> ModelPart:
    entry = store.entry(entry_name)
    present = store.is_installed(entry_name)
    return ModelPart(entry_name, title, present, "installed" if present else "not installed",
                     tuple(f.local_name for f in entry.files))


def tokenizer_misfit(tokenizer: Path, checkpoint: Path | None) -> str:
    """Why ``tokenizer``'s ids do not fit the phoneme table of ``checkpoint`` ("" when they fit or when the
    file says nothing about it; the engine checks again at load)."""
    if checkpoint is None or checkpoint.suffix.lower() not in (".sft", ".safetensors"):
        return ""
    from valle_studio.engine.store.validate import read_safetensors_header

    try:
        tensors, _ = read_safetensors_header(checkpoint)
        rows = int(tensors[TEXT_TABLE_KEY]["shape"][0])
        highest = max_token_id(tokenizer)
    except (OSError, ValueError, KeyError, IndexError, TypeError, StoreError):
        return ""
    return "" if highest < rows else f"its ids reach {highest}, the model's phoneme table has {rows} rows"


def max_token_id(tokenizer: Path) -> int:
    """The highest id a ``tokenizer.json`` can give (its vocabulary and added tokens)."""
    data = json.loads(tokenizer.read_text(encoding="utf-8"))
    ids = [int(v) for v in data["model"]["vocab"].values()]
    ids += [int(t["id"]) for t in data.get("added_tokens") or []]
    return max(ids)


def import_part(store: ModelStore, name: str, key: str, paths: Sequence[str | Path]) -> list[Path]:
    """Copy local files in as part ``key`` of model ``name``; returns the paths written.

    Each file is matched to the part's files by its name (``tokenizer.json``) or kind (a ``.yaml`` for
    Vocos' config); a tokenizer goes beside an imported model's weights (it is that model's own), the
    codec files into the shared folder every model uses. Raises :class:`StoreError` with one sentence
    when a file does not belong to the part or is not what it claims to be.
    """
    part = next((p for p in model_parts(store, name) if p.key == key), None)
    if part is None or not part.importable:
        raise StoreError(f"'{name}' has no part '{key}' that a file can be imported for")
    chosen = [Path(p).expanduser() for p in paths]
    if not chosen:
        raise StoreError("choose at least one file")
    folder = _target_folder(store, name, key)
    written: list[Path] = []
    for source in chosen:
        local = _match(source, part)
        _check_file(source, local)
        dest = folder / local
        dest.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(dest, _copier(source))
        written.append(dest)
    return written


def _copier(source: Path) -> Callable[[Path], None]:
    """A writer for :func:`atomic_write` that copies ``source`` to the temporary path it is given."""

    def copy(temp: Path) -> None:
        shutil.copyfile(source, temp)

    return copy


def _target_folder(store: ModelStore, name: str, key: str) -> Path:
    if key == cat.TOKENIZERS and name not in store.catalog:
        checkpoint = store.find_checkpoint(name)
        if checkpoint is not None:
            return checkpoint.parent  # the imported model's own tokenizer, found first by the engine
    return store.folder_of(key)


def _match(source: Path, part: ModelPart) -> str:
    """Which of the part's file names ``source`` is."""
    if source.name in part.accepts:
        return source.name
    by_suffix = [name for name in part.accepts if Path(name).suffix.lower() == source.suffix.lower()]
    if len(by_suffix) == 1:
        return by_suffix[0]
    if part.key == cat.TOKENIZERS and source.suffix.lower() == ".json":
        return cat.TOKENIZER_FILE  # any .json offered for the tokenizer is the phoneme one
    wanted = " or ".join(part.accepts)
    raise StoreError(f"'{source.name}' is not a file of the {part.title.split(' (')[0]}: it takes {wanted}")


def _check_file(source: Path, local: str) -> None:
    """Cheap checks that a file is what its name says, before it is copied in."""
    if not source.is_file():
        raise StoreError(f"'{source}' is not a file")
    if local.endswith(".json"):
        try:
            max_token_id(source)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StoreError(f"'{source.name}' is not a tokenizer.json (no vocabulary found: {exc})") from None
    elif local.endswith((".th", ".bin")):
        with open(source, "rb") as handle:
            head = handle.read(4)
        if not head.startswith(_TORCH_MAGIC):
            raise StoreError(f"'{source.name}' is not a PyTorch weights file")
    elif local.endswith(".yaml"):
        text = source.read_text(encoding="utf-8", errors="replace")
        if "feature_extractor" not in text:
            raise StoreError(f"'{source.name}' is not Vocos' config.yaml (it has no feature_extractor)")


__all__ = ["WEIGHTS", "ModelPart", "import_part", "max_token_id", "missing_parts", "model_parts", "own_tokenizer",
           "tokenizer_misfit"]
