"""A loopback stand-in for the download sources, so downloads are tested for real without internet.

Two threaded ``http.server`` instances on 127.0.0.1:
- the *hub* answers the Hub's ``/<repo>/resolve/<revision>/<path>`` the way huggingface_hub expects
  (read from its ``get_hf_file_metadata``): ``X-Repo-Commit`` on every answer; large (LFS) files get a
  302 to the *cdn* with ``X-Linked-Etag`` (the sha256) and ``X-Linked-Size``; small files are served
  directly with ``ETag`` = git blob id. It also serves plain files under ``/gh/`` (GitHub raw) and
  ``/fb/`` (EnCodec folder).
- the *cdn* serves ``/blobs/<sha256>`` on another port, i.e. another origin, as the real CDN is.
Both honour ``Range: bytes=N-`` (206 + ``Content-Range``, 416 past the end).

Faults: ``cut_after`` sends that many body bytes of the next GET and drops the connection, after
which every GET gets 503 until ``broken`` is cleared; ``corrupt`` flips a byte of the named paths.
The tests at the bottom check the server itself, so the download tests cannot pass vacuously.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import random
import re
import threading
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import MappingProxyType
from urllib.parse import unquote, urlsplit

import pytest

from valle_studio.engine.store import CATALOG, Catalog, Endpoints

COMMIT = "0123456789abcdef0123456789abcdef01234567"
_RESOLVE = re.compile(r"/([^/]+/[^/]+)/resolve/([^/]+)/(.+)")
_RANGE = re.compile(r"bytes=(\d+)-")


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class FakeHub:
    """Hub + CDN + plain file server; use as a context manager."""

    def __init__(self) -> None:
        self.hub_files: dict[tuple[str, str, str], tuple[bytes, bool]] = {}
        self.plain: dict[str, bytes] = {}
        self.blobs: dict[str, bytes] = {}
        self.requests: list[tuple[str, str, str | None]] = []  # (method, path, Range header)
        self.cut_after: int | None = None
        self.broken = False
        self.corrupt: set[str] = set()
        self._lock = threading.Lock()
        self._servers: list[ThreadingHTTPServer] = []

    # -- content --------------------------------------------------------------------------------
    def add_hub_file(self, repo: str, path: str, data: bytes, *, lfs: bool, revision: str = "main") -> None:
        self.hub_files[(repo, revision, path)] = (data, lfs)
        if lfs:
            self.blobs[hashlib.sha256(data).hexdigest()] = data

    def add_plain(self, url_path: str, data: bytes) -> None:
        self.plain[url_path] = data

    # -- lifecycle ------------------------------------------------------------------------------
    def __enter__(self) -> FakeHub:
        for role in ("hub", "cdn"):
            server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self, role))
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
            self._servers.append(server)
        return self

    def __exit__(self, *exc: object) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()

    def url(self, role: str = "hub") -> str:
        server = self._servers[0 if role == "hub" else 1]
        return f"http://127.0.0.1:{server.server_address[1]}"

    @property
    def endpoints(self) -> Endpoints:
        base = self.url("hub")
        return Endpoints(huggingface=base, github_raw=f"{base}/gh", encodec=f"{base}/fb", timeout=5.0)

    def ranges(self, suffix: str) -> list[str | None]:
        """Range headers of the GETs whose path ends with ``suffix``."""
        return [r for m, p, r in self.requests if m == "GET" and p.endswith(suffix)]


def _make_handler(hub: FakeHub, role: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def do_HEAD(self) -> None:
            self._route(head=True)

        def do_GET(self) -> None:
            self._route(head=False)

        def _route(self, *, head: bool) -> None:
            path = urlsplit(self.path).path
            with hub._lock:
                hub.requests.append(("HEAD" if head else "GET", path, self.headers.get("Range")))
            if role == "cdn":
                data = hub.blobs.get(path.removeprefix("/blobs/"))
                return self._body(path, data, head, {"ETag": f'"{path.removeprefix("/blobs/")}"'})
            if path.startswith(("/gh/", "/fb/")):
                return self._body(path, hub.plain.get(unquote(path)), head, {})
            match = _RESOLVE.fullmatch(path)
            found = hub.hub_files.get((match[1], unquote(match[2]), unquote(match[3]))) if match else None
            if found is None:
                return self._status(404, {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": COMMIT})
            data, lfs = found
            if not lfs:
                headers = {"ETag": f'"{git_blob_sha1(data)}"', "X-Repo-Commit": COMMIT}
                return self._body(path, data, head, headers)
            sha = hashlib.sha256(data).hexdigest()
            return self._status(302, {"Location": f"{hub.url('cdn')}/blobs/{sha}", "X-Repo-Commit": COMMIT,
                                      "X-Linked-Etag": f'"{sha}"', "X-Linked-Size": str(len(data)),
                                      "ETag": '"git-pointer-etag"'})

        def _status(self, code: int, headers: dict[str, str]) -> None:
            self.send_response(code)
            for key, value in {**headers, "Content-Length": "0"}.items():
                self.send_header(key, value)
            self.end_headers()

        def _body(self, path: str, data: bytes | None, head: bool, headers: dict[str, str]) -> None:
            if data is None:
                return self._status(404, {})
            if not head and hub.broken:
                return self._status(503, {})
            if any(path.endswith(name) for name in hub.corrupt):
                data = bytes([data[0] ^ 0xFF]) + data[1:]
            start = 0
            match = _RANGE.fullmatch(self.headers.get("Range") or "")
            if match:
                start = int(match[1])
                if start >= len(data):
                    return self._status(416, {"Content-Range": f"bytes */{len(data)}"})
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            body = data[start:]
            for key, value in {**headers, "Content-Length": str(len(body)), "Accept-Ranges": "bytes"}.items():
                self.send_header(key, value)
            self.end_headers()
            if head:
                return None
            cut = hub.cut_after
            if cut is not None:
                hub.cut_after, hub.broken = None, True
                body = body[:cut]
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client cancelled
                self.wfile.write(body)
            return None

    return Handler


@dataclass
class World:
    """The real catalog, served by a :class:`FakeHub` with made-up content.

    Model and Vocos entries are the real ones unchanged (their files are unpinned, so the Hub's ETag
    is what verifies them); tokenizers and EnCodec carry pinned hashes, so their test copies get the
    hashes of the test content. ``content`` maps each local file name to the bytes served.
    """

    catalog: Catalog
    content: dict[str, bytes]


def serve_catalog(hub: FakeHub, *, model_size: int = 300_000, seed: int = 0) -> World:
    rng = random.Random(seed)
    content: dict[str, bytes] = {}
    entries = dict(CATALOG)
    for name, entry in CATALOG.items():
        files = []
        for file in entry.files:
            if entry.kind == "model":
                data = rng.randbytes(model_size)
                hub.add_hub_file(file.repo, file.path, data, lfs=True, revision=file.revision)
            elif file.origin == "huggingface":
                small = file.local_name.endswith(".yaml")
                data = b"feature_extractor: encodec\n" if small else rng.randbytes(50_000)
                hub.add_hub_file(file.repo, file.path, data, lfs=not small, revision=file.revision)
            elif file.origin == "github":
                data = f'{{"test": "{file.local_name}"}}'.encode()
                hub.add_plain(f"/gh/{file.repo}/{file.revision}/{file.path}", data)
                file = replace(file, size=len(data), sha256=hashlib.sha256(data).hexdigest())
            else:  # encodec: the sha256 prefix is part of the file name
                data = rng.randbytes(40_000)
                prefix = hashlib.sha256(data).hexdigest()[:8]
                file = replace(file, path=f"encodec_test-{prefix}.th", local_name=f"encodec_test-{prefix}.th",
                               sha256_prefix=prefix)
                hub.add_plain(f"/fb/{file.path}", data)
            content[f"{name}/{file.local_name}"] = data
            files.append(file)
        entries[name] = replace(entry, files=tuple(files))
    return World(MappingProxyType(entries), content)


# -- tests of the fake server itself ------------------------------------------------------------------
@pytest.fixture
def hub() -> FakeHub:
    with FakeHub() as server:
        yield server


def _get(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> http.client.HTTPResponse:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    conn.request(method, parts.path, headers=headers or {})
    return conn.getresponse()


def test_range_requests_are_honoured(hub: FakeHub) -> None:
    hub.add_plain("/gh/a.bin", bytes(range(200)))
    whole = _get(f"{hub.url()}/gh/a.bin")
    assert whole.status == 200 and whole.read() == bytes(range(200))
    part = _get(f"{hub.url()}/gh/a.bin", {"Range": "bytes=150-"})
    assert part.status == 206 and part.getheader("Content-Range") == "bytes 150-199/200"
    assert part.read() == bytes(range(150, 200))
    assert _get(f"{hub.url()}/gh/a.bin", {"Range": "bytes=200-"}).status == 416


def test_lfs_files_redirect_to_another_origin_with_hub_headers(hub: FakeHub) -> None:
    data = b"x" * 1000
    hub.add_hub_file("org/repo", "dir/w+1.bin", data, lfs=True)
    head = _get(f"{hub.url()}/org/repo/resolve/main/dir/w%2B1.bin", method="HEAD")
    assert head.status == 302
    assert head.getheader("X-Repo-Commit") == COMMIT
    assert head.getheader("X-Linked-Etag") == f'"{hashlib.sha256(data).hexdigest()}"'
    assert head.getheader("X-Linked-Size") == "1000"
    location = head.getheader("Location")
    assert location.startswith(hub.url("cdn")) and hub.url("cdn") != hub.url("hub")
    assert _get(location).read() == data


def test_small_files_carry_the_git_blob_id(hub: FakeHub) -> None:
    hub.add_hub_file("org/repo", "config.yaml", b"a: 1\n", lfs=False)
    head = _get(f"{hub.url()}/org/repo/resolve/main/config.yaml", method="HEAD")
    # `git hash-object` of "a: 1\n", computed independently of git_blob_sha1 above.
    assert head.status == 200 and head.getheader("ETag") == '"a8926a52d8dcba5c4386945476ab6a2ad008afd4"'
    assert head.getheader("X-Repo-Commit") == COMMIT


def test_cut_drops_the_connection_then_the_server_stays_down(hub: FakeHub) -> None:
    hub.add_plain("/fb/b.bin", b"y" * 5000)
    hub.cut_after = 1000
    response = _get(f"{hub.url()}/fb/b.bin")
    with pytest.raises(http.client.IncompleteRead):
        response.read()
    assert _get(f"{hub.url()}/fb/b.bin").status == 503
