"""Issue 17, the model side: imported models get their missing parts, errors are one sentence plus Details,
the Modality follows the loaded model, models are named by their catalog ids, the first start opens the manager.

Real store (temporary folder), real tiny checkpoints and tokenizers (``engine.debug``), a random codec saved in
the published files' formats, the app's own loader (``services.store_loader``) and a download server that
cannot be reached (a closed local port), so nothing here touches the network.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QMessageBox

from tests.app.test_generation import FAST, close_window
from tests.audio.fake_stream import FakeStreamFactory
from valle_studio.app.audio_bridge import PlaybackController, RecordingController
from valle_studio.app.model_manager import ModelManagerDialog, NameRole
from valle_studio.app.services import AppServices, store_loader
from valle_studio.app.settings import AppSettings
from valle_studio.app.widgets.error_dialog import ErrorDialog, show_error, summary_of
from valle_studio.engine.store import DEFAULT_MODEL, Endpoints, ModelStore
from valle_studio.studio.history import History
from valle_studio.studio.voices import VoiceLibrary

pytestmark = pytest.mark.gui
SHOTS = Path(os.environ.get("VALLE_SHOTS", "/work/shots/models"))
MISSING = ("Phoneme tokenizer", "EnCodec codec", "Vocos vocoder")


def shot(widget: Any, name: str) -> None:
    """Save a screenshot to look at (only where the shots folder exists)."""
    if SHOTS.is_dir():
        from PySide6.QtWidgets import QApplication

        for _ in range(3):  # let pending layout requests run first
            QApplication.processEvents()
        widget.grab().save(str(SHOTS / f"{name}.png"))


@pytest.fixture(scope="module")
def tiny_sft(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from valle_studio.engine.debug import write_tiny_checkpoint

    return write_tiny_checkpoint(tmp_path_factory.mktemp("tiny") / "my-voice.sft")


@pytest.fixture(scope="module")
def codec_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A random EnCodec + Vocos saved as the published files (what a user would import by hand)."""
    import torch

    from valle_studio.engine.codec import EncodecVocosCodec
    from valle_studio.engine.codec.builders import DEFAULT_VOCOS_CONFIG

    codec = EncodecVocosCodec.random(seed=0)
    folder = tmp_path_factory.mktemp("codec")
    torch.save(codec.encodec_model.state_dict(), folder / "encodec_24khz-d7cc33bc.th")
    assert codec.vocos_model is not None
    torch.save({k: v for k, v in codec.vocos_model.state_dict().items()
                if not k.startswith("feature_extractor.encodec.")}, folder / "pytorch_model.bin")
    (folder / "config.yaml").write_text(yaml.safe_dump(DEFAULT_VOCOS_CONFIG))
    return {"encodec": folder / "encodec_24khz-d7cc33bc.th", "config": folder / "config.yaml",
            "weights": folder / "pytorch_model.bin"}


def unreachable_store(root: Path) -> ModelStore:
    """A store whose download servers refuse connections (a closed port: the 'offline' case, for real)."""
    dead = "http://127.0.0.1:9"
    return ModelStore(root, endpoints=Endpoints(huggingface=dead, github_raw=dead, encodec=dead, timeout=2.0))


@pytest.fixture()
def manager(qtbot: Any, tmp_path: Path) -> ModelManagerDialog:
    store = unreachable_store(tmp_path / "models")
    box = ModelManagerDialog(store, AppSettings.from_file(tmp_path / "s.ini"))
    qtbot.addWidget(box)
    box.show()
    yield box
    box.shutdown()


def import_model(qtbot: Any, dialog: ModelManagerDialog, source: Path) -> str:
    with qtbot.waitSignal(dialog.models_changed, timeout=20_000):
        dialog.import_path(source)
    return str(dialog.selected_name())


def add_part(qtbot: Any, dialog: ModelManagerDialog, key: str, paths: list[Path]) -> None:
    with qtbot.waitSignal(dialog.models_changed, timeout=30_000):
        dialog.import_part(key, [str(p) for p in paths])


