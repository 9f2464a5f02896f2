"""Shared test fixtures.

The golden vectors live beside the checkout in ``../shared/fixtures/ecker-parity`` (CI lays that
folder out the same way). Only tests that compare against upstream (its numbers, its files) use the
``parity_dir`` fixture, which skips with a clear reason when the folder is absent. Every test that
needs just *a* tokenizer uses ``tiny_tokenizer`` / ``tiny_tokenizers`` instead (written by
``valle_studio.engine.debug``), so the suite runs on a plain clone.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import torch

# The test models are tiny: one thread avoids pool overhead that dominates their run time (a tiny
# forward took 72 ms with 2 threads on a loaded machine vs 1.8 ms with one).
torch.set_num_threads(1)

REPO_ROOT = Path(__file__).resolve().parents[1]
PARITY_DIR = Path(os.environ.get("VALLE_PARITY_DIR", REPO_ROOT.parent / "shared" / "fixtures" / "ecker-parity"))


@pytest.fixture(scope="session")
def parity_dir() -> Path:
    """Folder of upstream's golden vectors and files; skips the test when it is not there.

    Only for tests that compare against upstream; a test that needs just *a* tokenizer or model
    takes ``tiny_tokenizer`` / ``engine.debug.write_tiny_checkpoint`` instead.
    """
    if not (PARITY_DIR / "cases.json").is_file():
        pytest.skip(f"golden vectors not found at {PARITY_DIR}: this test compares against upstream's own "
                    "files or numbers (set VALLE_PARITY_DIR or lay out ../shared)")
    return PARITY_DIR


@pytest.fixture(scope="session")
def tiny_tokenizers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a tiny ``tokenizer.json`` and ``text_tokenizer.json`` (``engine.debug``), laid out
    like upstream's tokenizer folder; ids fit the tiny checkpoints of ``write_tiny_checkpoint``."""
    from valle_studio.engine.debug import write_tiny_tokenizers

    return write_tiny_tokenizers(tmp_path_factory.mktemp("tiny-tokenizers"))


@pytest.fixture(scope="session")
def tiny_tokenizer(tiny_tokenizers: Path) -> Path:
    """The tiny phoneme ``tokenizer.json`` (256 ids): for tests that need *a* tokenizer, not upstream's."""
    return tiny_tokenizers / "tokenizer.json"


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point every platformdirs user folder at a temporary place, so tests never touch real ones."""
    root = tmp_path_factory.mktemp("userdirs")
    monkeypatch.setenv("VALLE_STUDIO_HOME", str(root))
