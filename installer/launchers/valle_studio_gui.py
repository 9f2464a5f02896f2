"""Frozen entry point of the desktop app: the bundle's ``valle-studio`` executable.

The same target as pyproject's ``valle-studio`` gui-script (``valle_studio.app.main:main``).
"""

from __future__ import annotations

import multiprocessing
import sys

if __name__ == "__main__":
    # A frozen program that starts worker processes must let them through before anything else runs.
    multiprocessing.freeze_support()
    from valle_studio.app.main import main

    sys.exit(main())
