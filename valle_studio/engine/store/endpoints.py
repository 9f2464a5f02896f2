"""Where downloads come from: one injectable object, so mirrors and test servers need no patching."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import quote

from valle_studio.engine.store.catalog import RemoteFile

HF_DEFAULT = "https://huggingface.co"
GITHUB_RAW_DEFAULT = "https://raw.githubusercontent.com"
ENCODEC_DEFAULT = "https://dl.fbaipublicfiles.com/encodec/v0"

_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Endpoints:
    """Base URLs of the three download sources, plus the offline switch.

    ``huggingface`` is the Hub (or a mirror such as hf-mirror.com), ``github_raw`` serves upstream's
    files by commit, ``encodec`` is Meta's EnCodec ``v0`` folder. ``offline`` refuses every download
    before any connection is tried. ``timeout`` (seconds) bounds connecting and each read.
    """

    huggingface: str = HF_DEFAULT
    github_raw: str = GITHUB_RAW_DEFAULT
    encodec: str = ENCODEC_DEFAULT
    offline: bool = False
    timeout: float = 30.0

    def __post_init__(self) -> None:
        for field in ("huggingface", "github_raw", "encodec"):
            value = getattr(self, field)
            if not value.startswith(("http://", "https://")):
                raise ValueError(f"Endpoints.{field} must be an http(s) URL, got {value!r}")
            object.__setattr__(self, field, value.rstrip("/"))
        if self.timeout <= 0:
            raise ValueError(f"Endpoints.timeout must be positive, got {self.timeout}")

    @classmethod
    def from_env(cls) -> Endpoints:
        """Defaults, with ``HF_ENDPOINT`` as the Hub and offline mode from ``VALLE_STUDIO_OFFLINE`` or
        ``HF_HUB_OFFLINE`` (read now, not at import)."""
        offline = any(os.environ.get(var, "").strip().lower() in _TRUE
                      for var in ("VALLE_STUDIO_OFFLINE", "HF_HUB_OFFLINE"))
        return cls(huggingface=os.environ.get("HF_ENDPOINT") or HF_DEFAULT, offline=offline)

    def url_for(self, file: RemoteFile) -> str:
        """The URL ``file`` comes from (for the Hub: the ``resolve`` URL, as ``hf_hub_url`` builds it)."""
        if file.origin == "huggingface":
            return (f"{self.huggingface}/{file.repo}/resolve/{quote(file.revision, safe='')}/"
                    f"{quote(file.path)}")
        if file.origin == "github":
            return f"{self.github_raw}/{file.repo}/{file.revision}/{quote(file.path)}"
        if file.origin == "encodec":
            return f"{self.encodec}/{quote(file.path)}"
        raise ValueError(f"unknown download origin {file.origin!r} for {file.local_name}")

    def host_of(self, file: RemoteFile) -> str:
        """The server's base URL, for messages such as "cannot reach https://huggingface.co"."""
        return {"huggingface": self.huggingface, "github": self.github_raw,
                "encodec": self.encodec}.get(file.origin, file.origin)
