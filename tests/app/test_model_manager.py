"""The model manager dialog over a real ModelStore (temporary folder) and an injected downloader.

The fake downloader has the store's ``download(name, *, progress, cancel)`` signature: it writes a
real tiny checkpoint where the store expects the model, in chunks, reporting bytes through the
engine's ``report()`` (which honours the cancel token), so the dialog's thread, progress bar and
Cancel are exercised for real without a network.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from valle_studio.app.model_manager import ModelManagerDialog, NameRole
from valle_studio.app.model_rows import model_rows
from valle_studio.app.settings import AppSettings
from valle_studio.engine.progress import CancelToken, report
from valle_studio.engine.store import DEFAULT_MODEL, ModelStore

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def tiny_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    from valle_studio.engine.debug import write_tiny_checkpoint

    path = write_tiny_checkpoint(tmp_path_factory.mktemp("tiny") / "tiny.sft", dim=32, heads=2, layers=1)
    return path.read_bytes()


class FakeDownloader:
    """Writes ``data`` as the model's checkpoint in 16 chunks; ``hold`` pauses it after the first one."""

    def __init__(self, store: ModelStore, data: bytes) -> None:
        self.store, self.data = store, data
        self.hold: threading.Event | None = None
        self.first_chunk = threading.Event()
        self.calls: list[str] = []

    def download(self, name: str, *, progress: Any = None, cancel: CancelToken | None = None) -> list[Path]:
        self.calls.append(name)
        folder = self.store.folder_of(name)
        folder.mkdir(parents=True, exist_ok=True)
        part = folder / "model.sft.part"
        total, chunk = len(self.data), len(self.data) // 16 + 1
        with open(part, "wb") as handle:
            for start in range(0, total, chunk):
                handle.write(self.data[start:start + chunk])
                report(progress, cancel, "downloading model.sft", min(total, start + chunk), total)
                self.first_chunk.set()
                if self.hold is not None:
                    self.hold.wait(10)
                    report(progress, cancel, "downloading model.sft", min(total, start + chunk), total)
        final = folder / "model.sft"
        part.replace(final)
        return [final]


@pytest.fixture()
def store(tmp_path: Path) -> ModelStore:
    return ModelStore(tmp_path / "models")


@pytest.fixture()
def dialog(qtbot: Any, store: ModelStore, tmp_path: Path, tiny_bytes: bytes) -> ModelManagerDialog:
    settings = AppSettings.from_file(tmp_path / "s.ini")
    box = ModelManagerDialog(store, settings, downloader=FakeDownloader(store, tiny_bytes))
    qtbot.addWidget(box)
    box.show()
    yield box
    box.shutdown()


def test_lists_catalog_models_with_licences(dialog: ModelManagerDialog, store: ModelStore) -> None:
    names = [dialog.tree.topLevelItem(i).data(0, NameRole) for i in range(dialog.tree.topLevelItemCount())]
    assert names == store.available() + store.available_loras() and DEFAULT_MODEL in names  # LoRAs after models
    assert dialog.selected_name() == DEFAULT_MODEL
    assert dialog.tree.topLevelItem(0).text(1) == "Available to download"
    html = dialog.details.toPlainText()
    assert "Licence terms" in html and "CC-BY-NC" in html  # EnCodec's non-commercial terms are shown
    assert dialog.download.isEnabled() and not dialog.remove.isEnabled() and not dialog.cancel.isEnabled()


def test_download_with_progress(qtbot: Any, dialog: ModelManagerDialog, store: ModelStore) -> None:
    values: list[int] = []
    dialog.progress.valueChanged.connect(values.append)
    with qtbot.waitSignal(dialog.models_changed, timeout=10_000):
        dialog.download.click()
        assert dialog.progress.isVisible() and dialog.cancel.isEnabled() and not dialog.download.isEnabled()
    assert dialog.downloader.calls == [DEFAULT_MODEL]
    assert values and values[-1] == 1000
    assert store.installed() == [DEFAULT_MODEL]
    assert store.path_of(DEFAULT_MODEL).read_bytes() == dialog.downloader.data
    assert dialog.tree.topLevelItem(0).text(1).startswith("Installed")
    # The fake fetched the weights only, so the line names what the model still lacks (not "is ready").
    assert dialog.progress_label.text().startswith(f"{DEFAULT_MODEL} still needs: Phoneme tokenizer")
    assert not dialog.progress.isVisible()
    assert dialog.remove.isEnabled()


def test_cancel_download(qtbot: Any, dialog: ModelManagerDialog, store: ModelStore) -> None:
    dialog.downloader.hold = threading.Event()
    finished: list[Any] = []
    dialog.models_changed.connect(lambda: finished.append(1))
    task = dialog.start_download()
    assert task is not None and dialog.downloader.first_chunk.wait(10)
    with qtbot.waitSignal(task.cancelled, timeout=10_000):
        dialog.cancel.click()
        dialog.downloader.hold.set()
    assert finished == [] and store.installed() == []
    assert "Cancelled" in dialog.progress_label.text()
    assert dialog.download.isEnabled() and not dialog.cancel.isEnabled()


