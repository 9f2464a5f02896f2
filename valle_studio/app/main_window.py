"""The main window: voice on the left, text and sampler in the middle, output and history on the right.

It wires widgets to services and holds no engine logic: every model job (a take here, a batch run on
the Batch tab) is a job of the one :class:`~valle_studio.app.jobs.controller.EngineController`, results
arrive as queued signals, each finished take becomes a take in the history. The window follows the
engine's busy state: the status bar says what the engine does, Generate is off (saying why) while a
batch holds it, and the Batch tab is marked while its run goes. With no model installed the window
says so in a banner and leads to the model manager instead of failing.

The generation settings are read and shown in one place each (:meth:`MainWindow.generation_settings`,
:meth:`MainWindow.apply_settings`): the sampler panel holds the sampler's fields, the text panel the
split mode, and nothing copies one into the other.
"""

from __future__ import annotations

import dataclasses
import html
import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent, QDesktopServices
from PySide6.QtWidgets import (
    QMainWindow,
    QMessageBox,
    QWidget,
)

from valle_studio.app import cluster_memory
from valle_studio.app.estimates import Estimates, precision_of
from valle_studio.app.jobs.benchmark import BenchmarkController
from valle_studio.app.jobs.controller import EngineController
from valle_studio.app.jobs.kinds import UnknownSymbolsFound
from valle_studio.app.jobs.records import EngineBusy, EngineState, JobInfo, JobKind, LoadSpec
from valle_studio.app.lexicon_actions import LexiconActions
from valle_studio.app.model_capabilities import fallback_notice, modality_limits
from valle_studio.app.model_manager import ModelManagerDialog
from valle_studio.app.model_rows import installed_names, load_failure_summary, model_tooltip
from valle_studio.app.services import AppServices
from valle_studio.app.stream_bridge import StreamBridge
from valle_studio.app.studio_takes import TakeKeeper, take_message
from valle_studio.app.studio_tasks import StudioTasks
from valle_studio.app.take_estimate import TakeEstimate
from valle_studio.app.transcriber import Transcriber
from valle_studio.app.widgets.about_dialog import AboutDialog
from valle_studio.app.widgets.banner import Banner
from valle_studio.app.widgets.batch_view import BatchView
from valle_studio.app.widgets.benchmark_dialog import BenchmarkDialog
from valle_studio.app.widgets.best_of_control import BestOfControl
from valle_studio.app.widgets.convert_panel import ConvertPanel
from valle_studio.app.widgets.error_dialog import show_error, summary_of
from valle_studio.app.widgets.history_panel import HistoryModel, HistoryPanel
from valle_studio.app.widgets.lora_panel import LoraPanel
from valle_studio.app.widgets.output_panel import OutputPanel, suggested_name
from valle_studio.app.widgets.progress_panel import ProgressPanel
from valle_studio.app.widgets.sampler_panel import SamplerPanel
from valle_studio.app.widgets.text_panel import TextPanel
from valle_studio.app.widgets.verdict_badge import verdict_text
from valle_studio.app.widgets.voice_panel import VoicePanel
from valle_studio.app.window_advice import WindowAdvice
from valle_studio.app.window_layout import WindowLayout
from valle_studio.app.window_shortcuts import WindowShortcuts
from valle_studio.engine.bench.recommend import auto_precision
from valle_studio.engine.interfaces import ModelInfoProtocol
from valle_studio.engine.progress import Progress
from valle_studio.engine.quality.best_of import Candidate, Candidates
from valle_studio.engine.requests import SynthesisRequest
from valle_studio.engine.settings import GenerationSettings
from valle_studio.studio.history import HistoryError, Take
from valle_studio.studio.provenance_export import take_provenance  # prov
from valle_studio.studio.voices import PromptClip

log = logging.getLogger(__name__)

NO_MODEL_TEXT = ("<b>No voice model is installed yet.</b> VALL-E Studio needs one to speak. Open the "
                 "model manager to download one (about 450 MB) or to import a model file you already have.")
BATCH_TAB, BATCH_RUNNING_TAB = "&Batch", "&Batch (running)"
CPU_WARNING = "Running on the CPU: a take takes longer to make than it lasts (RTF above 1)."


