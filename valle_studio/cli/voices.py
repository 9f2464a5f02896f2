"""``valle-studio-cli voices``: list the saved voices, and save a blend of them (experimental).

A saved blend is used like any saved voice: ``synth --voice NAME``, a batch script's ``[NAME]`` tag or
voice column, ``batch --voice NAME``. ``synth --voice A:0.6 --voice B:0.4`` blends without saving.
"""

from __future__ import annotations

import argparse
from typing import Any

from valle_studio.cli.options import EXIT_OK, CliError
from valle_studio.cli.voice_flags import parse_voice


def add_parser(sub: Any) -> None:
    """The ``voices`` command on ``sub`` (the main parser's subparsers)."""
    voices = sub.add_parser("voices", help="list saved voices; save a blend of voices (experimental)")
    actions = voices.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="the saved voices, blends with their members and weights")
    blend = actions.add_parser("blend", help="save a blend of two or more saved voices under a new name",
                               description="Save a blended voice. The engine mixes the voices at the model's prompt "
                                           "embedding, weighted; this is experimental.")
    blend.add_argument("name", help="the new voice's name")
    blend.add_argument("members", nargs="+", metavar="VOICE[:WEIGHT]",
                       help="saved voices with weights (default 1; normalised), e.g. Alice:0.6 Bob:0.4")
    blend.add_argument("--replace", action="store_true", help="replace a saved voice of that name")
    voices.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """The command's handler: one voice-library action."""
    from valle_studio.studio.voices import VoiceError, VoiceLibrary

    library = VoiceLibrary()
    if args.action == "list":
        for voice in library.list():
            if voice.is_blend:
                parts = ", ".join(f"{m.name} {m.weight:g}" for m in voice.members)
                print(f"{voice.name:28s} blend of {parts} (experimental)")
            else:
                print(f"{voice.name:28s} {len(voice.clips)} clip(s), {voice.duration_s:.1f} s")
        return EXIT_OK
    members = [parse_voice(text) for text in args.members]
    try:
        voice = library.save_blend(args.name, members, replace=args.replace)
    except VoiceError as exc:
        raise CliError(str(exc)) from exc
    print(f"saved the blend {voice.name!r} of {', '.join(m.name for m in voice.members)}")
    return EXIT_OK
