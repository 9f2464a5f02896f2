"""A main window for the Preferences, Help and recording tests: one catalogue model behind a stand-in
store (it answers licences as the real store does), a counting synthesizer, fake sound devices."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tests.app.test_engine_jobs import CountingSynth
from tests.audio.fake_stream import FakeStreamFactory
from valle_studio.app.audio_bridge import PlaybackController, RecordingController
from valle_studio.app.main_window import MainWindow
from valle_studio.app.services import AppServices
from valle_studio.app.settings import AppSettings
from valle_studio.engine.store import catalog as cat
from valle_studio.studio.history import History
from valle_studio.studio.voices import VoiceLibrary

MODEL = cat.DEFAULT_MODEL


class CatalogueStore:
    """The part of the model store the window reads, with the catalogue's licence terms."""

    default_model = MODEL

    def installed(self) -> list[str]:
        return [MODEL]

    def available(self) -> list[str]:
        return []

    def installed_loras(self) -> list[str]:
        return []

    def licences(self, name: str) -> list[tuple[str, str]]:
        return cat.licence_notes(cat.CATALOG, name)


def make_window(qtbot: Any, tmp_path: Path, *, source: np.ndarray | None = None, load: bool = False,
                settings: AppSettings | None = None) -> MainWindow:
    factory = FakeStreamFactory(speed=10.0, source=source)
    services = AppServices(settings=settings or AppSettings.from_file(tmp_path / "settings.ini"),
                           history=History(tmp_path / "history"), store=CatalogueStore(),  # type: ignore[arg-type]
                           loader=lambda spec: CountingSynth(name="VALL-E AR+NAR+NAR-len"),
                           playback=PlaybackController(stream_factory=factory),
                           recording=RecordingController(stream_factory=factory),
                           voices=VoiceLibrary(tmp_path / "voices"))
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.resize(1280, 780)
    window.show()
    if load:
        with qtbot.waitSignal(window.engine.model_loaded, timeout=30_000):
            window.start()
    return window


def close_window(window: MainWindow) -> None:
    window.shutdown()