class MainWindow(WindowLayout, WindowAdvice, QMainWindow):
    """See the module docstring. ``services`` are injected; the window owns the engine thread."""

    take_added = Signal(object)  # Take

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.settings = services.settings
        self.setWindowTitle("VALL-E Studio")
        self.setObjectName("mainWindow")

        self.engine = EngineController(services.loader, self)
        self.estimates = Estimates(parent=self)  # the saved benchmark: expected durations and advice
        self.benchmark = BenchmarkController(self.engine, services.store, self)
        self.history_model = HistoryModel(services.history, self)
        self.voice_panel = VoicePanel(services.voices, services.playback, services.recording)
        self.text_panel = TextPanel()
        self.sampler_panel = SamplerPanel()
        self.lora_panel = LoraPanel(services.store)
        self.convert_panel = ConvertPanel()
        self.best_of = BestOfControl()  # how many checked takes a Generate (and a batch line) makes
        self.output_panel = OutputPanel(services.playback)
        self.history_panel = HistoryPanel(self.history_model)
        self.progress_panel = ProgressPanel()
        self.batch_view = BatchView(self.engine, services.voices, services.playback, self._batch_settings,
                                    quality=self.best_of.options, estimates=self.estimates,
                                    last_voice=self._last_voice)
        cluster_memory.restore(self.batch_view.cluster_option, self.settings)  # the Ray choice, kept
        self.take_keeper = TakeKeeper(services.history, self.history_model)
        self.transcriber = Transcriber(self.engine, self)
        self.stream_bridge = StreamBridge(self.engine, self.output_panel, self.settings, self)
        self.studio_tasks = StudioTasks(self.engine, self.voice_panel, self.convert_panel,
                                        self.generation_settings, self, text_editor=self.text_panel.editor)
        self.banner = Banner(NO_MODEL_TEXT, "Open &model manager…")
        self.banner.setObjectName("noModelBanner")
        # Generate stops before a text that would send <unk> to the model and says which words; this
        # strip offers to generate it anyway (the lexicon is one menu away).
        self.unknown_banner = Banner("", "Generate &anyway")
        self.unknown_banner.setObjectName("unknownSymbolsBanner")
        self.unknown_banner.setVisible(False)
        self.lexicons = LexiconActions(services, self.voice_panel.voice_name, self)
        # The request of each studio take not answered yet (other jobs' signals are not the window's):
        # a new Generate cancels the old job, whose "cancelled" must not take the new request away.
        self._requests: dict[int, SynthesisRequest] = {}
        self._dialog: ModelManagerDialog | None = None
        self._bench_dialog: BenchmarkDialog | None = None
        self.take_estimate = TakeEstimate(self.estimates, self.progress_panel, self._estimate_request, self)
        self._closed = False
        self._strip_holder: int | None = None  # the job (not a take) the progress strip last announced

        self._build_actions()
        self._build_layout()
        self._build_status_bar()
        self.shortcuts = WindowShortcuts(self)  # the window's Ctrl shortcuts work whatever has the focus
        self._connect()
        self._restore()
        self._update_actions()

    def _connect(self) -> None:
        # While a banner shows, the Studio progress strip (whose line would only repeat it) gives it its room.
        for banner in (self.banner, self.unknown_banner):
            banner.shown_changed.connect(self._sync_progress_strip)
        self.generate_action.triggered.connect(lambda: self.generate())
        self.unknown_banner.action.clicked.connect(lambda: self.generate(allow_unknown=True))
        self.about_action.triggered.connect(self.show_about)
        self.lexicons.changed.connect(self.text_panel.request_phonemes)
        self.voice_panel.changed.connect(self.text_panel.request_phonemes)  # the voice's lexicon may differ
        self.batch_view.lexicon_requested.connect(self.lexicons.edit_project)
        self.stop_action.triggered.connect(self.stop)
        self.play_action.triggered.connect(self.output_panel.toggle)
        self.export_action.triggered.connect(self.output_panel.ask_export)
        self.models_action.triggered.connect(self.open_model_manager)
        self.quit_action.triggered.connect(self.close)
        self.log_action.triggered.connect(self._open_log_folder)
        self.benchmark_action.triggered.connect(self.open_benchmark)
        for changed in (self.text_panel.changed, self.sampler_panel.changed, self.voice_panel.changed,
                        self.best_of.changed):
            changed.connect(self.take_estimate.refresh)
        self.best_of.changed.connect(self.batch_view.refresh_estimate)  # batch lines get the same takes
        self.estimates.changed.connect(self._on_estimates_changed)
        self.banner.action.clicked.connect(self.open_model_manager)
        self.progress_panel.stop_requested.connect(self.stop)

        self.text_panel.changed.connect(self._update_actions)
        self.convert_panel.changed.connect(self._update_actions)
        self.lora_panel.manage_requested.connect(self.open_model_manager)
        self.studio_tasks.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.text_panel.phonemes_requested.connect(
            lambda text, language, split: self.engine.phonemize(text, language, split, self.lexicons.current()))
        self.engine.phonemes_ready.connect(self.text_panel.set_phonemes)
        self.history_panel.audition_requested.connect(self.audition)
        self.history_panel.reuse_requested.connect(self.reuse_settings)
        self.history_panel.transcribe_requested.connect(self.transcribe_take)
        self.voice_panel.transcribe_requested.connect(self.transcribe_clip)
        self.batch_view.takes.transcribe_requested.connect(lambda audio, rate, take: self.transcriber.transcribe(
            audio, rate, take.language or "en", asked=take.text, title=take.text))
        self.output_panel.exported.connect(self._on_exported)
        self.output_panel.clip_changed.connect(self._update_actions)

        self.engine.model_loading.connect(self._on_model_loading)
        self.engine.model_loaded.connect(self._on_model_loaded)
        self.engine.model_load_failed.connect(self._on_model_load_failed)
        self.engine.job_progress.connect(self._on_progress)
        self.engine.job_finished.connect(self._on_finished)
        self.engine.job_candidate.connect(self._on_candidate)
        self.engine.job_failed.connect(self._on_failed)
        self.engine.job_cancelled.connect(self._on_cancelled)
        self.engine.state_changed.connect(self._on_engine_state)
        self.engine.notice.connect(self._on_notice)
        self.batch_view.status_message.connect(lambda text: self.statusBar().showMessage(text, 8000))

    # -- state ---------------------------------------------------------------------------------
    def _sync_progress_strip(self, *_: object) -> None:
        self.progress_panel.setVisible(self.banner.isHidden() and self.unknown_banner.isHidden())

    def _restore(self) -> None:
        s = self.settings
        if not s.geometry.isEmpty():
            self.restoreGeometry(s.geometry)
        if not s.window_state.isEmpty():
            self.restoreState(s.window_state)
        if not s.splitter_state.isEmpty():
            self.splitter.restoreState(s.splitter_state)
        saved = s.generation()
        if saved is not None:
            self.apply_settings(saved)
        self.sampler_panel.set_advanced_visible(s.advanced_open)
        self.text_panel.set_text(s.text)
        self.text_panel.set_language_code(s.language)
        if s.voice and not self.voice_panel.select_voice(s.voice):
            log.info("the voice %r chosen last time is no longer saved", s.voice)
        self.text_panel.show_phonemes.setChecked(s.show_phonemes)
        self.output_panel.export_dir = s.export_dir
        self.best_of.set_options(s.best_of, s.retry_bad)

    def save_state(self) -> None:
        """Write preferences and window state to the settings file."""
        s = self.settings
        s.geometry = self.saveGeometry()
        s.window_state = self.saveState()
        s.splitter_state = self.splitter.saveState()
        s.set_generation(self.generation_settings())
        s.show_phonemes = self.text_panel.phonemes_shown()
        s.advanced_open = self.sampler_panel.advanced_visible()
        s.text = self.text_panel.text()
        s.voice = self.voice_panel.saved_voice_name()
        s.language = self.text_panel.language_code()
        s.export_dir = self.output_panel.export_dir
        s.best_of, s.retry_bad = self.best_of.best_of.value(), self.best_of.retry.value()
        s.sync()

    def start(self) -> None:
        """Start the engine thread and load the chosen model, or show the way to install one."""
        self.engine.start()
        self.load_default_model()
        if not installed_names(self.services.store):  # hook (models, issue 17): the README's promise
            self.open_model_manager()  # non-modal, beside the banner that explains the disabled buttons

    def load_default_model(self) -> None:
        names = installed_names(self.services.store)
        chosen = self.services.store.default_model
        if chosen not in names:
            chosen = names[0] if names else ""
        self.banner.setVisible(not names)
        if not names:
            self.progress_panel.show_message("No voice model installed yet")
        if chosen:
            self.engine.load(LoadSpec(chosen, self.settings.device, self.settings.precision))
        self._update_actions()

    @property
    def model_ready(self) -> bool:
        return self.engine.is_loaded and not self.engine.is_loading

    def generation_settings(self) -> GenerationSettings:
        """The settings the Studio tab shows: the sampler's fields, the text panel's split mode, the LoRA."""
        return self.sampler_panel.settings().replace(split=self.text_panel.split_mode(), **self.lora_panel.values())

    def apply_settings(self, settings: GenerationSettings) -> None:
        """Show ``settings`` (a saved set, a take's): the sampler's fields and the split mode."""
        self.sampler_panel.set_settings(settings)
        self.text_panel.set_split_mode(settings.split)
        self.lora_panel.set_values(settings)

    def _last_voice(self) -> str:
        """The voice last used: the saved voice of the Studio tab (or the one chosen at the last start)."""
        return self.voice_panel.saved_voice_name() or self.settings.voice

    def _batch_settings(self) -> GenerationSettings:
        """Settings for batch rows: the sampler as it stands. The Studio tab's split mode stays out: a
        batch line is split into sentences (its project keeps its own split)."""
        return self.sampler_panel.settings().replace(split=GenerationSettings().split, **self.lora_panel.values())

    def _on_engine_state(self, state: EngineState) -> None:
        self.engine_label.setText(f"Engine: {state.text()}")
        self.tabs.setTabText(self.tabs.indexOf(self.batch_view),
                             BATCH_RUNNING_TAB if state.holds(JobKind.BATCH) else BATCH_TAB)
        # The strip under the tabs says when other work (a batch) takes the engine, and when it is free.
        holder = self._holder()
        if holder is not None and holder.id != self._strip_holder:
            where = " on the Batch tab" if holder.kind is JobKind.BATCH else ""
            self.progress_panel.show_message(f"Engine busy: {state.text()}{where}")
        elif holder is None and self._strip_holder is not None and self.model_ready:
            self.progress_panel.show_message("Ready")
        self._strip_holder = holder.id if holder is not None else None
        self._update_actions()

    def _on_notice(self, text: str) -> None:
        self.statusBar().showMessage(text, 10_000)

    def _holder(self) -> JobInfo | None:
        """The job other than a studio take that holds the engine (a batch), if any."""
        active = self.engine.state.active
        return active if active is not None and not active.kind.is_studio_take else None

    def _busy_text(self, holder: JobInfo) -> str:
        if holder.kind is JobKind.BATCH:
            return "A batch is running on the Batch tab: wait for it or cancel it first."
        return f"The engine is busy with {holder.label}: wait for it or cancel it first."

    def _update_actions(self, *_: object) -> None:
        state = self.engine.state
        holder = self._holder()
        converting = self.convert_panel.active  # voice conversion: a source clip instead of text
        has_text = self.convert_panel.ready if converting else bool(self.text_panel.text().strip())
        ready = self.model_ready
        self.generate_action.setEnabled(ready and has_text and not state.busy)
        if not ready:
            why = ("The model is still loading." if self.engine.is_loading else
                   "No voice model is loaded: open the model manager (Ctrl+M).")
        elif holder is not None:
            why = self._busy_text(holder)
        elif state.busy:
            why = "A generation is running: stop it first (Esc)."
        elif not has_text:
            why = "Choose a source clip to convert first." if converting else "Type some text first."
        else:
            why = "Generate speech from the text in the chosen voice (Ctrl+Enter)."
        self.generate_action.setToolTip(why)
        self.generate_action.setStatusTip(why)
        self.stop_action.setEnabled(state.holds(JobKind.TAKE))
        # A conversion is one take, not checked (StudioTasks.convert): the Best-of control does not apply.
        self.best_of.setEnabled(not converting)
        self.best_of.setToolTip("A voice conversion makes one take and does not check it: Best of is for speech "
                                "from text" if converting else "")
        has_clip = self.output_panel.samples is not None
        self.play_action.setEnabled(has_clip and self.services.playback.available)
        self.export_action.setEnabled(has_clip)

    # -- generation ----------------------------------------------------------------------------
    def build_request(self) -> SynthesisRequest:
        prompts, blend = self.voice_panel.request_voice()
        return SynthesisRequest(text=self.text_panel.text(), language=self.text_panel.language_code(),
                                prompts=prompts, blend=blend, settings=self.generation_settings(),
                                lexicon=self.lexicons.current())

    def generate(self, *, allow_unknown: bool = False) -> int | None:
        """Start a generation on the engine thread (Ctrl+Enter); returns its job id. Unless
        ``allow_unknown``, a text that would send ``<unk>`` to the model generates nothing and the
        unknown-symbols strip names its words instead."""
        if not self.model_ready:
            if not self.engine.is_loading:
                self.banner.setVisible(True)
                self.open_model_manager()
            return None
        if not (self.convert_panel.ready if self.convert_panel.active else self.text_panel.text().strip()):
            self.statusBar().showMessage(self.generate_action.toolTip(), 4000)
            return None
        try:
            request = self.build_request()
        except (ValueError, OSError) as exc:  # a saved voice whose clips cannot be read
            show_error(self, summary_of(str(exc), "This voice cannot be used"), str(exc), title="Cannot use this voice")
            return None
        quality = self.best_of.options()  # several takes are chosen among once whole: they do not stream
        # Cancels a running take first: its "Stopped" comes before the lines below, which show the new job.
        try:
            if self.convert_panel.active:
                job = self.studio_tasks.convert(request)  # one take, not checked: see StudioTasks.convert
                label = request.text or f"(voice conversion of {self.convert_panel.source_name()})"
                request = dataclasses.replace(request, text=label)  # what the history shows
            else:
                job = self.engine.generate(request, stream=self.stream_bridge.wanted() and quality.single,
                                           quality=quality, check_unknown=not allow_unknown)
        except EngineBusy as busy:  # a batch holds the engine: the two never run together
            self.statusBar().showMessage(self._busy_text(busy.holder), 6000)
            return None
        self.unknown_banner.setVisible(False)
        self.text_panel.phonemes_for_run()  # the view shows what this run says, not an older text
        self.stream_bridge.track(job, request.text)
        self.progress_panel.start("starting")
        self._requests[job] = request
        self.take_keeper.start(job, request, voice=self.voice_panel.voice_name(), model=self._model_name())
        self.take_estimate.started(job)
        self._update_actions()
        return job

    def stop(self) -> None:
        """Cancel the running generation (Esc); a batch is stopped on its own tab."""
        self.engine.cancel_studio_takes()

    def _on_progress(self, job: int, progress: Progress) -> None:
        if job in self._requests:
            self.progress_panel.update_progress(progress)
            self.take_estimate.progress(job, progress)

    def _model_name(self) -> str:
        return getattr(self.engine.info, "name", "") or (self.engine.spec.model if self.engine.spec else "")

    def _on_candidate(self, job: int, candidate: Candidate) -> None:
        """One checked take of a running Generate: into the History at once (a stopped run keeps it)."""
        try:
            self.take_keeper.keep(job, candidate)
        except HistoryError as exc:
            log.error("%s", exc)

    def _on_finished(self, job: int, candidates: Candidates | UnknownSymbolsFound) -> None:
        request = self._requests.pop(job, None)
        if request is None:
            return  # not a take of this window (a batch, a task)
        if isinstance(candidates, UnknownSymbolsFound):  # nothing was generated: say which words, offer to go on
            self.stream_bridge.take_over(job)
            self.take_keeper.forget(job)
            self.progress_panel.cancelled()
            self.unknown_banner.setText(f"<b>Not generated:</b> {html.escape(candidates.warning, quote=False)} "
                                              "(Text → Pronunciation lexicon).")
            self.unknown_banner.setVisible(True)
            self.statusBar().showMessage("Not generated: the model would receive <unk>; see the strip above.", 8000)
            return
        result = candidates.best.result
        self.progress_panel.finish(result, verdict_text(candidates.best.quality))
        self.take_estimate.ended(job)
        streamed = self.stream_bridge.take_over(job)  # its audio is in the output panel already
        if result.audio is None:
            self.take_keeper.forget(job)
            return
        try:
            take = self.take_keeper.finish(job, candidates)
        except HistoryError as exc:
            log.error("%s", exc)
            self.take_keeper.forget(job)
            QMessageBox.warning(self, "Could not keep the take", str(exc))
            self.output_panel.set_clip(result.audio, result.sample_rate, title=request.text,
                                       name=suggested_name(request.text, result.seed), streamed=streamed)
            return
        self.history_panel.select(take.id)
        self._show_take(take, result.audio, result.sample_rate, streamed=streamed)
        self.statusBar().showMessage(take_message(candidates), 12_000)
        self.take_added.emit(take)

    def _on_failed(self, job: int, message: str) -> None:
        self.take_keeper.forget(job)
        if self._requests.pop(job, None) is None:
            return
        self.progress_panel.failed(message)
        self.take_estimate.ended(job)
        show_error(self, summary_of(message, "Generation failed"), message, title="Generation failed")

    def _on_cancelled(self, job: int) -> None:
        self.take_keeper.forget(job)
        if self._requests.pop(job, None) is None:
            return
        self.progress_panel.cancelled()
        self.take_estimate.ended(job)
        self.statusBar().showMessage("Generation stopped.", 4000)

    # -- takes ---------------------------------------------------------------------------------
    def _show_take(self, take: Take, audio: np.ndarray, sample_rate: int, *, streamed: bool = False) -> None:
        title = " ".join(take.text.split())
        title = title if len(title) <= 120 else title[:119] + "…"
        self.output_panel.set_clip(audio, sample_rate, title=title, name=suggested_name(take.text, take.seed),
                                   streamed=streamed, provenance=take_provenance(take))  # prov: tags, audit
        self._update_actions()

    def audition(self, take: Take) -> None:
        """Show a take of the history in the output and play it."""
        try:
            audio, rate = self.services.history.load_audio(take)
        except HistoryError as exc:
            QMessageBox.warning(self, "Cannot play this take", str(exc))
            return
        self._show_take(take, audio, rate)
        self.output_panel.play_from_start()

    def reuse_settings(self, take: Take) -> None:
        """Load a take's settings (and its seed) back into the sampler and the split mode."""
        self.apply_settings(take.settings)
        self.text_panel.set_language_code(take.language)
        self.statusBar().showMessage(f"Settings of the take with seed {take.seed} loaded.", 5000)

    def transcribe_take(self, take: Take) -> None:
        """Hear a take of the History through the STT head, beside the phonemes of its text."""
        try:
            audio, rate = self.services.history.load_audio(take)
        except HistoryError as exc:
            QMessageBox.warning(self, "Cannot transcribe this take", str(exc))
            return
        self.transcriber.transcribe(audio, rate, take.language or "en", asked=take.text, title=take.text)

    def transcribe_clip(self, clip: PromptClip) -> None:
        """Hear the reference clip shown in the voice panel (in the text panel's language)."""
        self.transcriber.transcribe(clip.samples, clip.sample_rate, self.text_panel.language_code(), asked=None,
                                    title=clip.label)

    def _on_exported(self, path: Path) -> None:
        self.statusBar().showMessage(f"Exported {path}", 6000)

    # -- models --------------------------------------------------------------------------------
    def show_about(self) -> AboutDialog:
        """Help → About: the version and the espeak-ng in use (non-modal, so it never blocks)."""
        return self.help_menu.show_about()  # prefs: told the model in use and the licences

    def open_model_manager(self, select: str | None = None) -> ModelManagerDialog:
        """Show the model manager (non-modal), at model ``select`` if given; choosing a model there reloads it."""
        if self._dialog is None:
            self._dialog = ModelManagerDialog(self.services.store, self.settings, self.engine, self,
                                              downloader=self.services.downloader)
            self._dialog.choice_changed.connect(self._on_model_choice)
            self._dialog.models_changed.connect(self._on_models_changed)
        if select:
            self._dialog.refresh(select=select)
        self._dialog.show()
        self._dialog.raise_()
        self._dialog.activateWindow()
        return self._dialog

    def _on_model_choice(self) -> None:
        self.load_default_model()

    def _on_models_changed(self) -> None:
        self.lora_panel.refresh()
        if not self.engine.is_loaded and not self.engine.is_loading:
            self.load_default_model()
        else:
            self.banner.setVisible(not installed_names(self.services.store))

    def _on_model_loading(self, spec: LoadSpec) -> None:
        self.model_label.setText(f"Model: {spec.model} (loading…)")
        self.progress_panel.show_message(f"Loading {spec.model}…")
        self._update_actions()

    def _on_model_loaded(self, spec: LoadSpec, info: ModelInfoProtocol | None) -> None:
        self.banner.setVisible(False)
        self.model_label.setText(f"Model: {getattr(info, 'name', spec.model)}")
        self.model_label.setToolTip(model_tooltip(self.services.store, spec.model, getattr(info, "path", "")))
        dropped = self.sampler_panel.set_capabilities(modality_limits(info))  # hook (models, issue 17)
        if dropped is not None:
            self.statusBar().showMessage(fallback_notice(str(getattr(info, "name", spec.model)), dropped), 15_000)
        device = str(getattr(info, "device", spec.device))
        self.device_label.setText(f"Device: {device}")
        if device == "cpu":
            gpu = [d for d in self.engine.devices if d != "cpu"]
            advice = ("A GPU is available: choose it in the model manager (Ctrl+M)." if gpu else
                      "No usable GPU was found (no NVIDIA/Apple GPU, or a CPU-only build of PyTorch).")
            self.device_label.setToolTip(f"{CPU_WARNING} {advice}")
            self.cpu_badge.setText(f"\u26a0 {CPU_WARNING}")
            self.cpu_badge.setToolTip(advice)
        else:
            self.device_label.setToolTip("")
        self.cpu_badge.setVisible(device == "cpu")
        precision = precision_of(_short_dtype(getattr(info, "dtype", spec.precision)), spec.precision)
        self.precision_label.setText(f"Precision: {precision}")
        self.precision_label.setToolTip(f"'auto' on this CPU means {auto_precision(self.estimates.record)[1]}."
                                        if spec.precision == "auto" and device == "cpu" else "")
        self.estimates.set_model(device, precision, bool(getattr(info, "can_nar_len", True)))
        self.progress_panel.show_message("Ready")
        self.text_panel.request_phonemes()
        self._update_actions()

    def _on_model_load_failed(self, spec: LoadSpec, message: str) -> None:
        self.model_label.setText(f"Model: {spec.model} (not loaded)")
        self.progress_panel.show_message("Model not loaded")
        self._update_actions()
        # hook (models, issue 17): one sentence (which parts are missing) and the way to add them
        show_error(self, load_failure_summary(self.services.store, spec.model, message),
                   f"{message}\n\nOpen the model manager (Ctrl+M) to add what is missing, download the model "
                   "again or pick another one.", title="Could not load the model",
                   action=("Open model manager", lambda: self.open_model_manager(select=spec.model)))

    def _open_log_folder(self) -> None:
        from PySide6.QtCore import QUrl

        from valle_studio.paths import user_log_dir

        QDesktopServices.openUrl(QUrl.fromLocalFile(str(user_log_dir())))

    # -- shutdown ------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Save state, stop the engine thread and any download, release the audio device."""
        if self._closed:
            return
        self._closed = True
        if self._dialog is not None:
            self._dialog.shutdown()
        self.save_state()
        self.batch_view.shutdown()
        self.output_panel.wait_export()  # prov: an export in progress finishes its file
        self.engine.shutdown()
        self.voice_panel.shutdown()
        self.convert_panel.shutdown()
        self.services.playback.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        event.accept()


def _short_dtype(dtype: str) -> str:
    return str(dtype).removeprefix("torch.")
