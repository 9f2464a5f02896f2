"""How the Batch tab looks: the project row, the run options row, the message strip, the table with the
takes under it (or the empty page), and the run strip at the bottom.

A mixin of :class:`~valle_studio.app.widgets.batch_view.BatchView` (kept apart so the view's file is about
behaviour). Every changing text (the project's counts, the settings summary, the run strip's line) is an
:class:`~.elided_label.ElidedLabel`, so no text widens the window. Other modules put a control of their own
into the run options row with :meth:`BatchViewLayout.add_run_option` (a cluster choice, say).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from valle_studio.app.batch_table import BatchTableModel, BatchTableView
from valle_studio.app.widgets.batch_look_bar import LookBar
from valle_studio.app.widgets.batch_run_bar import BatchRunBar
from valle_studio.app.widgets.batch_takes_panel import BatchTakesPanel
from valle_studio.app.widgets.elided_label import ElidedLabel
from valle_studio.engine.text.languages import LANGUAGES

EMPTY_TEXT = ("<p style='font-size:large'><b>Batch: one audio file per line</b></p>"
              "<p>Open a script, or drop one here: a text file with one line per clip, or a CSV/TSV with a "
              "<i>text</i> column (and optionally <i>voice</i>, <i>filename</i>, <i>seed</i>).</p>"
              "<p>Tags such as <code>[Narrator] text</code> or <code>Alice: text</code> pick saved voices.</p>")


class BatchViewLayout:
    """See the module docstring; every attribute it sets is the view's."""

    def _build(self: Any) -> None:
        self.open_script_button = QPushButton("Open script…")
        self.open_project_button = QPushButton("Open project…")
        self.project_label = ElidedLabel("", minimum_chars=8)
        self.project_label.setObjectName("batchProject")
        bold = self.project_label.font()
        bold.setBold(True)
        self.project_label.setFont(bold)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Write the approved takes as WAV files, with manifests")
        self.lexicon_button = QPushButton("Lexicon…")
        self.lexicon_button.setToolTip("This script's pronunciations: they win over the global and voice lexicons")
        top = QHBoxLayout()
        for widget in (self.open_script_button, self.open_project_button):
            top.addWidget(widget)
        top.addWidget(self.project_label, 1)
        top.addWidget(self.lexicon_button)
        top.addWidget(self.export_button)

        self.voice_combo = QComboBox()
        self.voice_combo.setToolTip("The voice of lines that do not name one ((none): the model's own voice)")
        self.voice_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.voice_combo.setMinimumContentsLength(14)
        self.language_combo = QComboBox()
        for code, language in LANGUAGES.items():
            self.language_combo.addItem(language.name, code)
        # Long settings summaries must not widen the window; the tooltip has them all.
        self.settings_label = ElidedLabel("", minimum_chars=0)
        self.use_settings_button = QPushButton("Use current sampler settings")
        self.use_settings_button.setToolTip("Generate the lines from now on with the sampler panel's settings")
        options = self.options_row = QHBoxLayout()
        options.addWidget(QLabel("Default voice:"))
        options.addWidget(self.voice_combo)
        options.addWidget(QLabel("Language:"))
        options.addWidget(self.language_combo)
        options.addSpacing(12)
        options.addWidget(self.settings_label, 1)
        options.addWidget(self.use_settings_button)

        self.message_frame = QFrame()
        self.message_frame.setFrameShape(QFrame.Shape.StyledPanel)
        self.message_frame.setAutoFillBackground(True)
        self.message_frame.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        QHBoxLayout(self.message_frame).addWidget(self.message)
        self.message_frame.hide()

        self.model = BatchTableModel(self)
        self.table = BatchTableView(self.model, self.voices.names)
        self.takes = BatchTakesPanel(self.playback)
        table_box, self.look = LookBar.above(self.table, self.model)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(table_box)
        splitter.addWidget(self.takes)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)

        self.empty_label = QLabel(EMPTY_TEXT)
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setContentsMargins(40, 40, 40, 40)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty_label)
        self.stack.addWidget(splitter)

        self.run_bar = BatchRunBar()
        bar = self.run_bar
        self.run_all_button, self.run_selected_button, self.run_failed_button = bar.run_buttons
        self.pause_button, self.cancel_button = bar.pause_button, bar.cancel_button
        self.progress, self.progress_label = bar.progress, bar.label
        bar_row = bar.layout()  # ray: the cluster choice, in the same row
        assert isinstance(bar_row, QHBoxLayout)
        bar_row.addWidget(self.cluster_option, 1)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(options)
        layout.addWidget(self.message_frame)
        layout.addWidget(self.stack, 1)
        layout.addWidget(bar)
    def add_run_option(self: Any, widget: QWidget) -> None:
        """Put ``widget`` (a short control: a check box, a small combo) in the run options row, before the
        settings summary, which gives up the room it takes."""
        self.options_row.insertWidget(self.options_row.indexOf(self.settings_label), widget)


__all__ = ["EMPTY_TEXT", "BatchViewLayout"]
