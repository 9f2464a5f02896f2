"""``python -m valle_studio.cli``: the same as the ``valle-studio-cli`` entry point."""

from __future__ import annotations

import sys

from valle_studio.cli import main

if __name__ == "__main__":
    sys.exit(main())
