"""What callers may use of a loaded synthesizer and of the model store, as Protocols (no torch).

The app, batch and later tools type their services with these instead of ``Any``, without importing
the torch-backed classes: :class:`SynthesizerProtocol` is the public face of
:class:`~valle_studio.engine.synthesizer.Synthesizer`, :class:`ModelStoreProtocol` that of
:class:`~valle_studio.engine.store.ModelStore` (:class:`ModelFilesProtocol` is the part the engine itself
resolves models through). Test doubles only need the members a test touches;
``tests/engine/test_interfaces.py`` keeps the real classes in step with these declarations.

Importing this module is cheap: numpy and the plain request records only (``streaming`` is named for
type checkers, never imported at run time).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np

from valle_studio.engine.progress import CancelToken, ProgressCallback
from valle_studio.engine.requests import PromptSource, SynthesisRequest, SynthesisResult
from valle_studio.engine.settings import GenerationSettings

if TYPE_CHECKING:
    from valle_studio.engine.quality import TakeQuality, Transcript
    from valle_studio.engine.store.store import CodecPaths, TokenizerPaths
    from valle_studio.engine.streaming import StreamOptions
    from valle_studio.engine.text.analysis import Piece
    from valle_studio.engine.text.lexicon import Lexicon


class ModelInfoProtocol(Protocol):
    """What the status bar and the history show about the loaded model."""

    @property
    def name(self) -> str: ...

    @property
    def path(self) -> Path: ...

    @property
    def device(self) -> str: ...

    @property
    def dtype(self) -> str: ...


class AudioChunkProtocol(Protocol):
    """A piece of a streamed take: ``samples`` ``[S]`` float32 mono from ``sample_offset`` on."""

    @property
    def samples(self) -> np.ndarray: ...

    @property
    def sample_offset(self) -> int: ...

    @property
    def sample_rate(self) -> int: ...

    @property
    def final(self) -> bool: ...


class TaskSupportProtocol(Protocol):
    """Whether the loaded model can run a task (``ns``, ``sr``, ``vc``) and, if not, why."""

    @property
    def task(self) -> str: ...

    @property
    def available(self) -> bool: ...

    @property
    def reason(self) -> str: ...

    @property
    def needs_text(self) -> bool: ...


class SynthesisStreamProtocol(Protocol):
    """A take handed out in chunks; iterate it once, then :attr:`result` holds the whole take."""

    result: SynthesisResult | None

    def __iter__(self) -> Iterator[AudioChunkProtocol]: ...


class SynthesizerProtocol(Protocol):
    """A loaded model and everything needed to speak with it (the engine's public API).

    Every method runs the model on the calling thread: in the app that is the engine thread only.
    ``progress`` receives :class:`~valle_studio.engine.progress.Progress` events; ``cancel`` is checked
    between model steps and raises :class:`~valle_studio.engine.progress.Cancelled`.
    """

    @property
    def info(self) -> ModelInfoProtocol: ...

    @property
    def sample_rate(self) -> int: ...

    def phonemize(self, text: str, language: str = "en", split: str = "sentences",
                  lexicon: Lexicon | None = None) -> list[str]:
        """The IPA of each piece of ``text`` the model would receive."""
        ...

    def analyze(self, text: str, language: str = "en", split: str = "sentences", *,
                lexicon: Lexicon | None = None, no_phonemize: bool = False) -> list[Piece]:
        """Every piece of ``text`` with its IPA, ids, unknown symbols and lexicon entries used."""
        ...

    def encode_prompts(self, sources: Sequence[PromptSource], length_frames: int = 0) -> np.ndarray | None:
        """The reference prompts checked and encoded into one ``[T, 8]`` int array (None: no prompt)."""
        ...

    def synthesize(self, request: SynthesisRequest, *, progress: ProgressCallback | None = None,
                   cancel: CancelToken | None = None, decode: bool = True) -> SynthesisResult:
        """Generate the whole take of ``request``."""
        ...

    def stream(self, request: SynthesisRequest, *, options: StreamOptions | None = None,
               progress: ProgressCallback | None = None,
               cancel: CancelToken | None = None) -> SynthesisStreamProtocol:
        """Generate ``request``, handing the audio out as it is made (the model runs as it is iterated)."""
        ...

    def transcribe(self, source: PromptSource, language: str = "en", *, progress: ProgressCallback | None = None,
                   cancel: CancelToken | None = None) -> str:
        """The IPA phonemes heard in a clip (the model's speech-to-text head)."""
        ...

    def tasks(self) -> Mapping[str, TaskSupportProtocol]:
        """What the loaded model can do besides speaking text (``ns``, ``sr``, ``vc``) and why not."""
        ...

    def clean(self, clip: PromptSource, *, task: Literal["ns", "sr"] = "ns", text: str | None = None,
              language: str = "en", settings: GenerationSettings | None = None,
              progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
              decode: bool = True) -> SynthesisResult:
        """The clip said again by the model without its noise (ns), or only its non-speech part (sr)."""
        ...

    def convert(self, source: PromptSource, voice: SynthesisRequest, *, text: str | None = None,
                progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
                decode: bool = True) -> SynthesisResult:
        """The words of ``source`` in the voice of ``voice`` (voice conversion, NAR-len only)."""
        ...

    def transcript(self, source: PromptSource, language: str = "en", *, asked: str | None = None,
                   progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> Transcript:
        """The phoneme ids and IPA heard in a clip, beside those of ``asked`` (the text it should say)."""
        ...

    def check(self, request: SynthesisRequest, result: SynthesisResult, *, progress: ProgressCallback | None = None,
              cancel: CancelToken | None = None) -> TakeQuality:
        """The verdict on a take made for ``request`` (good, suspect or bad, a score and the reasons)."""
        ...


class DownloaderProtocol(Protocol):
    """Fetches a catalog model and every file it needs (the store itself, or a stand-in in tests)."""

    def download(self, name: str, *, progress: ProgressCallback | None = None,
                 cancel: CancelToken | None = None) -> list[Path]: ...


class CatalogEntryProtocol(Protocol):
    """What the model manager shows of a catalog model."""

    @property
    def display_name(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def size_text(self) -> str: ...

    @property
    def legacy_summing(self) -> bool: ...


class ModelFilesProtocol(Protocol):
    """Where a model's files are: what the engine needs of the store to load a model by name."""

    def available(self) -> list[str]: ...

    def is_installed(self, name: str) -> bool: ...

    def path_of(self, name: str) -> Path: ...

    def entry(self, name: str) -> CatalogEntryProtocol: ...

    def tokenizer_paths(self) -> TokenizerPaths: ...

    def codec_paths(self) -> CodecPaths: ...


class ModelStoreProtocol(ModelFilesProtocol, DownloaderProtocol, Protocol):
    """The installed and downloadable models, as the app uses them (its loader resolves through it)."""

    default_model: str

    def installed(self) -> list[str]: ...

    def missing_files(self, name: str) -> Sequence[object]: ...

    def licences(self, name: str) -> list[tuple[str, str]]: ...

    def import_file(self, path: str | Path, name: str | None = None, *, replace: bool = False,
                    progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> str: ...

    def remove(self, name: str) -> bool: ...

    def available_loras(self) -> list[str]: ...

    def installed_loras(self) -> list[str]: ...

    def lora_path(self, name: str) -> Path | None: ...

    def import_lora(self, path: str | Path, name: str | None = None, *, replace: bool = False,
                    progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> str: ...

    def remove_lora(self, name: str) -> bool: ...
    def embedding_sums(self, name: str) -> str: ...

    def set_embedding_sums(self, name: str, choice: str) -> None: ...


__all__ = [
    "AudioChunkProtocol", "CatalogEntryProtocol", "DownloaderProtocol", "ModelFilesProtocol", "ModelInfoProtocol",
    "ModelStoreProtocol", "SynthesisStreamProtocol", "SynthesizerProtocol", "TaskSupportProtocol",
]
