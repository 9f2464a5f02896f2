"""The home folder the CLI feature tests share: a random codec, the tiny model, a LoRA and two voices.

``tests/test_cli_features.py`` and ``tests/test_cli_combinations.py`` each build one per module (their
tests change what is saved in it) through :func:`build_cli_home`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.batch.helpers import SR, install_random_codec, tiny_model, voice_clip
from valle_studio.engine.debug import write_tiny_lora
from valle_studio.studio.voices import VoiceLibrary


def build_cli_home(root: Path) -> Path:
    """``root`` with the random codec, ``tiny.sft``, ``glados.sft`` (a LoRA), the voices Alice and Bob and
    ``clip.npy`` (40 frames of random codes [40, 8])."""
    install_random_codec(root)
    tiny_model(root)
    write_tiny_lora(root / "glados.sft", name="glados", magnitude=2.0)
    library = VoiceLibrary(root / "data" / "voices")
    library.save("Alice", [(voice_clip(), SR)])
    library.save("Bob", [(voice_clip(base=260.0), SR)])
    np.save(root / "clip.npy", np.random.default_rng(0).integers(0, 1024, (40, 8)))
    return root


@pytest.fixture
def use_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The module's ``home`` as ``VALLE_STUDIO_HOME`` for one test."""
    monkeypatch.setenv("VALLE_STUDIO_HOME", str(home))
    return home


def last_error(capsys: pytest.CaptureFixture[str]) -> str:
    """The last line the command wrote to stderr (its one-line error)."""
    return capsys.readouterr().err.strip().splitlines()[-1]
