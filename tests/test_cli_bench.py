"""``valle-studio-cli bench``: JSON with time, bound and ratio per item, the saved record, and bad input
(unknown device, a precision the device lacks, Ctrl-C mid-run) refused with a clear message and nothing saved."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.engine.bench_records import TinyCodec
from valle_studio import cli
from valle_studio.engine.bench import runner
from valle_studio.engine.bench.record import ITEMS, benchmark_path, load_record
from valle_studio.engine.debug import write_tiny_checkpoint


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_checkpoint(tmp_path_factory.mktemp("clibench") / "tiny.sft", seed=1)


@pytest.fixture(autouse=True)
def _tiny_codec(monkeypatch: pytest.MonkeyPatch) -> None:
    """No codec is installed in the tests' user folder: the stand-in replaces the full-size random one."""
    from valle_studio.engine.codec import encodec_vocos

    monkeypatch.setattr(encodec_vocos.EncodecVocosCodec, "random", classmethod(lambda cls, *a, **k: TinyCodec()))


def test_quick_json_prints_time_bound_and_ratio_per_item_and_saves(tiny: Path, capsys: pytest.CaptureFixture[str]
                                                                   ) -> None:
    code = cli.main(["bench", "--quick", "--json", "--quiet", "--model", str(tiny), "--device", "cpu",
                     "--precision", "float32", "--precision", "int8", "--threads", "1"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    items = out["items"]
    assert {(i["precision"], i["item"]) for i in items} == {(p, item) for p in ("float32", "int8") for item in ITEMS}
    for i in items:
        assert i["seconds"] > 0 and i["bound_s"] > 0
        assert i["ratio"] == pytest.approx(i["seconds"] / i["bound_s"])
    assert {e["modality"] for e in out["estimates"]} == {"ar+nar", "nar-len"}
    assert set(out["estimates"][0]["line_s"]) == {"3", "10", "30"}
    assert out["saved"] == str(benchmark_path()) and load_record() is not None
    assert "On this machine a 10 s line takes about" in out["recommendation"]["sentence"]


def test_the_text_report_has_the_table_and_the_sentence(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bench", "--quick", "--quiet", "--model", str(tiny), "--device", "cpu", "--precision",
                     "float32", "--no-save", "--threads", "1"]) == 0
    text = capsys.readouterr().out
    assert "AR step" in text and "NAR-len step" in text and "codec encode" in text and "x  " in text
    assert "10 s line" in text and "On this machine a 10 s line takes about" in text
    assert not benchmark_path().exists()  # --no-save


@pytest.mark.parametrize(("flags", "message"), [
    (["--device", "tpu"], "unknown device 'tpu'"),
    (["--device", "cpu", "--precision", "float16"], "float16 is not available on cpu"),
    (["--device", "cpu", "--precision", "fp4"], "unknown precision 'fp4'"),
    (["--threads", "0"], "--threads 0"),
    (["--model", "missing.sft"], "file not found: missing.sft (--model)"),
    (["--model", "not-installed-model"], "not installed"),
])
def test_bad_input_is_one_line_and_saves_nothing(flags: list[str], message: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bench", "--quick", "--quiet", *flags]) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not benchmark_path().exists()


def test_a_model_that_is_a_pipe_or_a_folder_is_refused_without_opening_it(tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    import os

    fifo = tmp_path / "model.sft"
    os.mkfifo(fifo)  # opening it for reading would block until a writer comes
    assert cli.main(["bench", "--quick", "--quiet", "--model", str(fifo)]) == cli.EXIT_ERROR
    assert "is a named pipe (FIFO), not a model file" in capsys.readouterr().err
    folder = tmp_path / "weights.pth"
    folder.mkdir()
    assert cli.main(["bench", "--quick", "--quiet", "--model", str(folder)]) == cli.EXIT_ERROR
    assert "is a folder, not a model file" in capsys.readouterr().err
    assert not benchmark_path().exists()


def test_bfloat16_on_a_cpu_without_it_is_refused(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(runner, "cpu_bf16_native", lambda: (False, ""))
    assert cli.main(["bench", "--quiet", "--device", "cpu", "--precision", "bfloat16"]) == cli.EXIT_ERROR
    assert "bfloat16 is not available on cpu: this CPU has no native bfloat16" in capsys.readouterr().err


def test_ctrl_c_mid_run_saves_nothing_and_keeps_the_old_result(tiny: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bench", "--quick", "--quiet", "--model", str(tiny), "--device", "cpu", "--precision",
                     "float32", "--threads", "1"]) == 0
    before = benchmark_path().read_bytes()
    from valle_studio.engine.bench import probes

    def interrupted(*_a: object, **_k: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(probes, "full_passes", interrupted)
    assert cli.main(["bench", "--quick", "--quiet", "--model", str(tiny), "--device", "cpu", "--precision",
                     "float32", "--threads", "1"]) == cli.EXIT_CANCELLED
    assert "cancelled" in capsys.readouterr().err
    assert benchmark_path().read_bytes() == before
    assert [p.name for p in benchmark_path().parent.iterdir() if "benchmark" in p.name] == ["benchmark.json"]


def test_sigterm_mid_run_saves_nothing(tiny: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    import signal

    from valle_studio.cli.signals import Terminated
    from valle_studio.engine.bench import probes

    def terminated(*_a: object, **_k: object) -> None:
        raise Terminated(signal.SIGTERM)  # what the signal handler raises in the main thread

    monkeypatch.setattr(probes, "ar_steps", terminated)
    code = cli.main(["bench", "--quick", "--quiet", "--model", str(tiny), "--device", "cpu", "--precision",
                     "float32", "--threads", "1"])
    assert code == 128 + signal.SIGTERM
    assert "stopped by SIGTERM; no file was left half-written" in capsys.readouterr().err
    assert not benchmark_path().exists()
