"""The engine's facade: text + reference voice in, speech out.

``Synthesizer`` wires the pieces together (model, text front end, codec, pipeline) so that the GUI,
the CLI and batch all call one API::

    synth = Synthesizer.load("ar+nar-len-llama-8")
    voice = read_prompt_file("voice.wav")  # from the audio layer (audio.prompts): a Clip, or codes for .npy
    result = synth.synthesize(SynthesisRequest(text="Hello.", prompts=(voice,)))

``synth.stream(request)`` is the same generation handed out in audio chunks as it is made (see
:mod:`valle_studio.engine.streaming`); both start with the same request preparation
(:meth:`Synthesizer.prepare`, which also merges the request's LoRA into the model: ``engine/lora``).
:meth:`Synthesizer.clean` and :meth:`Synthesizer.convert` run the ns/sr and vc tasks
(:mod:`valle_studio.engine.tasks`). :meth:`Synthesizer.encode_prompts` is the one place prompts are checked
and encoded (batch calls it once per voice and passes the codes on). The engine takes clips and code
arrays, never paths. The codec is loaded lazily: a run with code prompts that only needs codes back
never touches it.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import torch

from valle_studio.core.codec_format import FRAMES_PER_SECOND, SAMPLE_RATE
from valle_studio.engine import pipeline
from valle_studio.engine import prompts as prompt_checks
from valle_studio.engine.progress import CancelToken, ProgressCallback, report
from valle_studio.engine.requests import PromptSource, SentenceResult, SynthesisRequest, SynthesisResult
from valle_studio.engine.resources import ResolvedModel, resolve_codec, resolve_model
from valle_studio.engine.settings import GenerationSettings

if TYPE_CHECKING:
    from valle_studio.engine.codec import Codec
    from valle_studio.engine.interfaces import ModelFilesProtocol
    from valle_studio.engine.model.prompt_mix import PromptMix
    from valle_studio.engine.model.vall_e import VallEModel
    from valle_studio.engine.quality import TakeQuality, Transcript
    from valle_studio.engine.quality.assess import TakeChecker
    from valle_studio.engine.streaming import StreamOptions, SynthesisStream
    from valle_studio.engine.tasks import CleanTask, TaskSupport
    from valle_studio.engine.text.analysis import Piece
    from valle_studio.engine.text.lexicon import Lexicon

log = logging.getLogger(__name__)

#: Most characters one request may hold: roughly 20 minutes of speech. Longer scripts belong in batch
#: export, where every row is its own request and a failure costs one row, not an hour of work.
MAX_TEXT_CHARS = 20_000
_OUT_OF_MEMORY = (MemoryError, getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError))


class SynthesisError(ValueError):
    """The request cannot be carried out (empty text, unusable prompt, ...); the message says why."""


@dataclass(frozen=True)
class PreparedRequest:
    """A request turned into model inputs: what :meth:`Synthesizer.synthesize` and
    :meth:`Synthesizer.stream` both start from.

    ``texts``/``phonemes``/``lines``: one entry per generated piece; ``prompt``: int64 codes
    ``[T, 8]`` on the model's device, a blend of voices, or None; ``codec``: the loaded codec when the
    prompts or the caller needed it, else None.
    """

    settings: GenerationSettings
    seed: int
    generator: torch.Generator
    texts: list[str]
    phonemes: list[str]
    lines: list[pipeline.LineInput]
    prompt: torch.Tensor | PromptMix | None
    modality: str
    codec: Codec | None


@dataclass(frozen=True)
class PreparedTask:
    """A task request (clean-up, conversion) made ready: seed, the voice's prompt (or None), the clip's
    codes ``[T, 8]`` int64 and the codec."""

    seed: int
    generator: torch.Generator
    prompt: torch.Tensor | PromptMix | None
    clip_codes: np.ndarray
    codec: Codec | None


@dataclass(frozen=True)
class ModelInfo:
    """What the status bar and the take history show about the loaded model."""

    name: str
    path: Path
    device: str
    dtype: str
    capabilities: tuple[str, ...]
    can_nar_len: bool
    # ns / sr / vc: whether the model can run each and why not (engine/tasks.py), for the app's controls.
    tasks: dict[str, TaskSupport] = field(default_factory=dict)


class Synthesizer:
    """A loaded model plus everything needed to turn text into speech with it."""

    def __init__(self, model: VallEModel, resolved: ResolvedModel,
                 codec: Codec | Literal["auto"] | None = "auto") -> None:
        from valle_studio.engine.lora import LoraSlot
        from valle_studio.engine.tasks import task_support
        from valle_studio.engine.text.checks import check_tokenizers_fit
        from valle_studio.engine.text.frontend import TextFrontend

        self.model = model
        self._resolved = resolved
        self.frontend = TextFrontend(resolved.tokenizer, resolved.text_tokenizer)
        check_tokenizers_fit(self.frontend, model.config)
        self._codec = codec
        self._codec_lock = threading.Lock()
        self._checker: TakeChecker | None = None  # the quality check's cache of references, made on first use
        config = model.config
        self.info = ModelInfo(
            name=resolved.name, path=resolved.path, device=str(model.device), dtype=str(model.dtype),
            capabilities=tuple(sorted(config.capabilities)), can_nar_len=model.can_nar_len,
            tasks=task_support(model),
        )
        self.lora = LoraSlot(model, resolved.name)  # the LoRA merged into the weights, swapped per request

    # -- construction -----------------------------------------------------------------------------------------
    @classmethod
    def load(cls, model: str | Path, *, device: str = "auto", dtype: str = "auto",
             codec: Codec | Literal["auto"] | None = "auto", tokenizer: Path | None = None,
             legacy_summing: bool | None = None, store: ModelFilesProtocol | None = None,
             quantize: str | None = None) -> Synthesizer:
        """Load a checkpoint (path, or name of an installed model) and its tokenizers.

        ``tokenizer``: a ``tokenizer.json``; by default the one beside the model file, else the one the
        model store installed. ``legacy_summing``: None lets the file decide
        (:mod:`~valle_studio.engine.embedding_sums`), True/False forces the rule. ``codec="auto"``
        loads the installed EnCodec/Vocos weights on first use; ``None`` runs code-in/code-out only.
        """
        from valle_studio.engine.model import load_model
        from valle_studio.engine.model.devices import resolve_device, resolve_dtype

        _keep_torch_caches_in_app_folder()
        resolved = resolve_model(model, tokenizer=tokenizer, store=store)
        torch_device = resolve_device(device)
        if torch_device.type == "cpu":  # a saved benchmark of this machine chose kernels and what "auto" means
            from valle_studio.engine.bench.choice import apply_saved_kernels, cpu_auto_precision

            apply_saved_kernels()
            if dtype.strip().lower() == "auto":
                dtype = cpu_auto_precision()[0]
        torch_dtype = resolve_dtype(dtype, torch_device)
        loaded = load_model(resolved.path, device=torch_device, dtype=torch_dtype, legacy_summing=legacy_summing,
                            quantize=quantize)
        return cls(loaded, resolved, codec)

    @property
    def sample_rate(self) -> int:
        return SAMPLE_RATE

    def codec(self, *, required: bool) -> Codec | None:
        """The codec, loaded on first use; None when absent and not ``required``."""
        with self._codec_lock:
            codec = self._codec
            if codec == "auto":
                # Not found stays "auto": a codec added later (model manager) is found by the next take.
                codec = resolve_codec(self._resolved.store, device=self.model.device)
                if codec is not None:
                    self._codec = codec
            if codec is None and required:
                from valle_studio.engine.resources import missing_codec_message

                raise SynthesisError(missing_codec_message(self._resolved.store))
            return codec

    # -- text ---------------------------------------------------------------------------------------------------
    def phonemize(self, text: str, language: str = "en", split: str = "sentences",
                  lexicon: Lexicon | None = None) -> list[str]:
        """The IPA each piece of ``text`` becomes: exactly what the model receives."""
        # ``split`` is any string here (the app passes the text panel's choice); the settings refuse others
        settings = GenerationSettings().replace(split=split)
        request = SynthesisRequest(text=text, language=language, settings=settings, lexicon=lexicon)
        return self._request_lines(request)[1]

    def analyze(self, text: str, language: str = "en", split: str = "sentences", *,
                lexicon: Lexicon | None = None, no_phonemize: bool = False) -> list[Piece]:
        """Every piece of ``text`` with its IPA, ids and unknown symbols (:mod:`~valle_studio.engine.text.analysis`)."""
        from valle_studio.engine.text.analysis import analyze_text

        return analyze_text(self.frontend, text, language, split, lexicon=lexicon, no_phonemize=no_phonemize)

    # -- prompts and requests -----------------------------------------------------------------------------------
    def encode_prompts(self, sources: Sequence[PromptSource], length_frames: int = 0) -> np.ndarray | None:
        """Check ``sources`` (clips or int codes ``[T, 8]``, in order) and turn them into one int64
        ``[T, 8]`` code matrix, repeated/trimmed to ``length_frames`` (0 = as is); None for no prompt.

        The one place prompts are checked and encoded: every request goes through it, and batch calls
        it once per voice and hands the codes on. Raises :class:`~valle_studio.core.clip.PromptError`
        for an unusable prompt and :class:`SynthesisError` when audio needs a codec that is missing.
        """
        return self._encode_prompts(sources, length_frames, codec_needed=False)[0]

    def _encode_prompts(self, sources: Sequence[PromptSource], length_frames: int, *, codec_needed: bool
                        ) -> tuple[np.ndarray | None, Codec | None]:
        # Every prompt is checked before the codec (seconds to load) is needed.
        parts = prompt_checks.check_prompts(sources, length_frames)
        codec = self.codec(required=True) if codec_needed or prompt_checks.needs_codec(parts) else None
        with torch.inference_mode():
            return prompt_checks.encode_prompts(parts, codec, length_frames), codec

    def prepare(self, request: SynthesisRequest, *, codec_needed: bool = False) -> PreparedRequest:
        """Seed, text pieces, prompt codes and modality of ``request``, checked in that order.

        ``codec_needed`` loads the codec even when no prompt needs it (streaming decodes as it goes).
        Raises :class:`SynthesisError` / :class:`~valle_studio.core.clip.PromptError` for unusable
        input, before anything is generated.
        """
        settings = request.settings
        seed = settings.seed if settings.seed is not None else secrets.randbelow(2**31)
        generator = torch.Generator(device=self.model.device).manual_seed(seed)
        texts, phonemes, lines = self._request_lines(request)
        prompt_t, codec = self._voice(request, codec_needed)
        modality = pipeline.resolve_modality(settings, self.model.can_nar_len)
        self.use_lora(settings)
        return PreparedRequest(settings, seed, generator, texts, phonemes, lines, prompt_t, modality, codec)

    def prepare_task(self, request: SynthesisRequest, clip: Sequence[PromptSource], *,
                     codec_needed: bool = True) -> PreparedTask:
        """Seed, LoRA and voice of ``request`` (its text is not used) and ``clip`` as codes: what a task run
        (:mod:`valle_studio.engine.tasks`) starts from."""
        settings = request.settings
        seed = settings.seed if settings.seed is not None else secrets.randbelow(2**31)
        generator = torch.Generator(device=self.model.device).manual_seed(seed)
        clip_codes, codec = self._encode_prompts(clip, 0, codec_needed=codec_needed)
        if clip_codes is None:
            raise SynthesisError("the task needs a clip")
        prompt_t = None
        if request.prompts or request.blend:
            prompt_t, _ = self._voice(request, codec_needed=False)
        self.use_lora(settings)
        return PreparedTask(seed, generator, prompt_t, clip_codes, codec)

    def _voice(self, request: SynthesisRequest, codec_needed: bool
               ) -> tuple[torch.Tensor | PromptMix | None, Codec | None]:
        """The request's prompt on the model's device: its prompts' codes, or its blend of voices."""
        from valle_studio.engine.model.prompt_mix import PromptMix, equal_length

        length = request.settings.prompt_length_frames()
        try:
            if request.blend:
                encoded = [self._encode_prompts(part.prompts, length, codec_needed=codec_needed)
                           for part in request.blend]
                codec = next((c for _, c in encoded if c is not None), None)
                voices = equal_length([torch.as_tensor(codes) for codes, _ in encoded if codes is not None], length)
                mix = PromptMix.of(voices, [part.weight for part in request.blend])
                return mix.to(self.model.device), codec
            prompt, codec = self._encode_prompts(request.prompts, length, codec_needed=codec_needed)
        except _OUT_OF_MEMORY:
            release_memory()  # so that a smaller request right after can succeed
            raise
        return (None if prompt is None else torch.as_tensor(prompt, device=self.model.device)), codec

    def use_lora(self, settings: GenerationSettings) -> None:
        """Merge the LoRA ``settings`` ask for (or none) into the model; a no-op when it is merged already.
        Raises :class:`~valle_studio.engine.lora.LoraError` for one that is missing or does not fit."""
        store = self._resolved.store
        if store is None and settings.lora:
            from valle_studio.engine.resources import default_store

            store = default_store()
        self.lora.use(settings.lora, settings.lora_strength, store)

    # -- tasks beyond text-to-speech (engine/tasks.py) ------------------------------------------------------------
    def tasks(self) -> dict[str, TaskSupport]:
        """What the loaded model can do besides speaking text: ``ns``, ``sr``, ``vc`` and why not."""
        from valle_studio.engine.tasks import task_support

        return task_support(self.model)

    @torch.inference_mode()
    def clean(self, clip: PromptSource, *, task: CleanTask = "ns", text: str | None = None, language: str = "en",
              settings: GenerationSettings | None = None, progress: ProgressCallback | None = None,
              cancel: CancelToken | None = None, decode: bool = True) -> SynthesisResult:
        """The clip said again without its noise (``ns``), or only its non-speech part (``sr``), by the model
        itself; ``text`` is its transcript (default: what the model's speech-to-text hears)."""
        from valle_studio.engine.tasks import run_clean

        return run_clean(self, clip, task=task, text=text, language=language, settings=settings,
                         progress=progress, cancel=cancel, decode=decode)

    @torch.inference_mode()
    def convert(self, source: PromptSource, voice: SynthesisRequest, *, text: str | None = None,
                progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
                decode: bool = True) -> SynthesisResult:
        """``source``'s words in the voice of ``voice`` (its prompts or blend, language and settings): voice
        conversion, NAR-len only, experimental."""
        from valle_studio.engine.tasks import run_convert

        return run_convert(self, source, voice, text=text, progress=progress, cancel=cancel, decode=decode)

    # -- generation ---------------------------------------------------------------------------------------------
    @torch.inference_mode()
    def synthesize(self, request: SynthesisRequest, *, progress: ProgressCallback | None = None,
                   cancel: CancelToken | None = None, decode: bool = True) -> SynthesisResult:
        """Generate speech for ``request``. Raises :class:`~valle_studio.engine.progress.Cancelled`
        when ``cancel`` fires (between model steps), :class:`SynthesisError` for unusable input."""
        started = time.perf_counter()
        job = self.prepare(request)
        settings = job.settings
        try:
            codes = pipeline.generate_lines(self.model, job.lines, job.prompt, settings, modality=job.modality,
                                            generator=job.generator, progress=progress, cancel=cancel)
            codes_np = [c.to("cpu", torch.int64).numpy() for c in codes]
            audio = self._decode(codes_np, settings, progress, cancel) if decode else None
        except _OUT_OF_MEMORY:
            release_memory()  # so that a smaller request right after can succeed
            raise
        sentences = tuple(SentenceResult(t, p, c) for t, p, c in zip(job.texts, job.phonemes, codes_np,
                                                                      strict=True))
        return SynthesisResult(audio=audio, sample_rate=SAMPLE_RATE, codes=np.concatenate(codes_np, axis=0),
                               sentences=sentences, seed=job.seed, modality=job.modality,
                               elapsed_s=time.perf_counter() - started)

    def stream(self, request: SynthesisRequest, *, options: StreamOptions | None = None,
               progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> SynthesisStream:
        """Generate speech for ``request`` and hand the audio out in chunks as it is generated::

            stream = synth.stream(request)
            for chunk in stream:  # AudioChunk: samples [S] float32, sample_offset, ...
                player.append(chunk.samples)
            take = stream.result  # the SynthesisResult, once the last chunk is out

        Unusable input raises :class:`SynthesisError` here; the model runs as the stream is iterated
        (so :class:`~valle_studio.engine.progress.Cancelled` comes from the iteration). See
        :mod:`valle_studio.engine.streaming` for how sentences are cut and when the codes are exactly
        those :meth:`synthesize` gives (``stream.exact``; ``stream.note`` says why not).
        """
        from valle_studio.engine import streaming

        started = time.perf_counter()
        options = options or streaming.StreamOptions()
        job = self.prepare(request, codec_needed=True)  # audio out needs the codec anyway
        assert job.codec is not None
        settings, modality = job.settings, job.modality
        inside = streaming.streams_inside_sentences(self.model, settings, modality, options)
        note = streaming.inexact_reason(self.model, settings, modality) if inside else None
        chunks = streaming.iter_code_chunks(self.model, job.lines, job.prompt, settings, modality=modality,
                                            generator=job.generator, options=options, progress=progress,
                                            cancel=cancel)
        return streaming.SynthesisStream(chunks, job.codec, texts=job.texts, phonemes=job.phonemes, seed=job.seed,
                                         modality=modality, gap_s=settings.gap,
                                         overlap_frames=options.overlap_frames, started=started,
                                         exact=note is None, note=note, progress=progress, cancel=cancel)

    def _request_lines(self, request: SynthesisRequest
                       ) -> tuple[list[str], list[str], list[pipeline.LineInput]]:
        """(texts, phoneme strings, model inputs), one entry per generated piece."""
        from valle_studio.engine.text.checks import require_known_symbols
        from valle_studio.engine.text.clean import clean_text, is_speakable

        if request.phonemes is not None:
            ipa = clean_text(request.phonemes).strip()
            if not ipa:
                raise SynthesisError("there is nothing to say: the phoneme string is empty")
            if not is_speakable(ipa):
                raise SynthesisError(f"there is nothing to say: the phoneme string {ipa[:40]!r} has no "
                                     "phonemes, only punctuation")
            ids = self.frontend.ids_for_phonemes(ipa)
            require_known_symbols(self.frontend.tokenizer.tokens(ipa), ipa, "the phoneme string")
            line = pipeline.LineInput(torch.tensor(ids), self.frontend.language_id(request.language))
            return [ipa], [ipa], [line]
        settings = request.settings
        from valle_studio.engine.text.analysis import analyze_text, unknown_warning

        if len(request.text) > MAX_TEXT_CHARS:
            raise SynthesisError(
                f"the text is {len(request.text):,} characters long; one generation takes at most "
                f"{MAX_TEXT_CHARS:,} (roughly 20 minutes of speech). Generate it in parts, or use batch export "
                "for long scripts")
        language_id = self.frontend.language_id(request.language)  # an unknown language fails here, first
        # Split before cleaning: cleaning turns line breaks into spaces, and the split modes need them.
        pieces = analyze_text(self.frontend, request.text, request.language, settings.split,
                              lexicon=request.lexicon, no_phonemize=settings.no_phonemize)
        if not pieces:
            raise SynthesisError("there is nothing to say: the text is empty")
        # A piece of only punctuation or symbols espeak does not read ("...", "?!") has nothing to say;
        # generating it would only produce noise.
        kept = [piece for piece in pieces if piece.speakable]
        if not kept:
            raise SynthesisError("there is nothing to say: the text has no words, only punctuation or symbols")
        tokenizer = self.frontend.text_tokenizer if settings.no_phonemize else self.frontend.tokenizer
        for piece in kept:  # <unk> in part of a piece is warned about; a piece of nothing but <unk> is refused
            if tokenizer is not None:
                require_known_symbols(tokenizer.tokens(piece.ipa), piece.ipa,
                                      "the text" if settings.no_phonemize else "the phonemes of the text")
        if len(kept) < len(pieces):
            log.info("skipping pieces with nothing to pronounce: %r", [p.text for p in pieces if not p.speakable])
        warning = unknown_warning(kept)
        if warning:
            log.warning("%s", warning)
        lines = [pipeline.LineInput(torch.tensor(p.ids), language_id, raw_text=settings.no_phonemize)
                 for p in kept]
        return [p.text for p in kept], [p.ipa for p in kept], lines

    def _decode(self, codes: list[np.ndarray], settings: GenerationSettings,
                progress: ProgressCallback | None, cancel: CancelToken | None) -> np.ndarray:
        codec = self.codec(required=True)
        assert codec is not None
        gap = np.zeros(round(settings.gap * SAMPLE_RATE), dtype=np.float32)
        pieces: list[np.ndarray] = []
        for index, line_codes in enumerate(codes):
            report(progress, cancel, "decoding", index, len(codes))
            if index and gap.size:
                pieces.append(gap)
            if len(line_codes):  # a line the model ended at once has no audio of its own
                pieces.append(np.asarray(codec.decode(torch.as_tensor(line_codes)), dtype=np.float32))
        report(progress, cancel, "decoding", len(codes), len(codes))
        return np.concatenate(pieces) if pieces else np.zeros(0, np.float32)

    # -- speech to text ---------------------------------------------------------------------------------------
    @torch.inference_mode()
    def transcribe(self, source: PromptSource, language: str = "en", *, progress: ProgressCallback | None = None,
                   cancel: CancelToken | None = None) -> str:
        """IPA phonemes heard in a clip (the model's own STT head). ``source``: a clip or codes ``[T, 8]``."""
        return self.transcript(source, language, progress=progress, cancel=cancel).ipa

    @torch.inference_mode()
    def transcript(self, source: PromptSource, language: str = "en", *, asked: str | None = None,
                   progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> Transcript:
        """What the STT head hears in ``source`` (a clip or codes ``[T, 8]``): phoneme ids and IPA; with
        ``asked`` (the text the clip should say), also that text's phonemes, to compare ids with ids."""
        from valle_studio.engine.generation import transcribe
        from valle_studio.engine.quality import Transcript
        from valle_studio.engine.quality.assess import strip_specials

        if not self.model.config.has_stt_head:
            raise SynthesisError("this model has no speech-to-text head (classifiers.proj.9), so it cannot "
                                 "transcribe")
        language_id = self.frontend.language_id(language)  # an unknown language fails before any work
        codes = self.encode_prompts([source])
        assert codes is not None
        max_tokens = max(8, int(len(codes) / FRAMES_PER_SECOND * 20))  # upstream: seconds x 20
        ids = transcribe(self.model, torch.as_tensor(codes, device=self.model.device), language_id=language_id,
                         max_tokens=max_tokens, progress=progress, cancel=cancel).tolist()
        asked_ids = asked_ipa = None
        if asked is not None:
            asked_ipa = " ".join(self.phonemize(asked, language))
            asked_ids = strip_specials(self.frontend.ids_for_phonemes(asked_ipa))
        return Transcript(tuple(int(i) for i in ids), self.frontend.decode_phonemes(ids), asked_ids, asked_ipa)

    # -- the quality check --------------------------------------------------------------------------------------
    def check(self, request: SynthesisRequest, result: SynthesisResult, *, progress: ProgressCallback | None = None,
              cancel: CancelToken | None = None) -> TakeQuality:
        """Judge ``result``, a take made for ``request``: verdict, score and reasons (see
        :mod:`valle_studio.engine.quality`). Runs the model's STT head, so it belongs on the model's thread."""
        from valle_studio.engine.quality.assess import TakeChecker

        if self._checker is None:
            self._checker = TakeChecker(self)
        return self._checker.check(request, result, progress=progress, cancel=cancel)


def _keep_torch_caches_in_app_folder() -> None:
    """torch creates its compile cache folder (``/tmp/torchinductor_<user>``) when the first model is
    built; unless the user chose a place for it, it goes to the app's cache folder instead.

    Only on the main thread: changing the environment while other threads read it can crash (glibc's
    setenv/getenv). The GUI, which loads models on its engine thread, sets it at start-up instead
    (``valle_studio.app.main.contain_library_caches``).
    """
    if "TORCHINDUCTOR_CACHE_DIR" not in os.environ and threading.current_thread() is threading.main_thread():
        from valle_studio.paths import user_cache_dir

        os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(user_cache_dir() / "torchinductor")


def release_memory() -> None:
    """Give cached GPU memory back after an out-of-memory failure, so a smaller request can run."""
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    mps = getattr(torch, "mps", None)
    if mps is not None and torch.backends.mps.is_available():
        mps.empty_cache()
