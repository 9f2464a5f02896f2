"""Streaming synthesis: the AR iterator, code chunks against the non-streamed pipeline, seamless
decoding, and the Synthesizer's ``stream`` (tiny random models, random codec).

The non-streamed results are the reference throughout: ``generate_ar``, ``pipeline.generate_lines``
and ``Synthesizer.synthesize`` with the same seed.
"""

from __future__ import annotations

import io
import struct
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import torch

from valle_studio.engine import pipeline
from valle_studio.engine.codec import EncodecVocosCodec
from valle_studio.engine.debug import write_tiny_checkpoint
from valle_studio.engine.generation import generate_ar
from valle_studio.engine.generation.ar import iter_ar
from valle_studio.engine.model import VallEModel, load_model
from valle_studio.engine.progress import Cancelled, CancelToken, Progress
from valle_studio.engine.requests import SynthesisRequest
from valle_studio.engine.sampling import SamplerConfig
from valle_studio.engine.settings import GenerationSettings
from valle_studio.engine.streaming import (
    CodeChunk,
    OverlapDecoder,
    StreamOptions,
    inexact_reason,
    iter_code_chunks,
    streams_inside_sentences,
)
from valle_studio.engine.synthesizer import SynthesisError, Synthesizer

TEXTS = ([1, 40, 50, 60, 4, 70, 80, 11, 2], [1, 33, 34, 35, 2], [1, 90, 91, 92, 93, 94, 2])
#: AR level 0 sampled (temperature 1), NAR greedy, no NAR guidance: the web UI's defaults. With this seed
#: the tiny models stop the three sentences after 22, 75 (the 1 s cap) and 19 frames.
SAMPLED = GenerationSettings(modality="ar+nar", max_duration=1.0, seed=3, context_history=2)
SMALL = StreamOptions(first_chunk_frames=4, growth=1.5, overlap_frames=16, nar_lookahead_frames=3)


def _model(tmp_path_factory: pytest.TempPathFactory, *, noncausal: bool) -> VallEModel:
    name = "bidirectional" if noncausal else "causal"
    path = write_tiny_checkpoint(tmp_path_factory.mktemp(name) / "tiny.sft", seed=3, noncausal_masks=noncausal)
    return load_model(path)


@pytest.fixture(scope="module")
def causal(tmp_path_factory: pytest.TempPathFactory) -> VallEModel:
    return _model(tmp_path_factory, noncausal=False)


@pytest.fixture(scope="module")
def bidirectional(tmp_path_factory: pytest.TempPathFactory) -> VallEModel:
    return _model(tmp_path_factory, noncausal=True)


@pytest.fixture(scope="module")
def prompt() -> torch.Tensor:
    return torch.randint(0, 1024, (20, 8), generator=torch.Generator().manual_seed(11))


def _lines() -> list[pipeline.LineInput]:
    return [pipeline.LineInput(torch.tensor(t), 0) for t in TEXTS]


def _reference(model: VallEModel, prompt: torch.Tensor, settings: GenerationSettings) -> list[torch.Tensor]:
    modality = pipeline.resolve_modality(settings, model.can_nar_len)
    return pipeline.generate_lines(model, _lines(), prompt, settings, modality=modality,
                                   generator=torch.Generator().manual_seed(settings.seed or 0))


def _chunks(model: VallEModel, prompt: torch.Tensor, settings: GenerationSettings, options: StreamOptions,
            **kwargs: Any) -> list[CodeChunk]:
    modality = pipeline.resolve_modality(settings, model.can_nar_len)
    return list(iter_code_chunks(model, _lines(), prompt, settings, modality=modality, options=options,
                                 generator=torch.Generator().manual_seed(settings.seed or 0), **kwargs))


