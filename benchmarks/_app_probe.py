"""Run inside a fresh process by ``bench_app``: start the real app and report when it is interactive.

Nothing in ``valle_studio.app`` is changed: ``MainWindow.show`` is wrapped here so that, once the
window is shown, a zero-delay timer fires on the first free turn of the event loop -- the moment the
window is on screen and answering events. A 10 ms heartbeat timer then runs for ``--watch`` seconds
while the engine thread imports torch, and the longest gap between beats is the worst stall a user
would feel. Prints one JSON line and quits the app.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time

from benchmarks._common import peak_rss_mb


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--watch", type=float, default=4.0, help="seconds to watch the event loop afterwards")
    args = parser.parse_args()

    from PySide6.QtCore import QTimer

    from valle_studio.app import main as app_main
    from valle_studio.app import main_window

    result: dict[str, object] = {}
    original_show = main_window.MainWindow.show

    def show(window: main_window.MainWindow) -> None:
        original_show(window)
        result["shown"] = time.time()

        def interactive() -> None:
            handle = window.windowHandle()
            result["interactive"] = time.time()
            result["visible"] = bool(window.isVisible())
            result["exposed"] = bool(handle is not None and handle.isExposed())
            result["torch_loaded_at_interactive"] = "torch" in sys.modules
            _watch(window, result, args.watch)

        QTimer.singleShot(0, interactive)

    main_window.MainWindow.show = show  # type: ignore[method-assign]
    code = app_main.main([])
    result["exit_code"] = code
    result["torch_loaded_at_exit"] = "torch" in sys.modules
    result["peak_rss_mb"] = peak_rss_mb()
    print("APP-PROBE " + json.dumps(result), flush=True)
    return 0


def _watch(window, result: dict[str, object], seconds: float) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    beats: list[float] = [time.perf_counter()]
    timer = QTimer(window)
    timer.setInterval(10)

    def beat() -> None:
        now = time.perf_counter()
        beats.append(now)
        if "torch" in sys.modules and "torch_seen" not in result:
            result["torch_seen"] = time.time()
        if now - beats[0] >= seconds:
            timer.stop()
            gaps = [b - a for a, b in itertools.pairwise(beats)]
            result["max_stall_ms"] = 1e3 * max(gaps) if gaps else 0.0
            result["beats"] = len(beats)
            window.close()
            QApplication.instance().quit()

    timer.timeout.connect(beat)
    timer.start()


if __name__ == "__main__":
    sys.exit(main())
