"""Fixtures for batch tests: a tiny real synthesizer (random weights, random codec) and a voice library."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.batch.helpers import SR, tiny_model, voice_clip
from valle_studio.engine.settings import GenerationSettings
from valle_studio.studio.voices import VoiceLibrary

#: Two demasking steps and half a second per line: each row takes a fraction of a second on a CPU.
FAST = GenerationSettings(max_steps=2, max_duration=0.5)


@pytest.fixture(scope="session")
def tiny_synth(tiny_tokenizer: Path, tmp_path_factory: pytest.TempPathFactory):
    from valle_studio.engine.codec import EncodecVocosCodec
    from valle_studio.engine.synthesizer import Synthesizer

    model = tiny_model(tmp_path_factory.mktemp("tiny-model"))
    return Synthesizer.load(model, device="cpu", dtype="float32", codec=EncodecVocosCodec.random(seed=0),
                            tokenizer=tiny_tokenizer)


@pytest.fixture(scope="module")
def voices(tmp_path_factory: pytest.TempPathFactory) -> VoiceLibrary:
    library = VoiceLibrary(tmp_path_factory.mktemp("voices"))
    library.save("Narrator", [(voice_clip(), SR)])
    library.save("Alice", [(voice_clip(base=260.0), SR), (voice_clip(0.8, base=300.0), SR)])
    return library