def _per_sentence(chunks: list[CodeChunk], sentences: int) -> list[torch.Tensor]:
    """Join the chunks of each sentence, checking that they arrive in order and without holes."""
    joined: list[list[torch.Tensor]] = [[] for _ in range(sentences)]
    ended: set[int] = set()
    for chunk in chunks:
        assert chunk.sentence_index not in ended  # nothing comes after a sentence's end
        assert chunk.sentence_index == len(ended)  # sentences in order
        assert chunk.frame_offset == sum(len(c) for c in joined[chunk.sentence_index])
        assert chunk.codes.dtype == torch.int64 and chunk.codes.shape[1:] == (8,)
        joined[chunk.sentence_index].append(chunk.codes)
        if chunk.sentence_end:
            ended.add(chunk.sentence_index)
    assert [c.final for c in chunks] == [False] * (len(chunks) - 1) + [True]
    assert sum(c.sentence_end for c in chunks) == sentences
    return [torch.cat(parts) for parts in joined]


# -- the AR iterator -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cfg", [0.0, 2.0], ids=["plain", "cfg"])
def test_iter_ar_yields_what_generate_ar_returns(causal: VallEModel, prompt: torch.Tensor, cfg: float) -> None:
    kwargs: dict[str, Any] = dict(text=torch.tensor(TEXTS[0]), prompt=prompt, max_frames=30, cfg_strength=cfg,
                                  sampler=SamplerConfig(temperature=1.0, top_k=50, repetition_penalty=1.2),
                                  prefix=torch.randint(0, 1024, (6,), generator=torch.Generator().manual_seed(2)))
    events_a: list[Progress] = []
    events_b: list[Progress] = []
    whole = generate_ar(causal, generator=torch.Generator().manual_seed(9), progress=events_a.append, **kwargs)
    tokens = iter_ar(causal, generator=torch.Generator().manual_seed(9), progress=events_b.append, **kwargs)
    seen = []
    for token in tokens:
        seen.append(token)
        torch.randn(3)  # work between two steps (the NAR, in streaming) does not disturb the loop
    assert seen == whole.tolist() and len(seen) > 5
    assert events_a == events_b


def test_iter_ar_checks_its_input_before_running(causal: VallEModel) -> None:
    with pytest.raises(ValueError, match="max_frames"):
        iter_ar(causal, text=torch.tensor(TEXTS[0]), sampler=SamplerConfig(), max_frames=0)
    with pytest.raises(ValueError, match="text must be"):
        iter_ar(causal, text=torch.tensor([], dtype=torch.long), sampler=SamplerConfig(), max_frames=5)
    tokens = iter_ar(causal, text=torch.tensor(TEXTS[0]), sampler=SamplerConfig(), max_frames=40)
    assert isinstance(next(tokens), int)
    tokens.close()  # stopping early is allowed (it frees the cache)


# -- code chunks -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("options", [
    StreamOptions(first_chunk_frames=1, growth=1.0),  # a NAR round after every AR frame
    SMALL,
    StreamOptions(first_chunk_frames=9, growth=3.0),
], ids=["every-frame", "small", "coarse"])
def test_causal_nar_streams_exactly_the_non_streamed_codes(causal: VallEModel, prompt: torch.Tensor,
                                                           options: StreamOptions) -> None:
    """Causal NAR attention + greedy NAR: each chunk holds the codes the full pass gives, and the AR
    draws (temperature 1, rolling context of two sentences) are untouched by the rounds between them."""
    assert inexact_reason(causal, SAMPLED, "ar+nar") is None
    chunks = _chunks(causal, prompt, SAMPLED, options)
    streamed = _per_sentence(chunks, len(TEXTS))
    reference = _reference(causal, prompt, SAMPLED)
    assert len(chunks) > 2 * len(TEXTS)  # several chunks inside the sentences, not one per sentence
    for ours, theirs in zip(streamed, reference, strict=True):
        assert torch.equal(ours, theirs.cpu())


def test_chunk_boundaries_follow_the_options(causal: VallEModel, prompt: torch.Tensor) -> None:
    settings = SAMPLED.replace(max_duration=0.8)  # the second sentence runs to the cap, 60 frames
    first = _chunks(causal, prompt, settings, SMALL)
    sizes = [len(c.codes) for c in first if c.sentence_index == 1]
    assert sum(sizes) == 60
    ends = np.cumsum(sizes)[:-1].tolist()
    expected, boundary = [], SMALL.first_chunk_frames
    while boundary < sum(sizes):
        expected.append(boundary)
        boundary = SMALL.next_boundary(boundary, "cpu")
    assert ends == expected  # 4, 6, 9, 14, 21, ...: causal NAR needs no lookahead


