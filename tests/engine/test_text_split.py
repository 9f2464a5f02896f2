"""Offline sentence/line splitting: a table of tricky inputs and hypothesis properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valle_studio.engine.text import SPLIT_MODES, split_text

SENTENCE_CASES: list[tuple[str, list[str]]] = [
    ("Hello world. This is a test.", ["Hello world.", "This is a test."]),
    ("One sentence only", ["One sentence only"]),
    # abbreviations and titles
    ("Dr. Smith lives at 221B Baker St. He is nice.", ["Dr. Smith lives at 221B Baker St. He is nice."]),
    ("Dr. Smith lives at 221B Baker Street. Nice.", ["Dr. Smith lives at 221B Baker Street.", "Nice."]),
    ("Mr. and Mrs. Smith arrived. They sat.", ["Mr. and Mrs. Smith arrived.", "They sat."]),
    ("Ask Prof. Jones or St. Peter. Both know.", ["Ask Prof. Jones or St. Peter.", "Both know."]),
    ("Fruit, e.g. Apples, is good. I.e. Healthy.", ["Fruit, e.g. Apples, is good.", "I.e. Healthy."]),
    ("Compare cf. Table 2 here. Done.", ["Compare cf. Table 2 here.", "Done."]),
    ("Apples, pears, etc. Then we left.", ["Apples, pears, etc.", "Then we left."]),
    ("Apples, pears, etc. and more.", ["Apples, pears, etc. and more."]),
    ("J. K. Rowling wrote it. Really.", ["J. K. Rowling wrote it.", "Really."]),
    ("See No. 5, Fig. 3 and Jan. 5 issue. Done.", ["See No. 5, Fig. 3 and Jan. 5 issue.", "Done."]),
    ("Did you go? No. We stayed.", ["Did you go?", "No.", "We stayed."]),
    ("We'll visit the U.S.A. next year. Ok.", ["We'll visit the U.S.A. next year.", "Ok."]),
    ("I grew up in the U.S. My sister did not.", ["I grew up in the U.S.", "My sister did not."]),
    ("It's 10:30 a.m. on March 3rd, 2021. Good.", ["It's 10:30 a.m. on March 3rd, 2021.", "Good."]),
    ("Is it 5 p.m.? Yes.", ["Is it 5 p.m.?", "Yes."]),
    ("Ich bin z.B. Lehrer. Du auch?", ["Ich bin z.B. Lehrer.", "Du auch?"]),
    ("M. Dupont est là. Il attend.", ["M. Dupont est là.", "Il attend."]),
    # numbers, addresses
    ("Pi is 3.14. That is all.", ["Pi is 3.14.", "That is all."]),
    ("It costs $4.99! Cheap.", ["It costs $4.99!", "Cheap."]),
    ("The year was 1999. 2000 came next.", ["The year was 1999.", "2000 came next."]),
    ("Mail john@example.com; thanks! Bye.", ["Mail john@example.com; thanks!", "Bye."]),
    ("Version 2.0.1 is out. Update.", ["Version 2.0.1 is out.", "Update."]),
    # ellipses and runs
    ("Wait... what? No way!", ["Wait... what?", "No way!"]),
    ("I was thinking... Maybe not.", ["I was thinking...", "Maybe not."]),
    ("I was thinking… Maybe not.", ["I was thinking…", "Maybe not."]),
    ("Really?! Yes!!! Fine.", ["Really?!", "Yes!!!", "Fine."]),
    # quotes and brackets after the stop
    ('He said, "Stop." Then he left.', ['He said, "Stop."', "Then he left."]),
    ('"Stop," he whispered, "don\'t move."', ['"Stop," he whispered, "don\'t move."']),
    ("“Who's there?” she asked. Nobody.", ["“Who's there?” she asked.", "Nobody."]),
    ("He left. 'Bye,' she said.", ["He left.", "'Bye,' she said."]),
    ("(See chapter 3.) Next part.", ["(See chapter 3.)", "Next part."]),
    ("Il a dit « Non. » Puis rien.", ["Il a dit « Non. »", "Puis rien."]),
    ("Er sagte: »Komm.« Dann ging er.", ["Er sagte: »Komm.«", "Dann ging er."]),
    ("Sie rief: „Hallo.“ Er ging.", ["Sie rief: „Hallo.“", "Er ging."]),
    ("Er sagte. »Nein« war die Antwort.", ["Er sagte.", "»Nein« war die Antwort."]),
    # whitespace and paragraphs
    ("  Padded.   Spaces.  ", ["Padded.", "Spaces."]),
    ("First line\nsecond line. Next.", ["First line\nsecond line.", "Next."]),
    ("Title without stop\n\nBody text. More.", ["Title without stop", "Body text.", "More."]),
    ("Para one.\r\n\r\nPara two", ["Para one.", "Para two"]),
    # non-Latin punctuation
    ("你好，世界。今天天气很好！你呢？", ["你好，世界。", "今天天气很好！", "你呢？"]),
    ("我有3.5元。够吗？", ["我有3.5元。", "够吗？"]),
    ("你好!世界?", ["你好!", "世界?"]),
    ("「行こう。」と彼は言った。それから帰った。", ["「行こう。」と彼は言った。", "それから帰った。"]),
    ("東京は大きい。「本当？」はい。", ["東京は大きい。", "「本当？」", "はい。"]),
    ("「本当？」って聞いた。", ["「本当？」って聞いた。"]),
    ("今日は、晴れです。", ["今日は、晴れです。"]),
    ("안녕하세요. 반갑습니다!", ["안녕하세요.", "반갑습니다!"]),
    ("नमस्ते। आप कैसे हैं?", ["नमस्ते।", "आप कैसे हैं?"]),
    ("مرحبا؟ كيف حالك.", ["مرحبا؟", "كيف حالك."]),
    ("Guten Tag! Wie geht es dir?", ["Guten Tag!", "Wie geht es dir?"]),
    ("", []),
    ("   \n\t ", []),
    ("...", ["..."]),
]


@pytest.mark.parametrize(("text", "expected"), SENTENCE_CASES, ids=[c[0][:30] for c in SENTENCE_CASES])
def test_sentence_table(text: str, expected: list[str]) -> None:
    assert split_text(text, "sentences") == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("one\ntwo\r\nthree\rfour", ["one", "two", "three", "four"]),
    ("  a  \n\n   \n b. c. ", ["a", "b. c."]),
    ("para\u2028next", ["para", "next"]),
    ("", []),
    ("\n\n", []),
])
def test_lines(text: str, expected: list[str]) -> None:
    assert split_text(text, "lines") == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("  One. Two.\nThree  ", ["One. Two.\nThree"]),
    ("   ", []),
])
def test_none(text: str, expected: list[str]) -> None:
    assert split_text(text, "none") == expected


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="unknown split mode 'words'"):
        split_text("a", "words")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must be a str"):
        split_text(None, "lines")  # type: ignore[arg-type]


# --- properties ---------------------------------------------------------------------------------

FRAGMENTS = [
    "Mr", "Dr", "e.g", "etc", "U.S", "No", "J", "hello", "World", "3", "14", "a", "Z", "你好", "こんにちは",
    "안녕", "नमस्ते", "مرحبا", ".", ".", "!", "?", "...", "…", "?!", "。", "！", "？", "؟", "।", "\"", "'", "”",
    ")", "」", "「", "(", ",", "，", "、", " ", " ", "  ", "\n", "\n\n", "\t", "と",
]
tricky_text = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)
any_text = st.one_of(tricky_text, st.text(max_size=80))


def _assert_slices_of(text: str, pieces: list[str]) -> None:
    """Pieces are stripped, non-empty, in-order slices of ``text`` with only whitespace between."""
    pos = 0
    for piece in pieces:
        assert piece and piece == piece.strip()
        found = text.find(piece, pos)
        assert found >= 0, (piece, text)
        assert text[pos:found].strip() == "", f"text lost between pieces: {text[pos:found]!r}"
        pos = found + len(piece)
    assert text[pos:].strip() == "", f"text lost at the end: {text[pos:]!r}"


@settings(max_examples=300, deadline=None)
@given(text=any_text, mode=st.sampled_from(SPLIT_MODES))
def test_no_text_is_lost(text: str, mode: str) -> None:
    pieces = split_text(text, mode)  # type: ignore[arg-type]
    _assert_slices_of(text, pieces)
    assert "".join(" ".join(pieces).split()) == "".join(text.split())


@settings(max_examples=300, deadline=None)
@given(text=any_text)
def test_every_sentence_is_stable_when_split_again(text: str) -> None:
    for piece in split_text(text, "sentences"):
        assert split_text(piece, "sentences") == [piece]


@settings(max_examples=100, deadline=None)
@given(text=any_text)
def test_lines_and_none_are_stable(text: str) -> None:
    for piece in split_text(text, "lines"):
        assert split_text(piece, "lines") == [piece]
    assert split_text(" ".join(split_text(text, "none")), "none") == split_text(text, "none")
