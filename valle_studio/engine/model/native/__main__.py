"""Build the native bfloat16 kernels ahead of time: ``python -m valle_studio.engine.model.native build DIR``.

The app bundle's build scripts run this before PyInstaller, so the frozen app ships the library beside
``bf16_kernels.c`` and its users need no compiler. Prints the built library's path; exits 1 with the
reason when there is no compiler or the build fails (the caller then ships the app without it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from valle_studio.engine.model import native


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m valle_studio.engine.model.native",
                                     description="Build the optional native bfloat16 kernels.")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="compile the kernels into DIR and print the library's path")
    build.add_argument("folder", metavar="DIR", type=Path, help="where to write the library")
    args = parser.parse_args(argv)
    try:
        path = native.build(args.folder)
    except (OSError, RuntimeError) as exc:
        print(f"native kernels not built: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
