"""Turn exceptions into one line a person can act on (CLI messages, GUI dialogs)."""

from __future__ import annotations


def describe(exc: BaseException) -> str:
    """A single-line human description of ``exc``.

    Our own error types already carry a clear message; for the rest, name the kind of problem
    and keep the text to one line.
    """
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return f"file not found: {exc.filename}"
    if isinstance(exc, PermissionError) and exc.filename:
        return f"permission denied: {exc.filename}"
    if isinstance(exc, MemoryError) or "out of memory" in text.lower():
        return ("out of memory: try a shorter text, a lower --max-duration, fewer --steps, "
                "or a smaller --dtype on a GPU")
    return text
