"""Fixtures of the reliability suite: one tiny model, one random codec, a tiny phoneme tokenizer.

The QThread leak check of the GUI tests applies here too (re-exported from ``tests/app/conftest.py``).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.app.conftest import no_dangling_qthreads  # noqa: F401  (autouse: every test here is checked)
from tests.reliability.helpers import FAST


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random checkpoint in upstream's format (NAR-len capable, so every stage can run)."""
    from valle_studio.engine.debug import write_tiny_checkpoint

    return write_tiny_checkpoint(tmp_path_factory.mktemp("model") / "tiny.sft", seed=5)


@pytest.fixture(scope="session")
def tiny_bytes(tiny_model: Path) -> bytes:
    return tiny_model.read_bytes()


@pytest.fixture(scope="session")
def codec() -> Any:
    from valle_studio.engine.codec import EncodecVocosCodec

    return EncodecVocosCodec.random(seed=0, with_vocos=False)


@pytest.fixture(scope="session")
def tokenizer(tiny_tokenizer: Path) -> Path:
    """The tiny ``tokenizer.json`` of ``engine.debug`` (upstream's is not needed to exercise faults)."""
    return tiny_tokenizer


@pytest.fixture()
def with_codec(monkeypatch: pytest.MonkeyPatch, codec: Any) -> Any:
    """Make the CLI's synthesizer find ``codec`` as if its weights were installed."""
    import valle_studio.engine.synthesizer as synthesizer

    monkeypatch.setattr(synthesizer, "resolve_codec", lambda store, device: codec)
    return codec


@pytest.fixture()
def fast() -> Any:
    return FAST


@pytest.fixture(scope="session")
def batch_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A user folder for child processes of the CLI: the random codec installed where the model store
    looks for it, a tiny model (``tiny.sft``) and a saved voice "Reader"."""
    from tests.batch.helpers import install_random_codec, tiny_model, voice_clip
    from valle_studio.studio.voices import VoiceLibrary

    root = tmp_path_factory.mktemp("child-home")
    install_random_codec(root)
    tiny_model(root)
    VoiceLibrary(root / "data" / "voices").save("Reader", [(voice_clip(), 24_000)])
    return root


@pytest.fixture()
def never_blocks() -> Iterator[None]:
    """Fail (instead of hanging the suite) when the run blocks for a minute, e.g. on a named pipe."""

    def fire(_signum: int, _frame: Any) -> None:
        raise TimeoutError("the run blocked for 60 s")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.alarm(60)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
