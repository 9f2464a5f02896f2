"""User settings and window state in one INI file, through QSettings.

Every option is declared once below with its default. ``setting/*`` keys are preferences the user
chose; ``persist/*`` keys are window state (geometry, splitters) that can be thrown away. The file
carries a ``meta/version`` so later versions can migrate it (version 2 keeps the text split mode in
the saved generation settings, where every other generation setting is, instead of a key of its own).

Use :meth:`AppSettings.from_app` in the app (``user_config_dir()/valle-studio.ini``) and
:meth:`AppSettings.from_file` in tests and portable installs.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QByteArray, QSettings

from valle_studio.engine.settings import GenerationSettings, SettingsError

log = logging.getLogger(__name__)

T = TypeVar("T")
_OLD_SPLIT_KEY = "setting/split"  # version 1
SETTINGS_VERSION = 2
FILE_NAME = "valle-studio.ini"


class Option(Generic[T]):
    """One typed key of the INI file, read and written as an attribute of :class:`AppSettings`."""

    def __init__(self, key: str, default: T) -> None:
        self.key = key
        self.default = default

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: AppSettings | None, owner: type) -> Any:
        if obj is None:
            return self
        raw = obj.qsettings.value(self.key, None)
        if raw is None:
            return self.default
        try:
            return self._convert(raw)
        except (TypeError, ValueError):
            log.warning("%s: ignoring bad value %r for %s", obj.path, raw, self.key)
            return self.default

    def __set__(self, obj: AppSettings, value: T) -> None:
        obj.qsettings.setValue(self.key, value)

    def _convert(self, raw: Any) -> Any:
        kind = type(self.default)
        if kind is bool:
            # INI stores everything as text; QSettings gives "true"/"false" back.
            if isinstance(raw, str):
                if raw.lower() not in ("true", "false", "1", "0"):
                    raise ValueError(raw)
                return raw.lower() in ("true", "1")
            return bool(raw)
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        return str(raw)


class BytesOption(Option[QByteArray]):
    """Opaque window state (``saveGeometry()`` / ``saveState()``)."""

    def _convert(self, raw: Any) -> QByteArray:
        if isinstance(raw, QByteArray):
            return raw
        if isinstance(raw, (bytes, bytearray)):
            return QByteArray(bytes(raw))
        raise TypeError(type(raw))


class AppSettings:
    """The application's preferences and window state (see the module docstring)."""

    # -- preferences ---------------------------------------------------------------------------
    device = Option("setting/device", "auto")
    precision = Option("setting/precision", "auto")
    language = Option("setting/language", "en")
    show_phonemes = Option("setting/show_phonemes", False)
    generation_json = Option("setting/generation", "")  # GenerationSettings, the split mode included
    export_dir = Option("setting/export_dir", "")
    text = Option("setting/text", "")
    play_while_generating = Option("setting/play_while_generating", True)
    best_of = Option("setting/best_of", 1)  # the Best-of control: takes per Generate ...
    retry_bad = Option("setting/retry_bad", 0)  # ... and retries while none is good
    # layout (issue 17): the saved voice chosen in the voice panel, chosen again at the next start
    voice = Option("setting/voice", "")
    # helper prefs (issue 17): Edit → Preferences
    appearance = Option("setting/appearance", "system")  # "system", "light" or "dark" (app/theme.py)
    record_countdown = Option("setting/record_countdown", 3)  # seconds counted down before recording; 0 = none
    # prov (issue 17): the imperceptible watermark in every exported file (Preferences; on by default)
    watermark = Option("setting/watermark", True)
    # issue 21: the Batch tab's Ray choice (on/off and the cluster options, as JSON; app/cluster_memory.py)
    cluster = Option("setting/cluster", "")
    # -- window state --------------------------------------------------------------------------
    geometry = BytesOption("persist/geometry", QByteArray())
    window_state = BytesOption("persist/window_state", QByteArray())
    splitter_state = BytesOption("persist/splitter_state", QByteArray())
    advanced_open = Option("persist/advanced_open", False)

    def __init__(self, qsettings: QSettings) -> None:
        self.qsettings = qsettings
        self._migrate()

    @classmethod
    def from_file(cls, path: str | Path) -> AppSettings:
        """Settings kept in ``path`` (INI), created on first write."""
        return cls(QSettings(str(path), QSettings.Format.IniFormat))

    @classmethod
    def from_app(cls) -> AppSettings:
        """The user's settings file in ``valle_studio.paths.user_config_dir()``."""
        from valle_studio.paths import user_config_dir

        return cls.from_file(user_config_dir() / FILE_NAME)

    @property
    def path(self) -> str:
        return self.qsettings.fileName()

    # -- structured values ---------------------------------------------------------------------
    def generation(self) -> GenerationSettings | None:
        """The sampler settings last used, or None when none (or an unreadable set) was saved."""
        raw = self.generation_json
        if not raw:
            return None
        try:
            return GenerationSettings.from_dict(json.loads(raw))
        except (ValueError, TypeError, SettingsError) as exc:
            log.warning("%s: ignoring saved generation settings: %s", self.path, exc)
            return None

    def set_generation(self, settings: GenerationSettings) -> None:
        self.generation_json = json.dumps(settings.to_dict())

    def sync(self) -> None:
        """Write pending changes to disk now (QSettings otherwise writes lazily)."""
        self.qsettings.sync()
        if self.qsettings.status() != QSettings.Status.NoError:
            log.error("could not write settings to %s (%s)", self.path, self.qsettings.status())

    def _migrate(self) -> None:
        raw: Any = self.qsettings.value("meta/version", 0)  # whatever the file holds
        version = int(raw or 0)
        if version > SETTINGS_VERSION:
            log.warning("%s was written by a newer version (%d); unknown keys are kept", self.path, version)
        elif version < SETTINGS_VERSION:
            # Version 0 is a fresh file; version 1 kept the split mode apart from the generation settings.
            self._fold_split_into_generation()
            self.qsettings.setValue("meta/version", SETTINGS_VERSION)

    def _fold_split_into_generation(self) -> None:
        """Version 1 -> 2: ``setting/split`` becomes the ``split`` of the saved generation settings."""
        split = self.qsettings.value(_OLD_SPLIT_KEY, None)
        if split is None:
            return
        try:
            saved = json.loads(self.generation_json or "{}")
        except ValueError:
            saved = None
        # An unreadable set was ignored before and still is; only the split mode is carried over then.
        data = saved if isinstance(saved, dict) else {}
        data["split"] = str(split)
        self.generation_json = json.dumps(data)
        self.qsettings.remove(_OLD_SPLIT_KEY)


__all__ = ["AppSettings", "Option"]