# -- 1. an imported model is no dead end -------------------------------------------------------------------
def test_imported_model_lists_its_missing_parts_and_offers_them(qtbot: Any, manager: ModelManagerDialog,
                                                                tiny_sft: Path) -> None:
    name = import_model(qtbot, manager, tiny_sft)
    row = manager.rows[name]
    assert row.status == "Imported; missing: tokenizer, EnCodec, Vocos"  # not "5 more file(s) to download"
    assert manager.download.isEnabled() and "missing parts" in manager.download.text()  # was greyed out
    # The status line says so too (it used to say "is ready").
    assert manager.progress_label.text() == f"{name} still needs: Phoneme tokenizer, EnCodec codec, Vocos vocoder."
    text = manager.details.toPlainText()
    for title in MISSING:
        assert f"✘ {title}" in text
    assert "✔ Model weights: imported from a file" in text
    html = manager.details.toHtml()
    assert 'href="fetch:tokenizers"' in html and 'href="import:tokenizers"' in html
    shot(manager, "imported-model-missing-parts")


def test_removing_an_imported_model_tells_the_truth(qtbot: Any, manager: ModelManagerDialog, tiny_sft: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda _p, _t, text, *a: asked.append(text) or QMessageBox.StandardButton.No))
    import_model(qtbot, manager, tiny_sft)
    manager.remove_selected()
    assert "cannot be downloaded again" in asked[0] and "download it again later" not in asked[0]
    assert "my-voice" in manager.store.installed()  # answered No
    manager.select(DEFAULT_MODEL)
    manager.remove_selected()
    assert "download it again later" in asked[1]  # a catalog model can come back


def test_an_installed_tokenizer_is_used_where_it_fits(qtbot: Any, manager: ModelManagerDialog, tiny_sft: Path,
                                                      tiny_tokenizers: Path, tmp_path: Path) -> None:
    store = manager.store
    assert isinstance(store, ModelStore)
    shared = store.tokenizer_paths().phonemes
    shared.parent.mkdir(parents=True)
    shared.write_bytes((tiny_tokenizers / "tokenizer.json").read_bytes())  # installed with another model
    name = import_model(qtbot, manager, tiny_sft)
    part = next(p for p in manager.rows[name].parts if p.key == "tokenizers")
    assert part.present and "fits" in part.note
    data = json.loads(shared.read_text(encoding="utf-8"))
    data["model"]["vocab"]["zz"] = 400  # beyond the tiny model's 256-row phoneme table
    shared.write_text(json.dumps(data), encoding="utf-8")
    manager.refresh(select=name)
    part = next(p for p in manager.rows[name].parts if p.key == "tokenizers")
    assert not part.present and "does not fit" in part.note and not part.fetchable


