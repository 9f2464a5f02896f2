"""Work-arounds for defects of particular Qt-for-Python releases, applied once at start-up.

PySide6 6.12.0 on Python 3.10/3.11 drops one reference to ``None`` every time a method that returns
nothing is called (``setText``, ``setEnabled``, ``setValue``...), and one to ``True`` every time a signal
is emitted (measured: 1000 calls, 1000 references fewer; 6.11.3 loses none). These are ordinary
objects there, so after a few thousand calls a count reaches zero and the interpreter aborts
("deallocating None", "deallocating True or False") or crashes, anywhere: a busy window dies within
minutes. From Python 3.12 on they are immortal and the bug is harmless. The fix is a release without
the defect; until then :func:`guard_none_refcount` raises their counts out of reach.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

_PROBE_CALLS = 64
_HEADROOM = 1 << 40  # a trillion leaked references: never reached


def binding_leaks_none() -> bool:
    """Whether void Qt calls lose references to ``None``, or signal emissions to ``True`` (measured)."""
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(_PROBE_CALLS):
        probe.setObjectName("probe")
        probe.ping.emit()
    after = sys.getrefcount(None), sys.getrefcount(True)
    return any(b - a >= _PROBE_CALLS for b, a in zip(before, after, strict=True))


def guard_none_refcount() -> bool:
    """Protect the interpreter from the leak above when it happens here; True when it was applied."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False  # None is immortal: nothing to protect
    if not binding_leaks_none():
        return False
    import PySide6

    # ob_refcnt is the first field of every CPython object: add headroom to the counts directly.
    for singleton in (None, True, False):
        ctypes.c_ssize_t.from_address(id(singleton)).value += _HEADROOM
    log.warning("PySide6 %s loses references to None/True on every call (Python %s); compensated. Install "
                "another PySide6 release to be rid of this work-around.", PySide6.__version__,
                sys.version.split()[0])
    return True
