"""The QSettings (INI) adapter: typed options with defaults, structured values, bad files."""

from __future__ import annotations

import configparser
import json
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from valle_studio.app.settings import SETTINGS_VERSION, AppSettings
from valle_studio.engine.settings import PRESETS


def test_defaults_on_a_fresh_file(tmp_path: Path) -> None:
    s = AppSettings.from_file(tmp_path / "a.ini")
    values = (s.device, s.precision, s.language, s.show_phonemes, s.play_while_generating)
    assert values == ("auto", "auto", "en", False, True)
    assert s.generation() is None and s.geometry.isEmpty()


def test_values_survive_a_new_instance(tmp_path: Path) -> None:
    path = tmp_path / "a.ini"
    s = AppSettings.from_file(path)
    s.device, s.precision, s.language, s.show_phonemes, s.advanced_open = "cuda", "bfloat16", "fr", True, True
    s.set_generation(PRESETS["expressive"].replace(seed=5))
    s.geometry = QByteArray(b"\x01\x02geometry")
    s.sync()
    again = AppSettings.from_file(path)
    assert (again.device, again.precision, again.language) == ("cuda", "bfloat16", "fr")
    assert again.show_phonemes is True and again.advanced_open is True
    assert again.generation() == PRESETS["expressive"].replace(seed=5)
    assert bytes(again.geometry.data()) == b"\x01\x02geometry"
    ini = configparser.ConfigParser()
    ini.read(path)
    assert ini["meta"]["version"] == str(SETTINGS_VERSION)
    assert ini["setting"]["device"] == "cuda"  # preferences and window state live in separate sections
    assert "geometry" in ini["persist"]


def test_bad_values_fall_back_to_defaults(tmp_path: Path) -> None:
    path = tmp_path / "bad.ini"
    path.write_text("[setting]\nshow_phonemes=maybe\ngeneration={\"top_p\": 7}\n", encoding="utf-8")
    s = AppSettings.from_file(path)
    assert s.show_phonemes is False
    assert s.generation() is None  # out of range: ignored, not a crash


def test_from_app_lives_in_user_config_dir() -> None:
    from valle_studio.paths import user_config_dir

    s = AppSettings.from_app()
    assert Path(s.path) == user_config_dir() / "valle-studio.ini"


def test_version_1_split_mode_moves_into_the_generation_settings(tmp_path: Path) -> None:
    def old_file(name: str, **values: object) -> Path:  # as version 1 wrote it
        old = QSettings(str(tmp_path / name), QSettings.Format.IniFormat)
        old.setValue("meta/version", 1)
        for key, value in values.items():
            old.setValue(f"setting/{key}", value)
        old.sync()
        return tmp_path / name

    saved = json.dumps(PRESETS["stable"].replace(seed=9).to_dict())
    s = AppSettings.from_file(old_file("old.ini", split="lines", generation=saved))
    assert s.generation() == PRESETS["stable"].replace(seed=9, split="lines")
    assert s.qsettings.value("setting/split") is None and int(s.qsettings.value("meta/version")) == SETTINGS_VERSION
    only_split = AppSettings.from_file(old_file("only.ini", split="none"))
    assert only_split.generation() == PRESETS["default"].replace(split="none")