def test_imported_model_generates_once_its_parts_are_added(qtbot: Any, tmp_path: Path, tiny_sft: Path,
                                                           tiny_tokenizers: Path,
                                                           codec_files: dict[str, Path]) -> None:
    from valle_studio.app.main_window import MainWindow

    store = unreachable_store(tmp_path / "models")
    factory = FakeStreamFactory(speed=20.0)
    services = AppServices(
        settings=AppSettings.from_file(tmp_path / "settings.ini"), history=History(tmp_path / "history"),
        store=store, loader=store_loader(store), playback=PlaybackController(stream_factory=factory),
        recording=RecordingController(stream_factory=factory), voices=VoiceLibrary(tmp_path / "voices"),
    )
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.show()
    window.start()
    dialog = window._dialog  # the first start opened the manager
    assert dialog is not None and dialog.isVisible()
    # Imported alone, the model fails to load: one sentence naming the missing parts (no "--tokenizer PATH")
    with qtbot.waitSignal(window.engine.model_load_failed, timeout=60_000):
        name = import_model(qtbot, dialog, tiny_sft)
    qtbot.waitUntil(lambda: bool(window.findChildren(ErrorDialog)), timeout=5000)
    error = window.findChildren(ErrorDialog)[0]
    assert error.summary.startswith(f"{name} cannot be loaded yet: it still needs its phoneme tokenizer")
    assert "--tokenizer" not in error.summary and "--tokenizer" in error.details_text  # the engine's words: Details
    assert not error.details.isVisible() and error.action_button is not None
    shot(error, "imported-model-load-error")
    error.close()

    with qtbot.waitSignal(window.engine.model_loaded, timeout=60_000):  # with a tokenizer it loads
        add_part(qtbot, dialog, "tokenizers", [tiny_tokenizers / "tokenizer.json",
                                               tiny_tokenizers / "text_tokenizer.json"])
    assert (store.root / name / "tokenizer.json").is_file()  # the model's own, beside its weights
    assert window.model_label.text() == f"Model: {name}"
    assert dialog.rows[name].status == "Imported; missing: EnCodec, Vocos"

    window.text_panel.set_text("Hello there.")
    window.text_panel.set_split_mode("none")
    window.sampler_panel.set_settings(FAST)
    with qtbot.waitSignal(window.engine.job_failed, timeout=60_000):  # no codec yet: one clear sentence
        window.generate_action.trigger()
    qtbot.waitUntil(lambda: bool(window.findChildren(ErrorDialog)), timeout=5000)
    error = window.findChildren(ErrorDialog)[-1]
    assert error.summary.startswith("Generation failed: the audio codec (EnCodec and Vocos) is missing")
    error.close()

    add_part(qtbot, dialog, "encodec-24khz", [codec_files["encodec"]])
    add_part(qtbot, dialog, "vocos-encodec-24khz", [codec_files["config"], codec_files["weights"]])
    assert dialog.rows[name].complete and dialog.rows[name].status.startswith("Imported")
    assert store.missing_files(name) == []
    with qtbot.waitSignal(window.take_added, timeout=120_000) as added:  # the same loaded model, now with a codec
        window.generate_action.trigger()
    take = added.args[0]
    assert take.model == name and take.duration_s > 0
    window.resize(1280, 780)
    shot(window, "imported-model-generated")
    dialog.raise_()
    shot(dialog, "imported-model-complete")
    close_window(window)


# -- 2. errors: one sentence plus Details, the manager keeps its layout ------------------------------------------
def test_failed_download_is_one_sentence_with_details_and_keeps_the_layout(qtbot: Any, manager: ModelManagerDialog
                                                                           ) -> None:
    manager.resize(760, 620)
    qtbot.wait(50)
    tree, pane = manager.tree.geometry(), manager.error.stack.geometry()
    task = manager.start_download(DEFAULT_MODEL)
    assert task is not None
    with qtbot.waitSignal(task.failed, timeout=60_000):
        pass
    summary = manager.error.summary()
    assert summary.startswith(f"Could not download {DEFAULT_MODEL}: the download server cannot be reached")
    assert "http" not in summary and "/" not in summary.replace("ar+nar", "") and summary.count(". ") == 0
    details = manager.error.details.toPlainText()
    assert "127.0.0.1:9" in details  # the technical text is kept, behind Details
    assert not manager.error.expanded()
    qtbot.wait(50)
    assert manager.tree.geometry() == tree and manager.error.stack.geometry() == pane  # nothing squashed
    shot(manager, "download-failed-collapsed")
    manager.error.toggle.click()
    assert manager.error.expanded() and manager.error.stack.currentWidget() is manager.error.details
    qtbot.wait(50)
    assert manager.tree.geometry() == tree and manager.error.stack.geometry() == pane
    shot(manager, "download-failed-expanded")
    manager.error.dismiss.click()
    assert manager.error.summary() == "" and manager.status_stack.currentWidget() is manager.progress_label


def test_failed_part_download_from_its_link(qtbot: Any, manager: ModelManagerDialog, tiny_sft: Path) -> None:
    name = import_model(qtbot, manager, tiny_sft)
    manager.details.anchorClicked.emit(QUrl("fetch:tokenizers"))
    assert manager.task is not None
    with qtbot.waitSignal(manager.task.failed, timeout=60_000):
        pass
    assert manager.error.summary().startswith("Could not download the Phoneme tokenizer: the download server")
    assert manager.selected_name() == name


def test_error_dialog_collapses_its_details(qtbot: Any) -> None:
    clicked: list[int] = []
    dialog = show_error(None, "Could not do it: the disk is full.", "OSError 28 at /tmp/x\nmore lines",
                        title="Test", action=("Try again", lambda: clicked.append(1)))
    qtbot.addWidget(dialog)
    assert dialog.isVisible() and dialog.windowTitle() == "Test"
    assert dialog.label.text() == "Could not do it: the disk is full." and not dialog.details.isVisible()
    dialog.toggle.click()
    assert dialog.details.isVisible() and "OSError 28" in dialog.details.toPlainText()
    assert dialog.action_button is not None
    dialog.action_button.click()
    assert clicked == [1]


