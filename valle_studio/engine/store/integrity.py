"""Is this the file that was published? Size and hash checks for downloads and imports.

What a file is checked against, strongest first:
1. the catalog's full ``sha256``;
2. the Hub's ETag: for large (LFS/Xet) files it is the content's sha256, for small files stored in git
   it is the git blob id (sha1 of ``b"blob <size>\\0" + content``);
3. the catalog's ``sha256_prefix`` (EnCodec puts the first 8 hex digits in the file name).
Sizes are compared first because that is free.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

from valle_studio.engine.store.catalog import RemoteFile
from valle_studio.engine.store.errors import ChecksumError

CHUNK = 8 * 1024 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")
_SHA1 = re.compile(r"[0-9a-f]{40}")

# Called with (bytes hashed so far, total bytes); may raise to stop (cancellation).
HashProgress = Callable[[int, int], None]


def hash_file(path: Path, algorithm: str = "sha256", *, prefix: bytes = b"",
              on_progress: HashProgress | None = None) -> str:
    """Hex digest of ``prefix + <content of path>``, read in 8 MiB chunks."""
    digest = hashlib.new(algorithm)
    digest.update(prefix)
    total = path.stat().st_size
    done = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if on_progress is not None:
                on_progress(done, total)
    return digest.hexdigest()


def git_blob_sha1(path: Path, on_progress: HashProgress | None = None) -> str:
    """The git object id of ``path``'s content (what the Hub's ETag is for non-LFS files)."""
    header = f"blob {path.stat().st_size}\0".encode()
    return hash_file(path, "sha1", prefix=header, on_progress=on_progress)


def etag_sha256(etag: str | None) -> str | None:
    """The sha256 an ETag carries (large Hub files), else None."""
    tag = (etag or "").lower()
    return tag if _SHA256.fullmatch(tag) else None


def expected_digest(file: RemoteFile, etag: str | None) -> tuple[str, str] | None:
    """``(kind, hex)`` the file must match: ``("sha256", …)``, ``("git-sha1", …)`` or
    ``("sha256-prefix", …)``; None when nothing is known."""
    if file.sha256:
        return "sha256", file.sha256
    tag = (etag or "").lower()
    if _SHA256.fullmatch(tag):
        return "sha256", tag
    if _SHA1.fullmatch(tag):
        return "git-sha1", tag
    if file.sha256_prefix:
        return "sha256-prefix", file.sha256_prefix
    return None


def verify(path: Path, file: RemoteFile, *, etag: str | None = None, size: int | None = None,
           source: str = "", on_progress: HashProgress | None = None) -> str | None:
    """Check ``path`` against what is known about ``file``; return the sha256 when it was computed.

    ``size`` is the size the server announced (the catalog's size wins when both are known).
    Raises :class:`ChecksumError` (the caller deletes the file) naming the file, the expected and the
    actual value, and ``source``.
    """
    where = f" from {source}" if source else ""
    actual_size = path.stat().st_size
    want_size = file.size if file.size is not None else size
    if want_size is not None and actual_size != want_size:
        raise ChecksumError(f"{file.local_name}{where} has {actual_size} bytes but {want_size} were "
                            "expected; the download was damaged or the file changed on the server")
    expected = expected_digest(file, etag)
    if expected is None:
        return None
    kind, want = expected
    if kind == "git-sha1":
        got = git_blob_sha1(path, on_progress)
        sha256 = None
    else:
        got = sha256 = hash_file(path, on_progress=on_progress)
    matches = got.startswith(want) if kind == "sha256-prefix" else got == want
    if not matches:
        raise ChecksumError(f"{file.local_name}{where} failed its {kind} check: expected {want}, got {got}; "
                            "the download was damaged or the file changed on the server")
    return sha256
