"""Exporting from the Batch tab: the dialog (folder, naming template with a live preview, WAV format,
combined file and its gap, SRT and WebVTT subtitles) and :class:`BatchExporter`, which asks what to do when
files not written by this batch are in the way and then exports on a background thread. Every WAV is
watermarked and tagged, and logged in the audit log, unless the watermark is off in Preferences (the
dialog says which)."""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from valle_studio.app.jobs.background import BackgroundTask
from valle_studio.batch.export import (
    ExportConflict,
    ExportOptions,
    ExportResult,
    export_project,
    plan_export,
    row_stem,
)
from valle_studio.batch.names import DEFAULT_TEMPLATE, TEMPLATE_FIELDS, TemplateError, check_template, unique_name
from valle_studio.batch.project import BatchProject, ProjectError
from valle_studio.engine.progress import Progress

PREVIEW_ROWS = 3
_FORMATS = (("16-bit PCM (most compatible)", "pcm16"), ("24-bit PCM", "pcm24"), ("32-bit float", "float"))


def suggested_folder(project: BatchProject) -> Path:
    """The last export folder, else "<script name> audio" beside the script, else in the home folder."""
    if project.exports:
        return Path(project.exports[-1].folder)
    script = project.script.get("path")
    base = Path(script).parent if script else Path.home()
    return base / f"{project.name} audio"


class BatchExportDialog(QDialog):
    """See the module docstring; :meth:`options` after ``exec()`` returned Accepted."""

    def __init__(self, project: BatchProject, parent: QWidget | None = None, *, watermark: bool = True) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export batch")
        self.project = project
        self.watermark = watermark
        last = project.exports[-1] if project.exports else None
        self.folder = QLineEdit(str(suggested_folder(project)))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.template = QLineEdit(last.template if last else DEFAULT_TEMPLATE)
        self.template.setToolTip("Fields: " + ", ".join("{" + f + "}" for f in TEMPLATE_FIELDS)
                                 + ". {index:03d} pads the line number to three digits.")
        self.preview = QLabel()
        self.preview.setWordWrap(True)
        self.wav_format = QComboBox()
        for label, key in _FORMATS:
            self.wav_format.addItem(label, key)
        self.combined = QCheckBox("Also one combined file with every line in order")
        self.gap = QDoubleSpinBox()
        self.gap.setRange(0.0, 60.0)
        self.gap.setSingleStep(0.1)
        self.gap.setValue(0.5)
        self.gap.setSuffix(" s")
        self.srt = QCheckBox("Subtitles (SRT and WebVTT) with the combined file's timings")

        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Folder:", folder_row)
        form.addRow("File names:", self.template)
        form.addRow("Preview:", self.preview)
        form.addRow("Format:", self.wav_format)
        form.addRow("", self.combined)
        form.addRow("Gap between lines:", self.gap)
        form.addRow("", self.srt)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("One WAV per line, plus manifest.csv and manifest.json. Files already in the "
                                "folder are never overwritten without asking."))
        self.provenance_note = QLabel(
            "Each file is tagged as synthetic speech, watermarked and listed in the audit log (Tools)."
            if watermark else "Each file is tagged as synthetic speech and listed in the audit log; the "
            "watermark is off (Preferences).")
        self.provenance_note.setObjectName("provenanceNote")
        self.provenance_note.setWordWrap(True)
        layout.addWidget(self.provenance_note)
        layout.addWidget(self.buttons)

        self.template.textChanged.connect(self._update)
        self.folder.textChanged.connect(self._update)
        self.combined.toggled.connect(self._update)
        self.srt.toggled.connect(self._update)
        self._update()

    def options(self) -> ExportOptions:
        return ExportOptions(Path(self.folder.text().strip()).expanduser(), template=self.template.text(),
                             wav_format=self.wav_format.currentData(), combined=self.combined.isChecked(),
                             combined_gap_s=self.gap.value(), srt=self.srt.isChecked(), on_conflict="error",
                             watermark=self.watermark)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export into", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def _update(self) -> None:
        ok = bool(self.folder.text().strip())
        try:
            template = check_template(self.template.text())
        except TemplateError as exc:
            self.preview.setText(f"<span style='color:#d03c3c'>{html.escape(str(exc))}</span>")
            ok = False
        else:
            taken: set[str] = set()
            names = []
            for index, row in enumerate(self.project.rows[:PREVIEW_ROWS]):
                name = unique_name(row_stem(self.project, row, index, template), ".wav", taken)
                taken.add(name.casefold())
                names.append(name)
            more = len(self.project.rows) - PREVIEW_ROWS
            self.preview.setText("<br>".join(html.escape(n) for n in names) + (f"<br>… and {more} more"
                                                                                 if more > 0 else ""))
        self.gap.setEnabled(self.combined.isChecked() or self.srt.isChecked())
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)