def test_bidirectional_nar_is_approximate_but_level0_is_kept(bidirectional: VallEModel,
                                                             prompt: torch.Tensor) -> None:
    reason = inexact_reason(bidirectional, SAMPLED, "ar+nar")
    assert reason is not None and "bidirectional" in reason
    chunks = _chunks(bidirectional, prompt, SAMPLED, SMALL)
    streamed = _per_sentence(chunks, len(TEXTS))
    reference = _reference(bidirectional, prompt, SAMPLED)
    levels_differ = False
    for ours, theirs in zip(streamed, reference, strict=True):
        assert ours.shape == theirs.shape
        assert torch.equal(ours[:, 0], theirs[:, 0].cpu())  # the greedy NAR draws nothing: same AR draws
        levels_differ |= not torch.equal(ours, theirs.cpu())
    assert levels_differ  # frames streamed early miss their right-hand context
    # the newest frames of a round are lookahead, handed out only in the next round
    sizes = [len(c.codes) for c in chunks if c.sentence_index == 1]
    assert sizes[:2] == [SMALL.first_chunk_frames - SMALL.nar_lookahead_frames, SMALL.next_boundary(4, "cpu") - 4]


def test_exact_mode_streams_bidirectional_models_by_sentence(bidirectional: VallEModel,
                                                             prompt: torch.Tensor) -> None:
    options = StreamOptions(mode="exact", first_chunk_frames=4)
    assert not streams_inside_sentences(bidirectional, SAMPLED, "ar+nar", options)
    chunks = _chunks(bidirectional, prompt, SAMPLED, options)
    assert [c.sentence_index for c in chunks] == [0, 1, 2] and all(c.sentence_end for c in chunks)
    for ours, theirs in zip(_per_sentence(chunks, 3), _reference(bidirectional, prompt, SAMPLED), strict=True):
        assert torch.equal(ours, theirs.cpu())


def test_sampled_nar_falls_back_to_sentences_in_exact_mode(causal: VallEModel, prompt: torch.Tensor) -> None:
    settings = SAMPLED.replace(nar_temperature=0.8)
    assert "NAR temperature" in (inexact_reason(causal, settings, "ar+nar") or "")
    assert "guidance" in (inexact_reason(causal, SAMPLED.replace(cfg_strength=3.0), "ar+nar") or "")
    chunks = _chunks(causal, prompt, settings, StreamOptions(mode="exact", first_chunk_frames=4))
    assert len(chunks) == len(TEXTS)
    for ours, theirs in zip(_per_sentence(chunks, 3), _reference(causal, prompt, settings), strict=True):
        assert torch.equal(ours, theirs.cpu())


def test_nar_len_streams_sentence_by_sentence(bidirectional: VallEModel, prompt: torch.Tensor) -> None:
    settings = GenerationSettings(modality="nar-len", max_steps=3, max_duration=0.5, seed=4, context_history=1)
    assert inexact_reason(bidirectional, settings, "nar-len") is None
    chunks = _chunks(bidirectional, prompt, settings, StreamOptions(first_chunk_frames=2))
    assert [c.sentence_index for c in chunks] == [0, 1, 2]
    for ours, theirs in zip(_per_sentence(chunks, 3), _reference(bidirectional, prompt, settings), strict=True):
        assert torch.equal(ours, theirs.cpu())


def test_cancel_between_chunks(causal: VallEModel, prompt: torch.Tensor) -> None:
    token = CancelToken()
    events: list[Progress] = []
    modality = "ar+nar"
    chunks = iter_code_chunks(causal, _lines(), prompt, SAMPLED, modality=modality, options=SMALL,
                              generator=torch.Generator().manual_seed(1), progress=events.append, cancel=token)
    first = next(chunks)
    assert first.sentence_index == 0 and not first.sentence_end
    token.cancel()
    seen = len(events)
    with pytest.raises(Cancelled):
        next(chunks)
    assert len(events) == seen  # not one more step ran


