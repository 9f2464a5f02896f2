"""Hugging Face Hub downloads through huggingface_hub's lower-level API, with resume.

``hf_hub_download`` deletes its temporary file when a transfer fails, so it cannot resume across
attempts. We use the two calls it is built from instead:
``get_hf_file_metadata`` (HEAD on the ``resolve`` URL: ``X-Repo-Commit``, ``ETag``/``X-Linked-Etag``,
``X-Linked-Size``, redirect ``Location``) and ``http_get`` (GET with ``Range: bytes=<done>-``) writing
into our own partial file. Xet-stored files are fetched over plain HTTP (the ``resolve`` URL redirects
to a byte server), which keeps resume and cancel working. huggingface_hub is imported only here, and
only when a download starts.
"""

from __future__ import annotations

import inspect
import socket
import sys
from dataclasses import dataclass
from typing import Any

from valle_studio import __version__
from valle_studio.engine.progress import Cancelled
from valle_studio.engine.store.catalog import RemoteFile
from valle_studio.engine.store.endpoints import Endpoints
from valle_studio.engine.store.errors import DownloadError, OfflineError
from valle_studio.engine.store.sink import ProgressFile

_KEPT = "the partial file is kept: download again to resume"


@dataclass(frozen=True)
class HubTarget:
    """What the HEAD request told us about one file."""

    url: str            # the resolve URL
    download_url: str   # where the bytes come from (a CDN after a redirect, or ``url``)
    etag: str           # sha256 for LFS/Xet files, git blob sha1 otherwise
    commit: str         # the commit the revision resolved to
    size: int | None


class _SilentBar:
    """Stands in for tqdm: our own progress reports replace huggingface_hub's console bar."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.n = kwargs.get("initial", 0)

    def update(self, n: int = 1) -> None:
        self.n += n

    def close(self) -> None:
        pass

    def __enter__(self) -> _SilentBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _library_kwargs() -> dict[str, Any]:
    return {"library_name": "valle-studio", "library_version": __version__}


def resolve(file: RemoteFile, endpoints: Endpoints) -> HubTarget:
    """HEAD the file on the Hub; raises :class:`OfflineError` when the Hub cannot be reached."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    url = hf_hub_url(file.repo, file.path, revision=file.revision, endpoint=endpoints.huggingface)
    try:
        # token=False: these repos are public, and a user's token must not go to a mirror.
        meta = get_hf_file_metadata(url, token=False, timeout=endpoints.timeout,
                                    endpoint=endpoints.huggingface, **_library_kwargs())
    except Cancelled:
        raise
    except Exception as exc:
        raise _translate(exc, file, url, endpoints) from exc
    if meta.commit_hash is None or meta.etag is None:
        missing = "X-Repo-Commit" if meta.commit_hash is None else "ETag"
        raise DownloadError(f"{url} answered without an {missing} header, so it is not a Hugging Face Hub "
                            "endpoint; check HF_ENDPOINT and any proxy in between")
    xet = getattr(meta, "xet_file_data", None)
    download_url = meta.location if xet is None and meta.location else url
    return HubTarget(url, download_url, meta.etag, meta.commit_hash, meta.size)


def fetch(target: HubTarget, file: RemoteFile, sink: ProgressFile, endpoints: Endpoints) -> None:
    """Append the rest of the file to ``sink`` (resuming at ``sink.done``), checking its size."""
    from huggingface_hub.file_download import http_get
    from huggingface_hub.utils import build_hf_headers

    headers = build_hf_headers(token=False, **_library_kwargs())
    extra: dict[str, Any] = {}
    if "tqdm_class" in inspect.signature(http_get).parameters:
        extra["tqdm_class"] = _SilentBar
    sink.total = target.size
    try:
        # http_get types temp_file as BinaryIO but only calls write/tell/seek/truncate, which ProgressFile has
        http_get(target.download_url, sink, resume_size=sink.done, headers=headers,  # type: ignore[arg-type]
                 expected_size=target.size, displayed_filename=file.local_name, **extra)
    except Cancelled:
        raise
    except Exception as exc:
        raise _translate(exc, file, target.download_url, endpoints, sink.done) from exc


def _connect_errors() -> tuple[type[BaseException], ...]:
    """Exception types meaning "the server cannot be reached", from whichever HTTP client
    huggingface_hub uses (httpx2, httpx or requests, depending on its version)."""
    types: list[type[BaseException]] = [ConnectionRefusedError, socket.gaierror]
    for name in ("httpx2", "httpx"):
        module = sys.modules.get(name)
        types += [getattr(module, n) for n in ("ConnectError", "ConnectTimeout") if hasattr(module, n)]
    requests = sys.modules.get("requests")
    if requests is not None and hasattr(requests, "ConnectionError"):
        types.append(requests.ConnectionError)
    return tuple(types)


def _translate(exc: BaseException, file: RemoteFile, url: str, endpoints: Endpoints,
               done: int | None = None) -> DownloadError:
    """Map a huggingface_hub/HTTP-client exception onto our errors with a message a person can act on."""
    from huggingface_hub import utils as hf_utils

    what = f"{file.repo}/{file.path} (revision {file.revision})"
    if isinstance(exc, hf_utils.OfflineModeIsEnabled):
        return OfflineError(f"cannot download {what}: Hugging Face offline mode is on (HF_HUB_OFFLINE); "
                            "unset it or import the file by hand")
    if isinstance(exc, _connect_errors()):
        return OfflineError(f"cannot reach {endpoints.huggingface} to download {what} ({exc}). Check the "
                            "network connection or proxy, or set HF_ENDPOINT to a reachable mirror")
    not_found = (hf_utils.RepositoryNotFoundError, hf_utils.RevisionNotFoundError,
                 hf_utils.EntryNotFoundError)
    if isinstance(exc, not_found):
        return DownloadError(f"{what} was not found on {endpoints.huggingface}; the catalog may be out of "
                             "date (the file was moved or deleted upstream)")
    kept = f"; {_KEPT}" if done else ""
    if isinstance(exc, hf_utils.HfHubHTTPError):
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", None)
        return DownloadError(f"download of {what} from {url} failed: the server answered HTTP {status}"
                             f"{kept}. Try again later")
    return DownloadError(f"download of {what} from {url} was interrupted ({exc}){kept}")
