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
from PySide6.QtWidgets import QGroupBox, QLabel, QScrollArea, QSplitter, QTabWidget, QVBoxLayout, QWidget


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
        run_menu = self.menuBar().addMenu("&Run")
        run_menu.addActions([self.generate_action, self.stop_action, self.play_action])
        models_menu = self.menuBar().addMenu("&Models")
        models_menu.addAction(self.models_action)
        text_menu = self.menuBar().addMenu("&Text")
        text_menu.addActions([self.lexicons.global_action, self.lexicons.voice_action])
        from valle_studio.app.tools_menu import install_tools_menu  # prov: Tools (audit log, watermark check)

        self.tools = install_tools_menu(self)
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(self.benchmark_action)
        help_menu.addAction(self.log_action)
        self.about_action = help_menu.addAction("&About VALL-E Studio")

        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        style = self.style()
        self.generate_action.setIcon(style.standardIcon(style.StandardPixmap.SP_MediaPlay))
        self.stop_action.setIcon(style.standardIcon(style.StandardPixmap.SP_MediaStop))
        toolbar.addAction(self.generate_action)
        toolbar.addAction(self.stop_action)
        toolbar.addSeparator()
        toolbar.addAction(self.models_action)

    def _build_layout(self: Any) -> None:
        sampler_scroll = QScrollArea()
        sampler_scroll.setWidgetResizable(True)
        sampler_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        sampler_scroll.setWidget(self.sampler_panel)
        sampler_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        text_box = QGroupBox("Text")
        text_layout = QVBoxLayout(text_box)
        text_layout.addWidget(self.text_panel)
        text_layout.addWidget(self.convert_panel)
        lora_box = QGroupBox("LoRA voice adapter")
        QVBoxLayout(lora_box).addWidget(self.lora_panel)
        lora_box.setMinimumHeight(lora_box.sizeHint().height())  # its note must not be cut off
        sampler_box = QGroupBox("Sampler")
        sampler_layout = QVBoxLayout(sampler_box)
        sampler_layout.addWidget(self.best_of)
        sampler_layout.addWidget(sampler_scroll)
        centre = QSplitter(Qt.Orientation.Vertical)
        centre.setChildrenCollapsible(False)
        centre.addWidget(text_box)
        centre.addWidget(lora_box)
        centre.addWidget(sampler_box)
        centre.setSizes([300, lora_box.sizeHint().height(), 420])

        output_box = QGroupBox("Output")
        output_layout = QVBoxLayout(output_box)
        output_layout.addWidget(self.output_panel)
        history_box = QGroupBox("History")
        history_layout = QVBoxLayout(history_box)
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
        self.tabs.addTab(self.splitter, "&Studio")
        self.tabs.addTab(self.batch_view, "&Batch")

        root = QWidget()
        layout = QVBoxLayout(root)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.addWidget(self.banner)
        layout.addWidget(self.unknown_banner)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.progress_panel)
        self.setCentralWidget(root)
        self.resize(1280, 780)

    def _build_status_bar(self: Any) -> None:
        self.model_label = QLabel("Model: none")
        self.model_label.setObjectName("statusModel")
        self.device_label = QLabel("Device: –")
        self.device_label.setObjectName("statusDevice")
        self.precision_label = QLabel("Precision: –")
        self.precision_label.setObjectName("statusPrecision")
        self.engine_label = QLabel("Engine: idle")
        self.engine_label.setObjectName("statusEngine")
        self.engine_label.setToolTip("What the engine is doing: one job at a time (a take, a batch, ...)")
        for label in (self.engine_label, self.model_label, self.device_label, self.precision_label):
            self.statusBar().addPermanentWidget(label)


__all__ = ["WindowLayout"]
