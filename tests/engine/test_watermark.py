"""The watermark (issue 17): resemble-perth's PerthNet loaded with weights_only=True and without librosa,
marking speech-like audio at any rate so that the detector finds it, and not finding it in clean audio."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tests.speech_like import speech_like
from valle_studio.engine import watermark
from valle_studio.engine.watermark import DETECTION_THRESHOLD, apply_watermark, detect_watermark


@pytest.mark.parametrize("rate", [24_000, 44_100])
def test_marked_audio_is_detected_and_clean_audio_is_not(rate: int) -> None:
    clean = speech_like(3.0, rate)
    marked = apply_watermark(clean, rate)
    assert marked.shape == clean.shape and marked.dtype == np.float32
    assert detect_watermark(marked, rate) > 0.9
    assert detect_watermark(clean, rate) < DETECTION_THRESHOLD
    assert float(np.sqrt(np.mean((marked - clean) ** 2))) < 0.1 * float(np.sqrt(np.mean(clean ** 2))) * 5


def test_long_audio_goes_in_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watermark, "CHUNK_SECONDS", 1.0)
    clean = speech_like(3.5, 24_000, seed=2)
    marked = apply_watermark(clean, 24_000)
    assert marked.shape == clean.shape and detect_watermark(marked, 24_000) > 0.9


def test_loader_uses_weights_only_and_never_imports_librosa() -> None:
    code = (
        "import sys, torch\n"
        "seen = []\n"
        "real = torch.load\n"
        "def load(*a, **k):\n"
        "    seen.append(k.get('weights_only'))\n"
        "    return real(*a, **k)\n"
        "torch.load = load\n"
        "from valle_studio.engine.watermark.perth_model import load_perth_net\n"
        "load_perth_net()\n"
        "assert seen == [True], seen\n"
        "assert 'librosa' not in sys.modules and 'pkg_resources' not in sys.modules\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_empty_audio() -> None:
    with pytest.raises(ValueError, match="empty"):
        apply_watermark(np.zeros(0, np.float32), 24_000)
    assert detect_watermark(np.zeros(0, np.float32), 24_000) == 0.0
