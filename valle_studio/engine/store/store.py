"""The model store: which models are on disk, where their files are, and fetching what is missing.

Layout under ``root`` (default ``user_data_dir()/models``)::

    <model>/model.sft            one folder per model (catalog download or import; .pth for imports)
    _shared/tokenizers/…         runtime files every model needs (tokenizers, codecs)
    _shared/encodec-24khz/…
    _shared/vocos-encodec-24khz/…
    .partial/<entry>/<file>.part unfinished downloads, resumed by the next attempt
    _store.json                  the default model

Model names start with a letter or digit, so they never collide with ``_shared``, ``.partial`` or
``_store.json``. Nothing here touches the network except :meth:`ModelStore.download`.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple, TypedDict

from valle_studio.core.atomic import atomic_write_json
from valle_studio.engine.progress import CancelToken, ProgressCallback
from valle_studio.engine.store import catalog as cat
from valle_studio.engine.store import loras
from valle_studio.engine.store.catalog import Catalog, CatalogEntry
from valle_studio.engine.store.endpoints import Endpoints
from valle_studio.engine.store.errors import (
    MissingFile,
    MissingModelError,
    OfflineError,
    UnknownModelError,
)
from valle_studio.engine.store.importer import import_checkpoint
from valle_studio.engine.store.names import NAME_PATTERN
from valle_studio.engine.store.parts import ModelPart, import_part, model_parts, own_tokenizer

SETTINGS_FILE = "_store.json"
SHARED_DIR = "_shared"
PARTIAL_DIR = ".partial"
# What error messages tell a person to do; the CLI and GUI implement these actions.
FETCH_COMMAND = "valle-studio-cli models download {names}"
FETCH_GUI_ACTION = "Models > Download"
IMPORT_COMMAND = "valle-studio-cli models import PATH --name {name}"
IMPORT_GUI_ACTION = "Models > Import"


class TokenizerPaths(NamedTuple):
    phonemes: Path  # tokenizer.json: phoneme BPE
    text: Path      # text_tokenizer.json: raw-text tokens ("No Phonemize")


class CodecPaths(TypedDict):
    """Keyword arguments of ``EncodecVocosCodec.from_files``."""

    encodec_weights: Path  # encodec_24khz-d7cc33bc.th
    vocos_config: Path     # config.yaml
    vocos_weights: Path    # pytorch_model.bin


class ModelStore:
    """Models and their runtime files on disk. Cheap to create; reads the disk on every query."""

    def __init__(self, root: Path | None = None, *, endpoints: Endpoints | None = None,
                 catalog: Catalog | None = None) -> None:
        if root is None:
            from valle_studio.paths import user_data_dir

            root = user_data_dir() / "models"
        self.root = Path(root)
        self.endpoints = endpoints if endpoints is not None else Endpoints.from_env()
        self.catalog: Catalog = catalog if catalog is not None else cat.CATALOG

    # -- layout ---------------------------------------------------------------------------------
    def folder_of(self, name: str) -> Path:
        """The folder of a model, LoRA or shared entry (whether or not it exists)."""
        entry = self.catalog.get(name)
        if entry is not None and entry.kind == "lora":
            return loras.lora_folder(self, name)
        if entry is not None and entry.kind != "model":
            return self.root / SHARED_DIR / name
        return self.root / name

    def find_checkpoint(self, name: str) -> Path | None:
        """The checkpoint of model ``name`` if it is on disk (``model.sft`` or ``model.pth``), else None."""
        if not NAME_PATTERN.fullmatch(name):
            return None
        for file_name in cat.MODEL_FILE_NAMES:
            path = self.root / name / file_name
            if path.is_file():
                return path
        return None

    def _is_model(self, name: str) -> bool:
        entry = self.catalog.get(name)
        return entry.kind == "model" if entry is not None else self.find_checkpoint(name) is not None

    # -- queries ----------------------------------------------------------------------------------
    def entry(self, name: str) -> CatalogEntry:
        """The catalog entry of ``name`` (raises :class:`UnknownModelError`)."""
        return cat.lookup(self.catalog, name)

    def available(self) -> list[str]:
        """Catalog models that can be downloaded, default first."""
        return cat.model_names(self.catalog)

    def installed(self) -> list[str]:
        """Models whose checkpoint is on disk: catalog models in catalog order, then imports by name."""
        listed = [name for name in self.available() if self.find_checkpoint(name) is not None]
        others: list[str] = []
        if self.root.is_dir():
            for child in self.root.iterdir():
                name = child.name
                if name not in self.catalog and self.find_checkpoint(name) is not None:
                    others.append(name)
        return listed + sorted(others, key=str.lower)

    def is_installed(self, name: str) -> bool:
        """The model's checkpoint (or every file of a shared entry) is on disk; False for unknown names."""
        entry = self.catalog.get(name)
        if entry is not None and entry.kind != "model":
            return all((self.folder_of(name) / f.local_name).is_file() for f in entry.files)
        return self.find_checkpoint(name) is not None

    def path_of(self, name: str) -> Path:
        """The checkpoint file of model ``name``; raises :class:`MissingModelError` when not on disk."""
        path = self.find_checkpoint(name)
        if path is not None:
            return path
        if name in self.catalog and self.catalog[name].kind != "model":
            raise UnknownModelError(f"'{name}' is not a model but shared runtime files; see "
                                    "tokenizer_paths() and codec_paths()")
        self.ensure_available([name])
        raise AssertionError("unreachable: ensure_available raises for a missing checkpoint")

    def requirements(self, name: str) -> list[str]:
        """``name`` followed by every entry it needs, each once (imports need the v1 runtime files)."""
        if name not in self.catalog and self.find_checkpoint(name) is None:
            raise UnknownModelError(f"'{name}' is neither in the model catalog nor installed")
        order: list[str] = []

        def visit(entry_name: str) -> None:
            if entry_name in order:
                return
            order.append(entry_name)
            entry = self.catalog.get(entry_name)
            deps = entry.requires if entry is not None else cat.RUNTIME_DEPENDENCIES
            for dep in deps:
                cat.lookup(self.catalog, dep)
                visit(dep)

        visit(name)
        return order

    def missing_files(self, name: str) -> list[MissingFile]:
        """Everything :meth:`download` would fetch for ``name``: its own files and those it requires."""
        missing: list[MissingFile] = []
        for entry_name in self.requirements(name):
            entry = self.catalog.get(entry_name)
            if entry is None:
                continue  # an imported model: its checkpoint is on disk by definition
            if entry_name == cat.TOKENIZERS != name and own_tokenizer(self, name) is not None:
                continue  # the model's own tokenizer beside its weights is what the engine loads
            folder = self.folder_of(entry_name)
            for file in entry.files:
                is_checkpoint = entry.kind == "model" and file.local_name in cat.MODEL_FILE_NAMES
                present = (self.find_checkpoint(entry_name) is not None if is_checkpoint
                           else (folder / file.local_name).is_file())
                if not present:
                    missing.append(MissingFile(entry_name, file.local_name, self.endpoints.url_for(file),
                                               folder / file.local_name, file.size, remote=file))
        return missing

    def ensure_available(self, names: Iterable[str]) -> None:
        """Raise :class:`MissingModelError` listing every missing file of ``names`` and how to get it."""
        missing: list[MissingFile] = []
        to_fetch: list[str] = []
        unknown: list[str] = []
        for name in names:
            try:
                files = self.missing_files(name)
            except UnknownModelError:
                unknown.append(name)
                continue
            new = [m for m in files if m.path not in {seen.path for seen in missing}]
            if files:
                to_fetch.append(name)
            missing.extend(new)
        if missing or unknown:
            raise MissingModelError(_missing_message(missing, to_fetch, unknown), missing, unknown)

    def tokenizer_paths(self) -> TokenizerPaths:
        """Where the two tokenizer files are (or will be once downloaded); nothing is checked here:
        ``ensure_available([TOKENIZERS])`` gives the clear error when they are missing."""
        folder = self.folder_of(cat.TOKENIZERS)
        return TokenizerPaths(folder / cat.TOKENIZER_FILE, folder / cat.TEXT_TOKENIZER_FILE)

    def codec_paths(self) -> CodecPaths:
        """Where the EnCodec and Vocos files are (or will be); ``ensure_available([ENCODEC, VOCOS])``
        gives the clear error when they are missing."""
        encodec = self.folder_of(cat.ENCODEC) / self.entry(cat.ENCODEC).files[0].local_name
        vocos = self.folder_of(cat.VOCOS)
        return CodecPaths(encodec_weights=encodec, vocos_config=vocos / cat.VOCOS_CONFIG_FILE,
                          vocos_weights=vocos / cat.VOCOS_WEIGHTS_FILE)

    def licences(self, name: str) -> list[tuple[str, str]]:
        """``(name, terms)`` of ``name`` and everything it requires (imports: runtime files only). A model is
        named by its catalog id, as everywhere; the shared files by their titles ("EnCodec 24 kHz")."""
        notes: list[tuple[str, str]] = []
        for entry_name in self.requirements(name):
            entry = self.catalog.get(entry_name)
            if entry is None:
                notes.append((entry_name, "Imported by you: the terms of its source apply."))
            else:
                notes.append((entry.name if entry.kind in ("model", "lora") else entry.display_name, entry.licence))
        return notes

    # -- actions ------------------------------------------------------------------------------------
    def download(self, name: str, *, progress: ProgressCallback | None = None,
                 cancel: CancelToken | None = None) -> list[Path]:
        """Fetch every missing file of ``name`` (and what it requires); return the paths written.

        Touches the network only when something is missing. See
        :func:`~valle_studio.engine.store.downloader.download_file` for progress, resume and errors.
        """
        from valle_studio.engine.store.downloader import download_file

        missing = self.missing_files(name)
        written: list[Path] = []
        for index, item in enumerate(missing, start=1):
            assert item.remote is not None
            entry = self.entry(item.entry)
            detail = f"file {index} of {len(missing)}, {entry.name if entry.kind == 'model' else entry.display_name}"
            try:
                written.append(download_file(
                    item.remote, item.path, partial_dir=self.root / PARTIAL_DIR / item.entry,
                    endpoints=self.endpoints, progress=progress, cancel=cancel, detail=detail))
            except OfflineError as exc:
                # One short line: the cause, then what is still missing by name (the full list of
                # sources and places is `missing_files`; pasted here it made a 1,800-character line).
                shown = ", ".join(m.local_name for m in missing[index - 1:])
                raise OfflineError(f"{str(exc).rstrip('.')}. Still missing for '{name}': {shown}; "
                                   f"run `{FETCH_COMMAND.format(names=name)}` again once online") from exc
        self._record_embedding_sums(name)
        return written

    def _record_embedding_sums(self, name: str) -> None:
        """A catalog model trained before the embedding fix: record its file, which then gets the legacy sums
        however it is opened (engine/embedding_sums.py)."""
        from valle_studio.engine.embedding_sums import record, recorded

        entry = self.catalog.get(name)
        path = self.find_checkpoint(name)
        if entry is not None and entry.legacy_summing and path is not None and recorded(path) is None:
            record(path, True, f"downloaded as the catalog's {name}, trained before upstream's 2025-03 embedding fix")

    def embedding_sums(self, name: str) -> str:
        """The model manager's field for an installed model: ``"auto"``, ``"legacy"`` or ``"fixed"``."""
        from valle_studio.engine.embedding_sums import user_choice

        return user_choice(self.path_of(name))

    def set_embedding_sums(self, name: str, choice: str) -> None:
        """Force the legacy or fixed sums for an installed model's file, or let it decide again (``"auto"``)."""
        from valle_studio.engine.embedding_sums import choice_of, record

        record(self.path_of(name), choice_of(choice), f"chosen in the model manager for {name}", by_user=True)

    def import_file(self, path: str | Path, name: str | None = None, *, replace: bool = False,
                    progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> str:
        """Validate a local ``.sft``/``.pth`` and copy it into the store atomically; return its name.

        See :func:`~valle_studio.engine.store.importer.import_checkpoint`.
        """
        return import_checkpoint(self, Path(path), name, replace=replace, progress=progress, cancel=cancel)

    def parts(self, name: str) -> list[ModelPart]:
        """Weights, tokenizer, codec and vocoder of model ``name``, each present or not (store/parts.py)."""
        return model_parts(self, name)

    def import_part(self, name: str, key: str, paths: Sequence[str | Path]) -> list[Path]:
        """Copy local files in as part ``key`` (``tokenizers``, a codec) of model ``name`` (store/parts.py)."""
        return import_part(self, name, key, paths)

    def is_imported(self, name: str) -> bool:
        """An installed model that is not in the catalog (it cannot be downloaded again)."""
        return name not in self.catalog and self.find_checkpoint(name) is not None

    def remove(self, name: str) -> bool:
        """Delete a model's (or shared entry's) folder and partial downloads; False if nothing was there."""
        if name not in self.catalog and self.find_checkpoint(name) is None:
            raise UnknownModelError(f"cannot remove '{name}': it is neither in the catalog nor installed")
        folder = self.folder_of(name)
        existed = folder.is_dir()
        if existed:
            shutil.rmtree(folder)
        shutil.rmtree(self.root / PARTIAL_DIR / name, ignore_errors=True)
        settings = self._read_settings()
        if settings.get("default_model") == name:
            del settings["default_model"]
            atomic_write_json(self.root / SETTINGS_FILE, settings)
        return existed

    # -- LoRAs (store/loras.py) ----------------------------------------------------------------------------
    def available_loras(self) -> list[str]:
        """Catalog LoRAs that can be downloaded (``download(name)`` fetches one)."""
        return cat.lora_names(self.catalog)

    def installed_loras(self) -> list[str]:
        """LoRAs on disk: catalog ones, then imported ones."""
        return loras.installed_loras(self)

    def lora_path(self, name: str) -> Path | None:
        """The ``lora.sft`` of an installed LoRA (``glados`` finds ``lora-glados``), else None."""
        return loras.find_lora(self, name)

    def import_lora(self, path: str | Path, name: str | None = None, *, replace: bool = False,
                    progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> str:
        """Check a local ``lora.sft`` and copy it into the store; returns its name."""
        return loras.import_lora(self, Path(path), name, replace=replace, progress=progress, cancel=cancel)

    def remove_lora(self, name: str) -> bool:
        """Delete an installed LoRA; False when it was not on disk."""
        return loras.remove_lora(self, name)

    # -- default model ----------------------------------------------------------------------------
    @property
    def default_model(self) -> str:
        """The chosen default model; the catalog's default until one is set (or if it was removed)."""
        stored = self._read_settings().get("default_model")
        if isinstance(stored, str) and self._is_model(stored):
            return stored
        names = self.available()
        return cat.DEFAULT_MODEL if cat.DEFAULT_MODEL in names or not names else names[0]

    @default_model.setter
    def default_model(self, name: str) -> None:
        if not self._is_model(name):
            raise UnknownModelError(f"cannot make '{name}' the default: it is neither a catalog model nor "
                                    "an installed one")
        settings = self._read_settings()
        settings["default_model"] = name
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.root / SETTINGS_FILE, settings)

    def _read_settings(self) -> dict[str, object]:
        with contextlib.suppress(OSError, ValueError):
            data = json.loads((self.root / SETTINGS_FILE).read_text(encoding="utf-8"))
            if isinstance(data, dict):
                return data
        return {}


def _missing_message(missing: list[MissingFile], to_fetch: list[str], unknown: list[str]) -> str:
    lines: list[str] = []
    if missing:
        lines.append(f"{len(missing)} file(s) needed to run are missing:")
        lines += [f"  - {item.describe()}" for item in missing]
        command = FETCH_COMMAND.format(names=" ".join(to_fetch))
        lines.append(f"Download them with `{command}` or in the app with {FETCH_GUI_ACTION}.")
    for name in unknown:
        lines.append(f"'{name}' is neither in the model catalog nor installed: import its .sft/.pth file "
                     f"with `{IMPORT_COMMAND.format(name=name)}` or in the app with {IMPORT_GUI_ACTION}.")
    return "\n".join(lines)
