"""Shared set-up for batch tests: a random codec installed where the model store looks for it, a tiny
model, and a saved voice, so the CLI's real loading path runs without downloaded weights."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
import yaml

from valle_studio.engine.codec import EncodecVocosCodec
from valle_studio.engine.codec.builders import DEFAULT_VOCOS_CONFIG
from valle_studio.engine.debug import write_tiny_checkpoint

SR = 24_000
# Few demasking steps and a one-second cap keep each line well under a second on a CPU.
FAST_FLAGS = ["--steps", "4", "--max-duration", "1", "--device", "cpu", "--dtype", "float32"]


def install_random_codec(home: Path, seed: int = 0) -> EncodecVocosCodec:
    """Save a random EnCodec/Vocos in the published files' formats into the store under ``home``
    (as ``VALLE_STUDIO_HOME``), exactly where ``ModelStore().codec_paths()`` points."""
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
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    torch.save(codec.encodec_model.state_dict(), paths["encodec_weights"])
    assert codec.vocos_model is not None
    torch.save({k: v for k, v in codec.vocos_model.state_dict().items()
                if not k.startswith("feature_extractor.encodec.")}, paths["vocos_weights"])
    Path(paths["vocos_config"]).write_text(yaml.safe_dump(DEFAULT_VOCOS_CONFIG))
    return codec


def tiny_model(folder: Path, seed: int = 3) -> Path:
    return write_tiny_checkpoint(folder / "tiny.sft", seed=seed)


def voice_clip(seconds: float = 1.5, base: float = 180.0) -> np.ndarray:
    """A gliding, wobbling tone: not silence, so it passes the prompt checks. ``[S]`` float32 at 24 kHz."""
    t = np.arange(int(seconds * SR)) / SR
    tone = np.sin(2 * np.pi * (base + 60 * t) * t) * (0.5 + 0.4 * np.sin(2 * np.pi * 3 * t))
    return (0.4 * tone).astype(np.float32)


def make_studio_home(root: Path) -> Path:
    """A VALLE_STUDIO_HOME in ``root`` with the (random) codec installed, a tiny model (``tiny.sft``) and
    two saved voices, Narrator and Alice."""
    from valle_studio.studio.voices import VoiceLibrary

    install_random_codec(root)
    tiny_model(root)
    library = VoiceLibrary(root / "data" / "voices")
    library.save("Narrator", [(voice_clip(), SR)])
    library.save("Alice", [(voice_clip(base=260.0), SR)])
    return root


def done_rows(project_file: Path) -> dict[str, str]:
    """Row id -> approved take id of the rows done, as ``project.json`` says now ({} while unreadable)."""
    import json

    try:
        rows = json.loads(project_file.read_text())["rows"]
    except (OSError, ValueError, KeyError):
        return {}
    return {r["id"]: r["approved"] for r in rows if r["approved"]}


def kill_when_done(argv: list[str], env: dict[str, str], project_file: Path, log: Path, at_least: int = 2) -> int:
    """Run ``argv`` and SIGKILL it once ``at_least`` rows are done (or it ended, or 240 s passed); its
    return code (-9 when killed)."""
    import subprocess
    import time

    with open(log, "wb") as handle:
        process = subprocess.Popen(argv, env=env, stdout=handle, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 240
            while len(done_rows(project_file)) < at_least and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            process.kill()  # SIGKILL: no clean-up code of ours runs
            process.wait()
    return process.returncode
