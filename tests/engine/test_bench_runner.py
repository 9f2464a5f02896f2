"""``run_benchmark`` on a tiny checkpoint: every item per precision beside its bound, bad options refused
before any work, and a cancel ending the run without a result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from tests.engine.bench_records import TinyCodec
from valle_studio.engine.bench import runner
from valle_studio.engine.bench.choice import saved_benchmark
from valle_studio.engine.bench.record import ITEMS, save_record
from valle_studio.engine.bench.runner import BenchError, BenchOptions, plan, run_benchmark
from valle_studio.engine.debug import write_tiny_checkpoint
from valle_studio.engine.model import DeviceError, kernels
from valle_studio.engine.progress import Cancelled, CancelToken, Progress


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_checkpoint(tmp_path_factory.mktemp("bench") / "tiny.sft", seed=2)


def _run(tiny: Path, **kw: Any) -> Any:
    events: list[Progress] = []
    options = BenchOptions(quick=True, devices=("cpu",), model=tiny, threads=1, **kw)
    rec = run_benchmark(options, codec_factory=lambda _d: TinyCodec(), progress=events.append)  # type: ignore[arg-type,return-value]
    return rec, events


def test_a_quick_run_measures_every_item_of_every_precision(tiny: Path) -> None:
    before = kernels.configured()
    rec, events = _run(tiny, precisions=("float32", "int8"))
    assert [v.precision for v in rec.variants] == ["float32", "int8"]
    assert rec.weights == "installed" and rec.model == "tiny" and rec.quick
    for v in rec.variants:
        assert [m.item for m in v.measurements] == list(ITEMS)
        assert all(m.seconds > 0 and m.bound_s > 0 and m.ratio > 0 for m in v.measurements)
        assert set(v.timings.ar_step_s) == {250, 750}
    fp32, int8 = rec.variants
    assert set(fp32.kernels) == {"float32/matvec", "float32/gemm"} and fp32.cost is None
    assert int8.cost is not None and 0 <= int8.cost.ar_agreement <= 1 and int8.cost.rows_ar == 48
    assert events[-1].done == events[-1].total and all(e.stage == "benchmarking" for e in events)
    assert kernels.configured() == before  # the run leaves the kernels as it found them
    assert torch.get_num_threads() == 1
    save_record(rec)
    assert saved_benchmark() == (rec, "")  # a fresh run is recognised as this machine's


def test_float32_always_runs_as_the_reference(tiny: Path) -> None:
    assert [p for _d, p in plan(BenchOptions(devices=("cpu",), precisions=("int8",)))] == ["float32", "int8"]


@pytest.mark.parametrize(("options", "error", "message"), [
    (BenchOptions(devices=("tpu",)), DeviceError, "unknown device 'tpu'"),
    (BenchOptions(devices=("cpu",), precisions=("float16",)), BenchError, "float16 is not available on cpu"),
    (BenchOptions(devices=("cpu",), precisions=("fp8",)), BenchError, "unknown precision 'fp8'"),
    (BenchOptions(devices=("cpu",), precisions=()), BenchError, "no precision"),
    (BenchOptions(devices=("cpu",), threads=0), BenchError, "threads must be at least 1"),
])
def test_bad_options_are_refused_before_any_work(options: BenchOptions, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        plan(options)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_a_missing_gpu_is_named() -> None:
    with pytest.raises(DeviceError, match="no NVIDIA GPU"):
        plan(BenchOptions(devices=("cuda",)))


def test_bfloat16_on_a_cpu_without_it_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "cpu_bf16_native", lambda: (False, ""))
    with pytest.raises(BenchError, match="bfloat16 is not available on cpu: this CPU has no native bfloat16"):
        plan(BenchOptions(devices=("cpu",), precisions=("bf16",)))
    assert "bfloat16" not in [p for _d, p in plan(BenchOptions(devices=("cpu",)))]


def test_cancel_mid_run_raises_and_restores_the_kernels(tiny: Path) -> None:
    token = CancelToken()
    seen: list[Progress] = []

    def progress(event: Progress) -> None:
        seen.append(event)
        if "AR step" in event.detail:
            token.cancel()

    kernels.configure({"float32/matvec": "torch"})
    try:
        with pytest.raises(Cancelled):
            run_benchmark(BenchOptions(quick=True, devices=("cpu",), precisions=("float32",), model=tiny, threads=1),
                          codec_factory=lambda _d: TinyCodec(), progress=progress, cancel=token)  # type: ignore[arg-type,return-value]
        assert kernels.configured() == {"float32/matvec": "torch"}
    finally:
        kernels.configure({})
    assert any("AR step" in e.detail for e in seen)


def test_the_load_is_read_at_the_start_and_at_the_end(tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from valle_studio.engine.bench import runner

    started = {"measuring": False}
    real_open = runner.open_subject

    def open_subject(*args: Any, **kwargs: Any) -> Any:
        started["measuring"] = True  # from here on the load average describes the run, not its start
        return real_open(*args, **kwargs)

    monkeypatch.setattr(runner, "open_subject", open_subject)
    monkeypatch.setattr("os.getloadavg", lambda: (1.75 if started["measuring"] else 0.25, 0.0, 0.0))
    rec, _events = _run(tiny, precisions=("float32",))
    assert rec.load.startswith("start: load average 0.25") and "end: load average 1.75" in rec.load
