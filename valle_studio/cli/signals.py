"""SIGTERM (and SIGHUP) handled like Ctrl+C: the run unwinds, cleans up and says so in its last line.

Python turns SIGINT into :class:`KeyboardInterrupt`, so every ``finally`` and ``except BaseException``
clean-up runs (temporary files are removed, the batch project keeps its finished lines). SIGTERM, what
``kill``, ``timeout``, systemd and container runtimes send, would instead end the process on the spot,
leaving temporary files and no word of what happened. :func:`signals_as_interrupts` makes SIGTERM and
SIGHUP (the terminal was closed) raise :class:`Terminated`, a ``KeyboardInterrupt``, so they take the
same path as Ctrl+C. SIGKILL cannot be caught by any program: what it leaves (a temporary file beside
an output) is swept by the next run that owns the folder (``batch --resume``).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

#: The signals handled like Ctrl+C (SIGHUP only where the platform has it).
HANDLED = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class Terminated(KeyboardInterrupt):
    """The process was asked to stop by ``signum``; raised where the main thread was running."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        """``"SIGTERM"``, ``"SIGHUP"``."""
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        """The shell's convention for a process ended by a signal: 128 + its number."""
        return 128 + self.signum


def _raise(signum: int, _frame: FrameType | None) -> None:
    raise Terminated(signum)


@contextlib.contextmanager
def signals_as_interrupts() -> Iterator[None]:
    """While inside, :data:`HANDLED` signals raise :class:`Terminated` in the main thread.

    The previous handlers come back on exit. A signal that is already ignored stays ignored: under
    ``nohup`` SIGHUP is, and a batch started that way must survive the terminal closing. Off the main
    thread (where Python cannot install signal handlers) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {}
    try:
        for signum in HANDLED:
            if signal.getsignal(signum) == signal.SIG_DFL:
                previous[signum] = signal.signal(signum, _raise)
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


__all__ = ["HANDLED", "Terminated", "signals_as_interrupts"]