def test_import_local_file_and_choose_default(qtbot: Any, dialog: ModelManagerDialog, store: ModelStore,
                                              tmp_path: Path, tiny_bytes: bytes) -> None:
    source = tmp_path / "my-voice-model.sft"
    source.write_bytes(tiny_bytes)
    with qtbot.waitSignal(dialog.models_changed, timeout=10_000):
        dialog.import_path(source)
    assert "my-voice-model" in store.installed()
    assert dialog.selected_name() == "my-voice-model"
    assert store.default_model == "my-voice-model"  # the first installed model becomes the default
    assert "Imported by you" in dialog.details.toPlainText()

    other = tmp_path / "second.sft"
    other.write_bytes(tiny_bytes)
    with qtbot.waitSignal(dialog.models_changed, timeout=10_000):
        dialog.import_path(other)
    assert store.default_model == "my-voice-model"
    dialog.select("second")
    with qtbot.waitSignal(dialog.choice_changed, timeout=2000):
        dialog.make_default.click()
    assert store.default_model == "second"
    assert [r.name for r in model_rows(store) if r.installed] == ["my-voice-model", "second"]

    dialog.remove_selected(confirm=False)
    assert "second" not in store.installed()


def test_bad_import_is_reported(qtbot: Any, dialog: ModelManagerDialog, tmp_path: Path) -> None:
    junk = tmp_path / "junk.sft"
    junk.write_bytes(b"not a checkpoint")
    task = dialog.import_path(junk)
    with qtbot.waitSignal(task.failed, timeout=10_000):
        pass
    # inline, in the manager (no dialog to click away): one sentence naming the file, the rest behind Details
    assert dialog.error.summary().startswith("Could not import junk.sft")
    assert "junk.sft" in dialog.error.details.toPlainText()


def test_device_and_precision_choices(qtbot: Any, dialog: ModelManagerDialog, monkeypatch: pytest.MonkeyPatch) -> None:
    from valle_studio.app import model_manager

    monkeypatch.setattr(model_manager, "cpu_bf16_available", lambda: False)  # a CPU without native bfloat16
    dialog.set_devices(["cuda", "cpu"])
    assert [dialog.device.itemData(i) for i in range(dialog.device.count())] == ["auto", "cuda", "cpu"]
    with qtbot.waitSignal(dialog.choice_changed):
        dialog.device.setCurrentIndex(dialog.device.findData("cuda"))
    with qtbot.waitSignal(dialog.choice_changed):
        dialog.precision.setCurrentIndex(dialog.precision.findData("bfloat16"))
    assert (dialog.settings.device, dialog.settings.precision) == ("cuda", "bfloat16")
    dialog.device.setCurrentIndex(dialog.device.findData("cpu"))
    model = dialog.precision.model()
    half = dialog.precision.findData("float16")
    assert not model.item(half).isEnabled() and "GPU" in model.item(half).toolTip()
    assert dialog.settings.precision == "auto"  # half precision is not kept on the CPU
    dialog.set_devices(["cpu"])
    assert dialog.device.currentData() == "cpu"


def test_cpu_precisions_say_what_they_cost_here(qtbot: Any, dialog: ModelManagerDialog,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.engine.bench_records import cpu_record
    from valle_studio.app import model_manager
    from valle_studio.engine.bench.record import save_record

    save_record(cpu_record(bf16_speedup=1.8))
    monkeypatch.setattr(model_manager, "cpu_bf16_available", lambda: True)
    dialog.set_devices(["cpu"])
    dialog.device.setCurrentIndex(dialog.device.findData("cpu"))
    model = dialog.precision.model()
    tips = {key: model.item(dialog.precision.findData(key)) for key in ("auto", "bfloat16", "int8", "float16")}
    assert "bfloat16, because this CPU computes it natively" in tips["auto"].toolTip()
    assert tips["bfloat16"].isEnabled() and "97% of AR steps" in tips["bfloat16"].toolTip()
    assert tips["int8"].isEnabled() and "logit error 8.5%" in tips["int8"].toolTip()
    assert not tips["float16"].isEnabled()
    with qtbot.waitSignal(dialog.choice_changed):
        dialog.precision.setCurrentIndex(dialog.precision.findData("int8"))
    assert dialog.settings.precision == "int8"
    dialog.set_devices(["cuda", "cpu"])
    with qtbot.waitSignal(dialog.choice_changed):
        dialog.device.setCurrentIndex(dialog.device.findData("cuda"))
    assert not model.item(dialog.precision.findData("int8")).isEnabled()
    assert dialog.settings.precision == "auto"  # int8 is not kept on a GPU


def test_embedding_sums_field_follows_the_selected_installed_model(qtbot: Any, dialog: ModelManagerDialog,
                                                                  store: ModelStore, tmp_path: Path) -> None:
    from valle_studio.engine.debug import write_tiny_checkpoint
    from valle_studio.engine.model import load_model

    path = write_tiny_checkpoint(store.root / "mine" / "model.sft", capabilities=("ar", "nar"), global_step=5)
    dialog.refresh(select="mine")
    field = dialog.embedding_sums
    assert field.isEnabled() and field.currentData() == "auto"
    assert load_model(path).config.legacy_summing  # auto: a trained file without a length head
    with qtbot.waitSignal(dialog.choice_changed, timeout=2000):  # the window reloads with the new rule
        field.setCurrentIndex(field.findData("fixed"))
    assert store.embedding_sums("mine") == "fixed" and not load_model(path).config.legacy_summing
    dialog.select("ar+nar-llama-8")  # not installed: nothing to choose
    assert not field.isEnabled()
    dialog.select("mine")
    assert field.currentData() == "fixed"
