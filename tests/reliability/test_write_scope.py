"""A whole GUI session writes only inside the app's own folders and the folder the user exported to,
and makes no network connection when everything it needs is installed.

Python's audit hooks see every file opened for writing, every rename, removal and new folder, and
every socket connection or name lookup, from any thread and any library. The session: start with a
model installed, import a reference clip, save it as a voice, generate a take, audition it, export it,
open the model manager, change a setting, quit. Files written by Qt's C++ code (the settings INI) are
not seen by the hook, so their location is checked directly.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.app.export_wait import export_and_wait
from tests.reliability.cases import tone
from tests.reliability.helpers import FAST, Boxes, home
from tests.reliability.studio import close_window, generate_and_wait, install_model, make_services, open_window

pytestmark = pytest.mark.gui

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
# Audit event -> positions of the paths it changes (a copy's source is only read).
_PATH_EVENTS = {"os.rename": (0, 1), "os.replace": (0, 1), "os.remove": (0,), "os.rmdir": (0,), "os.mkdir": (0,),
                "os.truncate": (0,), "shutil.rmtree": (0,), "shutil.copyfile": (1,), "shutil.move": (0, 1),
                "os.symlink": (1,), "os.link": (1,)}
# These events carry a dir_fd: a name relative to an open folder (shutil.rmtree's walk), whose own
# path was recorded by the enclosing event.
_DIR_FD_AT = {"os.remove": 1, "os.rmdir": 1, "os.mkdir": 2}
_NETWORK_EVENTS = {"socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "http.client.connect"}


class _Recorder:
    """One audit hook per process (they cannot be removed); it records only while ``events`` is a list."""

    events: list[tuple[str, Any]] | None = None
    lock = threading.Lock()
    installed = False

    @classmethod
    def hook(cls, event: str, args: tuple[Any, ...]) -> None:
        events = cls.events
        if events is None:
            return
        if event == "open":
            path, mode, flags = args
            writing = (isinstance(mode, str) and bool(set(mode) & set("wax+"))) or (
                mode is None and isinstance(flags, int) and bool(flags & _WRITE_FLAGS))
            if writing and isinstance(path, (str, bytes, os.PathLike)):
                events.append(("write", os.fsdecode(path)))
        elif event in _PATH_EVENTS:
            at = _DIR_FD_AT.get(event)
            if at is not None and len(args) > at and isinstance(args[at], int) and args[at] >= 0:
                return
            for index in _PATH_EVENTS[event]:
                path = args[index]
                if isinstance(path, (str, bytes, os.PathLike)):
                    events.append((event, os.fsdecode(path)))
        elif event in _NETWORK_EVENTS:
            events.append((event, repr(args)[:120]))

    @classmethod
    def start(cls) -> list[tuple[str, Any]]:
        if not cls.installed:
            sys.addaudithook(cls.hook)
            cls.installed = True
        cls.events = []
        return cls.events

    @classmethod
    def stop(cls) -> None:
        cls.events = None


def _inside(path: str, roots: list[Path]) -> bool:
    resolved = Path(os.path.abspath(path))
    return any(resolved == root or root in resolved.parents for root in roots)


def test_a_whole_session_stays_in_its_folders(qtbot: Any, tmp_path: Path, codec: Any, tokenizer: Path,
                                              tiny_bytes: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtWidgets import QFileDialog, QInputDialog

    boxes = Boxes().install(monkeypatch)
    references = tmp_path / "my recordings"
    references.mkdir()
    clip = references / "alice.wav"
    import soundfile as sf

    sf.write(clip, tone(4.0), 24_000)
    exports = tmp_path / "exports"
    exports.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(exports / "greeting.flac"), "FLAC (*.flac)")))
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("Alice", True)))
    app_home = home().resolve()
    from valle_studio.app import main as app_main

    monkeypatch.delenv("TORCHINDUCTOR_CACHE_DIR", raising=False)  # undone after the test
    app_main.contain_library_caches()  # what the entry point does before the window starts
    services = make_services(codec, tokenizer)
    install_model(services.store, tiny_bytes)

    events = _Recorder.start()
    try:
        window = open_window(qtbot, services)
        window.sampler_panel.set_settings(FAST)
        panel = window.voice_panel
        panel.import_file(clip)
        qtbot.waitUntil(lambda: not panel.busy, timeout=10_000)
        panel.name_edit.setText("Alice")
        panel.save_voice()
        status, take = generate_and_wait(qtbot, window, "Hello from a whole session.")
        assert status == "finished", take
        window.audition(take)
        assert export_and_wait(window.output_panel) == exports / "greeting.flac"
        window.open_model_manager()
        window.text_panel.set_language_code("de")
        close_window(window)
    finally:
        _Recorder.stop()

    assert boxes.shown == []
    # The hook saw the session's writes (so it can see a stray one): the take, the voice, the export.
    written = [path for _kind, path in events]
    for expected in (services.history.folder, services.voices.root, exports / "greeting.flac"):
        assert any(_inside(p, [Path(expected).resolve()]) for p in written), f"no write seen under {expected}"
    allowed = [app_home, exports.resolve()]
    stray = sorted({f"{kind} {path}" for kind, path in events
                    if kind in ("write", *_PATH_EVENTS) and not _inside(path, allowed)
                    and not path.endswith(".pyc") and path != os.devnull})  # bytecode cache of late imports
    assert not stray, "written outside the app's folders and the export folder:\n  " + "\n  ".join(stray)
    network = [f"{kind} {detail}" for kind, detail in events if kind in _NETWORK_EVENTS]
    assert not network, f"network activity with everything installed: {network}"
    assert clip.read_bytes()[:4] == b"RIFF" and sorted(p.name for p in references.iterdir()) == ["alice.wav"]
    settings = Path(services.settings.path).resolve()  # written by Qt (C++), unseen by the hook
    assert settings.is_file() and app_home in settings.parents
