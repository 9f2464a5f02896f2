"""What ``--version`` and the About box say: the app's version and the espeak-ng it phonemizes with.

Torch-free and cheap: reading the espeak-ng version loads its library once (milliseconds), nothing else.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from valle_studio import __version__

__all__ = ["VersionAction", "espeak_line", "version_lines"]

APP_NAME = "VALL-E Studio"


def espeak_line() -> str:
    """``espeak-ng 1.51 (...)``, or why no espeak-ng can be used."""
    from valle_studio.engine.text.phonemize import PhonemizerUnavailableError, espeak_description

    try:
        return espeak_description()
    except PhonemizerUnavailableError as exc:
        return f"espeak-ng: not available ({exc})"


def version_lines() -> list[str]:
    """The lines ``--version`` prints: app, espeak-ng, Python."""
    return [f"{APP_NAME} {__version__}", espeak_line(), f"Python {sys.version.split()[0]}"]


class VersionAction(argparse.Action):
    """``--version``: :func:`version_lines`, looked up only when asked (the CLI's and the app's flag)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help=str(kwargs.get("help", "")))

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        print("\n".join(version_lines()))
        parser.exit()
