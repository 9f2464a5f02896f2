"""File names from hostile script lines: traversal, reserved names, length, unicode, duplicates."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valle_studio.batch.names import (
    MAX_STEM_BYTES,
    TemplateError,
    check_template,
    render_template,
    sanitize_stem,
    slugify,
    strip_audio_extension,
    unique_name,
)

RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}


def assert_safe(stem: str) -> None:
    assert stem and stem == unicodedata.normalize("NFC", stem)
    assert "/" not in stem and "\\" not in stem and not set('<>:"|?*') & set(stem)
    assert not any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in stem)
    assert not stem.startswith((".", " ")) and not stem.endswith((".", " "))
    assert len(stem.encode("utf-8")) <= MAX_STEM_BYTES
    assert stem.split(".")[0].strip().upper() not in RESERVED


@pytest.mark.parametrize(("hostile", "expected"), [
    ("../../x", "x"),
    ("..\\..\\windows\\system32", "windows_system32"),
    ("/etc/passwd", "etc_passwd"),
    ("CON", "_CON"),
    ("con.txt", "_con.txt"),
    ("Lpt9", "_Lpt9"),
    ("COM¹", "_COM¹"),
    ("NUL ", "_NUL"),
    ("...hidden", "hidden"),
    ("trailing dots...", "trailing dots"),
    ('a<b>c:d"e|f?g*h', "a_b_c_d_e_f_g_h"),
    ("tab\there\nnewline", "tab here newline"),
    ("..", "line"),
    ("", "line"),
    ("\u202eevil\u200b", "evil"),  # bidi override and zero-width space are invisible tricks
])
def test_sanitize_stem_hostile_inputs(hostile: str, expected: str) -> None:
    assert sanitize_stem(hostile) == expected
    assert_safe(sanitize_stem(hostile))


def test_length_is_bounded_in_bytes_without_splitting_characters() -> None:
    for text in ("a" * 300, "語" * 300, "e\u0301" * 300, "🎉" * 300):
        stem = sanitize_stem(text)
        assert_safe(stem)
        assert len(stem.encode("utf-8")) > MAX_STEM_BYTES - 4  # cut near the limit, not far below it
        stem.encode("utf-8").decode("utf-8")  # whole characters only


def test_slugify_keeps_letters_of_any_script_and_drops_emoji() -> None:
    assert slugify("Hello, World! 👋") == "hello-world"
    assert slugify("Ｆｕｌｌ width") == "full-width"
    assert slugify("Привет, мир") == "привет-мир"
    assert slugify("こんにちは世界") == "こんにちは世界"
    assert slugify("🎉🎉🎉") == ""
    long = slugify("word " * 100)
    assert len(long.encode()) <= 48 and long.endswith("word")  # cut at a word boundary


def test_template_rendering_with_hostile_text_stays_a_plain_name() -> None:
    for text in ("../../x", "CON", "x" * 300, "🎉 party 🎉", "a/b\\c"):
        stem = render_template("{index:03d}_{voice}_{slug}", index=7, voice="../Nar rator", slug=slugify(text),
                               lang="en")
        assert_safe(stem)
        assert stem.startswith("007_Nar-rator_")
    assert render_template("{slug}", index=1, voice="v", slug=slugify("CON"), lang="en") == "_con"
    assert render_template("{slug}", index=1, voice="v", slug=slugify("🎉"), lang="en") == "line"


@pytest.mark.parametrize(("template", "needle"), [
    ("{voice.__class__}", "unknown field"),
    ("{0}", "unknown field"),
    ("{}", "unknown field"),
    ("{text}", "unknown field"),
    ("{slug!r}", "unknown field"),
    ("fixed", "no field"),
    ("{index:q}", "Unknown format code"),
    ("{index", "literal brace"),
    ("", "empty"),
])
def test_bad_templates_are_refused(template: str, needle: str) -> None:
    with pytest.raises(TemplateError, match=None) as info:
        check_template(template)
    assert needle in str(info.value)


def test_unique_name_is_case_insensitive_and_bounded() -> None:
    taken = {"line.wav", "line-2.wav"}
    assert unique_name("LINE", ".wav", taken) == "LINE-3.wav"
    long = "x" * MAX_STEM_BYTES
    name = unique_name(long, ".wav", {long.casefold() + ".wav"})
    assert name.endswith("-2.wav") and len(name.encode()) <= MAX_STEM_BYTES + 4


def test_strip_audio_extension() -> None:
    assert strip_audio_extension("intro.WAV") == "intro"
    assert strip_audio_extension("intro.take1") == "intro.take1"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_text_gives_a_safe_name_inside_the_folder(text: str) -> None:
    folder = Path("/tmp/batch-out").resolve()
    for stem in (sanitize_stem(text), render_template("{index}_{slug}", index=1, voice=text, slug=slugify(text),
                                                      lang=text)):
        assert_safe(stem)
        assert (folder / (stem + ".wav")).resolve().parent == folder
