"""Where pronunciation lexicons live and how the three scopes combine (no Qt).

* global: ``user_data_dir()/lexicon.tsv``, for every take, batch row and CLI run;
* a voice's: ``lexicon.tsv`` in the voice's folder (:data:`~valle_studio.studio.voices.LEXICON_FILE`);
* a batch project's: ``lexicon.tsv`` in the project folder (``batch/project.py``).

:func:`combined` merges them in that order, so the voice's entries override the global ones and the
project's override both (the batch script is the most specific context); extra files given on the
command line (``--lexicon``) come last. A missing file is an empty lexicon; a bad one raises
:class:`~valle_studio.engine.text.lexicon.LexiconError` naming the file, line and word.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from valle_studio.engine.text.lexicon import Lexicon
from valle_studio.engine.text.lexicon_format import read_lexicon, write_lexicon
from valle_studio.paths import user_data_dir
from valle_studio.studio.voices import LEXICON_FILE, Voice

__all__ = ["GLOBAL_LEXICON_FILE", "combined", "global_lexicon_path", "load_lexicon", "save_lexicon",
           "voice_lexicon_path"]

GLOBAL_LEXICON_FILE = "lexicon.tsv"
PROJECT_LEXICON_FILE = "lexicon.tsv"  # in a batch project's folder (batch.project.LEXICON_FILE says the same)


def global_lexicon_path() -> Path:
    """The user's global lexicon file (it need not exist)."""
    return user_data_dir() / GLOBAL_LEXICON_FILE


def voice_lexicon_path(voice: Voice) -> Path:
    """The lexicon file of a saved voice (it need not exist)."""
    return voice.folder / LEXICON_FILE


def load_lexicon(path: Path, name: str = "") -> Lexicon:
    """The lexicon in ``path``; an empty one when the file does not exist."""
    if not path.is_file():
        return Lexicon((), name)
    return read_lexicon(path, f"{name} ({path})" if name else None)


def save_lexicon(path: Path, lexicon: Lexicon) -> None:
    """Write ``lexicon`` to ``path`` atomically; an empty lexicon removes the file."""
    if lexicon:
        write_lexicon(path, lexicon)
    else:
        path.unlink(missing_ok=True)


def combined(*, voice: Voice | None = None, project_folder: Path | None = None,
             extra: Iterable[Path] = (), use_global: bool = True) -> Lexicon | None:
    """Global, voice, project and ``extra`` lexicons merged in that order (later entries win); None when
    all are empty, so a request without a lexicon stays exactly what it was."""
    parts = []
    if use_global:
        parts.append(load_lexicon(global_lexicon_path(), "global lexicon"))
    if voice is not None:
        parts.append(load_lexicon(voice_lexicon_path(voice), f"lexicon of the voice {voice.name!r}"))
    if project_folder is not None:
        parts.append(load_lexicon(project_folder / PROJECT_LEXICON_FILE, "the batch project's lexicon"))
    parts += [read_lexicon(path) for path in extra]
    merged = Lexicon.merged(parts)
    return merged or None
