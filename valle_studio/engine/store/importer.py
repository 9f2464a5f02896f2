"""Import a local checkpoint into the store: validate cheaply, then copy atomically."""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from valle_studio.core.atomic import atomic_write
from valle_studio.engine.progress import CancelToken, ProgressCallback, report
from valle_studio.engine.store.catalog import MODEL_FILE_NAMES
from valle_studio.engine.store.errors import ChecksumError, StoreError
from valle_studio.engine.store.names import check_name, derive_name
from valle_studio.engine.store.validate import inspect_checkpoint

if TYPE_CHECKING:
    from valle_studio.engine.store.store import ModelStore

CHUNK = 8 * 1024 * 1024


def import_checkpoint(store: ModelStore, source: Path, name: str | None = None, *, replace: bool = False,
                      progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> str:
    """Copy ``source`` to ``<root>/<name>/model.sft`` (or ``model.pth``) and return ``name``.

    ``name`` defaults to one derived from the file (:func:`derive_name`). The file is validated first
    (:func:`inspect_checkpoint`; a ``.pth`` that would run code is refused unopened). Importing under
    a catalog name whose hash or size is published checks them. Progress: stage ``"importing <file>"``
    with bytes copied; a cancellation or failure leaves no file behind.

    Raises:
        InvalidModelFileError: not a usable checkpoint.
        StoreError: bad or reserved name, or a model of that name exists and ``replace`` is False.
        ChecksumError: the file is not the published checkpoint of that catalog name.
    """
    source = source.expanduser().resolve()
    info = inspect_checkpoint(source)
    target = check_name(name) if name is not None else derive_name(source)
    entry = store.catalog.get(target)
    if entry is not None and entry.kind != "model":
        raise StoreError(f"cannot import as '{target}': that name is reserved for shared runtime files")
    existing = store.find_checkpoint(target)
    if existing is not None and not replace:
        raise StoreError(f"a model named '{target}' is already installed ({existing}); remove it first, "
                         "choose another name, or replace it")
    if existing is not None and existing.resolve() == source:
        raise StoreError(f"'{source}' is already the installed file of '{target}'")

    pinned = next((f for f in entry.files if f.local_name in MODEL_FILE_NAMES), None) if entry else None
    total = source.stat().st_size
    if pinned is not None and pinned.size is not None and pinned.size != total:
        raise ChecksumError(f"'{source.name}' has {total} bytes but the published '{target}' has "
                            f"{pinned.size}")

    folder = store.root / target
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / (MODEL_FILE_NAMES[0] if info.format == "sft" else MODEL_FILE_NAMES[1])
    stage = f"importing {source.name}"

    def copy(temp: Path) -> None:
        digest = hashlib.sha256()
        done = 0
        with open(source, "rb") as src, open(temp, "wb") as dst:
            while chunk := src.read(CHUNK):
                dst.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                report(progress, cancel, stage, done, total)
        if pinned is not None and pinned.sha256 is not None and digest.hexdigest() != pinned.sha256:
            raise ChecksumError(f"'{source.name}' is not the published '{target}': sha256 "
                                f"{digest.hexdigest()}, expected {pinned.sha256}")

    try:
        report(progress, cancel, stage, 0, total)
        atomic_write(dest, copy)
    except BaseException:
        if created:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if empty: never delete anything else
        raise
    for other in MODEL_FILE_NAMES:
        if other != dest.name:
            (folder / other).unlink(missing_ok=True)
    return target
