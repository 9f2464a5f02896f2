"""The main window as a user meets it, with a tiny model: real services in the app's own user folders
(``VALLE_STUDIO_HOME``), the real engine thread, a random codec, and a fake sound card.

Only three things are replaced: the model (a tiny random checkpoint written into the model store), the
codec (random EnCodec weights, so audio prompts encode and takes decode without downloads) and the
sound devices (``tests.audio.fake_stream``; ``output_reason``/``input_reason`` take them away).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.audio.fake_stream import FakeStreamFactory
from valle_studio.app.audio_bridge import PlaybackController, RecordingController
from valle_studio.app.jobs import LoadSpec
from valle_studio.app.main_window import MainWindow
from valle_studio.app.services import AppServices
from valle_studio.app.settings import AppSettings
from valle_studio.studio.history import History
from valle_studio.studio.voices import VoiceLibrary

MODEL = "tiny"


def install_model(store: Any, data: bytes, name: str = MODEL, file_name: str = "model.sft") -> Path:
    """Put checkpoint bytes where the store keeps model ``name`` (as a download or import would)."""
    folder = store.folder_of(name)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file_name
    path.write_bytes(data)
    return path


def make_services(codec: Any, tokenizer: Path, *, factory: FakeStreamFactory | None = None,
                  wrap: Callable[[Any], Any] | None = None, downloader: Any = None,
                  store: Any = None) -> AppServices:
    """Services over the default user folders; ``wrap(synth)`` may wrap the loaded synthesizer."""
    from valle_studio.engine.store import ModelStore

    store = store if store is not None else ModelStore()

    def loader(spec: LoadSpec) -> Any:
        from valle_studio.engine.synthesizer import Synthesizer

        synth = Synthesizer.load(spec.model, device="cpu", dtype="float32", codec=codec, tokenizer=tokenizer,
                                 store=store)
        return wrap(synth) if wrap is not None else synth

    factory = factory or FakeStreamFactory(speed=50.0)
    return AppServices(settings=AppSettings.from_app(), history=History.default(), store=store, loader=loader,
                       playback=PlaybackController(stream_factory=factory),
                       recording=RecordingController(stream_factory=factory), voices=VoiceLibrary(),
                       downloader=downloader)


def open_window(qtbot: Any, services: AppServices, *, expect_model: bool = True) -> MainWindow:
    """Show the window and start it; with ``expect_model`` wait until the model has loaded."""
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.show()
    if expect_model:
        with qtbot.waitSignal(window.engine.model_loaded, timeout=60_000):
            window.start()
    else:
        window.start()
    return window


def close_window(window: MainWindow) -> None:
    window.close()
    assert not window.engine.worker_thread.isRunning()


def generate_and_wait(qtbot: Any, window: MainWindow, text: str) -> tuple[str, Any]:
    """Type ``text``, generate, wait for the end of that job: ``("finished", take)``,
    ``("failed", message)``, ``("cancelled", None)``, or ``("refused", None)`` when the window did not
    start a job at all. Signals of other jobs (one this start replaced) are ignored."""
    takes: list[Any] = []
    ends: list[tuple[int, str, Any]] = []
    window.take_added.connect(takes.append)
    window.engine.job_failed.connect(lambda job, message: ends.append((job, "failed", message)))
    window.engine.job_cancelled.connect(lambda job: ends.append((job, "cancelled", None)))
    window.text_panel.set_text(text)
    job = window.generate()
    if job is None:
        return "refused", None
    mine = lambda: [(how, what) for j, how, what in ends if j == job]  # noqa: E731
    qtbot.waitUntil(lambda: bool(takes) or bool(mine()), timeout=60_000)
    return ("finished", takes[0]) if takes else mine()[0]
