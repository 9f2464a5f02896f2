"""Item 5: time from launching the app to an interactive main window, and the app's peak memory.

Each run starts a fresh Python process (``benchmarks/_app_probe.py``) with Qt's offscreen platform
and a throw-away user folder; the clock starts just before the process is spawned and stops when the
shown window's first event-loop turn runs. The probe also reports whether torch was already
imported at that moment (it must not be: the engine thread imports it after the window is up) and
the longest event-loop stall while the engine thread imports torch.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._common import Report

ROOT = Path(__file__).resolve().parent.parent


def launch_once(watch: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="valle-bench-app-") as home:
        env = {**os.environ, "VALLE_STUDIO_HOME": home, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM",
                                                                                        "offscreen")}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
        launched = time.time()
        proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "_app_probe.py"), "--watch", str(watch)],
                              env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    for line in proc.stdout.splitlines():
        if line.startswith("APP-PROBE "):
            data = json.loads(line.removeprefix("APP-PROBE "))
            data["launched"] = launched
            return data
    raise RuntimeError(f"the app probe printed no result (exit {proc.returncode}):\n{proc.stderr[-2000:]}")


def app_startup(report: Report, *, runs: int, watch: float) -> float | None:
    """Median seconds from launch to an interactive window; None if the app cannot start here."""
    try:
        results = [launch_once(watch) for _ in range(runs)]
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
        report.say(f"   the app could not be started here: {exc}")
        return None
    ready = [r["interactive"] - r["launched"] for r in results]
    shown = [r["shown"] - r["launched"] for r in results]
    stalls = [r.get("max_stall_ms", float("nan")) for r in results]
    torch_seen = [r["torch_seen"] - r["launched"] for r in results if "torch_seen" in r]
    median = statistics.median(ready)
    report.say(f"   launch -> window shown: {statistics.median(shown):.2f} s; -> interactive (first event-loop "
               f"turn): {median:.2f} s (runs: {', '.join(f'{t:.2f}' for t in ready)})")
    report.say(f"   torch imported before the window was interactive: "
               f"{any(r['torch_loaded_at_interactive'] for r in results)}; torch in the process "
               f"{statistics.median(torch_seen):.1f} s after launch" if torch_seen else
               "   torch was not imported while watching")
    report.say(f"   longest UI stall during the {watch:g} s after the window appeared: "
               f"{statistics.median(stalls):.0f} ms (median of runs); app peak RSS "
               f"{statistics.median(r['peak_rss_mb'] for r in results):.0f} MiB")
    report.figures["app_interactive_s"] = median
    report.figures["app_max_stall_ms"] = statistics.median(stalls)
    return median
