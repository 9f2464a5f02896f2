"""The pronunciation lexicon: matching (word boundaries, case, scripts without spaces, language), how a line
is phonemized with it, its two file formats, and every bad entry named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from valle_studio.engine.text import phonemize
from valle_studio.engine.text.lexicon import Lexicon, LexiconEntry, LexiconError, phonemize_with_lexicon
from valle_studio.engine.text.lexicon_format import (
    format_json,
    format_tsv,
    parse_json,
    parse_tsv,
    read_lexicon,
    split_pronunciation,
    write_lexicon,
)

LEX = Lexicon((
    LexiconEntry("read", "ɹˈɛd"),
    LexiconEntry("Müller", "mˈylɐ"),
    LexiconEntry("Nguyen", "win", "say"),
    LexiconEntry("New York", "nˌuː jˈɔːk"),
    LexiconEntry("New", "nˈjuː", language="de"),
    LexiconEntry("你好", "nˈiˉ hˈɑuˉ"),
))


def _words(text: str, language: str = "en") -> list[str]:
    return [text[h.start:h.end] for h in LEX.find(text, language)]


@pytest.mark.parametrize(("text", "found"), [
    ("I read it. READ it! Read.", ["read", "READ", "Read"]),  # case-insensitive
    ("reader, bread, already", []),  # whole words only
    ("re-read", ["read"]),  # a hyphen is a boundary
    ("MÜLLER and müller", ["MÜLLER", "müller"]),  # Unicode case folding
    ("Müllers", []),
    ("new   york and New York", ["new   york", "New York"]),  # a phrase, any spaces, longest first
])
def test_matching(text: str, found: list[str]) -> None:
    assert _words(text) == found


def test_scripts_without_spaces_match_inside_words_and_languages_apply() -> None:
    assert _words("你好世界", "zh") == ["你好"]
    assert _words("New things", "de") == ["New"] and _words("New things", "en") == []
    assert LEX.for_language("de")[0].word == "read"


def test_a_line_with_the_lexicon_is_espeak_around_the_entries() -> None:
    ipa, hits = phonemize_with_lexicon("Hello Müller, I read it.", "en", LEX, phonemize)
    assert ipa == f"{phonemize('Hello', 'en')} mˈylɐ, {phonemize('I', 'en')} ɹˈɛd {phonemize('it.', 'en')}"
    assert [h.entry.word for h in hits] == ["Müller", "read"]
    said, _ = phonemize_with_lexicon("Mr. Nguyen.", "en", LEX, phonemize)
    assert said == phonemize("Mr. win.", "en")  # a respelling is read by espeak in the word's place
    assert phonemize_with_lexicon("(Müller)", "en", LEX, phonemize)[0] == "(mˈylɐ)"
    assert phonemize_with_lexicon("nothing here", "en", LEX, phonemize) == (phonemize("nothing here", "en"), ())
    assert phonemize_with_lexicon("你好世界", "zh", LEX, phonemize)[0].startswith("nˈiˉ hˈɑuˉ ")


def test_merging_later_lexicons_win() -> None:
    base = Lexicon((LexiconEntry("a", "x"), LexiconEntry("b", "y")))
    top = Lexicon((LexiconEntry("A", "z"),))
    merged = Lexicon.merged([base, None, top])
    assert [(e.word, e.pronunciation) for e in merged.entries] == [("b", "y"), ("A", "z")]
    assert not Lexicon.merged([])


@pytest.mark.parametrize(("make", "message"), [
    (lambda: LexiconEntry(" ", "x", where="line 2"), "line 2: an entry has an empty word"),
    (lambda: LexiconEntry("w", " ", where="row 3"), "row 3: the entry 'w' has an empty pronunciation"),
    (lambda: LexiconEntry("w", "x", kind="sing"), "expected 'ipa' or 'say'"),  # type: ignore[arg-type]
    (lambda: Lexicon((LexiconEntry("Word", "a", where="line 1"), LexiconEntry("WORD", "b", where="line 4"))),
     "line 4: 'WORD' → /b/: the word is already in the lexicon (line 1: 'Word' → /a/)"),
])
def test_bad_entries_are_named(make: object, message: str) -> None:
    with pytest.raises(LexiconError) as info:
        make()  # type: ignore[operator]
    assert message in str(info.value)


def test_ipa_outside_the_tokenizer_is_named(parity_dir: Path) -> None:
    from valle_studio.engine.text import PhonemeTokenizer

    tokenizer = PhonemeTokenizer(parity_dir / "tokenizer.json")
    lexicon = Lexicon((LexiconEntry("Müller", "mˈʏlɐ", where="line 3 of x.tsv"), LexiconEntry("ok", "oʊkˈeɪ"),
                       LexiconEntry("Bach", "bax", "say")))
    assert lexicon.problems(tokenizer.unknown_symbols) == [
        "line 3 of x.tsv: 'Müller' → /mˈʏlɐ/: 'ʏ' is not in the tokenizer (the model would receive <unk>)"]


TSV = "# comment\nword\tpronunciation\tlanguage\nMüller\t/mˈylɐ/\tde\n\nNguyen\twin\nSQL\t/ˈsiːkwəl/\t\n"


def test_tsv_round_trip_and_header_and_comments(tmp_path: Path) -> None:
    lexicon = parse_tsv(TSV, "names.tsv")
    assert [(e.word, e.pronunciation, e.kind, e.language, e.where) for e in lexicon.entries] == [
        ("Müller", "mˈylɐ", "ipa", "de", "line 3 of names.tsv"), ("Nguyen", "win", "say", "", "line 5 of names.tsv"),
        ("SQL", "ˈsiːkwəl", "ipa", "", "line 6 of names.tsv")]
    again = parse_tsv(format_tsv(lexicon))
    assert [(e.word, e.pronunciation, e.kind, e.language) for e in again.entries] == [
        (e.word, e.pronunciation, e.kind, e.language) for e in lexicon.entries]
    path = write_lexicon(tmp_path / "l.tsv", lexicon)
    assert read_lexicon(path).entries[0].where == "line 3 of l.tsv"
    assert split_pronunciation(" /a b/ ") == ("a b", "ipa") and split_pronunciation("/") == ("/", "say")


def test_json_round_trip(tmp_path: Path) -> None:
    lexicon = parse_tsv(TSV)
    again = parse_json(format_json(lexicon), "l.json")
    assert [(e.word, e.kind, e.language) for e in again.entries] == [(e.word, e.kind, e.language)
                                                                     for e in lexicon.entries]
    bare = parse_json(json.dumps([{"word": "a", "say": "ay"}]))
    assert bare.entries[0].kind == "say"
    assert read_lexicon(write_lexicon(tmp_path / "l.json", lexicon)).entries[1].word == "Nguyen"


@pytest.mark.parametrize(("text", "message"), [
    ("Müller\n", "line 1 of f.tsv: expected word<TAB>pronunciation[<TAB>language], got 1 column(s)"),
    ("a\tb\tc\td\n", "got 4 column(s)"),
    ("a\t/x/\tesperanto\n", "line 1 of f.tsv: unsupported language 'esperanto'"),
    ("\t/x/\n", "line 1 of f.tsv: an entry has an empty word"),
    ("a\t//\n", "empty pronunciation"),
])
def test_bad_tsv_names_the_line(text: str, message: str) -> None:
    with pytest.raises(LexiconError) as info:
        parse_tsv(text, "f.tsv")
    assert message in str(info.value)


@pytest.mark.parametrize(("text", "message"), [
    ("{", "f.json is not valid JSON"),
    ('{"words": []}', 'expected {"entries": [...]}'),
    ('[1]', "entry 1 of f.json: expected an object"),
    ('[{"word": "a"}]', "entry 1 of f.json ('a'): give exactly one of 'ipa' and 'say'"),
    ('[{"word": "a", "ipa": "x", "say": "y"}]', "give exactly one"),
    ('[{"word": "a", "ipa": 3}]', "must be strings"),
    ('[{"word": "a", "ipa": "x", "lang": "en"}]', "unknown field(s) lang"),
])
def test_bad_json_names_the_entry(text: str, message: str) -> None:
    with pytest.raises(LexiconError) as info:
        parse_json(text, "f.json")
    assert message in str(info.value)


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match="lexicon file not found"):
        read_lexicon(tmp_path / "missing.tsv")
    with pytest.raises(LexiconError, match=r"\.tsv, \.txt or \.json"):
        read_lexicon(tmp_path / "names.csv")
    bad = tmp_path / "latin1.tsv"
    bad.write_bytes("M\xfcller\t/x/\n".encode("latin-1"))
    with pytest.raises(LexiconError, match="cannot read the lexicon"):
        read_lexicon(bad)