@pytest.mark.parametrize("bad", [dict(mode="fast"), dict(first_chunk_frames=0), dict(growth=0.5),
                                 dict(overlap_frames=-1), dict(nar_lookahead_frames=1.5)])
def test_options_are_checked(bad: dict) -> None:
    with pytest.raises(ValueError, match=next(iter(bad)).split("_")[0]):
        StreamOptions(**bad)


def test_default_growth_depends_on_the_device() -> None:
    options = StreamOptions(first_chunk_frames=64)
    assert [options.next_boundary(b, "cpu") for b in (64, 256)] == [256, 1024]  # one round per 4x
    assert [options.next_boundary(b, "cuda") for b in (64, 128)] == [128, 256]
    assert StreamOptions(growth=3.0).next_boundary(100, "cpu") == 300


def test_cli_offers_the_engine_modes() -> None:
    from valle_studio.cli import synth
    from valle_studio.engine.streaming import STREAM_MODES

    assert synth.STREAM_MODES == STREAM_MODES  # the CLI keeps its own copy so that --help needs no torch


# -- decoding with overlap -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def codec() -> EncodecVocosCodec:
    return EncodecVocosCodec.random(seed=0)


def _pushed(codec: EncodecVocosCodec, codes: torch.Tensor, sizes: list[int], overlap: int) -> Iterator[np.ndarray]:
    decoder = OverlapDecoder(codec, overlap)
    start = 0
    for i, size in enumerate(sizes):
        yield decoder.push(codes[start:start + size], end=i == len(sizes) - 1)
        start += size


@pytest.mark.parametrize("vocoder", ["vocos", "encodec"])
def test_overlap_decoding_is_seamless(codec: EncodecVocosCodec, vocoder: str) -> None:
    codes = torch.randint(0, 1024, (150, 8), generator=torch.Generator().manual_seed(0))
    sizes = [7, 30, 1, 50, 62]

    class Only:  # the same codec, decoding with one vocoder
        sample_rate = 24_000

        def decode(self, c: torch.Tensor) -> np.ndarray:
            return codec.decode(c, vocoder=vocoder)  # type: ignore[arg-type]

    full = codec.decode(codes, vocoder=vocoder)  # type: ignore[arg-type]
    joined = np.concatenate(list(_pushed(Only(), codes, sizes, overlap=24)))  # type: ignore[arg-type]
    assert joined.dtype == np.float32 and len(joined) == len(full) == 150 * 320
    np.testing.assert_allclose(joined, full, atol=1e-5)
    naive = np.concatenate(list(_pushed(Only(), codes, sizes, overlap=0)))  # type: ignore[arg-type]
    assert len(naive) == len(full) and np.abs(naive - full).max() > 1e-3  # without context: seams


# -- Synthesizer.stream ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def synth(tiny_tokenizer: Path, tmp_path_factory: pytest.TempPathFactory, codec: EncodecVocosCodec) -> Synthesizer:
    path = write_tiny_checkpoint(tmp_path_factory.mktemp("synth") / "tiny.sft", seed=3, noncausal_masks=False)
    return Synthesizer.load(path, device="cpu", codec=codec, tokenizer=tiny_tokenizer)


