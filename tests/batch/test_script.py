"""Script parsing: plain text with tags and comments, CSV/TSV with headers and aliases, odd encodings."""

from __future__ import annotations

from pathlib import Path

import pytest

from valle_studio.batch.script import ScriptError, ScriptLine, decode_script_bytes, parse_script, read_script


def texts(script) -> list[str]:
    return [line.text for line in script.lines]


# -- plain text -------------------------------------------------------------------------------------

def test_plain_text_skips_blank_lines_and_comments_and_keeps_line_numbers() -> None:
    script = parse_script("# title\n\nFirst line.\n   \n  # indented comment\nSecond\tline  here.\n"
                          "\\# not a comment\n")
    assert texts(script) == ["First line.", "Second line here.", "# not a comment"]
    assert [line.line for line in script.lines] == [3, 6, 7]
    assert all(line.voice == "" for line in script.lines) and script.format == "text"


def test_bracket_tags_inline_and_sticky() -> None:
    script = parse_script("[Narrator] Once upon a time.\n[ Alice ]\nHello.\nHow are you?\n[Bob] Fine.\nAnd you?\n")
    assert [(line.voice, line.text) for line in script.lines] == [
        ("Narrator", "Once upon a time."), ("Alice", "Hello."), ("Alice", "How are you?"),
        ("Bob", "Fine."), ("Alice", "And you?")]  # an inline tag applies to its line only
    assert script.voices == ["Narrator", "Alice", "Bob"]


def test_colon_tags_need_a_known_voice_or_repeated_use() -> None:
    text = "Alice: Hi there.\nBob: Hello.\nAlice: Bye.\nNote: this is narration.\nThe time is 12:30 now.\n"
    script = parse_script(text, known_voices=["bob"])
    assert [(line.voice, line.text) for line in script.lines] == [
        ("Alice", "Hi there."),  # used twice: a dialogue speaker
        ("Bob", "Hello."),  # a saved voice (matched case-insensitively)
        ("Alice", "Bye."),
        ("", "Note: this is narration."),  # once, unknown: text, with a warning
        ("", "The time is 12:30 now."),
    ]
    assert len(script.warnings) == 1 and "Note:" in script.warnings[0] and "[Note]" in script.warnings[0]


def test_urls_and_times_are_not_tags() -> None:
    script = parse_script("See https://example.com now.\nhttps://example.com\nAt 10:15 we leave.\n")
    assert all(line.voice == "" for line in script.lines)
    assert not script.warnings


def test_unicode_is_normalised_and_control_characters_removed() -> None:
    script = parse_script("Cafe\u0301 \u00e0 l'heure.\x07\n\ufeffBOM in the middle\n")
    assert texts(script) == ["Caf\u00e9 \u00e0 l'heure.", "BOM in the middle"]


# -- CSV / TSV --------------------------------------------------------------------------------------

def test_csv_with_header_aliases_quotes_and_embedded_newlines() -> None:
    text = ('Speaker,Line,File,Seed,Lang,Mood\n'
            'Alice,"Hello, world.",intro.wav,42,EN,happy\n'
            '\n'
            '# a comment row,,,,,\n'
            'Bob,"Two\nlines",,,zh-CN,\n'
            ',   ,,,,\n'
            ',No voice.,,1_000,,\n')
    script = parse_script(text, format="csv", source="s.csv")
    assert script.lines == (
        ScriptLine("Hello, world.", 2, "Alice", "intro.wav", 42, "en"),
        ScriptLine("Two lines", 5, "Bob", "", None, "zh"),
        ScriptLine("No voice.", 8, "", "", 1000, ""),
    )
    assert any("'Mood'" in w for w in script.warnings)  # unknown column named, not silently dropped


def test_csv_row_with_voice_but_no_text_is_skipped_with_a_warning() -> None:
    script = parse_script("text,voice\n,Alice\nHi,\n", format="csv", source="s.csv")
    assert texts(script) == ["Hi"]
    assert script.warnings == ("s.csv line 2: no text; row skipped",)


def test_tsv_and_semicolon_csv() -> None:
    tsv = parse_script("text\tvoice\nHello, there\tAlice\n", format="tsv")
    assert tsv.lines == (ScriptLine("Hello, there", 2, "Alice"),)
    semicolon = parse_script("text;voice\nBonjour, toi;Alice\n", format="csv")
    assert semicolon.lines == (ScriptLine("Bonjour, toi", 2, "Alice"),)


def test_headerless_single_column_csv_is_text_per_row() -> None:
    script = parse_script("First\nSecond\n", format="csv")
    assert texts(script) == ["First", "Second"]


@pytest.mark.parametrize(("text", "needle"), [
    ("a,b\nc,d\n", "first row must name the columns"),
    ("text,seed\nHi,abc\n", "line 2, column 'seed': 'abc' is not a whole number"),
    ("text,seed\nHi,-1\n", "out of range"),
    ("text,language\nHi,xx\n", "line 2, column 'language'"),
])
def test_bad_tables_name_the_line_and_column(text: str, needle: str) -> None:
    with pytest.raises(ScriptError) as info:
        parse_script(text, format="csv", source="s.csv")
    assert needle in str(info.value) and str(info.value).startswith("s.csv")


# -- encodings and files ----------------------------------------------------------------------------

@pytest.mark.parametrize(("data", "encoding"), [
    ("Grüße, café — “quoted”\n".encode("utf-8-sig"), "utf-8 (BOM)"),
    ("Grüße, café — “quoted”\n".encode("utf-16"), "utf-16-le (BOM)"),
    ("Grüße, café — “quoted”\n".encode("utf-16-be"), "utf-16-be"),
    ("Grüße, café — “quoted”\n".encode("utf-32"), "utf-32-le (BOM)"),
    ("Grüße, café — “quoted”\n".encode("cp1252"), "cp1252"),
])
def test_odd_encodings_decode(data: bytes, encoding: str) -> None:
    text, found = decode_script_bytes(data)
    assert text.strip() == "Grüße, café — “quoted”" and found == encoding


def test_latin1_fallback_and_binary_refused() -> None:
    text, found = decode_script_bytes(b"caf\xe9 \x81\n")  # 0x81 is undefined in cp1252
    assert found == "latin-1" and text.startswith("café")
    with pytest.raises(ScriptError, match="binary data"):
        decode_script_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01")


def test_read_script_picks_the_format_from_the_extension(tmp_path: Path) -> None:
    (tmp_path / "lines.txt").write_bytes("One\r\nTwo\rThree\n".encode("utf-16"))
    (tmp_path / "lines.tsv").write_text("text\tseed\nOne\t7\n", encoding="utf-8")
    (tmp_path / "lines.csv").write_bytes("text,voice\nCafé,Zoë\n".encode("cp1252"))
    assert texts(read_script(tmp_path / "lines.txt")) == ["One", "Two", "Three"]
    assert read_script(tmp_path / "lines.tsv").lines[0].seed == 7
    assert read_script(tmp_path / "lines.csv").lines[0] == ScriptLine("Café", 2, "Zoë")


def test_read_script_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ScriptError, match="script not found"):
        read_script(tmp_path / "missing.txt")
    with pytest.raises(ScriptError, match="is a folder"):
        read_script(tmp_path)
    (tmp_path / "empty.txt").write_text("# only a comment\n\n")
    with pytest.raises(ScriptError, match=r"empty\.txt: there is nothing to say"):
        read_script(tmp_path / "empty.txt")
