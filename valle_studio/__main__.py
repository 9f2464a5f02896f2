"""``python -m valle_studio`` starts the desktop app (the ``valle-studio`` entry point)."""

from __future__ import annotations

import sys

from valle_studio.app.main import main

if __name__ == "__main__":
    sys.exit(main())
