"""The Batch tab: a script in, one audio file per line out.

Opening (or dropping) a script makes a batch project under ``user_data_dir()/batch``. The table lists
its lines; voice, text and seed are edited in place. "Run all" generates every line without a
current take, "Run selected" adds a take to the selected lines, "Run failed" retries failures. The
queue runs on a worker thread (pause, resume, cancel) and the project is saved after every line;
the latest project is reopened when the view is created, which is how an interrupted batch resumes.
Takes are auditioned in the window's shared player, approved and deleted below the table; every take is
checked (best of the window's Best-of control) and "Lines that need a look" shows, and re-runs, the lines
whose take came out suspect or bad. "Export…" writes the approved takes with manifests, optionally a
combined file and SRT subtitles.

Self-contained: it gets the window's :class:`~valle_studio.app.jobs.controller.EngineController` (the
run is one of its jobs, on the engine thread: the view never holds the model), the voice library, the
shared playback controller and a provider of the sampler's current settings. It follows the engine's
busy state: while a studio take holds the engine the run buttons are off and say why.
"""
from __future__ import annotations

import html
import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
    QShortcut,
    QShowEvent,
    QTextDocumentFragment,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QWidget,
)

from valle_studio.app.audio_bridge import PlaybackController
from valle_studio.app.batch_table import QUEUED, RUNNING
from valle_studio.app.estimates import Estimates
from valle_studio.app.jobs.cluster_job import RunSwitch
from valle_studio.app.jobs.controller import EngineController
from valle_studio.app.jobs.records import EngineBusy, EngineState
from valle_studio.app.widgets.batch_export_dialog import BatchExporter
from valle_studio.app.widgets.batch_rows import BatchRows
from valle_studio.app.widgets.batch_run_bar import engine_busy_text
from valle_studio.app.widgets.batch_summary import BatchSummary, settings_summary
from valle_studio.app.widgets.batch_view_layout import BatchViewLayout
from valle_studio.app.widgets.batch_voice_choice import BatchVoiceChoice
from valle_studio.app.widgets.cluster_option import ClusterOption
from valle_studio.batch import projects
from valle_studio.batch.export import ExportOptions
from valle_studio.batch.lock import ProjectBusy
from valle_studio.batch.project import BatchProject, ProjectError
from valle_studio.batch.rows import FAILED
from valle_studio.batch.runner import (
    ROW_FAILED,
    ROW_FINISHED,
    ROW_PROGRESS,
    ROW_STARTED,
    BatchEvent,
    RunSummary,
)
from valle_studio.batch.script import ScriptError
from valle_studio.engine.quality.options import QualityOptions
from valle_studio.engine.settings import GenerationSettings
from valle_studio.studio.voices import VoiceLibrary

log = logging.getLogger(__name__)
SCRIPT_FILTER = "Scripts (*.txt *.csv *.tsv *.tab);;All files (*)"