@pytest.mark.parametrize("modality", ["ar+nar", "nar-len"])
def test_stream_joins_into_the_non_streamed_take(synth: Synthesizer, modality: str) -> None:
    settings = GenerationSettings(modality=modality, max_steps=3, max_duration=1.0, seed=21, gap=0.1,
                                  context_history=1)
    request = SynthesisRequest(text="Hello there. How are you today?", settings=settings)
    reference = synth.synthesize(request)
    events: list[Progress] = []
    stream = synth.stream(request, options=StreamOptions(first_chunk_frames=6, overlap_frames=16),
                          progress=events.append)
    chunks = list(stream)
    result = stream.result
    assert result is not None and reference.audio is not None and result.audio is not None
    assert stream.exact and stream.note is None
    assert {c.sample_rate for c in chunks} == {reference.sample_rate} == {24_000}
    assert [c.sample_offset for c in chunks] == [0, *np.cumsum([len(c.samples) for c in chunks])[:-1]]
    assert [c.final for c in chunks] == [False] * (len(chunks) - 1) + [True]
    joined = np.concatenate([c.samples for c in chunks])
    assert len(joined) == len(reference.audio) == chunks[-1].end_offset
    np.testing.assert_allclose(joined, reference.audio, atol=1e-5)
    np.testing.assert_array_equal(result.codes, reference.codes)
    np.testing.assert_array_equal(result.audio, joined)
    assert [s.text for s in result.sentences] == [s.text for s in reference.sentences]
    assert (result.seed, result.modality) == (21, modality)
    # the gap sits at the end of the first sentence's last chunk
    end0 = next(c for c in chunks if c.sentence_end and c.sentence_index == 0)
    assert np.all(end0.samples[-2400:] == 0) and end0.end_offset == len(reference.sentences[0].codes) * 320 + 2400
    if modality == "ar+nar":
        assert len(chunks) > 2  # audio inside the sentences
    assert stream.first_audio_s is not None and 0 < stream.first_audio_s <= result.elapsed_s
    assert {"refining", "decoding"} <= {e.stage for e in events}
    assert events[-1] == Progress("decoding", 2, 2)


def test_stream_checks_input_at_once_and_iterates_once(synth: Synthesizer) -> None:
    with pytest.raises(SynthesisError, match="nothing to say"):
        synth.stream(SynthesisRequest(text="  "))
    stream = synth.stream(SynthesisRequest(text="Once.", settings=SAMPLED.replace(max_duration=0.2)))
    assert len(list(stream)) >= 1
    with pytest.raises(RuntimeError, match="only once"):
        iter(stream)


def test_stream_cancelled_mid_sentence(synth: Synthesizer) -> None:
    token = CancelToken()
    settings = SAMPLED.replace(max_duration=2.0, seed=2)  # 72 frames with the tiny tokenizer: several chunks
    stream = synth.stream(SynthesisRequest(text="A long one to stop.", settings=settings),
                          options=StreamOptions(first_chunk_frames=30, overlap_frames=8), cancel=token)
    chunks = iter(stream)
    first = next(chunks)
    assert len(first.samples) and not first.final
    token.cancel()
    with pytest.raises(Cancelled):
        next(chunks)
    assert stream.result is None


# -- the synth command: --stream, --out -, --play ---------------------------------------------------------------
class _Pipe(io.BytesIO):
    """stdout's byte stream: remembers how many writes reached it before each flush."""

    def __init__(self) -> None:
        super().__init__()
        self.flushed: list[int] = []

    def flush(self) -> None:
        self.flushed.append(len(self.getvalue()))


@pytest.fixture()
def cli_model(tmp_path_factory: pytest.TempPathFactory, codec: EncodecVocosCodec,
              monkeypatch: pytest.MonkeyPatch) -> Path:
    """A causal tiny checkpoint; the CLI's synthesizer finds ``codec`` as if it were installed."""
    import valle_studio.engine.synthesizer as synthesizer

    monkeypatch.setattr(synthesizer, "resolve_codec", lambda store, device: codec)
    return write_tiny_checkpoint(tmp_path_factory.mktemp("cli") / "tiny.sft", seed=3, noncausal_masks=False)


def _synth_args(model: Path, tokenizer: Path, *extra: str) -> list[str]:
    """A request whose take (92 frames with the tiny tokenizer and this seed) streams in several chunks."""
    return ["synth", "--model", str(model), "--tokenizer", str(tokenizer), "--text",
            "Hello there. How are you?", "--modality", "ar+nar", "--max-duration", "1", "--seed", "1", *extra]


