"""How the main window looks: its actions, menus and toolbar, the Studio and Batch tabs, the status bar.

A mixin of :class:`~valle_studio.app.main_window.MainWindow` (kept apart so the window's file is about
wiring and slots): these build the widgets' arrangement once, from the panels the window made. The
Studio tab's centre column holds the Text box (with the voice-conversion mode), the LoRA control, and the
Sampler box with the Best-of control above the sampler's fields.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QGroupBox, QScrollArea, QSplitter, QStyle, QTabWidget, QVBoxLayout, QWidget

from valle_studio.app.edit_menu import EditMenu
from valle_studio.app.help_menu import HelpMenu
from valle_studio.app.tools_menu import install_tools_menu
from valle_studio.app.widgets.elided_label import ElidedLabel

#: Inside a group box: tighter than the style's default, so three columns fit a 910 px window.
BOX_MARGINS = (6, 4, 6, 6)


class WindowLayout:
    """See the module docstring; every attribute it reads or sets is the window's."""

    def _build_actions(self: Any) -> None:
        self.generate_action = QAction("&Generate", self)
        self.generate_action.setShortcuts([QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")])
        self.stop_action = QAction("&Stop", self)
        self.stop_action.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.stop_action.setToolTip("Stop the generation (Esc)")
        self.play_action = QAction("&Play/Pause", self)
        self.play_action.setShortcut(QKeySequence(Qt.Key.Key_Space))
        self.export_action = QAction("&Export take…", self)
        self.export_action.setShortcut(QKeySequence("Ctrl+E"))
        self.models_action = QAction("&Model manager…", self)
        self.models_action.setShortcut(QKeySequence("Ctrl+M"))
        self.models_action.setToolTip("Download, import and choose voice models; device and precision")
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.log_action = QAction("Open &log folder", self)
        self.benchmark_action = QAction("&Benchmark this machine…", self)
        self.benchmark_action.setToolTip("Measure how fast this machine generates speech, and get settings that fit it")
        for action in (self.generate_action, self.stop_action, self.play_action, self.export_action,
                       self.models_action, self.quit_action):
            self.addAction(action)  # shortcuts work wherever the focus is in the window

        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        self.edit_menu = EditMenu(self)  # prefs: Edit → Preferences… (Ctrl+,), appearance, action icons
        run_menu = self.menuBar().addMenu("&Run")
        run_menu.addActions([self.generate_action, self.stop_action, self.play_action])
        models_menu = self.menuBar().addMenu("&Models")
        models_menu.addAction(self.models_action)
        text_menu = self.menuBar().addMenu("&Text")
        text_menu.addActions([self.lexicons.global_action, self.lexicons.voice_action])
        self.tools = install_tools_menu(self)  # prov: Tools (audit log, watermark check)
        self.help_menu = HelpMenu(self)  # prefs: guide (F1), shortcuts (Ctrl+/), benchmark, log, About
        self.about_action = self.help_menu.about_action

        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.edit_menu.apply_icons()  # prefs: drawn in the palette's colours, redrawn on a theme change
        toolbar.addAction(self.generate_action)
        toolbar.addAction(self.stop_action)
        toolbar.addSeparator()
        toolbar.addAction(self.models_action)

    def _build_layout(self: Any) -> None:
        # The LoRA control scrolls with the sampler's fields: both are "how it is said", and a box of its
        # own would take a fixed height the centre column does not have at 640 px (or 510 px) high.
        lora_box = QGroupBox("LoRA voice adapter")
        lora_box.setObjectName("loraBox")
        lora_layout = QVBoxLayout(lora_box)
        lora_layout.setContentsMargins(*BOX_MARGINS)
        lora_layout.addWidget(self.lora_panel)
        sampler_page = QWidget()
        sampler_page_layout = QVBoxLayout(sampler_page)
        sampler_page_layout.setContentsMargins(0, 0, 0, 0)
        sampler_page_layout.addWidget(self.sampler_panel)
        sampler_page_layout.addWidget(lora_box)
        sampler_page_layout.addStretch(1)
        sampler_scroll = QScrollArea()
        sampler_scroll.setObjectName("samplerScroll")
        sampler_scroll.setWidgetResizable(True)
        sampler_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        sampler_scroll.setWidget(sampler_page)
        sampler_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Never narrower than its fields (there is no side scrolling): the column keeps room for them.
        scrollbar = sampler_scroll.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        sampler_scroll.setMinimumWidth(sampler_page.minimumSizeHint().width() + scrollbar + 2)
        self.sampler_scroll = sampler_scroll

        text_box = QGroupBox("Text")
        text_layout = QVBoxLayout(text_box)
        text_layout.setContentsMargins(*BOX_MARGINS)
        text_layout.addWidget(self.text_panel)
        text_layout.addWidget(self.convert_panel)
        sampler_box = QGroupBox("Sampler")
        sampler_layout = QVBoxLayout(sampler_box)
        sampler_layout.setContentsMargins(*BOX_MARGINS)
        sampler_layout.addWidget(self.best_of)
        sampler_layout.addWidget(sampler_scroll)
        centre = self.centre_splitter = QSplitter(Qt.Orientation.Vertical)
        centre.setObjectName("centreSplitter")
        centre.setChildrenCollapsible(False)
        centre.addWidget(text_box)
        centre.addWidget(sampler_box)
        centre.setStretchFactor(0, 2)
        centre.setStretchFactor(1, 3)
        centre.setSizes([300, 420])
        # Opening "Advanced" gives the sampler the room above the text box's minimum (and closing it gives
        # the room back), so its rows are not read through a slot two rows high.
        self.sampler_panel.advanced_button.toggled.connect(self._on_advanced_toggled)

        output_box = QGroupBox("Output")
        output_layout = QVBoxLayout(output_box)
        output_layout.setContentsMargins(*BOX_MARGINS)
        output_layout.addWidget(self.output_panel)
        history_box = QGroupBox("History")
        history_layout = QVBoxLayout(history_box)
        history_layout.setContentsMargins(*BOX_MARGINS)
        history_layout.addWidget(self.history_panel)
        right = QSplitter(Qt.Orientation.Vertical)
        right.setChildrenCollapsible(False)
        right.addWidget(output_box)
        right.addWidget(history_box)
        right.setSizes([260, 460])

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.voice_panel)
        self.splitter.addWidget(centre)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setStretchFactor(2, 3)

        # One line at a time on the "Studio" tab, whole scripts on the "Batch" tab; both share the
        # engine, the voices and the player.
        self.tabs = QTabWidget()
        self.tabs.setObjectName("mainTabs")
        self.tabs.setDocumentMode(True)
        # The Studio tab's progress strip (with its own Stop) belongs to the Studio tab: the Batch tab has its own.
        studio = QWidget()
        studio.setObjectName("studioPage")
        studio_layout = QVBoxLayout(studio)
        studio_layout.setContentsMargins(0, 0, 0, 0)
        studio_layout.setSpacing(2)
        studio_layout.addWidget(self.splitter, 1)
        studio_layout.addWidget(self.progress_panel)
        self.tabs.addTab(studio, "&Studio")
        self.tabs.addTab(self.batch_view, "&Batch")

        root = QWidget()
        layout = QVBoxLayout(root)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.addWidget(self.banner)
        layout.addWidget(self.unknown_banner)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(root)
        self.resize(1280, 780)

    def _on_advanced_toggled(self: Any, opened: bool) -> None:
        centre = self.centre_splitter
        sizes = centre.sizes()
        total = sum(sizes)
        centre.setStretchFactor(0, 0 if opened else 2)  # while open, a taller window grows the sampler
        if opened:
            self._centre_sizes = sizes
            text = centre.widget(0).minimumSizeHint().height()
            centre.setSizes([text, max(total - text, 0)])
        elif getattr(self, "_centre_sizes", None):
            centre.setSizes(self._centre_sizes)

    def _build_status_bar(self: Any) -> None:
        # Elided labels: a long model name or engine state never widens the window (tooltip: the whole text).
        self.model_label = ElidedLabel("Model: none", minimum_chars=8)
        self.model_label.setObjectName("statusModel")
        self.device_label = ElidedLabel("Device: –", minimum_chars=8)
        self.device_label.setObjectName("statusDevice")
        self.precision_label = ElidedLabel("Precision: –", minimum_chars=8)
        self.precision_label.setObjectName("statusPrecision")
        self.engine_label = ElidedLabel("Engine: idle", minimum_chars=8)
        self.engine_label.setObjectName("statusEngine")
        self.engine_label.setToolTip("What the engine is doing: one job at a time (a take, a batch, ...)")
        # Said where it is seen, not in a tooltip: generation on the CPU is slower than the speech lasts.
        self.cpu_badge = ElidedLabel("", minimum_chars=10)
        self.cpu_badge.setObjectName("cpuWarning")
        self.cpu_badge.setStyleSheet("QFrame#cpuWarning { color: #7a4a00; background: #ffe8b0; border-radius: 3px;"
                                     " padding: 0 6px; }")
        self.cpu_badge.setVisible(False)
        self.statusBar().addPermanentWidget(self.cpu_badge, 3)
        for label in (self.engine_label, self.model_label, self.device_label, self.precision_label):
            self.statusBar().addPermanentWidget(label)


__all__ = ["WindowLayout"]
