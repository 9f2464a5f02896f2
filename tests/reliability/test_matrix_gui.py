"""The bad-input matrix through the main window: a dialog that names the problem, nothing half-written.

Each case goes where a user would put it: audio into the voice panel (then Generate), text into the
text panel (then Generate), model files into the model manager's import and into the store (then the
window loads them), downloads through the model manager, exports through the output panel, and a
missing or vanishing sound card under the whole window. Message boxes are recorded, not shown.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.app.export_wait import export_and_wait
from tests.audio.fake_stream import FakeStreamFactory
from tests.engine.test_store_fakehub import FakeHub, serve_catalog
from tests.reliability.cases import (
    AUDIO_CASES,
    CHECKPOINT_CASES,
    MARKER,
    SR,
    TEXT_CASES,
    AudioCase,
    CheckpointCase,
    TextCase,
    tone,
)
from tests.reliability.helpers import (
    FAST,
    Boxes,
    assert_no_new_files,
    assert_no_temp_files,
    disk_fills_up,
    files_under,
    home,
    make_read_only,
)
from tests.reliability.studio import MODEL, close_window, generate_and_wait, install_model, make_services, open_window
from valle_studio.app.main_window import MainWindow
from valle_studio.audio.devices import NO_INPUT, NO_OUTPUT
from valle_studio.audio.recording import VANISHED
from valle_studio.engine.store import DEFAULT_MODEL, ENCODEC, TOKENIZERS, VOCOS, Endpoints, ModelStore
from valle_studio.engine.text import LANGUAGES

pytestmark = pytest.mark.gui


@pytest.fixture()
def boxes(monkeypatch: pytest.MonkeyPatch) -> Boxes:
    return Boxes().install(monkeypatch)


@pytest.fixture()
def window(qtbot: Any, codec: Any, tokenizer: Path, tiny_bytes: bytes, boxes: Boxes) -> Any:
    """The window with the tiny model installed and loaded, set for quick takes."""
    services = make_services(codec, tokenizer)
    install_model(services.store, tiny_bytes)
    studio = open_window(qtbot, services)
    studio.sampler_panel.set_settings(FAST)
    studio.text_panel.set_split_mode("none")
    yield studio
    close_window(studio)


def phonemes_of(qtbot: Any, window: MainWindow, text: str, language: str = "en") -> list[str] | str:
    """What the window's phoneme preview shows for ``text`` (computed on the engine thread)."""
    with qtbot.waitSignal(window.engine.phonemes_ready, timeout=10_000) as answer:
        window.engine.phonemize(text, language, "none")
    pieces = answer.args[0]
    return pieces if isinstance(pieces, str) else [piece.ipa for piece in pieces]


# -- audio ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", AUDIO_CASES, ids=lambda c: c.id)
def test_reference_audio(case: AudioCase, tmp_path: Path, qtbot: Any, window: MainWindow, boxes: Boxes) -> None:
    source = case.make(tmp_path)
    before = files_under(home())
    panel = window.voice_panel
    panel.import_file(source)
    qtbot.waitUntil(lambda: not panel.busy, timeout=20_000)
    if case.refused == "load":
        boxes.assert_says("Could not open the audio file", *case.says, source.name)
        assert panel.prompts() == () and window.voice_panel.voice_name() == ""
        assert_no_new_files(home(), before)
        return
    assert boxes.shown == [] and len(panel.prompts()) == 1
    advice = panel.warning_label.text()  # under the waveform, before anything is generated
    for word in case.says:
        assert word.lower() in advice.lower(), advice

    status, payload = generate_and_wait(qtbot, window, "Hello there.")
    if case.refused == "prompt":
        assert status == "failed"
        boxes.assert_says("Generation failed", *case.says)
        assert window.history_model.rowCount() == 0
        assert_no_new_files(home(), before)
        return
    assert status == "finished", payload
    audio, rate = window.services.history.load_audio(payload)
    assert rate == 24_000 and len(audio) > 0 and boxes.shown == []


