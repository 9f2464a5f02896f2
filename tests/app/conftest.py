"""Fixtures shared by the GUI tests (and re-exported by ``tests/reliability/conftest.py``).

Importing this module also applies the start-up work-around of the app for Qt bindings that leak
references to ``None`` (``valle_studio.app.qt_fixes``): the test session makes hundreds of thousands
of Qt calls, and with an affected binding the interpreter would abort at a random test otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QMessageBox

from valle_studio.app.qt_fixes import guard_none_refcount

guard_none_refcount()


@pytest.fixture(autouse=True)
def no_unexpected_message_boxes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail, instead of hanging, when the app opens a modal message box the test did not expect.

    Offscreen nobody can press OK: an unexpected ``QMessageBox.warning`` (say "Generation failed")
    would block the test until the session's timeout and hide its text. A test that expects a box
    patches the function itself, which replaces this guard for that test.
    """

    def unexpected(kind: str) -> object:
        def show(_parent: object, title: str, text: str, *args: object, **kwargs: object) -> object:
            raise AssertionError(f"unexpected QMessageBox.{kind}: {title}: {text}")

        return staticmethod(show)

    for kind in ("warning", "critical", "information", "question"):
        monkeypatch.setattr(QMessageBox, kind, unexpected(kind))


@pytest.fixture(autouse=True)
def no_dangling_qthreads(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail when a test leaves a QThread running (napari's ``_dangling_qthreads`` idea).

    Every ``QThread.start`` during the test is recorded; after the test each of those threads must
    have finished. A thread still running means a window or task did not shut down cleanly.
    """
    started: list[QThread] = []
    original = QThread.start

    def start(self: QThread, *args: object) -> None:
        started.append(self)
        original(self, *args)

    monkeypatch.setattr(QThread, "start", start)
    yield
    running = [t.objectName() or repr(t) for t in started if t.isRunning()]
    assert not running, f"QThreads left running: {running}"


@pytest.fixture(scope="module")
def codec() -> Any:
    """A random-weight EnCodec (no Vocos): real shapes and code paths, built once per module."""
    from valle_studio.engine.codec import EncodecVocosCodec

    return EncodecVocosCodec.random(seed=0, with_vocos=False)


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    """An app home whose model store holds one tiny model, installed under the name "tiny"."""
    from valle_studio.engine.debug import write_tiny_checkpoint

    write_tiny_checkpoint(tmp_path / "models" / "tiny" / "model.sft")
    return tmp_path