def test_cli_stream_to_stdout_is_a_growing_wav(cli_model: Path, tiny_tokenizer: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    import soundfile as sf

    from valle_studio import cli

    pipe = _Pipe()
    monkeypatch.setattr(sys, "stdout", SimpleNamespace(buffer=pipe, write=lambda text: None, flush=lambda: None))
    out = tmp_path / "take.wav"
    # --no-watermark: the file's watermark (issue 17) is not in what streams, and the samples are compared
    assert cli.main(_synth_args(cli_model, tiny_tokenizer, "--stream", "--out", "-", "--out-codes",
                                str(tmp_path / "c.npy"), "--no-watermark")) == cli.EXIT_OK
    err = capsys.readouterr().err
    assert "first audio after" in err and "note:" not in err  # causal and greedy NAR: exact
    data = pipe.getvalue()
    assert data[:4] == b"RIFF" and data[8:16] == b"WAVEfmt " and data[36:40] == b"data"
    assert struct.unpack("<IHHIIHH", data[16:36]) == (16, 1, 1, 24_000, 48_000, 2, 16)
    assert len(pipe.flushed) > 3 and len(set(pipe.flushed)) == len(pipe.flushed)  # chunk after chunk
    streamed = np.frombuffer(data[44:], dtype="<i2")
    # the same request, not streamed, into a file: the same samples (as 16-bit PCM)
    assert cli.main(_synth_args(cli_model, tiny_tokenizer, "--out", str(out), "--no-watermark")) == cli.EXIT_OK
    audio, rate = sf.read(out, dtype="float32")
    assert rate == 24_000 and len(streamed) == len(audio)
    assert np.abs(streamed.astype(np.float32) / 32767 - audio).max() < 2e-4


def test_cli_play_without_a_device_is_one_line(cli_model: Path, tiny_tokenizer: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from tests.audio.fake_stream import FakeStreamFactory
    from valle_studio import cli
    from valle_studio.audio import playback

    monkeypatch.setattr(playback, "default_stream_factory",
                        lambda: FakeStreamFactory(output_reason="No audio output device found"))
    monkeypatch.setattr(Synthesizer, "load", lambda *a, **k: pytest.fail("the model loaded before the check"))
    assert cli.main(_synth_args(cli_model, tiny_tokenizer, "--play")) == cli.EXIT_ERROR
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == ("valle-studio-cli: error: --play: No audio output device found; write the audio with "
                       "--out instead")


def test_cli_play_plays_the_take_gaplessly(cli_model: Path, tiny_tokenizer: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    import soundfile as sf

    from tests.audio.fake_stream import FakeStreamFactory
    from valle_studio import cli
    from valle_studio.audio import playback

    factory = FakeStreamFactory(speed=40.0)
    monkeypatch.setattr(playback, "default_stream_factory", lambda: factory)
    out = tmp_path / "take.wav"
    # --no-watermark: the sound card gets the take as generated, the file would carry the watermark on top
    assert cli.main(_synth_args(cli_model, tiny_tokenizer, "--play", "--out", str(out), "--gap", "0.2",
                                "--no-watermark")) == cli.EXIT_OK
    audio, _ = sf.read(out, dtype="float32")
    (stream,) = factory.streams
    assert stream.closed  # played to the end, then released
    heard = stream.output()
    assert not np.isnan(heard).any()
    # what the device got is the take, with silence only where the data ran late (underruns) or after the end
    voiced = heard[np.abs(heard) > 0]
    np.testing.assert_array_equal(voiced, audio[np.abs(audio) > 0])


def test_cli_will_not_write_wav_bytes_to_a_terminal(cli_model: Path, tiny_tokenizer: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from valle_studio import cli

    pipe = _Pipe()
    monkeypatch.setattr(sys, "stdout", SimpleNamespace(buffer=pipe, isatty=lambda: True, write=lambda text: None,
                                                       flush=lambda: None))
    assert cli.main(_synth_args(cli_model, tiny_tokenizer, "--stream", "--out", "-")) == cli.EXIT_ERROR
    assert "stdout is a terminal" in capsys.readouterr().err and pipe.getvalue() == b""