def describe_result(result: ExportResult) -> str:
    """One rich-text sentence about an export, for the view's message line."""
    count = len(result.written) + len(result.unchanged)
    text = f"Exported {count} file{'s' if count != 1 else ''} to <b>{html.escape(str(result.folder))}</b>"
    extras = [*result.manifests, *filter(None, [result.combined, result.srt, result.vtt])]
    text += f" with {', '.join(extras)}." if extras else "."
    if result.missing_rows:
        text += f" {len(result.missing_rows)} line(s) have no take yet and were left out."
    if result.renamed:
        text += f" {len(result.renamed)} name(s) were taken by other files, so a -2 suffix was added."
    if result.removed:
        text += f" {len(result.removed)} superseded file(s) of this batch were removed."
    return text


class BatchExporter(QObject):
    """One export at a time on a background thread. ``done(text, error)`` carries a rich-text message."""

    started = Signal()
    progress = Signal(float)  # 0..1
    done = Signal(str, bool)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._parent = parent
        self._task: BackgroundTask | None = None
        #: Asked when the dialog opens: watermark the files? (the window reads the Preferences setting here)
        self.watermark_enabled: Callable[[], bool] = lambda: True

    @property
    def busy(self) -> bool:
        return self._task is not None

    def ask_and_export(self, project: BatchProject) -> bool:
        dialog = BatchExportDialog(project, self._parent, watermark=self.watermark_enabled())
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return False
        return self.start(project, dialog.options())

    def start(self, project: BatchProject, options: ExportOptions, *, on_conflict: str | None = None) -> bool:
        """Export ``project``; with ``on_conflict`` None, ask the user when foreign files are in the way."""
        if self._task is not None:
            return False
        if on_conflict is None:
            try:
                plan_export(project, dataclasses.replace(options, on_conflict="error"))
            except ExportConflict as conflict:
                on_conflict = self.ask_conflict(conflict)
                if on_conflict is None:
                    return False
            except (ProjectError, OSError) as exc:
                self.done.emit(f"Cannot export: {html.escape(str(exc))}", True)
                return False
        final = dataclasses.replace(options, on_conflict=on_conflict or "error")
        task = BackgroundTask(lambda report, cancel: export_project(project, final, progress=report, cancel=cancel),
                              name="valle-export")
        task.progress.connect(self._on_progress)
        task.finished.connect(self._on_finished)
        task.failed.connect(self._on_failed)
        task.cancelled.connect(self._on_cancelled)
        self._task = task
        self.started.emit()
        task.start()
        return True

    def ask_conflict(self, conflict: ExportConflict) -> str | None:
        """"rename", "overwrite", or None (cancel), chosen by the user."""
        box = QMessageBox(QMessageBox.Icon.Question, "Files already exist", str(conflict),
                          QMessageBox.StandardButton.Cancel, self._parent)
        keep = box.addButton("Keep both (rename new files)", QMessageBox.ButtonRole.AcceptRole)
        overwrite = box.addButton("Overwrite", QMessageBox.ButtonRole.DestructiveRole)
        box.exec()
        choices: dict[QAbstractButton, str] = {keep: "rename", overwrite: "overwrite"}
        return choices.get(box.clickedButton())

    def wait(self) -> None:
        if self._task is not None:
            self._task.wait()

    # Bound methods rather than lambdas: Qt drops them by itself if this exporter is gone first.
    def _on_progress(self, progress: Progress) -> None:
        self.progress.emit(progress.done / progress.total if progress.total else 0.0)

    def _on_finished(self, result: ExportResult) -> None:
        self._end(describe_result(result), False)

    def _on_failed(self, message: str) -> None:
        self._end(f"Export failed: {html.escape(message)}", True)

    def _on_cancelled(self) -> None:
        self._end("Export cancelled.", False)

    def _end(self, text: str, error: bool) -> None:
        self._task = None
        self.done.emit(text, error)
