"""``valle-studio-cli synth`` end to end on the tiny fixture checkpoints (codes in, codes out).

All but the bad-input test compare against upstream's golden vectors (``parity_dir``); that one
needs only a model and a tokenizer, so it takes tiny ones made by ``engine.debug``.

Each generation case of the golden vectors is reproduced through the CLI flags, following
``generation-semantics.md``: ONE settings dict drives every stage. Where upstream's case routed a
setting to one stage only (``ar_``-prefixed keywords), only the stage it reached is comparable, so
those cases compare level 0 and say so.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from valle_studio import cli

GREEDY = ["--ar-temperature", "0", "--nar-temperature", "0"]
AR_CAP_25 = ["--modality", "ar+nar", "--max-duration", "0.3334"]  # int(0.3334 * 75) = 25 steps
NAR_LEN_20x8 = ["--modality", "nar-len", "--duration", "20", "--steps", "8"]

# case id -> (extra flags, prompt?, language, compare: "all" levels or "level0")
CASES = {
    "ar_nar_main": (AR_CAP_25, True, "en", "all"),
    "ar_nar_noprom_en": (AR_CAP_25, False, "en", "all"),
    "ar_nar_de_noprom": (AR_CAP_25, False, "de", "all"),
    # upstream gave these penalties to the AR only (ar_ prefix); through one dict the NAR sees them too
    "ar_nar_penalties": ([*AR_CAP_25, "--repetition-penalty", "1.5", "--repetition-penalty-decay", "0.5",
                          "--length-penalty", "0.5"], True, "en", "level0"),
    "ar_nar_cfg3": ([*AR_CAP_25, "--cfg-strength", "3", "--cfg-rescale", "0.7"], True, "en", "level0"),
    "nar_len_main": (NAR_LEN_20x8, True, "en", "all"),
    "nar_len_topno_default": ([*NAR_LEN_20x8, "--top-no", "1"], True, "en", "all"),
    "nar_len_remask_maskedonly": ([*NAR_LEN_20x8, "--remask", "--scores-masked-only"], True, "en", "all"),
    "nar_len_cfg3": ([*NAR_LEN_20x8, "--cfg-strength", "3"], True, "en", "level0"),
}
CHECKPOINTS = {"ar+nar-len": "tiny-ar+nar-len.sft", "ar+nar": "tiny-ar+nar.sft"}


def _params():
    for tag in CHECKPOINTS:
        for case_id in CASES:
            if tag == "ar+nar" and case_id.startswith("nar_len"):
                continue
            yield pytest.param(tag, case_id, id=f"{tag}/{case_id}")


@pytest.fixture(scope="module")
def cases(parity_dir: Path) -> dict:
    return json.loads((parity_dir / "cases.json").read_text())


@pytest.fixture(scope="module")
def prompt_npy(cases: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("prompt") / "prom.npy"
    np.save(path, np.asarray(cases["inputs"]["prom"], dtype=np.int64))
    return path


def _synth(parity_dir: Path, tag: str, phonemes: str, out: Path, extra: list[str], *, lang: str = "en",
           prompt: Path | None = None) -> int:
    argv = ["synth", "--model", str(parity_dir / CHECKPOINTS[tag]), "--tokenizer",
            str(parity_dir / "tokenizer.json"), "--phonemes", phonemes, "--lang", lang,
            "--out-codes", str(out), "--quiet", *GREEDY, *extra]
    if prompt is not None:
        argv += ["--prompt", str(prompt)]
    return cli.main(argv)


@pytest.mark.parametrize(("tag", "case_id"), list(_params()))
def test_cli_reproduces_generation_case(tag: str, case_id: str, parity_dir: Path, cases: dict,
                                        prompt_npy: Path, tmp_path: Path) -> None:
    extra, with_prompt, lang, compare = CASES[case_id]
    case = next(c for c in cases["generation_cases"][tag] if c["id"] == case_id)
    inputs = cases["inputs"]
    phonemes = inputs["de_phonemes"] if lang == "de" else inputs["main_phonemes"]
    out = tmp_path / "codes.npy"
    assert _synth(parity_dir, tag, phonemes, out, extra, lang=lang,
                  prompt=prompt_npy if with_prompt else None) == 0
    got, expected = np.load(out), np.asarray(case["codes"])
    assert got.shape == expected.shape and got.dtype.kind == "i"
    if compare == "all":
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_array_equal(got[:, 0], expected[:, 0])


def test_cli_predicted_length_gets_floor_and_padding(parity_dir: Path, cases: dict, prompt_npy: Path,
                                                     tmp_path: Path) -> None:
    """The fixture's len case predicts 788 frames; NAR-len then uses int(788 * 1.05) = 827."""
    out = tmp_path / "codes.npy"
    code = _synth(parity_dir, "ar+nar-len", cases["inputs"]["main_phonemes"], out,
                  ["--modality", "nar-len", "--steps", "1", "--max-duration", "20"], prompt=prompt_npy)
    assert code == 0
    assert np.load(out).shape == (int(788 * 1.05), 8)


def test_cli_bad_inputs_are_one_line_errors(tiny_tokenizer: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from valle_studio.engine.debug import write_tiny_checkpoint

    bad_prompt = tmp_path / "bad.npy"
    np.save(bad_prompt, np.zeros((5, 3), dtype=np.int64))
    # any AR+NAR model without a len head will do (the "NAR-len" run must be refused)
    model = str(write_tiny_checkpoint(tmp_path / "tiny-ar+nar.sft", capabilities=("ar", "nar"), noncausal_masks=False))
    tok = str(tiny_tokenizer)
    runs = {
        "shaped [T, 8]": ["--model", model, "--tokenizer", tok, "--phonemes", "a", "--prompt", str(bad_prompt),
                          "--out-codes", str(tmp_path / "o.npy")],
        "not found": ["--model", str(tmp_path / "missing.sft"), "--phonemes", "a",
                      "--out-codes", str(tmp_path / "o.npy")],
        "nothing to write": ["--model", model, "--tokenizer", tok, "--phonemes", "a"],
        "NAR-len": ["--model", model, "--tokenizer", tok, "--phonemes", "a", "--modality", "nar-len",
                    "--out-codes", str(tmp_path / "o.npy")],
        "output folder": ["--model", model, "--tokenizer", tok, "--phonemes", "a",
                          "--out-codes", str(tmp_path / "no" / "o.npy")],
    }
    for needle, argv in runs.items():
        assert cli.main(["synth", *argv]) == cli.EXIT_ERROR, needle
        err = capsys.readouterr().err.strip().splitlines()[-1]  # progress lines may precede it
        assert err.startswith("valle-studio-cli: error:") and needle in err, err
    assert not (tmp_path / "o.npy").exists()


def test_cli_runs_as_a_process_and_reports_progress(parity_dir: Path, cases: dict, prompt_npy: Path,
                                                    tmp_path: Path) -> None:
    out = tmp_path / "codes.npy"
    done = subprocess.run(
        [sys.executable, "-m", "valle_studio.cli", "synth", "--model", str(parity_dir / CHECKPOINTS["ar+nar-len"]),
         "--tokenizer", str(parity_dir / "tokenizer.json"), "--phonemes", cases["inputs"]["main_phonemes"],
         "--prompt", str(prompt_npy), "--out-codes", str(out), *GREEDY, *NAR_LEN_20x8],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "demasking" in done.stderr and "refining" in done.stderr and done.stdout == ""
    expected = next(c for c in cases["generation_cases"]["ar+nar-len"] if c["id"] == "nar_len_main")["codes"]
    np.testing.assert_array_equal(np.load(out), np.asarray(expected))
