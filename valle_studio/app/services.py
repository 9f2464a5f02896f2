"""Everything the main window works with, built in one place so tests can swap any part.

:func:`default_services` builds the real ones (user folders, the model store, sound devices);
tests build :class:`AppServices` themselves with a temporary history, a fake store and a loader
for a tiny model. Nothing here imports torch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from valle_studio.app.audio_bridge import PlaybackController, RecordingController
from valle_studio.app.jobs.records import Loader, LoadSpec
from valle_studio.app.settings import AppSettings
from valle_studio.engine.interfaces import DownloaderProtocol, ModelStoreProtocol, SynthesizerProtocol
from valle_studio.studio.history import History
from valle_studio.studio.voices import VoiceLibrary

log = logging.getLogger(__name__)


@dataclass
class AppServices:
    """The services one main window uses (see the module docstring)."""

    settings: AppSettings
    history: History
    store: ModelStoreProtocol
    loader: Loader  # runs on the engine thread
    playback: PlaybackController
    recording: RecordingController
    voices: VoiceLibrary
    # Anything with the store's ``download(name, *, progress, cancel)``; None = the store itself.
    downloader: DownloaderProtocol | None = None


def store_loader(store: ModelStoreProtocol) -> Loader:
    """A loader that loads installed models of ``store`` with the engine's own resolver."""

    def load(spec: LoadSpec) -> SynthesizerProtocol:
        from valle_studio.engine.synthesizer import Synthesizer  # imports torch: engine thread only

        # "int8" is float32 weights quantised to int8 (CPU only; the engine refuses it elsewhere)
        int8 = spec.precision == "int8"
        return Synthesizer.load(spec.model, device=spec.device, dtype="float32" if int8 else spec.precision,
                                store=store, quantize="int8" if int8 else None)

    return load


def default_services() -> AppServices:
    """The real services: INI settings, the user's history and model store, the sound devices."""
    from valle_studio.engine.store import ModelStore

    store = ModelStore()
    return AppServices(
        settings=AppSettings.from_app(),
        history=History.default(),
        store=store,
        loader=store_loader(store),
        playback=PlaybackController(),
        recording=RecordingController(),
        voices=VoiceLibrary(),
    )
