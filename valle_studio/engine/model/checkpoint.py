"""Read upstream checkpoint files: ``.sft`` (safetensors + JSON metadata) and ``.pth`` (``{"module": ...}``).

Nothing here builds a model. :func:`open_checkpoint` checks the file (exists, not empty, not
truncated, a format we read) and returns a :class:`CheckpointFile` that hands out tensors one at a
time, so the loader can cast and place each weight without ever holding two copies of the model.
Every failure is a :class:`CheckpointError` whose message names the file and says what is wrong.
"""

from __future__ import annotations

import json
import pickle
import struct
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from torch import Tensor

from valle_studio.core.files import NotARegularFileError, require_regular_file

_ZIP_MAGIC = b"PK\x03\x04"
_PICKLE_PROTO = 0x80
_MAX_HEADER = 100 * 1024 * 1024  # safetensors refuses headers above 100 MB too


class CheckpointError(Exception):
    """A checkpoint cannot be loaded; ``str(error)`` is a complete sentence for the user."""


@dataclass
class CheckpointFile:
    """An opened checkpoint: tensor shapes known, tensor data read on demand.

    ``shapes``: name -> shape of every stored tensor. ``config``/``userdata``/``stats``: the decoded
    metadata (None when absent).
    """

    path: Path
    format: Literal["safetensors", "torch"]
    shapes: dict[str, tuple[int, ...]]
    config: dict[str, Any] | None
    userdata: dict[str, Any] | None
    stats: dict[str, Any] | None
    _read: Callable[[str], Tensor] = field(repr=False)
    _close: Callable[[], None] = field(repr=False, default=lambda: None)

    def tensor(self, name: str) -> Tensor:
        """One stored tensor, in its stored dtype, on the CPU."""
        return self._read(name)

    def close(self) -> None:
        self._close()

    def __enter__(self) -> CheckpointFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_checkpoint(path: str | Path) -> CheckpointFile:
    """Open ``path`` (safetensors or a torch file) after checking it is complete and readable."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"Model file not found: {path}")
    if path.is_dir():
        raise CheckpointError(f"{path} is a folder, not a model file (expected a .sft or .pth file)")
    try:
        require_regular_file(path, "a model file")  # opening a named pipe would block, a device never end
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(9)
    except NotARegularFileError as exc:
        raise CheckpointError(f"{exc} (expected a .sft or .pth file)") from None
    except OSError as exc:
        raise CheckpointError(f"Cannot read {path}: {exc.strerror or exc}") from None
    if size == 0:
        raise CheckpointError(f"{path.name} is empty (0 bytes); the download or copy probably failed")
    # safetensors: 8-byte little-endian header length, then the JSON header. Its first byte can be
    # anything (even the pickle marker), so it is recognised first.
    if len(head) == 9 and head[8:9] == b"{":
        return _open_safetensors(path, size)
    if head.startswith(_ZIP_MAGIC) or (len(head) > 1 and head[0] == _PICKLE_PROTO and 2 <= head[1] <= 5):
        return _open_torch(path)
    return _open_safetensors(path, size)  # not ours either way: this produces the right message


# -- safetensors ----------------------------------------------------------------------------------
def _open_safetensors(path: Path, size: int) -> CheckpointFile:
    header = _read_safetensors_header(path, size)
    from safetensors import safe_open

    try:
        handle = safe_open(str(path), framework="pt", device="cpu")
    except Exception as exc:  # safetensors raises its own Rust-side error types
        raise CheckpointError(f"{path.name} is a damaged safetensors file: {exc}") from None
    raw_meta = header.pop("__metadata__", None) or {}
    shapes = {name: tuple(int(d) for d in info["shape"]) for name, info in header.items()}

    def read(name: str) -> Tensor:
        try:
            tensor: Tensor = handle.get_tensor(name)  # safetensors' stub leaves it unannotated
            return tensor
        except Exception as exc:
            raise CheckpointError(f"{path.name}: cannot read tensor {name!r}: {exc}") from None

    return CheckpointFile(
        path=path,
        format="safetensors",
        shapes=shapes,
        config=_json_meta(path, raw_meta, "config"),
        userdata=_json_meta(path, raw_meta, "userdata"),
        stats=_json_meta(path, raw_meta, "stats"),
        _read=read,
        _close=lambda: None,
    )


def _read_safetensors_header(path: Path, size: int) -> dict[str, Any]:
    """Parse the JSON header and check that the file holds every byte it announces."""
    not_ours = (
        f"{path.name} is neither a safetensors file nor a PyTorch checkpoint "
        "(expected a VALL-E .sft or .pth model file)"
    )
    if size < 10:
        raise CheckpointError(not_ours)
    with path.open("rb") as fh:
        (header_len,) = struct.unpack("<Q", fh.read(8))
        first = fh.read(1)
        if first != b"{" or header_len < 2 or header_len > _MAX_HEADER:
            raise CheckpointError(not_ours)
        if 8 + header_len > size:
            raise CheckpointError(
                f"{path.name} is truncated: its header alone needs {8 + header_len} bytes but the file has "
                f"{size}; download it again"
            )
        raw = first + fh.read(header_len - 1)
    try:
        header = json.loads(raw)
    except ValueError:
        raise CheckpointError(f"{path.name} has a corrupt safetensors header (not valid JSON)") from None
    if not isinstance(header, dict):
        raise CheckpointError(not_ours)
    try:
        end = max((int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__"), default=0)
    except (KeyError, TypeError, ValueError, IndexError):
        raise CheckpointError(f"{path.name} has a corrupt safetensors header (bad tensor entries)") from None
    expected = 8 + header_len + end
    if expected > size:
        raise CheckpointError(
            f"{path.name} is truncated: it should be {expected:,} bytes but has {size:,} "
            f"({100 * size / expected:.0f}% of it); download it again"
        )
    return header


def _json_meta(path: Path, meta: Mapping[str, str], key: str) -> dict[str, Any] | None:
    text = meta.get(key)
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        raise CheckpointError(f"{path.name}: metadata entry {key!r} is not valid JSON") from None
    if value is not None and not isinstance(value, dict):
        raise CheckpointError(f"{path.name}: metadata entry {key!r} must be a JSON object")
    return value


# -- torch ----------------------------------------------------------------------------------------
def _open_torch(path: Path) -> CheckpointFile:
    obj = _torch_load(path)
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path.name} holds a {type(obj).__name__}, not a dictionary of weights")
    state = obj.get("module", obj)
    if not isinstance(state, dict):
        raise CheckpointError(f"{path.name}: its 'module' entry is a {type(state).__name__}, not weights")
    tensors = {k: v for k, v in state.items() if isinstance(k, str) and isinstance(v, Tensor)}
    if not tensors:
        raise CheckpointError(f"{path.name} contains no weight tensors")
    config = obj.get("config") if "module" in obj else None
    if config is not None and not isinstance(config, dict):
        config = None
    userdata = obj.get("userdata") if isinstance(obj.get("userdata"), dict) else None
    stats = obj.get("stats") if isinstance(obj.get("stats"), dict) else None

    def read(name: str) -> Tensor:
        # pop: the loader takes each tensor once, so the mapped file can be released as we go
        return tensors.pop(name)

    return CheckpointFile(
        path=path,
        format="torch",
        shapes={k: tuple(v.shape) for k, v in tensors.items()},
        config=config,
        userdata=userdata,
        stats=stats,
        _read=read,
        _close=tensors.clear,
    )


def _torch_load(path: Path) -> Any:
    """``torch.load`` with ``weights_only=True``: a pickle that would run code is refused, never run."""
    is_zip = zipfile.is_zipfile(path)
    try:
        # mmap keeps the file on disk until each tensor is cast; only zip-format files support it
        return torch.load(path, map_location="cpu", weights_only=True, mmap=is_zip)
    except pickle.UnpicklingError as exc:
        detail = str(exc).splitlines()[0] if str(exc) else "unsupported content"
        if "weights only" in str(exc).lower() or "unsupported global" in str(exc).lower():
            raise CheckpointError(
                f"Refused to load {path.name}: it contains Python objects other than plain weights, which "
                "could run code on this computer. Only weight-only checkpoints are accepted."
            ) from None
        raise CheckpointError(f"{path.name} is not a readable PyTorch checkpoint ({detail})") from None
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CheckpointError(
            f"{path.name} is truncated or corrupt and cannot be read as a PyTorch checkpoint ({first})"
        ) from None
