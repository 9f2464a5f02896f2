"""Item 5, memory: loading a full-size checkpoint as the app does, in a fresh process, and its peak memory.

A full-size ``ar+nar-len`` checkpoint with random weights is written in upstream's format (float16
safetensors, 476 MB) to a temporary folder; a child process then imports torch, calls
``load_model`` (float32, and int8 when available) and runs a short AR generation, reporting resident
memory after each stage and the high-water mark (Linux ``VmHWM``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks._common import Report

ROOT = Path(__file__).resolve().parent.parent

_CHILD = r"""
import json, sys, time
from benchmarks._common import peak_rss_mb, rss_mb
out = {"base_mb": rss_mb()}
t = time.perf_counter()
import torch
torch.set_num_threads(int(sys.argv[3]))
out["torch_import_s"] = time.perf_counter() - t
out["after_torch_mb"] = rss_mb()
from valle_studio.engine.generation import generate_ar
from valle_studio.engine.model import load_model
from valle_studio.engine.sampling import SamplerConfig
t = time.perf_counter()
model = load_model(sys.argv[1], quantize=None if sys.argv[2] == "fp32" else sys.argv[2])
out["load_s"] = time.perf_counter() - t
out["after_load_mb"] = rss_mb()
out["load_peak_mb"] = peak_rss_mb()
text = torch.randint(5, 200, (40,))
prompt = torch.randint(0, 1024, (225, 8))
generate_ar(model, text=text, prompt=prompt, sampler=SamplerConfig(temperature=1.0), max_frames=25)
out["after_generate_mb"] = rss_mb()
out["peak_mb"] = peak_rss_mb()
print("MEM " + json.dumps(out), flush=True)
"""


def _child(path: Path, mode: str, threads: int) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(path), mode, str(threads)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    for line in proc.stdout.splitlines():
        if line.startswith("MEM "):
            return json.loads(line.removeprefix("MEM "))
    raise RuntimeError(f"the memory probe failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")


def load_and_memory(report: Report, *, threads: int, modes: tuple[str, ...]) -> None:
    from valle_studio.engine.debug import write_tiny_checkpoint

    with tempfile.TemporaryDirectory(prefix="valle-bench-mem-") as folder:
        path = write_tiny_checkpoint(Path(folder) / "ar+nar-len-full.sft", dim=1024, heads=16, layers=12)
        size = path.stat().st_size / 2**20
        for mode in modes:
            try:
                m = _child(path, mode, threads)
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                report.say(f"   {mode}: could not be measured: {exc}")
                continue
            report.say(
                f"   {mode}: import torch {m['torch_import_s']:.1f} s (+{m['after_torch_mb'] - m['base_mb']:.0f} MiB); "
                f"load_model {m['load_s']:.1f} s ({size:.0f} MiB file) -> resident {m['after_load_mb']:.0f} MiB, "
                f"peak while loading {m['load_peak_mb']:.0f} MiB; after 25 AR frames {m['after_generate_mb']:.0f} MiB; "
                f"process peak {m['peak_mb']:.0f} MiB"
            )
            report.figures[f"memory@{mode}"] = m
