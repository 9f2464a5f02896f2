"""LoRA files in the model store: where they live, which are installed, importing and removing them.

Layout under the store root::

    _loras/<name>/lora.sft       a catalog LoRA (downloaded) or an imported one

``_loras`` starts with an underscore, so it can never collide with a model's folder (model names start
with a letter or digit). Catalog LoRAs (kind ``"lora"``) download through the store's own
:meth:`~valle_studio.engine.store.ModelStore.download`, like any catalog entry; these functions give the
store its LoRA queries (the store's methods of the same names delegate here).
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from valle_studio.core.atomic import atomic_write
from valle_studio.engine.progress import CancelToken, ProgressCallback, report
from valle_studio.engine.store.catalog import LORA_FILE_NAME, LORA_PREFIX, lora_names
from valle_studio.engine.store.errors import InvalidModelFileError, StoreError, UnknownModelError
from valle_studio.engine.store.names import NAME_PATTERN, check_name, sanitize

if TYPE_CHECKING:
    from valle_studio.engine.store.store import ModelStore

LORA_DIR = "_loras"
CHUNK = 8 * 1024 * 1024


def lora_folder(store: ModelStore, name: str) -> Path:
    return store.root / LORA_DIR / name


def find_lora(store: ModelStore, name: str) -> Path | None:
    """The ``lora.sft`` of LoRA ``name`` when it is on disk (``glados`` also finds ``lora-glados``)."""
    for candidate in (name, LORA_PREFIX + name):
        if NAME_PATTERN.fullmatch(candidate):
            path = lora_folder(store, candidate) / LORA_FILE_NAME
            if path.is_file():
                return path
    return None


def installed_loras(store: ModelStore) -> list[str]:
    """LoRAs on disk: catalog ones in catalog order, then imported ones by name."""
    listed = [name for name in lora_names(store.catalog) if find_lora(store, name) is not None]
    folder = store.root / LORA_DIR
    others = sorted((child.name for child in folder.iterdir() if child.name not in store.catalog
                     and (child / LORA_FILE_NAME).is_file()), key=str.lower) if folder.is_dir() else []
    return listed + others


def import_lora(store: ModelStore, source: Path, name: str | None = None, *, replace: bool = False,
                progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> str:
    """Check ``source`` (:func:`~valle_studio.engine.lora.read_lora`) and copy it to
    ``_loras/<name>/lora.sft`` atomically; returns the name (default: the LoRA's own, from its config).

    Raises :class:`InvalidModelFileError` for a file that is not a usable LoRA, :class:`StoreError` for a
    bad name or one that is taken (unless ``replace``).
    """
    from valle_studio.engine.lora import LoraError, read_lora

    source = Path(source).expanduser().resolve()
    try:
        lora = read_lora(source)
    except LoraError as exc:
        raise InvalidModelFileError(f"refused '{source.name}': {exc}") from exc
    target = check_name(name) if name is not None else (sanitize(lora.name) or "imported-lora")
    check_name(target)
    entry = store.catalog.get(target)
    if entry is not None and entry.kind != "lora":
        raise StoreError(f"cannot import a LoRA as '{target}': that name belongs to a {entry.kind} of the catalog")
    folder = lora_folder(store, target)
    dest = folder / LORA_FILE_NAME
    if dest.is_file() and not replace:
        raise StoreError(f"a LoRA named '{target}' is already installed ({dest}); remove it first, choose another "
                         "name, or replace it")
    if dest.is_file() and dest.resolve() == source:
        raise StoreError(f"'{source}' is already the installed file of the LoRA '{target}'")
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    total = source.stat().st_size
    stage = f"importing {source.name}"

    def copy(temp: Path) -> None:
        done = 0
        with open(source, "rb") as src, open(temp, "wb") as dst:
            while chunk := src.read(CHUNK):
                dst.write(chunk)
                done += len(chunk)
                report(progress, cancel, stage, done, total)

    try:
        report(progress, cancel, stage, 0, total)
        atomic_write(dest, copy)
    except BaseException:
        if created:
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    return target


def remove_lora(store: ModelStore, name: str) -> bool:
    """Delete an installed LoRA's folder; False when it was not there. Unknown names raise."""
    path = find_lora(store, name)
    if path is None:
        if name in store.catalog and store.catalog[name].kind == "lora":
            return False
        raise UnknownModelError(f"cannot remove the LoRA '{name}': it is neither in the catalog nor installed")
    shutil.rmtree(path.parent)
    return True


__all__ = ["LORA_DIR", "find_lora", "import_lora", "installed_loras", "lora_folder", "remove_lora"]