# -- text -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", [c for c in TEXT_CASES if c.language == "en"], ids=lambda c: c.id)
def test_text(case: TextCase, qtbot: Any, window: MainWindow, boxes: Boxes) -> None:
    before = files_under(home())
    if not case.text.strip():
        window.text_panel.set_text(case.text)
        assert not window.generate_action.isEnabled()
        assert window.generate_action.toolTip() == "Type some text first."
        assert window.generate() is None  # Ctrl+Enter anyway: nothing starts
        assert window.statusBar().currentMessage() == "Type some text first."
        assert not window.engine.is_busy and boxes.shown == []
        assert_no_new_files(home(), before)
        return
    status, _ = generate_and_wait(qtbot, window, case.text)
    if case.refused:
        assert status == "failed"
        boxes.assert_says("Generation failed", *case.says)
        assert window.history_model.rowCount() == 0
        assert_no_new_files(home(), before)
        return
    assert status == "finished" and boxes.shown == []
    spoken = phonemes_of(qtbot, window, case.text)
    assert isinstance(spoken, list) and len(spoken) == 1
    if case.same_as is not None:  # nothing after the control characters was lost
        assert spoken == phonemes_of(qtbot, window, case.same_as)
    else:  # the emoji / foreign words are read out, not dropped
        plain = "".join(ch for ch in case.text if ch.isascii())
        assert len(spoken[0]) > len(phonemes_of(qtbot, window, plain)[0]) + 4


def test_unsupported_language_cannot_be_chosen(qtbot: Any, codec: Any, tokenizer: Path, tiny_bytes: bytes,
                                              boxes: Boxes) -> None:
    """The language list holds exactly the model's languages; a settings file naming another one (edited
    by hand, or from a newer version) falls back to English, and generation still works."""
    services = make_services(codec, tokenizer)
    services.settings.language = "es"
    services.settings.sync()
    install_model(services.store, tiny_bytes)
    window = open_window(qtbot, services)
    combo = window.text_panel.language
    assert sorted(combo.itemData(i) for i in range(combo.count())) == sorted(LANGUAGES)
    assert window.text_panel.language_code() == "en"
    window.text_panel.set_language_code("es")
    assert window.text_panel.language_code() == "en"
    window.sampler_panel.set_settings(FAST)
    assert generate_and_wait(qtbot, window, "Hola a todos.")[0] == "finished"
    close_window(window)


# -- checkpoints ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", CHECKPOINT_CASES, ids=lambda c: c.id)
def test_checkpoint(case: CheckpointCase, tmp_path: Path, qtbot: Any, codec: Any, tokenizer: Path,
                    tiny_bytes: bytes, boxes: Boxes) -> None:
    services = make_services(codec, tokenizer)
    window = open_window(qtbot, services, expect_model=False)
    assert window.banner.isVisible()

    # 1. Models > Import refuses the file and copies nothing.
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    source = case.make(downloads, tiny_bytes)
    store_before = files_under(services.store.root)
    dialog = window.open_model_manager()
    task = dialog.import_path(source, MODEL)
    assert task is not None
    qtbot.waitUntil(lambda: dialog.task is None, timeout=30_000)
    boxes.assert_says("Model manager", *case.import_says, source.name)
    assert files_under(services.store.root) == store_before and not services.store.is_installed(MODEL)
    boxes.shown.clear()

    # 2. The same file in the store (a copy made by hand, a disk error): loading it fails clearly.
    folder = services.store.folder_of(MODEL)
    folder.mkdir(parents=True, exist_ok=True)
    installed = case.make(folder, tiny_bytes)
    before = files_under(home())
    with qtbot.waitSignal(window.engine.model_load_failed, timeout=30_000):
        window.load_default_model()
    boxes.assert_says("Could not load the model", *case.says, installed.name, "model manager")
    assert "CheckpointError" not in boxes.only()[1]  # no class names, just the problem
    assert window.model_label.text() == f"Model: {MODEL} (not loaded)"
    assert not window.generate_action.isEnabled()
    assert not (tmp_path / MARKER).exists() and not (services.store.root / MARKER).exists()
    assert_no_new_files(home(), before)
    close_window(window)


