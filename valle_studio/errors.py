"""Turn exceptions into one line a person can act on (CLI messages, GUI dialogs)."""

from __future__ import annotations

from valle_studio.engine.settings import SPECS, SettingsError, gui_message

_SPLIT, _DURATION, _STEPS = SPECS["split"], SPECS["max_duration"], SPECS["max_steps"]
#: What to try after running out of memory, in the words of each front end (flags and labels from the specs).
OOM_ADVICE_CLI = (f"try a shorter text (or {_SPLIT.cli_flag} sentences), a lower {_DURATION.cli_flag}, "
                  f"fewer {_STEPS.cli_flag}, or --dtype float16 on a GPU")
OOM_ADVICE_GUI = (f"try a shorter text (or split it into sentences), a lower {_DURATION.title}, "
                  f"fewer {_STEPS.title}, or half precision (float16) on a GPU in the model manager (Ctrl+M)")


def is_out_of_memory(exc: BaseException) -> bool:
    """``MemoryError``, torch's ``OutOfMemoryError`` (CUDA, MPS) or an allocator failure saying so."""
    if isinstance(exc, MemoryError):
        return True
    kind = type(exc).__name__
    text = str(exc).lower()
    # torch's CPU allocator: "DefaultCPUAllocator: can't allocate memory: you tried to allocate ..."
    return kind == "OutOfMemoryError" or any(
        phrase in text for phrase in ("out of memory", "can't allocate memory", "cannot allocate memory"))


def describe(exc: BaseException, *, gui: bool = False) -> str:
    """A single-line human description of ``exc``.

    Our own error types already carry a clear message; for the rest, name the kind of problem
    and keep the text to one line. ``gui`` words the advice for the window instead of the CLI flags.
    """
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return f"file not found: {exc.filename}"
    if isinstance(exc, PermissionError) and exc.filename:
        return f"permission denied: {exc.filename}"
    if is_out_of_memory(exc):
        advice = OOM_ADVICE_GUI if gui else OOM_ADVICE_CLI
        return f"out of memory: {advice}"
    if gui and isinstance(exc, SettingsError):
        return gui_message(exc)  # names the setting by its label; the CLI words its flags itself
    if isinstance(exc, UnicodeError):
        return f"the text contains characters that cannot be used ({text})"
    return text
