"""A right-padded batch gives every item the logits it gets alone, for every pass."""

from __future__ import annotations

import pytest
import torch

from valle_studio.engine.debug import write_tiny_checkpoint
from valle_studio.engine.generation._common import batch_full_passes
from valle_studio.engine.model import ModelInput, VallEModel, load_model

TOL = 1e-5


def _ids(n: int, high: int, seed: int, offset: int = 0) -> torch.Tensor:
    return torch.randint(0, high, (n,), generator=torch.Generator().manual_seed(seed)) + offset


def _codes(frames: int, seed: int) -> torch.Tensor:
    return torch.randint(0, 1024, (frames, 8), generator=torch.Generator().manual_seed(seed))


def _text(n: int, seed: int) -> torch.Tensor:
    return torch.cat([torch.tensor([1]), _ids(n, 200, seed, 5), torch.tensor([2])])


@pytest.fixture(scope="module", params=[True, False], ids=["noncausal-nar", "causal-nar"])
def model(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> VallEModel:
    folder = tmp_path_factory.mktemp("batch")
    return load_model(write_tiny_checkpoint(folder / "tiny.sft", seed=5, noncausal_masks=request.param))


def _items(kind: str) -> tuple[list[ModelInput], int]:
    """Three inputs of one pass with different lengths, and how many rows to compare."""
    long_p, short_p = _codes(25, 1), _codes(6, 2)
    if kind == "ar":
        items = [
            ModelInput.ar(_text(30, 3), 0, long_p, _ids(7, 1024, 4)),
            ModelInput.ar(_text(5, 5), 2, None, _ids(7, 1024, 6)),
            ModelInput.ar(_text(12, 6), 1, short_p, _ids(7, 1024, 7)),
        ]
        return items, 8
    if kind == "nar":
        frames = _codes(10, 8)
        items = [
            ModelInput.nar(_text(30, 3), 0, long_p, frames, 3),
            ModelInput.nar(torch.tensor([1, 2]), 0, None, frames, 3),
            ModelInput.nar(_text(12, 6), 3, short_p, frames, 3),
        ]
        return items, 10
    if kind == "nar_len":
        resp = _ids(10, 1025, 9)
        items = [
            ModelInput.nar_len(_text(30, 3), 0, long_p, resp),
            ModelInput.nar_len(torch.tensor([1, 2]), 0, None, resp),
        ]
        return items, 10
    if kind == "len":
        items = [
            ModelInput.length(_text(30, 3), 0, long_p, torch.tensor([0, 4])),
            ModelInput.length(_text(4, 9), 5, None, torch.tensor([0])),
        ]
        return items, 1
    items = [
        ModelInput.stt(_codes(20, 10), 0, torch.tensor([1, 40, 50])),
        ModelInput.stt(_codes(5, 11), 1, torch.tensor([1, 60, 70])),
    ]
    return items, 3


@pytest.mark.parametrize("kind", ["ar", "nar", "nar_len", "len", "stt"])
def test_padded_batch_equals_items_alone(model: VallEModel, kind: str) -> None:
    items, rows = _items(kind)
    lengths = {model.embed(i).embeds.shape[0] for i in items}
    assert len(lengths) == len(items), "the items must differ in length for padding to matter"
    batched = model(items, last=rows)
    for b, item in enumerate(items):
        alone = model([item], last=rows)[0]
        err = (batched[b] - alone).abs().max().item()
        assert err <= TOL, f"item {b}: batched logits differ by {err:.3g}"


def test_batch_must_share_one_head(model: VallEModel) -> None:
    frames = _codes(4, 1)
    with pytest.raises(ValueError, match="same head"):
        model(
            [
                ModelInput.nar(torch.tensor([1, 2]), 0, None, frames, 1),
                ModelInput.nar(torch.tensor([1, 2]), 0, None, frames, 2),
            ]
        )


def test_cpu_batches_full_passes_only_when_lengths_are_close(model: VallEModel) -> None:
    frames = _codes(10, 1)
    long_cond = ModelInput.nar(_text(60, 3), 0, _codes(40, 2), frames, 1)
    short_cond = ModelInput.nar(_text(3, 3), 0, None, frames, 1)
    null = ModelInput.nar(torch.tensor([1, 2]), 0, None, frames, 1)
    assert not batch_full_passes(model, long_cond, null, None)
    assert batch_full_passes(model, short_cond, null, None)
    assert batch_full_passes(model, long_cond, null, True)
