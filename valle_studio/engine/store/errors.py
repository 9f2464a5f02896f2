"""Errors of the model store. Every message names the model or file and says what to do next."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from valle_studio.engine.store.catalog import RemoteFile


class StoreError(Exception):
    """Base class of every model-store problem; ``str(err)`` is a message for the user."""


class UnknownModelError(StoreError):
    """The name is neither in the catalog nor an installed (imported) model."""


class InvalidModelFileError(StoreError):
    """A file offered for import is not a usable VALL-E checkpoint (or is unsafe to load)."""


class DownloadError(StoreError):
    """A download failed; any partial file is kept so the next attempt resumes it."""


class OfflineError(DownloadError):
    """The download source cannot be reached (no network, server down, or offline mode is on)."""


class ChecksumError(DownloadError):
    """A downloaded or imported file does not match its published size or hash; it was deleted."""


@dataclass(frozen=True)
class MissingFile:
    """One file that a model needs and that is not on disk.

    ``entry`` is the catalog entry it belongs to (a model, ``tokenizers`` or a codec), ``source`` the
    URL it comes from, ``path`` where the store expects it, ``remote`` the catalog's description.
    """

    entry: str
    local_name: str
    source: str
    path: Path
    size: int | None = None
    remote: RemoteFile | None = field(default=None, compare=False, repr=False)

    def describe(self) -> str:
        size = f", {human_size(self.size)}" if self.size else ""
        return f"{self.entry}: {self.local_name} (from {self.source}{size}), expected at {self.path}"


class MissingModelError(StoreError):
    """Files needed to run are missing; the message lists each one and how to fetch it.

    ``missing`` lists the absent files of known entries; ``unknown`` the names that are neither in
    the catalog nor installed.
    """

    def __init__(self, message: str, missing: Sequence[MissingFile] = (),
                 unknown: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.missing = tuple(missing)
        self.unknown = tuple(unknown)


def human_size(n: int) -> str:
    """``123456789`` -> ``"123.5 MB"`` (decimal units, as download sites show them)."""
    if n < 1000:
        return f"{n} B"
    value = n / 1000
    for unit in ("kB", "MB"):
        if value < 1000:
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"