def test_summary_of_keeps_urls_and_paths_out() -> None:
    long = ("cannot reach https://huggingface.co to download ecker/vall-e/models/ckpt/x/fp32.sft (revision main) "
            "(ConnectError: [Errno 111] Connection refused). Check the network connection or proxy")
    assert summary_of(long, "Could not download x") == ("Could not download x: the download server cannot be "
                                                       "reached; check the network connection (what was already "
                                                       "fetched is kept and the download resumes next time).")
    assert summary_of("weird thing (from https://a/b) happened. More.", "Failed") == "Failed: weird thing happened."


# -- 3. the Modality follows the loaded model ---------------------------------------------------------------------
def test_modality_follows_the_model_and_a_restored_impossible_choice_falls_back(
        qtbot: Any, tmp_path: Path, tiny_tokenizer: Path) -> None:
    from tests.app.test_generation import make_services, open_window
    from valle_studio.engine.codec import EncodecVocosCodec
    from valle_studio.engine.debug import write_tiny_checkpoint

    write_tiny_checkpoint(tmp_path / "models" / "tiny" / "model.sft", capabilities=("ar", "nar"))  # no len head
    services = make_services(tmp_path, tiny_tokenizer, EncodecVocosCodec.random(seed=0, with_vocos=False))
    services.settings.set_generation(FAST.replace(modality="nar-len"))  # chosen before, with another model
    window = open_window(qtbot, services)
    combo = window.sampler_panel.modality
    assert combo.currentData() == "auto"  # not the impossible NAR-len
    item = combo.model().item(combo.findData("nar-len"))
    assert not item.isEnabled() and "no length head" in item.toolTip()
    assert combo.model().item(combo.findData("ar+nar")).isEnabled()
    assert "cannot generate with NAR-len" in window.statusBar().currentMessage()
    assert window.generation_settings().modality == "auto"
    close_window(window)


# -- 8. one name per model: the catalog id ------------------------------------------------------------------------
def test_models_are_named_by_their_catalog_ids(manager: ModelManagerDialog) -> None:
    item = manager.tree.topLevelItem(0)
    assert item.data(0, NameRole) == DEFAULT_MODEL and item.text(0) == DEFAULT_MODEL  # not "VALL-E AR+NAR+..."
    assert "VALL-E AR+NAR+NAR-len" in item.toolTip(0)  # the long name, as secondary text
    shown = [manager.tree.topLevelItem(i).text(0) for i in range(manager.tree.topLevelItemCount())]
    assert "lora-glados" in shown
    assert manager.details.toPlainText().startswith(DEFAULT_MODEL)


# -- 7 (part). the first start opens the model manager -----------------------------------------------------------
def test_first_start_opens_the_model_manager_beside_the_banner(qtbot: Any, tmp_path: Path,
                                                               tiny_tokenizer: Path) -> None:
    from tests.app.test_generation import make_services
    from valle_studio.app.main_window import MainWindow
    from valle_studio.engine.codec import EncodecVocosCodec

    window = MainWindow(make_services(tmp_path, tiny_tokenizer, EncodecVocosCodec.random(seed=0, with_vocos=False)))
    qtbot.addWidget(window)
    window.show()
    window.start()  # returns at once: the manager is not modal
    assert window._dialog is not None and window._dialog.isVisible() and not window._dialog.isModal()
    assert window.banner.isVisible() and "model manager" in window.generate_action.toolTip()
    close_window(window)


def test_cli_names_the_missing_parts_of_an_imported_model(tiny_sft: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from valle_studio import cli

    assert cli.main(["models", "import", str(tiny_sft), "--name", "mine"]) == 0
    assert "imported as mine, missing: tokenizer, EnCodec, Vocos" in capsys.readouterr().err
    assert cli.main(["models", "list"]) == 0
    assert "mine                         imported, missing: tokenizer, EnCodec, Vocos" in capsys.readouterr().out
