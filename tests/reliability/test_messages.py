"""The one error-translation layer (``valle_studio.errors``): OS and library errors become one sentence that
names the file and the option the user typed, settings are named by their flag (CLI) or label (GUI) and
never by their field, and long store messages stay short."""

from __future__ import annotations

import errno
import socket
from pathlib import Path

import pytest

from tests.reliability.helpers import assert_cli_error, run_cli
from valle_studio.engine.settings import SPECS, SettingsError
from valle_studio.engine.store import TOKENIZERS, Endpoints, ModelStore
from valle_studio.errors import FileFlags, describe

OS_ERRORS = [
    (OSError(errno.ENOSPC, "No space left on device", "/mnt/card/take.wav"), ("disk is full", "/mnt/card/take.wav")),
    (OSError(errno.EROFS, "Read-only file system", "/media/iso/x"), ("read-only file system", "/media/iso/x")),
    (PermissionError(errno.EACCES, "Permission denied", "/root/secret.npy"), ("permission denied",
                                                                              "/root/secret.npy")),
    (OSError(errno.EIO, "Input/output error", "/net/share/voice.wav"), ("input/output error", "voice.wav")),
    (OSError(errno.ENAMETOOLONG, "File name too long", "x" * 300), ("too long", "255 bytes")),
    (BrokenPipeError(errno.EPIPE, "Broken pipe"), ("broken pipe", "closed it")),
    (OSError(errno.EMFILE, "Too many open files"), ("too many files are open",)),
]


@pytest.mark.parametrize(("error", "says"), OS_ERRORS, ids=lambda e: getattr(e, "strerror", None) or "")
def test_os_errors_become_sentences(error: OSError, says: tuple[str, ...]) -> None:
    text = describe(error)
    assert "[Errno" not in text and "\n" not in text
    for word in says:
        assert word.lower() in text.lower(), text


@pytest.mark.parametrize("spec", list(SPECS.values()), ids=lambda s: s.name)
def test_every_setting_is_named_by_its_flag_or_label(spec: object) -> None:
    error = SettingsError(spec.name, "must be something else")  # type: ignore[attr-defined]
    cli_text, gui_text = describe(error), describe(error, gui=True)
    assert cli_text == f"{spec.cli_flag}: must be something else"  # type: ignore[attr-defined]
    assert gui_text == f"{spec.title}: must be something else"  # type: ignore[attr-defined]
    if spec.cli_flag != "--" + spec.name:  # type: ignore[attr-defined]
        assert spec.name not in cli_text + gui_text  # type: ignore[attr-defined]


def test_messages_name_the_option_that_named_the_file() -> None:
    flags = FileFlags.of([("--prompt", "takes/voice.npy"), ("--out-dir", "out"), ("--model", None)])
    assert describe(ValueError("takes/voice.npy: codes must be integers"), flags=flags) == \
        "--prompt takes/voice.npy: codes must be integers"
    assert describe(ValueError("Cannot read 'takes/voice.npy': gone."), flags=flags) == \
        "Cannot read 'takes/voice.npy' (--prompt): gone."
    assert describe(OSError(errno.ENOSPC, "No space", "takes/voice.npy"), flags=flags).startswith(
        "the disk is full (no space left on the device holding takes/voice.npy (--prompt))")
    # A folder called "out" is not found inside "is out of range"; a message naming its flag is kept.
    assert describe(ValueError("--top-p 3 is out of range"), flags=flags) == "--top-p 3 is out of range"
    assert describe(ValueError("--prompt takes/voice.npy: bad"), flags=flags) == "--prompt takes/voice.npy: bad"


def test_library_messages_that_mean_nothing_are_explained() -> None:
    assert "ends early" in describe(EOFError("No data left in file"))
    assert "NaN" in describe(RuntimeError("probability tensor contains either `inf`, `nan` or element < 0"))


def test_a_settings_error_in_the_cli_never_shows_the_field(tmp_path: Path, tiny_model: Path, tokenizer: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    outcome = run_cli(capsys, ["synth", "--model", str(tiny_model), "--tokenizer", str(tokenizer), "--text", "Hi.",
                               "--duration", "99999", "--out-codes", str(tmp_path / "c.npy")])
    line = assert_cli_error(outcome, "--duration 99999 is out of range", "between 1 and 9000 frames")
    assert "duration_frames" not in line
    outcome = run_cli(capsys, ["synth", "--model", str(tiny_model), "--tokenizer", str(tokenizer), "--text", "Hi.",
                               "--max-duration", "0.01", "--out-codes", str(tmp_path / "c.npy")])
    assert "max_duration" not in assert_cli_error(outcome, "--max-duration 0.01", "one frame")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_offline_message_is_one_short_line(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    base = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setattr(Endpoints, "from_env",
                        classmethod(lambda cls: Endpoints(huggingface=base, github_raw=base, encodec=base, timeout=5)))
    outcome = run_cli(capsys, ["models", "download", TOKENIZERS])
    line = assert_cli_error(outcome, "cannot reach", "tokenizer.json", "text_tokenizer.json", "once online")
    assert len(line) < 500  # the whole story on one readable line (the progress line above it aside)
    assert not ModelStore().is_installed(TOKENIZERS)
