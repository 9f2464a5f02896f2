"""Download one catalog file into the store: partial file, resume, verification, atomic finish.

Life of a file:
1. ``<partial_dir>/<name>.part`` grows as bytes arrive; for Hub files a ``.part.json`` beside it
   records the ETag the bytes belong to, so a file that changed upstream is never resumed into.
2. When the transfer is complete the partial is verified (size, sha256 or git blob id, see
   :mod:`integrity`). A mismatch deletes it and raises :class:`ChecksumError`.
3. Only a verified file is moved (``os.replace``) to its final path: the store never holds a
   half-written or unverified model file. A failure or cancellation keeps the partial for resume.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from valle_studio.core.atomic import atomic_write_json, fsync_folder
from valle_studio.engine.progress import CancelToken, ProgressCallback, report
from valle_studio.engine.store import hub_fetch, integrity
from valle_studio.engine.store.catalog import RemoteFile
from valle_studio.engine.store.endpoints import Endpoints
from valle_studio.engine.store.errors import ChecksumError, OfflineError
from valle_studio.engine.store.http_fetch import fetch_url
from valle_studio.engine.store.sink import ProgressFile


def partial_path(partial_dir: Path, file: RemoteFile) -> Path:
    """Where the unfinished bytes of ``file`` live."""
    return partial_dir / f"{file.local_name}.part"


def _sidecar(part: Path) -> Path:
    return part.with_name(part.name + ".json")


def _discard(part: Path) -> None:
    for path in (part, _sidecar(part)):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _prepare_hub_partial(part: Path, etag: str, url: str) -> None:
    """Keep the partial only if it belongs to the same published version (same ETag)."""
    try:
        recorded = json.loads(_sidecar(part).read_text(encoding="utf-8")).get("etag")
    except (OSError, ValueError, AttributeError):
        recorded = None
    if recorded != etag:
        _discard(part)
        atomic_write_json(_sidecar(part), {"etag": etag, "url": url})


def download_file(file: RemoteFile, dest: Path, *, partial_dir: Path, endpoints: Endpoints,
                  progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
                  detail: str = "") -> Path:
    """Fetch ``file`` to ``dest``, resuming any partial download, and return ``dest``.

    Progress events: stage ``"downloading <local_name>"`` with bytes done/total (total 0 when the
    server does not say), then ``"verifying <local_name>"`` with bytes hashed. ``cancel`` is checked
    after every chunk written; :class:`~valle_studio.engine.progress.Cancelled` leaves the partial
    file for the next attempt.

    Raises:
        OfflineError: offline mode is on, or the server cannot be reached.
        DownloadError: the server refused or the transfer broke (partial kept).
        ChecksumError: the finished file is not the published one (partial deleted).
    """
    source = endpoints.url_for(file)
    if endpoints.offline:
        raise OfflineError(f"cannot download {file.local_name} from {source}: offline mode is on "
                           "(VALLE_STUDIO_OFFLINE or HF_HUB_OFFLINE); turn it off or import the file by hand")
    if cancel is not None:
        cancel.check()
    partial_dir.mkdir(parents=True, exist_ok=True)
    part = partial_path(partial_dir, file)
    stage = f"downloading {file.local_name}"

    etag: str | None = None
    target = None
    if file.origin == "huggingface":
        target = hub_fetch.resolve(file, endpoints)
        source = target.url
        etag = target.etag
        published = integrity.etag_sha256(etag)
        if file.sha256 and published and published != file.sha256:
            raise ChecksumError(f"{file.local_name} at {source} changed on the server (sha256 {published}, "
                                f"the catalog expects {file.sha256}); update VALL-E Studio or import the "
                                "file by hand")
        _prepare_hub_partial(part, etag, source)

    expected = target.size if target is not None and target.size is not None else file.size
    with open(part, "r+b" if part.exists() else "w+b") as handle:
        sink = ProgressFile(handle, total=expected, on_bytes=lambda done, total: report(
            progress, cancel, stage, done, total or 0, detail))
        if expected is not None and sink.done > expected:
            sink.truncate(0)  # longer than the published file: it cannot be a prefix of it
        report(progress, cancel, stage, sink.done, expected or 0, detail)
        if expected is None or sink.done < expected:
            if target is not None:
                hub_fetch.fetch(target, file, sink, endpoints)
            else:
                fetch_url(source, sink, timeout=endpoints.timeout)
        announced = sink.total
        handle.flush()
        os.fsync(handle.fileno())

    verify_stage = f"verifying {file.local_name}"
    try:
        integrity.verify(part, file, etag=etag, size=announced, source=source, on_progress=lambda done, total:
                         report(progress, cancel, verify_stage, done, total, detail))
    except ChecksumError:
        _discard(part)
        raise
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(part, dest)
    _discard(part)  # the sidecar
    fsync_folder(dest.parent)
    return dest
