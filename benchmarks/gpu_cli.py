"""``gpu_check`` item (g): ``valle-studio-cli synth --device <device>`` end to end, in a process of its own.

The check writes everything the command needs into a temporary folder: a random-weight checkpoint of
the benchmark's size in upstream's format, the tiny tokenizers of ``engine.debug``, a random EnCodec /
Vocos installed where the model store looks (``VALLE_STUDIO_HOME``), and a 3 s reference clip. Then
the console script (or ``python -m valle_studio.cli`` where it is not installed, as on a machine that
runs the checkout through ``PYTHONPATH``) synthesizes text to a WAV: text front end (espeak-ng), the
reference encoded by the codec, NAR-len generation, decoding, writing. Where the phonemizer is not
installed the command is given phonemes instead, and the note says so.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._figures import Results

ROOT = Path(__file__).resolve().parent.parent
TEXT = "The quick brown fox jumps over the lazy dog."
PHONEMES = "ðə kwɪk bɹaʊn fɑːks dʒʌmps oʊvɚ ðə leɪzi dɑːɡ."
SR = 24_000
DONE = re.compile(r"done: (\d+) frames .*RTF ([0-9.]+)\)")


def install_random_codec(home: Path, seed: int = 0) -> None:
    """A seeded random EnCodec/Vocos in the published files' formats, where ``ModelStore().codec_paths()``
    points with ``VALLE_STUDIO_HOME=home`` (the format of tests/batch/helpers.py's helper)."""
    import torch
    import yaml

    from valle_studio.engine.codec import EncodecVocosCodec
    from valle_studio.engine.codec.builders import DEFAULT_VOCOS_CONFIG
    from valle_studio.engine.store import ModelStore

    previous = os.environ.get("VALLE_STUDIO_HOME")
    os.environ["VALLE_STUDIO_HOME"] = str(home)
    try:
        paths = ModelStore().codec_paths()
    finally:
        if previous is None:
            os.environ.pop("VALLE_STUDIO_HOME", None)
        else:
            os.environ["VALLE_STUDIO_HOME"] = previous
    codec = EncodecVocosCodec.random(seed=seed)
    for path in paths.values():
        Path(str(path)).parent.mkdir(parents=True, exist_ok=True)
    torch.save(codec.encodec_model.state_dict(), paths["encodec_weights"])
    assert codec.vocos_model is not None
    torch.save({k: v for k, v in codec.vocos_model.state_dict().items()
                if not k.startswith("feature_extractor.encodec.")}, paths["vocos_weights"])
    Path(paths["vocos_config"]).write_text(yaml.safe_dump(DEFAULT_VOCOS_CONFIG))


def reference_clip(seconds: float = 3.0) -> np.ndarray:
    """A gliding, wobbling tone (not silence, so it passes the prompt checks): ``[S]`` float32 at 24 kHz."""
    t = np.arange(int(seconds * SR)) / SR
    tone = np.sin(2 * np.pi * (180 + 60 * t) * t) * (0.5 + 0.4 * np.sin(2 * np.pi * 3 * t))
    return (0.4 * tone).astype(np.float32)


def cli_command() -> list[str]:
    """The installed console script beside this Python, else the module (same code either way)."""
    script = Path(sys.executable).with_name("valle-studio-cli")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "valle_studio.cli"]


def cli_end_to_end(results: Results, *, device: str, dtype: str, full_size: bool, seconds: float, steps: int,
                   timeout: float) -> None:
    """(g) one ``synth`` run; PASS when it exits 0 and the WAV has the asked length and finite samples."""
    from valle_studio.audio.io import save_audio
    from valle_studio.engine.debug import write_tiny_checkpoint, write_tiny_tokenizers

    frames = int(seconds * 75)
    with tempfile.TemporaryDirectory(prefix="valle-gpu-check-cli-") as folder:
        work = Path(folder)
        dim, heads, layers = (1024, 16, 12) if full_size else (64, 4, 2)
        t0 = time.perf_counter()
        model = write_tiny_checkpoint(work / "model.sft", dim=dim, heads=heads, layers=layers)
        write_tiny_tokenizers(work)
        install_random_codec(work / "home")
        save_audio(work / "ref.wav", reference_clip(), SR)
        prepared = time.perf_counter() - t0
        has_phonemizer = importlib.util.find_spec("phonemizer") is not None
        words = ["--text", TEXT] if has_phonemizer else ["--phonemes", PHONEMES]
        out = work / "out.wav"
        argv = [*cli_command(), "synth", "--model", str(model), "--tokenizer", str(work / "tokenizer.json"),
                *words, "--prompt", str(work / "ref.wav"), "--out", str(out), "--device", device, "--dtype", dtype,
                "--seed", "0", "--modality", "nar-len", "--duration", str(frames), "--steps", str(steps),
                "--max-duration", f"{seconds + 1:g}"]
        env = {**os.environ, "VALLE_STUDIO_HOME": str(work / "home"), "VALLE_STUDIO_OFFLINE": "1",
               "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
        if device == "cpu":  # the threads this process chose (busy cores left out): more would oversubscribe
            import torch

            env["OMP_NUM_THREADS"] = str(torch.get_num_threads())
        start = time.perf_counter()
        try:
            proc = subprocess.run(argv, env=env, cwd=work, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            results.add("g", f"CLI synth --device {device}: exit 0, WAV of {seconds:g} s", None,
                        note=f"FAIL: still running after {timeout:.0f} s; killed", passed=False)
            return
        wall = time.perf_counter() - start
        problem = _check_output(proc, out, frames)
        shown = " ".join(a if " " not in a else repr(a) for a in argv[len(cli_command()):])
        how = "" if has_phonemizer else "; phonemizer not installed, so --phonemes instead of --text"
        results.add("g", f"CLI synth --device {device}: wall time, spawn to exit", wall, "s",
                    bound=f"exit 0, WAV of {seconds:g} s", passed=problem is None,
                    note=(problem or f"ok: {frames * 320} samples") + f"{how}; files prepared in {prepared:.1f} s; "
                         f"valle-studio-cli {shown}")
        match = DONE.search(proc.stderr)
        results.add("g", "CLI synth: the RTF it printed",
                    float(match.group(2)) if match else None,
                    bound="no goal", note="from the request to the codes and audio: the model load is not in it, "
                                          "the codec's first load and the prompt's encoding are" if match
                    else "the command printed no 'done:' line")


def _check_output(proc: subprocess.CompletedProcess[str], out: Path, frames: int) -> str | None:
    """None when the run worked, else what went wrong (with the end of its stderr)."""
    if proc.returncode != 0:
        return f"exit status {proc.returncode}: {proc.stderr.strip()[-1500:]}"
    if not out.is_file():
        return "exit 0 but no WAV was written"
    import soundfile  # type: ignore[import-untyped]

    audio, rate = soundfile.read(out, dtype="float32")
    if rate != SR or audio.ndim != 1 or len(audio) != frames * 320 or not np.isfinite(audio).all():
        return f"the WAV is wrong: {audio.shape} samples at {rate} Hz (expected {frames * 320} mono at {SR})"
    return None