class BatchView(BatchViewLayout, BatchVoiceChoice, BatchRows, BatchSummary, QWidget):
    """See the module docstring. ``busy_changed(bool)``: a run started or ended (the window may want
    to hold back its own generation meanwhile); ``status_message(str)``: one line for a status bar."""

    busy_changed = Signal(bool)
    status_message = Signal(str)
    lexicon_requested = Signal(object)  # the open project: the window edits its lexicon (app/lexicon_actions.py)

    def __init__(self, engine: EngineController, voices: VoiceLibrary, playback: PlaybackController,
                 settings: Callable[[], GenerationSettings], parent: QWidget | None = None, *,
                 projects_root: Path | None = None, reopen_last: bool = True,
                 quality: Callable[[], QualityOptions] = QualityOptions,
                 estimates: Estimates | None = None, last_voice: Callable[[], str] | None = None) -> None:
        super().__init__(parent)
        self._last_voice = last_voice  # the voice last used (the Studio tab's), the default for a new script
        self._voice_picked = False  # the user chose the default voice in the combo (then it stays chosen)
        self._voiceless_accepted: set[Path] = set()  # projects whose lines without a voice may be rendered
        self.engine = engine
        self.estimates = estimates  # expected run time of the script (from the saved benchmark)
        self.voices = voices
        self.playback = playback
        self._settings = settings
        self._quality = quality  # the takes each line gets (the window's Best-of control)
        self.projects_root = projects_root or projects.default_root()
        self.project: BatchProject | None = None
        # ray: runs go in-process or to a Ray cluster, as the run strip's cluster option says
        self.cluster_option = ClusterOption()
        self.controller = RunSwitch(engine, self.cluster_option, self)
        self._stop_reason = ""  # what the engine said when it stopped this run on its own
        self.exporter = BatchExporter(self)
        self.setAcceptDrops(True)
        self._build()
        self._connect()
        self._fill_voice_combo()
        self._update_summary()
        self._update_controls()
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        if reopen_last:
            latest = projects.latest(self.projects_root)
            if latest is not None:
                self.open_project(latest, quiet=True)

    # -- layout -----------------------------------------------------------------------------------

    def _connect(self) -> None:
        if self.estimates is not None:
            self.estimates.changed.connect(self._update_summary)
        self.open_script_button.clicked.connect(self._choose_script)
        self.open_project_button.clicked.connect(self._choose_project)
        self.export_button.clicked.connect(self.export)
        self.lexicon_button.clicked.connect(self._ask_lexicon)
        self.voice_combo.activated.connect(self._on_default_voice)
        self.language_combo.activated.connect(self._on_language)
        self.use_settings_button.clicked.connect(self.use_current_settings)
        self.run_all_button.clicked.connect(self.run_all)
        self.run_selected_button.clicked.connect(self.run_selected)
        self.run_failed_button.clicked.connect(self.run_failed)
        self.run_bar.pause_toggled.connect(self._on_pause_toggled)
        self.cancel_button.clicked.connect(self.controller.cancel)
        self.controller.batch_event.connect(self._on_event)
        self.controller.finished.connect(self._on_finished)
        self.controller.failed.connect(lambda message: self._say(f"The batch stopped: {message}", error=True))
        self.controller.running_changed.connect(self._on_running_changed)
        self.controller.running_changed.connect(self.look.set_running)
        self.look.rerun_requested.connect(self.run)
        self.controller.waiting_changed.connect(self._on_waiting_changed)
        self.controller.paused_changed.connect(self.run_bar.set_paused)
        self.engine.state_changed.connect(self._on_engine_state)
        self.engine.notice.connect(self._on_engine_notice)
        self.model.edit_failed.connect(lambda message: self._say(message, error=True))
        # Progress repaints rows many times a second; the counts only change when a row ends or is edited.
        self.model.dataChanged.connect(lambda *_: self._update_summary_when_idle())
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._show_current_takes())
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_controls())
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.takes.changed.connect(self.model.refresh)
        self.exporter.started.connect(self._on_export_started)
        self.exporter.progress.connect(self.run_bar.show_fraction)
        self.exporter.done.connect(self._on_export_done)
        self.takes.error.connect(lambda message: self._say(message, error=True))
        space = QShortcut(QKeySequence(Qt.Key.Key_Space), self.table)
        space.setContext(Qt.ShortcutContext.WidgetShortcut)
        space.activated.connect(self.play_current)

    # -- projects ---------------------------------------------------------------------------------
    def open_script(self, path: str | Path) -> bool:
        """Make a new project from a script file and show it. False (with a message) on errors."""
        if self.controller.is_running:
            return False
        try:
            project = projects.create_from_script(
                Path(path), self.projects_root, settings=self._settings(), voices=self.voices.names(),
                default_voice=self.voice_combo.currentData() or "",
                language=self.language_combo.currentData() or "en")
        except (ScriptError, ProjectError, OSError) as exc:
            self._say(f"Cannot open the script: {exc}", error=True)
            return False
        self.set_project(project)
        notes = [html.escape(w) for w in project.warnings]
        self._say(f"Opened <b>{html.escape(Path(path).name)}</b>: {len(project.rows)} lines."
                  + "".join(f"<br>{n}" for n in notes) + self._missing_voices_note())
        return True

    def open_project(self, folder: str | Path, *, quiet: bool = False) -> bool:
        if self.controller.is_running:
            return False
        if self.project is not None and Path(folder).resolve() == self.project.folder.resolve():
            return True
        try:
            project = BatchProject.open(folder)
        except (ProjectError, ProjectBusy, OSError) as exc:
            if not quiet:
                self._say(f"Cannot open the batch project: {exc}", error=True)
            return False
        self.set_project(project)
        counts = project.counts()
        left = len(project.rows) - counts["done"]
        text = f"Opened <b>{html.escape(project.name)}</b>: {counts['done']} of {len(project.rows)} lines done."
        if left:
            text += " <b>Run all</b> finishes the rest."
        self._say(text + "".join(f"<br>{html.escape(w)}" for w in project.warnings) + self._missing_voices_note())
        return True

    def set_project(self, project: BatchProject | None) -> None:
        """Show ``project`` (closing the one shown before, which releases its lock)."""
        if self.project is not None and self.project is not project:
            self.project.close()
        self.project = project
        self.run_bar.reset(project.counts()["done"] if project is not None else 0,
                           len(project.rows) if project is not None else 0)  # not the last project's count
        self.model.set_project(project)
        self.stack.setCurrentIndex(1 if project is not None else 0)
        self._fill_voice_combo()
        if project is not None:
            self.language_combo.setCurrentIndex(max(0, self.language_combo.findData(project.language)))
            self.table.selectRow(0)
        self._show_current_takes()
        self._update_summary()
        self._update_controls()

    def _ask_lexicon(self) -> None:
        """The project's lexicon button: the window opens the table dialog for the open project."""
        if self.project is not None:
            self.lexicon_requested.emit(self.project)

    def _choose_script(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a script", str(Path.home()), SCRIPT_FILTER)
        if path:
            self.open_script(path)

    def _choose_project(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a batch project", str(self.projects_root),
                                              "Batch project (project.json)")
        if path:
            self.open_project(Path(path).parent)


    # -- options ----------------------------------------------------------------------------------


    def _on_language(self) -> None:
        if self.project is not None:
            self.project.set_defaults(language=self.language_combo.currentData() or "en")
            self.model.refresh()

    def use_current_settings(self) -> None:
        if self.project is None:
            return
        # The sampler's fields; the split mode stays the project's own (the Studio tab's is not the batch's).
        self.project.set_settings(self._settings().replace(split=self.project.settings.split))
        self._update_summary()
        self._say("The project now uses the sampler's current settings; finished lines keep their takes.")


    # -- running ----------------------------------------------------------------------------------
    def selected_row_ids(self) -> list[str]:
        if self.project is None:
            return []
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.project.rows[r].id for r in rows if r < len(self.project.rows)]

    def run_all(self) -> bool:
        if self.project is None:
            return False
        ids = self.project.ids_needing_work()
        if not ids:
            self._say("Every line is done. Select lines and press <b>Run selected</b> for new takes.")
            return False
        return self.run(ids)

    def run_selected(self) -> bool:
        return self.run(self.selected_row_ids())

    def run_failed(self) -> bool:
        return self.project is not None and self.run(self.project.ids_with_status(FAILED))

    def run(self, row_ids: list[str]) -> bool:
        """Queue ``row_ids`` as a batch job of the engine. False (with a message) when it cannot start:
        no model, or other work holding the engine (a studio take: the two never run together)."""
        if self.project is None or not row_ids or self.controller.is_running:
            return False
        if not self.engine.is_loaded or self.engine.is_loading:
            self._say("The model is still loading: run the batch when it is ready." if self.engine.is_loading else
                      "Load a voice model first: the batch uses the model loaded in the main window.", error=True)
            return False
        if not self._voiceless_ok(row_ids):
            return False
        self._stop_reason = ""
        try:
            started = self.controller.start(self.project, row_ids, voices=self.voices, quality=self._quality())
        except EngineBusy as busy:
            self._say(engine_busy_text(busy.holder), error=True)
            return False
        for row_id in row_ids:
            self.model.set_live(row_id, QUEUED)
        self.run_bar.show_queued(len(row_ids), waiting=self.controller.is_waiting)
        self.message_frame.hide()
        return started

    def _on_event(self, event: BatchEvent) -> None:
        if event.kind in (ROW_STARTED, ROW_PROGRESS):
            self.model.set_live(event.row_id, RUNNING, event.row_fraction, event.message)
        elif event.kind in (ROW_FINISHED, ROW_FAILED):
            self.model.clear_live(event.row_id)
            self._update_summary()
            if self.takes.row is not None and self.takes.row.id == event.row_id:
                self.takes.show_row(self.project, self.takes.row)
        self.run_bar.show_event(event)

    def _on_finished(self, summary: RunSummary) -> None:
        self.model.clear_live()
        self._show_current_takes()
        parts = [f"{len(summary.finished)} line{'s' if len(summary.finished) != 1 else ''} generated"]
        if summary.failed:
            parts.append(f"<span style='color:#d03c3c'>{len(summary.failed)} failed</span> (see the Status "
                          "column; <b>Run failed</b> retries them)")
        if summary.cancelled:
            parts.append("cancelled; the lines not reached are still pending")
            if self._stop_reason:
                parts.append(html.escape(self._stop_reason))
        self._say("Batch: " + ", ".join(parts) + f" in {summary.elapsed_s:.0f} s.")
        counts = self.project.counts() if self.project is not None else {"done": 0}
        total = len(self.project.rows) if self.project is not None else 0
        self.run_bar.show_end(cancelled=summary.cancelled, clean=summary.ok, done=counts["done"], total=total)
        self.status_message.emit(f"Batch: {len(summary.finished)} generated, {len(summary.failed)} failed")

    def _on_running_changed(self, running: bool) -> None:
        self._update_controls()
        self.busy_changed.emit(running)

    def _on_waiting_changed(self, waiting: bool) -> None:
        if waiting:
            self.run_bar.show_waiting()

    def _on_engine_state(self, _state: EngineState) -> None:
        self._update_controls()

    def _on_engine_notice(self, text: str) -> None:
        if self.controller.is_running:
            self._stop_reason = text

    def _on_pause_toggled(self, checked: bool) -> None:
        if checked:
            self.controller.pause()
        else:
            self.controller.resume()

    # -- takes and rows ---------------------------------------------------------------------------






    # -- export -----------------------------------------------------------------------------------
    def export(self) -> None:
        """Ask where and how (the export dialog), then export on a background thread."""
        if self.project is not None and not self.exporter.busy:
            self.exporter.ask_and_export(self.project)

    def start_export(self, options: ExportOptions, *, on_conflict: str | None = None) -> bool:
        """Export without the dialog; asks first when files not written by this batch are in the way."""
        return self.project is not None and self.exporter.start(self.project, options, on_conflict=on_conflict)

    def _on_export_started(self) -> None:
        self.run_bar.show_text("Exporting…")
        self._update_controls()

    def _on_export_done(self, text: str, error: bool) -> None:
        self.run_bar.show_text("")
        if not error:
            self.run_bar.show_fraction(1.0)
        self._say(text, error=error)
        self.status_message.emit(QTextDocumentFragment.fromHtml(text).toPlainText())
        self._update_controls()

    # -- state ------------------------------------------------------------------------------------
    def _say(self, text: str, *, error: bool = False) -> None:
        self.message.setText(f"<span style='color:#d03c3c'>{text}</span>" if error else text)
        self.message_frame.setVisible(bool(text))





    def _update_controls(self) -> None:
        has = self.project is not None
        running = self.controller.is_running
        exporting = self.exporter.busy
        idle = has and not running and not exporting
        self.open_script_button.setEnabled(not running and not exporting)
        self.open_project_button.setEnabled(not running and not exporting)
        self.export_button.setEnabled(idle)
        self.lexicon_button.setEnabled(has and not running)
        # Without a project the two combos choose the defaults for the next script.
        self.voice_combo.setEnabled(not running and not exporting)
        self.language_combo.setEnabled(not running and not exporting)
        self.use_settings_button.setEnabled(idle)
        # Another job holding the engine (a studio take) keeps the run buttons off, saying why.
        self.run_bar.update_buttons(idle=idle, running=running,
                                    selected=bool(self.table.selectionModel().selectedRows()),
                                    failed=bool(self.project and self.project.counts()["failed"]),
                                    holder=None if running else self.engine.state.active)

    def shutdown(self) -> None:
        """Stop a run (waiting for the worker) and release the project (call when the window closes)."""
        self.controller.shutdown()
        self.exporter.wait()
        if self.project is not None:
            self.project.close()

    def showEvent(self, event: QShowEvent) -> None:
        # Voices may have been saved in the voice panel while another tab was showing.
        if not self.controller.is_running:
            self._fill_voice_combo()
        super().showEvent(event)

    # -- drag and drop ----------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls()
        if len(urls) == 1 and urls[0].isLocalFile() and Path(urls[0].toLocalFile()).suffix.lower() in \
                {".txt", ".csv", ".tsv", ".tab"} and not self.controller.is_running:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        self.open_script(event.mimeData().urls()[0].toLocalFile())
        event.acceptProposedAction()


__all__ = ["BatchView", "settings_summary"]