def test_corrupt_tokenizer_file(tmp_path: Path, qtbot: Any, codec: Any, tiny_bytes: bytes, boxes: Boxes) -> None:
    bad = tmp_path / "tokenizer.json"
    bad.write_text('{"model": {"vocab": ', encoding="utf-8")
    services = make_services(codec, bad)
    install_model(services.store, tiny_bytes)
    window = MainWindow(services)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.engine.model_load_failed, timeout=30_000):
        window.start()
    boxes.assert_says("Could not load the model", "tokenizer.json", "not a valid")
    close_window(window)


# -- downloads --------------------------------------------------------------------------------------------
@pytest.fixture()
def hub() -> Any:
    with FakeHub() as server:
        yield server


def download_in_dialog(qtbot: Any, window: MainWindow, name: str) -> str:
    """Click Download for ``name`` in the model manager; returns how the task ended."""
    dialog = window.open_model_manager()
    ended: list[str] = []
    task = dialog.start_download(name)
    assert task is not None
    task.finished.connect(lambda *_: ended.append("finished"))
    task.failed.connect(lambda *_: ended.append("failed"))
    task.cancelled.connect(lambda *_: ended.append("cancelled"))
    qtbot.waitUntil(lambda: bool(ended) and dialog.task is None, timeout=30_000)
    return ended[0]


def test_tokenizer_that_fails_its_checksum(qtbot: Any, hub: FakeHub, codec: Any, tokenizer: Path,
                                           boxes: Boxes) -> None:
    world = serve_catalog(hub)
    store = ModelStore(endpoints=hub.endpoints, catalog=world.catalog)
    hub.corrupt = {"/tokenizer.json"}
    window = open_window(qtbot, make_services(codec, tokenizer, store=store), expect_model=False)
    assert download_in_dialog(qtbot, window, TOKENIZERS) == "failed"
    boxes.assert_says("Model manager", "tokenizer.json", "sha256", "damaged")
    assert not store.tokenizer_paths().phonemes.exists()
    assert not [p for p in files_under(store.root) if p.endswith(".part")]
    close_window(window)


def test_no_network(qtbot: Any, hub: FakeHub, codec: Any, tokenizer: Path, boxes: Boxes) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    world = serve_catalog(hub)
    store = ModelStore(endpoints=Endpoints(huggingface=base, github_raw=base, encodec=base, timeout=5),
                       catalog=world.catalog)
    window = open_window(qtbot, make_services(codec, tokenizer, store=store), expect_model=False)
    assert download_in_dialog(qtbot, window, DEFAULT_MODEL) == "failed"
    boxes.assert_says("Model manager", "cannot reach", "network")
    assert store.installed() == [] and window.banner.isVisible()
    close_window(window)


def interrupted_store(hub: FakeHub, tiny_bytes: bytes) -> tuple[ModelStore, Any]:
    """The catalog served by ``hub``, with everything but EnCodec installed (so a cut hits its file)."""
    world = serve_catalog(hub)
    store = ModelStore(endpoints=hub.endpoints, catalog=world.catalog)
    store.download(VOCOS)
    store.download(TOKENIZERS)
    for file in world.catalog[ENCODEC].files:  # fetched with Vocos, which needs it
        (store.folder_of(ENCODEC) / file.local_name).unlink(missing_ok=True)
    install_model(store, tiny_bytes, name=DEFAULT_MODEL)
    assert [m.entry for m in store.missing_files(DEFAULT_MODEL)] == [ENCODEC]
    return store, world


