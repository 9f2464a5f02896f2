"""Models on disk: the catalog of known models, downloads (resumable, verified), imports, offline use.

Typical use::

    store = ModelStore()                      # user_data_dir()/models
    store.ensure_available([store.default_model])   # MissingModelError says what to fetch
    checkpoint = store.path_of(store.default_model)
    tokenizers, codecs = store.tokenizer_paths(), store.codec_paths()

Nothing in this package touches the network at import time or when every file is present.
"""

from __future__ import annotations

from valle_studio.engine.store.catalog import (
    CATALOG,
    DEFAULT_MODEL,
    ENCODEC,
    RUNTIME_DEPENDENCIES,
    TOKENIZERS,
    VOCOS,
    Catalog,
    CatalogEntry,
    RemoteFile,
)
from valle_studio.engine.store.endpoints import Endpoints
from valle_studio.engine.store.errors import (
    ChecksumError,
    DownloadError,
    InvalidModelFileError,
    MissingFile,
    MissingModelError,
    OfflineError,
    StoreError,
    UnknownModelError,
)
from valle_studio.engine.store.store import CodecPaths, ModelStore, TokenizerPaths
from valle_studio.engine.store.validate import CheckpointInfo, inspect_checkpoint

__all__ = [
    "CATALOG",
    "DEFAULT_MODEL",
    "ENCODEC",
    "RUNTIME_DEPENDENCIES",
    "TOKENIZERS",
    "VOCOS",
    "Catalog",
    "CatalogEntry",
    "CheckpointInfo",
    "ChecksumError",
    "CodecPaths",
    "DownloadError",
    "Endpoints",
    "InvalidModelFileError",
    "MissingFile",
    "MissingModelError",
    "ModelStore",
    "OfflineError",
    "RemoteFile",
    "StoreError",
    "TokenizerPaths",
    "UnknownModelError",
    "inspect_checkpoint",
]
