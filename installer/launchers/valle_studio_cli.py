"""Frozen entry point of the command line: the bundle's ``valle-studio-cli`` executable.

The same target as pyproject's ``valle-studio-cli`` script (``valle_studio.cli:main``).
"""

from __future__ import annotations

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from valle_studio.cli import main

    sys.exit(main())
