"""Shared test fixtures.

The golden vectors live beside the checkout in ``../shared/fixtures/ecker-parity`` (CI lays that
folder out the same way). Tests that need them use the ``parity_dir`` fixture, which skips with a
clear reason when the folder is absent.
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
    """Folder of upstream's golden vectors; skips the test when it is not there."""
    if not (PARITY_DIR / "cases.json").is_file():
        pytest.skip(f"golden vectors not found at {PARITY_DIR} (set VALLE_PARITY_DIR or lay out ../shared)")
    return PARITY_DIR


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point every platformdirs user folder at a temporary place, so tests never touch real ones."""
    root = tmp_path_factory.mktemp("userdirs")
    monkeypatch.setenv("VALLE_STUDIO_HOME", str(root))
