"""The Help menu: user guide (F1), keyboard shortcuts (Ctrl+/), the benchmark, the log folder and About.

Built by the window's layout with ``HelpMenu(window)``; it reads the window's attributes (its engine,
model store and LoRA control) only when a dialog opens, so it may be built before the window is complete.
The window's ``about_action`` is made here; About is told the model in use and the terms of everything
that runs (the model and what it requires from the store, the EnCodec and Vocos codecs, a LoRA in use).
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog

from valle_studio.app.widgets.about_dialog import AboutContext, AboutDialog
from valle_studio.app.widgets.guide_dialog import GuideDialog
from valle_studio.app.widgets.shortcuts_dialog import ShortcutsDialog
from valle_studio.engine.store import catalog as cat

log = logging.getLogger(__name__)


class HelpMenu(QObject):
    """See the module docstring. ``window`` is the main window (a QMainWindow with the app's panels)."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.guide_action = QAction("User &guide", window)
        self.guide_action.setShortcut(QKeySequence(Qt.Key.Key_F1))
        self.guide_action.setToolTip("How to make a voice, generate, and export (works offline)")
        self.shortcuts_action = QAction("&Keyboard shortcuts", window)
        self.shortcuts_action.setShortcut(QKeySequence("Ctrl+/"))
        self.about_action = QAction("&About VALL-E Studio", window)
        for action in (self.guide_action, self.shortcuts_action):
            window.addAction(action)  # shortcuts work wherever the focus is
        menu = window.menuBar().addMenu("&Help")
        menu.addActions([self.guide_action, self.shortcuts_action])
        menu.addSeparator()
        menu.addActions([window.benchmark_action, window.log_action])
        menu.addSeparator()
        menu.addAction(self.about_action)
        self.menu = menu
        self.guide_action.triggered.connect(self.show_guide)
        self.shortcuts_action.triggered.connect(self.show_shortcuts)
        self._open: dict[str, QDialog] = {}

    def _reuse(self, key: str, make: Any) -> Any:
        """One dialog of each kind: raised when already open, made anew when closed."""
        dialog = self._open.get(key)
        if dialog is None or not dialog.isVisible():
            dialog = make()
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.destroyed.connect(lambda *_: self._open.pop(key, None))
            self._open[key] = dialog
        dialog.show()
        dialog.raise_()
        return dialog

    def show_guide(self) -> GuideDialog:
        return self._reuse("guide", lambda: GuideDialog(self.window))

    def show_shortcuts(self) -> ShortcutsDialog:
        return self._reuse("shortcuts", lambda: ShortcutsDialog(self.window))

    def show_about(self) -> AboutDialog:
        """About, non-modal (it never blocks), told what runs now."""
        return self._reuse("about", lambda: AboutDialog(self.window, self.about_context()))

    def about_context(self) -> AboutContext:
        window = self.window
        engine = getattr(window, "engine", None)
        spec = getattr(engine, "spec", None) if engine is not None and engine.is_loaded else None
        info = getattr(engine, "info", None) if spec is not None else None
        model, detail = "", ""
        notes: list[tuple[str, str]] = []
        store = window.services.store
        if spec is not None:
            model = str(getattr(info, "name", "") or spec.model)
            parts = [f"{label} {value}" for label, value in (("device", getattr(info, "device", spec.device)),
                                                             ("precision", getattr(info, "dtype", spec.precision)))
                     if value]
            detail = ", ".join(str(p).replace("torch.", "") for p in parts)
            notes += _store_licences(store, spec.model)
        lora = str(window.lora_panel.values().get("lora") or "") if hasattr(window, "lora_panel") else ""
        if lora:
            notes += _store_licences(store, lora if lora.startswith(cat.LORA_PREFIX) else cat.LORA_PREFIX + lora)
        # The codecs run with every model: listed even before one is loaded.
        notes += [(cat.CATALOG[name].display_name, cat.CATALOG[name].licence) for name in (cat.ENCODEC, cat.VOCOS)]
        return AboutContext(model=model, model_detail=detail, licences=tuple(notes))


def _store_licences(store: Any, name: str) -> list[tuple[str, str]]:
    """The store's terms of ``name`` and what it requires; the catalogue's when the store cannot say."""
    try:
        return list(store.licences(name))
    except Exception as exc:  # a stand-in store, an unknown name: fall back to the catalogue
        log.debug("licences of %s from the store: %s", name, exc)
    try:
        return cat.licence_notes(cat.CATALOG, name)
    except Exception:
        return [(name, "Imported by you: the terms of its source apply.")]


__all__ = ["HelpMenu"]
