"""The partial file a download writes into: every write reports progress and may cancel."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import BinaryIO

# Called after each write with (bytes on disk, total bytes or None); raising stops the download.
BytesCallback = Callable[[int, "int | None"], None]


class ProgressFile:
    """A thin wrapper over an open ``r+b`` partial file, positioned at its end.

    The downloaders (huggingface_hub's ``http_get`` and :func:`fetch_url`) only call ``write``,
    ``tell``, ``seek``, ``truncate`` and ``flush``. A chunk is always written completely before the
    callback runs, so a cancellation raised by the callback leaves a clean prefix of the file on disk,
    which the next attempt resumes.
    """

    def __init__(self, handle: BinaryIO, *, total: int | None, on_bytes: BytesCallback) -> None:
        self._handle = handle
        self._on_bytes = on_bytes
        self.total = total
        handle.seek(0, os.SEEK_END)
        self.done = handle.tell()

    def write(self, data: bytes) -> int:
        written = self._handle.write(data)
        self.done += written
        self._on_bytes(self.done, self.total)
        return written

    def tell(self) -> int:
        return self._handle.tell()

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._handle.seek(offset, whence)

    def truncate(self, size: int | None = None) -> int:
        # Used when a server ignores our Range request and sends the whole file again.
        self.done = self._handle.truncate(size)
        self._handle.seek(self.done)
        return self.done

    def flush(self) -> None:
        self._handle.flush()
