"""The model manager: installed and downloadable models and LoRA voice adapters, download/import/remove,
default model, device and precision, the embedding-sum rule of each installed model, and each one's licence
terms. LoRAs are listed after the models; one is applied in the Studio tab's LoRA control, never loaded as a
model, and importing a ``lora.sft`` installs it as a LoRA (recognised by its tensors).

It takes the model store in ``__init__`` (the real :class:`~valle_studio.engine.store.ModelStore` or
a test double with the same methods) and, optionally, a ``downloader``: any object with the store's
``download(name, *, progress, cancel)`` signature (the store itself by default). Downloads and
imports run as :class:`~valle_studio.app.jobs.background.BackgroundTask` s, so the dialog stays
responsive and Cancel works mid-file. With an ``engine`` it also shows the devices found and, while a
job holds the engine, that changing the model, device or precision stops it.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from valle_studio.app.embedding_sums_field import EmbeddingSumsField
from valle_studio.app.jobs.background import BackgroundTask, TaskFunction
from valle_studio.app.jobs.controller import EngineController
from valle_studio.app.jobs.records import EngineState
from valle_studio.app.model_rows import (
    PRECISIONS,
    cpu_bf16_available,
    device_label,
    installed_names,
    model_rows,
    parts_html,
    precision_offer,
    remove_question,
)
from valle_studio.app.settings import AppSettings
from valle_studio.app.widgets.error_dialog import ElidingLabel, InlineError, summary_of
from valle_studio.engine.bench.choice import saved_benchmark
from valle_studio.engine.bench.recommend import auto_precision
from valle_studio.engine.interfaces import DownloaderProtocol, ModelStoreProtocol
from valle_studio.engine.progress import Progress
from valle_studio.engine.store.validate import is_lora_file

log = logging.getLogger(__name__)

NameRole = Qt.ItemDataRole.UserRole + 1


class ModelManagerDialog(QDialog):
    """See the module docstring. ``engine`` (optional) supplies the devices found on this machine."""

    models_changed = Signal()  # installed models changed (download, import, removal)
    choice_changed = Signal()  # default model, device or precision changed: reload

    def __init__(self, store: ModelStoreProtocol, settings: AppSettings, engine: EngineController | None = None,
                 parent: QWidget | None = None, *, downloader: DownloaderProtocol | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Model manager")
        self.setObjectName("modelManager")
        self.store = store
        self.settings = settings
        self.engine = engine
        self.downloader: DownloaderProtocol = downloader if downloader is not None else store
        self.task: BackgroundTask | None = None
        self._task_name, self._task_doing, self._task_part = "", "", False
        self._available_devices: list[str] = ["cpu"]

        self.tree = QTreeWidget()
        self.tree.setObjectName("modelList")
        self.tree.setHeaderLabels(["Model", "Status", "Size", "Default"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAccessibleName("Models")
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.details = QTextBrowser()
        self.details.setObjectName("modelDetails")
        self.details.setOpenLinks(False)  # its links fetch or import a missing part (_on_link); web links open outside
        self.details.setAccessibleName("Model description, the parts it needs and licence terms")
        self.details.anchorClicked.connect(self._on_link)
        # A failure is one sentence on the status line; its details replace the description pane while open,
        # so neither the list nor the pane ever changes size (error_dialog.InlineError).
        self.error = InlineError(self.details)

        self.download = QPushButton("&Download")
        self.cancel = QPushButton("&Cancel download")
        self.cancel.setEnabled(False)
        self.import_button = QPushButton("&Import file…")
        self.import_button.setToolTip("Add a VALL-E model file (.sft or .pth) you already have.")
        self.remove = QPushButton("&Remove")
        self.remove.setToolTip("Delete the selected model's files from this computer.")
        self.make_default = QPushButton("Use as de&fault")
        self.make_default.setToolTip("Load this model when VALL-E Studio starts.")
        buttons = QHBoxLayout()
        for button in (self.download, self.cancel, self.import_button, self.remove, self.make_default):
            buttons.addWidget(button)
        buttons.addStretch(1)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setAccessibleName("Download progress")
        self.progress_label = ElidingLabel("")
        self.progress_label.setObjectName("downloadStatus")
        self.progress.setVisible(False)
        self.status_stack = QStackedWidget()  # one line: the status or the inline error, never both
        self.status_stack.addWidget(self.progress_label)
        self.status_stack.addWidget(self.error)
        self.status_stack.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.error.dismissed.connect(lambda: self.status_stack.setCurrentWidget(self.progress_label))

        self.device = QComboBox()
        self.device.setAccessibleName("Device")
        self.device.setToolTip("Where the model runs. A GPU is many times faster than the CPU.")
        self.precision = QComboBox()
        self.precision.setAccessibleName("Precision")
        self.precision.setToolTip("Number format of the weights. On the CPU, bfloat16 where the CPU has it "
                                  "natively and int8 (faster, less exact); float16 needs a GPU. Hover over a "
                                  "choice for what it costs here.")
        for key, label in PRECISIONS.items():
            self.precision.addItem(label, key)
        form = QFormLayout()
        device_label_widget = QLabel("De&vice")
        device_label_widget.setBuddy(self.device)
        precision_label_widget = QLabel("&Precision")
        precision_label_widget.setBuddy(self.precision)
        form.addRow(device_label_widget, self.device)
        form.addRow(precision_label_widget, self.precision)
        self.embedding_sums = EmbeddingSumsField(store)
        sums_label_widget = QLabel("&Embedding sums")
        sums_label_widget.setBuddy(self.embedding_sums)
        form.addRow(sums_label_widget, self.embedding_sums)

        self.busy_note = QLabel("")
        self.busy_note.setObjectName("engineBusyNote")
        self.busy_note.setWordWrap(True)
        self.busy_note.setVisible(False)

        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.close)

        layout = QVBoxLayout(self)
        layout.addWidget(self.tree, 3)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status_stack)
        layout.addWidget(QLabel("About the selected model, the parts it needs and its licence terms:"))
        layout.addWidget(self.error.stack, 2)
        layout.addLayout(form)
        layout.addWidget(self.busy_note)
        layout.addWidget(close)
        self.resize(760, 620)

        self.tree.currentItemChanged.connect(self._on_selection)
        self.download.clicked.connect(self.start_download)
        self.cancel.clicked.connect(self.cancel_task)
        self.import_button.clicked.connect(self.ask_import)
        self.remove.clicked.connect(self.remove_selected)
        self.make_default.clicked.connect(self.set_default_selected)
        self.set_devices(list(engine.devices) if engine is not None else ["cpu"])
        if engine is not None:
            engine.devices_changed.connect(self.set_devices)
            engine.model_loaded.connect(self._on_model_loaded)
            engine.state_changed.connect(self._on_engine_state)
            self._on_engine_state(engine.state)
        self.device.currentIndexChanged.connect(self._on_device)
        self.precision.currentIndexChanged.connect(self._on_precision)
        self.embedding_sums.chosen.connect(lambda *_: self.choice_changed.emit())  # reload with the new rule
        self.refresh()

    # -- list ----------------------------------------------------------------------------------
    def refresh(self, select: str | None = None) -> None:
        """Re-read the store and rebuild the list, keeping (or moving) the selection."""
        keep = select or self.selected_name()
        self.rows = {row.name: row for row in model_rows(self.store)}
        default = self._default()
        self.tree.clear()
        spec = self.engine.spec if self.engine is not None else None
        in_use = spec.model if spec is not None else None
        for row in self.rows.values():
            status = f"{row.status} · in use" if row.name == in_use else row.status
            star = "★" if row.name == default and row.installed else ""
            # The catalog id, as the README, the CLI and the status bar name it; the long name in the tooltip.
            item = QTreeWidgetItem([row.name, status, row.size, star])
            item.setData(0, NameRole, row.name)
            item.setToolTip(0, f"{row.title}: {row.description}" if row.title != row.name else row.description)
            item.setToolTip(1, status)
            item.setToolTip(3, "Loaded when VALL-E Studio starts" if star else "")
            self.tree.addTopLevelItem(item)
            if row.name == keep or (keep is None and row.name == default):
                self.tree.setCurrentItem(item)
        first = self.tree.topLevelItem(0)  # None when the list is empty
        if self.tree.currentItem() is None and first is not None:
            self.tree.setCurrentItem(first)
        self._update_buttons()

    def _on_model_loaded(self, *_: object) -> None:
        self.refresh()  # show which model is in use

    def _on_engine_state(self, state: EngineState) -> None:
        """Say up front that a model change now stops the work that holds the engine."""
        active = state.active
        if active is not None:
            self.busy_note.setText(f"The engine is busy with {active.label}: changing the default model, "
                                   "the device or the precision now stops it.")
        self.busy_note.setVisible(active is not None)

    def selected_name(self) -> str | None:
        item = self.tree.currentItem()
        return None if item is None else str(item.data(0, NameRole))

    def select(self, name: str) -> None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item is not None and item.data(0, NameRole) == name:
                self.tree.setCurrentItem(item)
                return

    def _default(self) -> str:
        try:
            return str(self.store.default_model)
        except Exception:
            return ""

    def _on_selection(self, *_: object) -> None:
        name = self.selected_name()
        self.details.setHtml(self._details_html(name) if name else "")
        row = self.rows.get(name) if name else None
        self.embedding_sums.show_model(name if row is not None and row.installed else None)
        self._update_buttons()

    def _details_html(self, name: str) -> str:
        row = self.rows.get(name)
        if row is None:
            return ""
        parts = [f"<h3>{html.escape(row.name)}</h3>"]
        if row.title != row.name:
            parts.append(f"<p><i>{html.escape(row.title)}</i></p>")
        parts.append(f"<p><b>Status:</b> {html.escape(row.status)}"
                     + (f" · <b>Size:</b> {html.escape(row.size)}" if row.size else "") + "</p>")
        if row.installed and row.parts:
            parts.append(parts_html(row))  # first: what is missing and the way to add it, without scrolling
        parts.append(f"<p>{html.escape(row.description)}</p>")
        try:
            terms = list(self.store.licences(name))
        except Exception as exc:
            terms = [("Licence", f"unknown ({exc})")]
        parts.append("<p><b>Licence terms</b> (this model and the files it needs):</p><ul>")
        parts += [f"<li><b>{html.escape(title)}:</b> {html.escape(text)}</li>" for title, text in terms]
        parts.append("</ul>")
        return "".join(parts)

    def _update_buttons(self) -> None:
        name = self.selected_name()
        row = self.rows.get(name) if name else None
        busy = self.task is not None
        # An imported model cannot be fetched itself, but the parts it lacks can (tokenizer, codec, vocoder).
        can_fetch = bool(row and ((row.in_catalog and not row.installed) or row.missing))
        self.download.setEnabled(can_fetch and not busy)
        self.download.setText("&Download missing parts" if row is not None and row.installed else "&Download")
        if row is not None and row.installed and not row.missing:
            self.download.setToolTip("Everything this model needs is already installed." if row.complete else
                                     "What is missing cannot be downloaded: import it (see the list below).")
        elif row is not None and row.installed:
            lacking = ", ".join(part.title for part in row.missing_parts) or f"{row.missing} file(s)"
            self.download.setToolTip(f"Download what this model still needs: {lacking} (resumes if interrupted).")
        else:
            self.download.setToolTip("Download the selected model and every file it needs "
                                     "(resumes if interrupted).")
        self.cancel.setEnabled(busy)
        self.import_button.setEnabled(not busy)
        self.remove.setEnabled(bool(row and row.installed) and not busy)
        self.make_default.setEnabled(bool(row and row.installed and not row.lora) and name != self._default())
        self.make_default.setToolTip("A LoRA is applied in the Studio tab (LoRA), not loaded as a model."
                                     if row is not None and row.lora else "Load this model when VALL-E Studio starts.")

    # -- download / import ---------------------------------------------------------------------
    def start_download(self, name: str | None = None) -> BackgroundTask | None:
        """Download ``name`` (default: the selection) in the background."""
        name = name or self.selected_name()
        if not name or self.task is not None:
            return None
        downloader = self.downloader
        return self._run(name, f"Downloading {name}…",
                         lambda progress, cancel: downloader.download(name, progress=progress, cancel=cancel),
                         doing=f"Could not download {name}")

    def fetch_part(self, key: str, model: str | None = None) -> BackgroundTask | None:
        """Download one missing part (``tokenizers``, a codec) of ``model`` (default: the selection)."""
        model = model or self.selected_name()
        if not model or self.task is not None:
            return None
        downloader, title = self.downloader, self._part_title(model, key)
        return self._run(model, f"Downloading the {title} for {model}…",
                         lambda progress, cancel: downloader.download(key, progress=progress, cancel=cancel),
                         doing=f"Could not download the {title}", part=True)

    def import_part(self, key: str, paths: list[str], model: str | None = None) -> BackgroundTask | None:
        """Copy local files in as part ``key`` of ``model`` (default: the selection), in the background."""
        model = model or self.selected_name()
        store_import = getattr(self.store, "import_part", None)
        if not model or self.task is not None or store_import is None or not paths:
            return None
        title = self._part_title(model, key)
        return self._run(model, f"Importing the {title} for {model}…",
                         lambda progress, cancel: store_import(model, key, paths),
                         doing=f"Could not import the {title}", part=True)

    def ask_import_part(self, key: str) -> None:
        name = self.selected_name()
        row = self.rows.get(name) if name else None
        part = next((p for p in row.parts if p.key == key), None) if row is not None else None
        if part is None:
            return
        wanted = " ".join(part.accepts)
        paths, _ = QFileDialog.getOpenFileNames(self, f"Import the {part.title}", str(Path.home()),
                                                f"{part.title} ({wanted});;All files (*)")
        if paths:
            self.import_part(key, paths)

    def _part_title(self, model: str, key: str) -> str:
        row = self.rows.get(model)
        part = next((p for p in row.parts if p.key == key), None) if row is not None else None
        return part.title.split(" (")[0] if part is not None else key

    def _on_link(self, url: QUrl) -> None:
        """A link of the details pane: ``fetch:KEY`` / ``import:KEY`` for a missing part, else a web page."""
        if url.scheme() == "fetch":
            self.fetch_part(url.path())
        elif url.scheme() == "import":
            self.ask_import_part(url.path())
        elif url.scheme() in ("http", "https"):
            QDesktopServices.openUrl(url)

    def import_path(self, path: str | Path, name: str | None = None) -> BackgroundTask | None:
        """Import a local model file in the background (the copy of a large file takes a while)."""
        if self.task is not None:
            return None
        store, source = self.store, Path(path)
        doing = f"Could not import {source.name}"
        if is_lora_file(source):
            return self._run(name or source.stem, f"Importing the LoRA {source.name}…",
                             lambda progress, cancel: store.import_lora(source, name, progress=progress,
                                                                        cancel=cancel), doing=doing)
        return self._run(name or source.stem, f"Importing {source.name}…",
                         lambda progress, cancel: store.import_file(source, name, progress=progress,
                                                                    cancel=cancel), doing=doing)

    def ask_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a VALL-E model", str(Path.home()),
                                              "VALL-E models and LoRAs (*.sft *.pth);;All files (*)")
        if path:
            self.import_path(path)

    def cancel_task(self) -> None:
        if self.task is not None:
            self.progress_label.setText("Cancelling…")
            self.task.cancel()

    def _run(self, name: str, text: str, fn: TaskFunction, *, doing: str, part: bool = False) -> BackgroundTask:
        self._task_name, self._task_doing, self._task_part = name, doing, part
        self.error.clear()
        self.task = BackgroundTask(fn, name="valle-model-task")
        self.task.progress.connect(self._on_progress)
        self.task.finished.connect(self._on_task_finished)
        self.task.failed.connect(self._on_task_failed)
        self.task.cancelled.connect(self._on_task_cancelled)
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self._status(text)
        self.task.start()
        self._update_buttons()
        return self.task

    def _on_progress(self, progress: Progress) -> None:
        if progress.total > 0:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * min(1.0, progress.done / progress.total)))
            amount = f"{progress.done / 1e6:.1f} of {progress.total / 1e6:.1f} MB"
        else:
            self.progress.setRange(0, 0)
            amount = f"{progress.done / 1e6:.1f} MB"
        detail = f" ({progress.detail})" if progress.detail else ""
        self._status(f"{progress.stage}: {amount}{detail}")

    def _status(self, text: str) -> None:
        self.progress_label.setText(text)
        self.status_stack.setCurrentWidget(self.progress_label)

    def _end_task(self, message: str) -> None:
        self.task = None
        self.progress.setVisible(False)
        self._status(message)

    def _on_task_finished(self, result: object) -> None:
        if self._task_part:  # a part of the selected model
            name = self._task_name
            self._end_task("")
            self.refresh(select=name)
            self._status(self._readiness(name))
            self.models_changed.emit()
            return
        name = result if isinstance(result, str) else self._task_name
        self._end_task("")
        row = self.rows.get(name)
        is_lora = (row is not None and row.lora) or name in _installed_loras(self.store)
        if not is_lora and not installed_names(self.store)[1:]:  # the first model becomes the default by itself
            self._set_default(name, announce=False)
        self.refresh(select=name)
        self._status(self._readiness(name))  # an imported model may still lack its tokenizer or codec
        self.models_changed.emit()

    def _readiness(self, name: str) -> str:
        """"NAME is ready." or what it still lacks (the rows are refreshed first)."""
        row = self.rows.get(name)
        lacking = [p.title.split(" (")[0] for p in row.missing_parts] if row is not None else []
        return f"{name} still needs: {', '.join(lacking)}." if lacking else f"{name} is ready."

    def _on_task_failed(self, message: str) -> None:
        self._end_task("")
        self.refresh()
        self.show_failure(summary_of(message, self._task_doing), message)

    def show_failure(self, summary: str, details: str) -> None:
        """One sentence on the status line; "Details" shows the technical text in the description pane."""
        self.error.show_error(summary, details)
        self.status_stack.setCurrentWidget(self.error)

    def _on_task_cancelled(self) -> None:
        self._end_task("Cancelled. A download resumes where it stopped next time.")
        self.refresh()

    # -- remove / default ----------------------------------------------------------------------
    def remove_selected(self, *, confirm: bool = True) -> None:
        name = self.selected_name()
        if not name:
            return
        row = self.rows.get(name)
        if confirm and QMessageBox.question(self, "Remove model", remove_question(name, row)
                                            ) != QMessageBox.StandardButton.Yes:
            return
        try:
            if row is not None and row.lora:
                self.store.remove_lora(name)
            else:
                self.store.remove(name)
        except Exception as exc:
            self.show_failure(f"Could not remove {name}.", str(exc))
        self.refresh()
        self.models_changed.emit()

    def set_default_selected(self) -> None:
        name = self.selected_name()
        if name:
            self._set_default(name)

    def _set_default(self, name: str, announce: bool = True) -> None:
        try:
            self.store.default_model = name
        except Exception as exc:
            self.show_failure(f"Could not make {name} the default.", str(exc))
            return
        self.refresh(select=name)
        if announce:
            self.choice_changed.emit()

    # -- device / precision --------------------------------------------------------------------
    def set_devices(self, devices: list[str]) -> None:
        """Offer "auto" plus the devices found (the engine thread probes them after start)."""
        wanted = self.settings.device
        blocked = self.device.blockSignals(True)
        self.device.clear()
        for key in ["auto", *devices]:
            self.device.addItem(device_label(key), key)
        if self.device.findData(wanted) < 0:  # chosen earlier on other hardware
            self.device.addItem(f"{device_label(wanted)} (not found here)", wanted)
        self.device.setCurrentIndex(self.device.findData(wanted))
        self.device.blockSignals(blocked)
        self._available_devices = list(devices)
        self._update_precisions()

    def _update_precisions(self) -> None:
        """Offer what the device can run, each with its measured cost (model_rows.precision_offer)."""
        device = str(self.device.currentData())
        on_cpu = device == "cpu" or (device == "auto" and self._available_devices[:1] == ["cpu"])
        record, note = saved_benchmark()
        reason = auto_precision(record)[1] if record is not None else f"float32, because {note}"
        model = self.precision.model()
        assert isinstance(model, QStandardItemModel)  # a combo box's own model
        allowed: set[str] = set()
        for i in range(self.precision.count()):
            key = str(self.precision.itemData(i))
            enabled, tip = precision_offer(key, on_cpu=on_cpu, bf16_native=cpu_bf16_available(), record=record,
                                           auto_reason=reason)
            item = model.item(i)
            item.setEnabled(enabled)
            item.setToolTip(tip)
            if enabled:
                allowed.add(key)
        wanted = self.settings.precision
        if wanted not in allowed:
            wanted = "auto"
        blocked = self.precision.blockSignals(True)
        self.precision.setCurrentIndex(max(0, self.precision.findData(wanted)))
        self.precision.blockSignals(blocked)

    def _on_device(self) -> None:
        self.settings.device = str(self.device.currentData())
        self._update_precisions()
        self.settings.precision = str(self.precision.currentData())
        self.choice_changed.emit()

    def _on_precision(self) -> None:
        self.settings.precision = str(self.precision.currentData())
        self.choice_changed.emit()

    # -- lifetime ------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Cancel a running download or import and wait for its thread."""
        if self.task is not None:
            self.task.wait()
            self.task = None


def _installed_loras(store: ModelStoreProtocol) -> list[str]:
    try:
        return list(store.installed_loras())
    except Exception:
        return []
