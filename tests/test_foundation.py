"""The project's skeleton: layering, cheap imports, the CLI's --help/--version."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import valle_studio
from valle_studio import cli

ROOT = Path(__file__).resolve().parents[1]


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_import_linter_contracts_hold() -> None:
    """engine/audio/cli never import Qt; engine/audio never import the app (import-linter)."""
    exe = Path(sys.executable).with_name("lint-imports")
    command = [str(exe)] if exe.exists() else [shutil.which("lint-imports") or "lint-imports"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "KEPT" in done.stdout and "BROKEN" not in done.stdout


@pytest.mark.parametrize("module", ["valle_studio", "valle_studio.cli", "valle_studio.engine.settings",
                                    "valle_studio.engine.requests"])
def test_light_modules_import_neither_torch_nor_qt(module: str) -> None:
    done = _python(
        f"import sys, {module}\n"
        "heavy = sorted(m for m in ('torch', 'PySide6', 'numpy.fft', 'phonemizer') if m in sys.modules)\n"
        "print(','.join(heavy))"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"{module} pulled in {done.stdout.strip()}"


def test_package_holds_only_the_version() -> None:
    tree = ast.parse((ROOT / "valle_studio" / "__init__.py").read_text())
    statements = [node for node in tree.body if not isinstance(node, ast.Expr)]  # docstring aside
    assert len(statements) == 1 and isinstance(statements[0], ast.Assign)
    assert statements[0].targets[0].id == "__version__"
    assert valle_studio.__version__.count(".") == 2


def test_cli_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0
    from valle_studio.engine.text import espeak_version

    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == f"VALL-E Studio {valle_studio.__version__}"
    assert lines[1].startswith(f"espeak-ng {espeak_version()} (")  # the espeak-ng in use, with where it is from


def test_cli_help_lists_synth_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        cli.main(["synth", "--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--model", "--tokenizer", "--phonemes", "--prompt", "--out-codes", "--modality", "--duration",
                 "--steps", "--max-duration", "--top-no", "--cfg-rescale", "--context-history", "--seed",
                 "--device", "--dtype"):
        assert flag in out, flag


def test_cli_without_command_prints_usage_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == cli.EXIT_USAGE
    assert "synth" in capsys.readouterr().err


def test_console_script_runs() -> None:
    """The installed ``valle-studio-cli`` entry point answers --version (when installed)."""
    script = Path(sys.executable).with_name("valle-studio-cli")
    if not script.exists():
        pytest.skip("package not installed into this interpreter's environment")
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and valle_studio.__version__ in done.stdout


def test_bad_setting_is_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["synth", "--model", "nowhere.sft", "--phonemes", "a", "--top-p", "1.5"])
    err = capsys.readouterr().err.strip()
    assert code == cli.EXIT_ERROR
    assert err.count("\n") == 0 and "--top-p 1.5" in err and "top_p" not in err  # the flag, never the field
