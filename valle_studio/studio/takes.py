"""One take: a generated clip and everything needed to reproduce it.

The same record serves the studio's history (:mod:`valle_studio.studio.history`) and the rows of a
batch project (:mod:`valle_studio.batch.rows`), so a take means the same fields everywhere: the text,
voice, language and model it was made from, the full settings with the seed filled in, and where its
audio lies (``audio_file``, relative to the folder of the file that lists the take).

:meth:`Take.to_dict` writes the one JSON form (the history index has always used it).
:meth:`Take.from_dict` also reads the form batch projects of format 1 wrote: the audio file under
``file``, no ``modality``, ``real_time_factor``, ``sample_rate`` or ``extra``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from valle_studio.engine.settings import GenerationSettings

#: Keys a stored take cannot do without; every other one has a default for files that lack it.
_REQUIRED = ("id", "created", "seed", "duration_s")
#: Where format-1 batch projects kept the audio file's path.
_LEGACY_AUDIO_KEY = "file"


@dataclass(frozen=True)
class Take:
    """One generated clip and everything needed to reproduce it.

    ``settings`` are the settings the run used with ``seed`` filled in, so reusing them repeats the
    take. ``modality`` is the path that ran (``"ar+nar"`` / ``"nar-len"``; "" when not recorded),
    ``real_time_factor`` the seconds of compute per second of speech (None for an empty clip, when
    no finite value exists), ``sample_rate`` that of the audio file (0 when not recorded).
    """

    id: str
    created: str  # ISO 8601, UTC
    text: str
    voice: str
    language: str
    model: str
    settings: GenerationSettings
    seed: int
    modality: str
    duration_s: float
    elapsed_s: float
    real_time_factor: float | None
    sample_rate: int
    audio_file: str  # relative to the folder of the history index or the batch project
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def created_local(self) -> datetime:
        """Creation time in the local time zone."""
        return datetime.fromisoformat(self.created).astimezone()

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible dict; the key order is the history index's since format 1."""
        return {"id": self.id, "created": self.created, "text": self.text, "voice": self.voice,
                "language": self.language, "model": self.model, "settings": self.settings.to_dict(),
                "seed": self.seed, "modality": self.modality, "duration_s": self.duration_s,
                "elapsed_s": self.elapsed_s, "real_time_factor": self.real_time_factor,
                "sample_rate": self.sample_rate, "audio_file": self.audio_file, "extra": dict(self.extra)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Take:
        """Read :meth:`to_dict`'s form or a format-1 batch project's. Unknown keys (a newer version's)
        are ignored.

        Raises:
            ValueError: a required key is missing or a value has the wrong type or range (the
                settings are validated); the message names the take.
        """
        if not isinstance(data, dict):
            raise ValueError(f"a take must be an object, not {type(data).__name__}")
        name = data.get("id", "?")
        missing = [key for key in _REQUIRED if key not in data]
        audio_file = data.get("audio_file", data.get(_LEGACY_AUDIO_KEY))
        if audio_file is None:
            missing.append("audio_file")
        if missing:
            raise ValueError(f"take {name} lacks {', '.join(missing)}")
        try:
            duration_s, elapsed_s = float(data["duration_s"]), float(data.get("elapsed_s") or 0.0)
            rtf = data["real_time_factor"] if "real_time_factor" in data else rtf_of(elapsed_s, duration_s)
            return cls(
                id=str(data["id"]), created=str(data["created"]), text=str(data.get("text", "")),
                voice=str(data.get("voice", "")), language=str(data.get("language", "")),
                model=str(data.get("model", "")), settings=GenerationSettings.from_dict(data.get("settings") or {}),
                seed=int(data["seed"]), modality=str(data.get("modality", "")), duration_s=duration_s,
                elapsed_s=elapsed_s, real_time_factor=None if rtf is None else float(rtf),
                sample_rate=int(data.get("sample_rate") or 0), audio_file=str(audio_file),
                extra=dict(data.get("extra") or {}),
            )
        except (TypeError, ValueError) as exc:  # SettingsError is a ValueError
            raise ValueError(f"take {name}: {exc}") from exc


def rtf_of(elapsed_s: float, duration_s: float) -> float | None:
    """The ``real_time_factor`` of a clip of ``duration_s`` seconds made in ``elapsed_s``: None when
    the clip is empty or the run was not timed (no finite, meaningful value)."""
    return elapsed_s / duration_s if duration_s > 0 and elapsed_s > 0 else None


__all__ = ["Take", "rtf_of"]