def test_download_interrupted_then_resumed(qtbot: Any, hub: FakeHub, codec: Any, tokenizer: Path,
                                           tiny_bytes: bytes, boxes: Boxes) -> None:
    store, world = interrupted_store(hub, tiny_bytes)
    [file] = world.catalog[ENCODEC].files
    final = store.folder_of(ENCODEC) / file.local_name
    window = open_window(qtbot, make_services(codec, tokenizer, store=store))
    hub.cut_after = 25_000
    assert download_in_dialog(qtbot, window, DEFAULT_MODEL) == "failed"  # only its EnCodec file is missing
    boxes.assert_says("Model manager", "interrupted", "download again to resume")
    assert not final.exists()
    boxes.shown.clear()

    hub.broken = False
    assert download_in_dialog(qtbot, window, DEFAULT_MODEL) == "finished"
    assert final.read_bytes() == world.content[f"{ENCODEC}/{file.local_name}"]
    assert hub.ranges(file.local_name)[-1] == "bytes=25000-"
    assert boxes.shown == [] and "is ready" in window._dialog.progress_label.text()
    assert_no_temp_files(store.root)
    close_window(window)


# -- export -----------------------------------------------------------------------------------------------
def export_to(window: MainWindow, monkeypatch: pytest.MonkeyPatch, target: Path) -> Path | None:
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *args, **kwargs: (str(target), "WAV audio (*.wav)")))
    window.output_panel.set_clip(tone(1.0), SR, title="A take", name="take")
    return export_and_wait(window.output_panel)  # the export runs on a background task


@pytest.mark.parametrize("fault", ["read-only", "missing", "full"])
def test_export(fault: str, tmp_path: Path, window: MainWindow, boxes: Boxes,
                monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "exports"
    if fault != "missing":
        folder.mkdir()
    if fault == "read-only":
        make_read_only(folder, monkeypatch)
    if fault == "full":
        disk_fills_up(monkeypatch)
    try:
        assert export_to(window, monkeypatch, folder / "take.wav") is None
    finally:
        if folder.exists():
            folder.chmod(0o755)
    words = {"read-only": ("read-only",), "missing": ("does not exist",), "full": ("disk is full",)}[fault]
    boxes.assert_says("Export failed", *words, str(folder))
    assert files_under(folder) == set()


# -- sound devices ----------------------------------------------------------------------------------------
def test_no_audio_device(qtbot: Any, codec: Any, tokenizer: Path, tiny_bytes: bytes, boxes: Boxes,
                         monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    factory = FakeStreamFactory(output_reason=NO_OUTPUT, input_reason=NO_INPUT)
    services = make_services(codec, tokenizer, factory=factory)
    install_model(services.store, tiny_bytes)
    window = open_window(qtbot, services)
    window.sampler_panel.set_settings(FAST)
    voice = window.voice_panel
    assert not voice.record_button.isEnabled() and voice.record_button.toolTip() == f"Cannot record: {NO_INPUT}"
    status, _take = generate_and_wait(qtbot, window, "No speakers here.")
    assert status == "finished"  # generating needs no sound card
    output = window.output_panel
    assert not output.play.isEnabled() and NO_OUTPUT in output.play.toolTip()
    window.play_action.trigger()  # Space: nothing happens, nothing breaks
    assert export_to(window, monkeypatch, tmp_path / "take.wav") == tmp_path / "take.wav"  # export still works
    assert boxes.shown == [] and factory.streams == []
    close_window(window)


def test_microphone_vanishes_mid_recording(qtbot: Any, codec: Any, tokenizer: Path, tiny_bytes: bytes,
                                           boxes: Boxes) -> None:
    factory = FakeStreamFactory(speed=10, source=tone(3.0), vanish_after_frames=SR // 2)
    services = make_services(codec, tokenizer, factory=factory)
    install_model(services.store, tiny_bytes)
    window = open_window(qtbot, services)
    window.sampler_panel.set_settings(FAST)
    voice = window.voice_panel
    qtbot.mouseClick(voice.record_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(boxes.shown), timeout=10_000)
    boxes.assert_says("Recording problem", "unplugged", "kept")
    assert boxes.only()[1] == VANISHED and voice.record_button.text() == "Record"
    (samples, _rate), = voice.prompts()
    assert len(samples) >= SR // 2 - 256 and np.abs(samples).max() > 0.01  # the audio so far is kept
    boxes.shown.clear()
    status, _take = generate_and_wait(qtbot, window, "With what was recorded.")
    assert status == "finished" and boxes.shown == []  # ... and usable as a voice
    close_window(window)
