"""``--voice NAME[:WEIGHT]``, repeatable: the saved voices a command speaks with (``synth``, ``convert``).

One name is that saved voice (a saved blend stays a blend); two or more are blended with their weights
(experimental: the engine mixes them at the model's prompt embedding). The voices are read and their
clips checked as prompts before the model loads, like ``--prompt`` files.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from valle_studio.cli.options import ArgumentContainer, CliError

if TYPE_CHECKING:
    from valle_studio.engine.requests import BlendPart, PromptSource
    from valle_studio.studio.voices import VoiceLibrary

VOICE_FLAG = "--voice"


def add_voice_flag(parser: ArgumentContainer, *, what: str = "speak with") -> None:
    """``--voice NAME[:WEIGHT]``, repeatable: one saved voice (a blend too), or two or more blended."""
    parser.add_argument(VOICE_FLAG, action="append", default=[], metavar="NAME[:WEIGHT]",
                        help=f"a saved voice to {what}; repeat to blend saved voices with weights, e.g. "
                             "--voice Alice:0.6 --voice Bob:0.4 (experimental: the voices are mixed at the "
                             "model's prompt embedding)")


def parse_voice(text: str) -> tuple[str, float]:
    """``"Alice:0.6"`` -> ``("Alice", 0.6)``; a name alone has weight 1. Raises :class:`CliError`."""
    head, colon, tail = text.rpartition(":")
    name, weight = text, 1.0
    if colon and head:
        with contextlib.suppress(ValueError):  # else the colon is part of the name
            weight, name = float(tail), head
    name = name.strip()
    if not name:
        raise CliError(f"{VOICE_FLAG} {text!r}: give the name of a saved voice")
    if not weight > 0 or weight == float("inf"):
        raise CliError(f"{VOICE_FLAG} {text}: the weight must be a number above 0")
    return name, weight


def voice_request_fields(names: list[str], library: VoiceLibrary | None = None
                         ) -> tuple[tuple[PromptSource, ...], tuple[BlendPart, ...]]:
    """The request's ``(prompts, blend)`` for ``--voice`` flags (saved voices of ``library``, default the
    user's). One name: that voice (a saved blend stays a blend); more: a blend of them."""
    from valle_studio.engine.requests import BlendPart
    from valle_studio.studio.voices import VoiceLibrary, VoiceNotFound

    library = library if library is not None else VoiceLibrary()
    parsed = [parse_voice(text) for text in names]
    try:
        voices = [(library.get(name), weight) for name, weight in parsed]
    except VoiceNotFound as exc:
        known = ", ".join(library.names()) or "none yet"
        raise CliError(f"{VOICE_FLAG}: {exc} (saved voices: {known})") from exc
    if len(voices) == 1:
        return voices[0][0].request_voice()
    if len({v.folder for v, _ in voices}) < len(voices):
        raise CliError(f"{VOICE_FLAG}: a voice is named twice in the blend")
    blends = [v.name for v, _ in voices if v.is_blend]
    if blends:
        raise CliError(f"{VOICE_FLAG} {blends[0]} is a blend itself; blend the voices it is made of")
    return (), tuple(BlendPart(v.prompts(), weight, v.name) for v, weight in voices)


__all__ = ["VOICE_FLAG", "add_voice_flag", "parse_voice", "voice_request_fields"]
