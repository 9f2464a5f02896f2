"""Plain HTTP(S) download with resume (``Range``), for files outside the Hub (GitHub raw, EnCodec).

Standard library only. The caller owns the partial file (a :class:`ProgressFile`); this module
appends to it and raises :class:`DownloadError`/:class:`OfflineError` with the URL in the message.
"""

from __future__ import annotations

import http.client
import re
import urllib.error
import urllib.request

from valle_studio import __version__
from valle_studio.engine.store.errors import DownloadError, OfflineError
from valle_studio.engine.store.sink import ProgressFile

CHUNK = 1024 * 1024  # cancel and progress granularity
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")
_UNSATISFIABLE = re.compile(r"bytes\s+\*/(\d+)")
_KEPT = "the partial file is kept: download again to resume"


def _is_unreachable(reason: object) -> bool:
    """True for "no route to the server" errors, as opposed to a failure during the transfer."""
    # Refused, unknown host (socket.gaierror), unreachable network, connect timeout: all OSErrors.
    return isinstance(reason, OSError) and not isinstance(reason, (ConnectionResetError, BrokenPipeError))


def _open(url: str, resume: int, timeout: float) -> http.client.HTTPResponse:
    headers = {"User-Agent": f"valle-studio/{__version__}", "Accept-Encoding": "identity"}
    if resume:
        headers["Range"] = f"bytes={resume}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        # typeshed types urlopen's result as Any; for an http(s) URL it is an HTTPResponse
        response: http.client.HTTPResponse = urllib.request.urlopen(request, timeout=timeout)
        return response
    except urllib.error.HTTPError:
        raise
    except urllib.error.URLError as exc:
        if _is_unreachable(exc.reason):
            raise OfflineError(f"cannot reach {url}: {exc.reason}. Check the network connection or proxy "
                               "and try again") from exc
        raise DownloadError(f"download of {url} failed: {exc.reason}") from exc
    except (TimeoutError, ConnectionError) as exc:
        raise OfflineError(f"cannot reach {url}: {exc}. Check the network connection and try again") from exc


def fetch_url(url: str, sink: ProgressFile, *, timeout: float = 30.0) -> None:
    """Append the rest of ``url`` to ``sink``, resuming at ``sink.done`` bytes.

    Sets ``sink.total`` from the response. A server that ignores the ``Range`` header makes the
    partial file start over; one that answers 416 with the partial's own size means it is complete.
    """
    for _attempt in range(2):  # the second pass only follows a 416 on a stale partial file
        resume = sink.done
        try:
            response = _open(url, resume, timeout)
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code == 416 and resume:
                match = _UNSATISFIABLE.fullmatch(exc.headers.get("Content-Range", "").strip())
                if match and int(match.group(1)) == resume:
                    sink.total = resume
                    return
                sink.truncate(0)
                continue
            raise DownloadError(f"download of {url} failed: the server answered HTTP {exc.code} "
                                f"{exc.reason}") from exc
        with response:
            _stream(url, response, sink, resume)
        return
    raise DownloadError(f"download of {url} failed: the server keeps refusing the byte range")


def _stream(url: str, response: http.client.HTTPResponse, sink: ProgressFile, resume: int) -> None:
    """Copy the body of one response into ``sink`` in 1 MiB chunks."""
    length = response.headers.get("Content-Length")
    body_size = int(length) if length is not None and length.isdigit() else None
    if resume and response.status == 206:
        match = _CONTENT_RANGE.fullmatch((response.headers.get("Content-Range") or "").strip())
        if match is None or int(match.group(1)) != resume:
            raise DownloadError(f"download of {url} failed: asked for bytes from {resume}, the server sent "
                                f"{response.headers.get('Content-Range')!r}")
        sink.total = int(match.group(3)) if match.group(3) != "*" else None
    else:
        if resume:  # 200: the server ignored Range and sends everything again
            sink.truncate(0)
        sink.total = body_size
    received = 0
    while True:
        try:
            chunk = response.read(CHUNK)
        except (http.client.HTTPException, OSError) as exc:
            raise DownloadError(f"download of {url} was interrupted after {sink.done} bytes ({exc}); "
                                f"{_KEPT}") from exc
        if not chunk:
            break
        received += len(chunk)
        sink.write(chunk)
    if body_size is not None and received < body_size:
        raise DownloadError(f"download of {url} was interrupted: the server closed the connection after "
                            f"{sink.done} of {sink.total or '?'} bytes; {_KEPT}")
