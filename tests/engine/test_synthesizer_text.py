"""The text side of the public synthesize path: splitting, the lexicon, and unknown symbols.

Everything goes through :meth:`Synthesizer.synthesize` (or :meth:`Synthesizer.analyze`, which the phoneme
view and ``phonemize`` use), on a tiny random model with upstream's real tokenizer (the golden files), so
the pieces and ids are those the published models would get.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from valle_studio.engine.debug import write_tiny_checkpoint
from valle_studio.engine.requests import SynthesisRequest
from valle_studio.engine.settings import GenerationSettings
from valle_studio.engine.synthesizer import Synthesizer
from valle_studio.engine.text import phonemize
from valle_studio.engine.text.lexicon import Lexicon, LexiconEntry

FAST = GenerationSettings(max_steps=2, max_duration=0.3, seed=3, duration_frames=4)


@pytest.fixture(scope="module")
def synth(parity_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Synthesizer:
    model = write_tiny_checkpoint(tmp_path_factory.mktemp("model") / "tiny.sft", seed=5)
    return Synthesizer.load(model, device="cpu", codec=None, tokenizer=parity_dir / "tokenizer.json")


def _texts(synth: Synthesizer, text: str, split: str) -> list[str]:
    result = synth.synthesize(SynthesisRequest(text=text, settings=FAST.replace(split=split)), decode=False)
    return [sentence.text for sentence in result.sentences]


def test_lines_mode_splits_on_line_breaks(synth: Synthesizer) -> None:
    """It never did: the text was cleaned (line breaks -> spaces) before it was split."""
    assert _texts(synth, "First line\nsecond line\r\n\nthird, still one line", "lines") == [
        "First line", "second line", "third, still one line"]


def test_a_blank_line_always_breaks_in_sentence_mode(synth: Synthesizer) -> None:
    text = "A heading without a stop\n\nthe paragraph starts lowercase. Then a sentence."
    assert _texts(synth, text, "sentences") == [
        "A heading without a stop", "the paragraph starts lowercase.", "Then a sentence."]
    # A single line break is not a break in sentence mode: the sentence goes on across it.
    assert _texts(synth, "one sentence\nthat wraps.", "sentences") == ["one sentence that wraps."]


def test_none_mode_keeps_everything_in_one_piece(synth: Synthesizer) -> None:
    assert _texts(synth, "One. Two.\n\nThree.", "none") == ["One. Two.  Three."]


def test_each_piece_is_cleaned_after_splitting(synth: Synthesizer) -> None:
    result = synth.synthesize(SynthesisRequest(text="bell\x07ring\nzero\u200bwidth", settings=FAST.replace(
        split="lines")), decode=False)
    assert [s.text for s in result.sentences] == ["bell ring", "zerowidth"]


def test_the_lexicon_reaches_the_model(synth: Synthesizer, caplog: pytest.LogCaptureFixture) -> None:
    lexicon = Lexicon((LexiconEntry("Müller", "mˈylɜ"), LexiconEntry("Nguyen", "win", "say")))
    request = SynthesisRequest(text="Ask Müller and Nguyen.", settings=FAST, lexicon=lexicon)
    result = synth.synthesize(request, decode=False)
    ipa = result.sentences[0].phonemes
    assert "mˈylɜ" in ipa and ipa.count("w") >= 1
    assert ipa == f"{phonemize('Ask', 'en')} mˈylɜ {phonemize('and win.', 'en')}"
    without = synth.synthesize(SynthesisRequest(text="Ask Müller and Nguyen.", settings=FAST), decode=False)
    assert without.sentences[0].phonemes != ipa
    pieces = synth.analyze("Ask Müller.", "en", lexicon=lexicon)
    assert pieces[0].lexicon == ("'Müller' → /mˈylɜ/",)
    assert list(pieces[0].ids) == synth.frontend.ids_for_phonemes(pieces[0].ipa)


def test_unknown_symbols_are_named_with_their_word(synth: Synthesizer, caplog: pytest.LogCaptureFixture) -> None:
    """An IPA lexicon entry (or an espeak build) with a symbol the tokenizer lacks never passes silently."""
    lexicon = Lexicon((LexiconEntry("Müller", "mˈʏlɜ"),))  # 1.52's ʏ: not in upstream's tokenizer
    pieces = synth.analyze("Hello Müller.\nBye.", "en", "lines", lexicon=lexicon)
    first = pieces[0]
    assert [u.symbol for u in first.unknown] == ["ʏ"] and first.unknown[0].word == "Müller"
    assert first.unknown[0].ipa_word == "mˈʏlɜ."
    assert 0 in first.ids and "<unk:ʏ>" in first.marked() and not pieces[1].unknown
    with caplog.at_level(logging.WARNING, logger="valle_studio.engine.synthesizer"):
        synth.synthesize(SynthesisRequest(text="Hello Müller.", settings=FAST, lexicon=lexicon), decode=False)
    assert any("'Müller' (ʏ)" in r.getMessage() and "<unk>" in r.getMessage() for r in caplog.records)


def test_mandarin_unknowns_name_the_character(synth: Synthesizer) -> None:
    """espeak 1.51's cmn voice writes h as χ, which upstream's tokenizer lacks (fixture README §4)."""
    pieces = synth.analyze("你好，世界。", "zh")
    assert [u.symbol for u in pieces[0].unknown] == ["χ"]
    assert pieces[0].unknown[0].word == "好"


def test_ids_are_the_models_with_bos_and_eos(synth: Synthesizer) -> None:
    pieces = synth.analyze("Hello world, this is a test.", "en")
    assert list(pieces[0].ids) == [1, 22, 111, 100, 4, 37, 115, 169, 9, 4, 223, 4, 114, 4, 48, 4, 34, 83, 98,
                                   11, 2]  # the reference's example (ecker-vall-e.md §4)
