"""Property tests (hypothesis) for what turns arbitrary user input into something the app uses: the text
front end, the sentence splitter, the audio loader and the file-name sanitisers.

Existing properties are not repeated here: ``tests/engine/test_text_split.py`` (no text lost, stable
re-splitting), ``tests/engine/test_text_tokenizer.py`` (encoding never raises) and
``tests/batch/test_names.py`` (safe names stay inside the folder). These add hostile characters
(controls, surrogates, format characters), decimals, random bytes as audio files, and names that must
really be creatable on disk.
"""

from __future__ import annotations

import importlib.util
import itertools
import re
import unicodedata
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from valle_studio.audio.io import AudioClip, AudioError, load_audio, save_audio
from valle_studio.core.atomic import atomic_write
from valle_studio.engine.text import LANGUAGES, phonemize, split_text
from valle_studio.engine.text.clean import clean_text, is_speakable

QUICK = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

#: Every code point, surrogates and control characters included.
ANY_CHAR = st.characters(codec=None, exclude_categories=())
HOSTILE = st.sampled_from(["\x00", "\x07", "\x1b", "\r", "\u200b", "\u200d", "\u202e", "\ufeff", "\u00ad",
                           "\udcff", "\ud800", "\u2028", "\x85", "\ufffd", "\U0010ffff", "\u0301"])
WORDS = st.sampled_from(["hello", "world", "ok", "seven", "apples", "tricky", "Monday", "road", "blue"])
# Text with hostile characters sprinkled between ordinary words.
hostile_text = st.lists(st.one_of(WORDS, HOSTILE, st.just(" "), st.just(". ")), max_size=20).map("".join)
any_text = st.one_of(hostile_text, st.text(alphabet=ANY_CHAR, max_size=60))

counter = itertools.count()


# -- text front end -----------------------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(text=any_text)
def test_clean_text_keeps_every_visible_character(text: str) -> None:
    cleaned = clean_text(text)
    bad = {"Cc", "Cf", "Cs", "Zl", "Zp"}
    assert not any(unicodedata.category(ch) in bad for ch in cleaned)
    kept = [ch for ch in text if unicodedata.category(ch) not in bad]
    assert [ch for ch in cleaned if ch != " "] == [ch for ch in kept if ch != " "]  # same order, none lost
    assert clean_text(cleaned) == cleaned
    cleaned.encode("utf-8")  # no lone surrogate left to break an encoder


@QUICK
@given(text=any_text, language=st.sampled_from(sorted(LANGUAGES)))
def test_phonemize_never_raises_and_returns_clean_text(text: str, language: str) -> None:
    out = phonemize(text, language)
    assert isinstance(out, str) and out == out.strip()
    assert clean_text(out) == out
    if not clean_text(text).strip():
        assert out == ""


@QUICK
@given(before=hostile_text, after=hostile_text, control=st.sampled_from(["\x00", "\x07", "\x1b", "\x0c"]))
def test_a_control_character_is_a_space(before: str, after: str, control: str) -> None:
    """A NUL used to end espeak's input there: everything after it was silently dropped."""
    assert phonemize(before + control + after, "en") == phonemize(before + " " + after, "en")


@QUICK
@given(first=WORDS, last=st.lists(WORDS, min_size=1, max_size=3), whole=st.integers(0, 9999),
       fraction=st.integers(0, 999))
def test_a_decimal_never_cuts_the_sentence(first: str, last: list[str], whole: int, fraction: int) -> None:
    """Upstream dropped everything after a decimal point; espeak's own reading is what must come out."""
    from phonemizer.backend import EspeakBackend

    text = f"{first} {whole}.{fraction} {' '.join(last)}."
    out = phonemize(text, "en")
    plain = EspeakBackend("en-us", with_stress=True).phonemize([text[:-1]], strip=True)[0]
    assert re.sub(r"[.,]", "", out).split() == plain.split()
    assert out.endswith(".")


# -- splitter -----------------------------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(text=any_text, mode=st.sampled_from(["sentences", "lines", "none"]))
def test_split_accepts_hostile_text_and_loses_nothing_visible(text: str, mode: str) -> None:
    text = clean_text(text)  # what the synthesizer splits
    pieces = split_text(text, mode)  # type: ignore[arg-type]
    assert all(piece and piece == piece.strip() for piece in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())


@settings(max_examples=100, deadline=None)
@given(text=any_text)
def test_speakable_pieces_have_letters_or_digits(text: str) -> None:
    for piece in split_text(clean_text(text), "sentences"):
        assert is_speakable(piece) == any(ch.isalnum() for ch in piece)


# -- audio loader -------------------------------------------------------------------------------------------
HEADERS = [b"", b"RIFF\x24\x00\x00\x00WAVEfmt ", b"fLaC\x00\x00\x00\x22", b"OggS\x00\x02", b"ID3\x04\x00",
           b"FORM\x00\x00\x00\x00AIFF"]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("scratch")


def _check_clip(clip: AudioClip) -> None:
    assert clip.samples.ndim == 1 and clip.samples.dtype == np.float32 and clip.samples.size > 0
    assert clip.sample_rate > 0 and np.all(np.isfinite(clip.samples))


@QUICK
@given(header=st.sampled_from(HEADERS), body=st.binary(max_size=2048), suffix=st.sampled_from([".wav", ".flac",
                                                                                                ".ogg", ".mp3"]))
def test_random_bytes_load_or_fail_with_a_named_audio_error(scratch: Path, header: bytes, body: bytes,
                                                            suffix: str) -> None:
    path = scratch / f"random-{next(counter)}{suffix}"
    path.write_bytes(header + body)
    try:
        clip = load_audio(path)
    except AudioError as exc:
        assert path.name in str(exc) and exc.kind and "\n" not in str(exc)
    else:
        _check_clip(clip)


@QUICK
@given(cut=st.floats(0.0, 1.0), fmt=st.sampled_from([("wav", "PCM_16"), ("flac", "PCM_16"), ("ogg", "VORBIS")]))
def test_a_cut_off_file_is_refused_or_loads_what_is_there(scratch: Path, cut: float, fmt: tuple[str, str]) -> None:
    rate = 8_000
    full = scratch / f"full-{next(counter)}.{fmt[0]}"
    sf.write(full, 0.3 * np.sin(np.arange(rate) / 5.0).astype(np.float32), rate, subtype=fmt[1])
    data = full.read_bytes()
    cut_file = full.with_name("cut-" + full.name)
    cut_file.write_bytes(data[: int(len(data) * cut)])
    try:
        clip = load_audio(cut_file)
    except AudioError as exc:
        assert cut_file.name in str(exc)
    else:
        _check_clip(clip)
        assert clip.samples.size <= rate + 4096


@QUICK
@given(samples=st.lists(st.floats(-4.0, 4.0, width=32), min_size=1, max_size=600),
       channels=st.sampled_from([1, 2, 6]), rate=st.sampled_from([8_000, 22_050, 44_100, 192_000]),
       ext=st.sampled_from([".wav", ".flac"]))
def test_saved_audio_reads_back(scratch: Path, samples: list[float], channels: int, rate: int, ext: str) -> None:
    data = np.repeat(np.asarray(samples, np.float32)[:, None], channels, axis=1)
    path = save_audio(scratch / f"round-{next(counter)}{ext}", data, rate, subtype="PCM_16")
    clip = load_audio(path)
    assert clip.sample_rate == rate and clip.channels == channels and clip.samples.size == len(samples)
    expected = np.clip(np.asarray(samples, np.float32), -1.0, 1.0)
    np.testing.assert_allclose(clip.samples, expected, atol=2.0 / 32768)


# -- file names ---------------------------------------------------------------------------------------------
@QUICK
@given(text=st.text(alphabet=ANY_CHAR, max_size=200), seed=st.one_of(st.none(), st.integers(0, 2**31 - 1)))
def test_suggested_export_names_can_be_written(scratch: Path, text: str, seed: int | None) -> None:
    from valle_studio.app.widgets.output_panel import suggested_name

    name = suggested_name(text, seed)
    assert name and re.fullmatch(r"[\w-]+", name) and len(name) <= 64
    folder = scratch / f"export-{next(counter)}"
    folder.mkdir()
    written = atomic_write(folder / f"{name}.wav", b"RIFF")
    assert written.parent == folder and [p.name for p in folder.iterdir()] == [f"{name}.wav"]


names_module = importlib.util.find_spec("valle_studio.batch.names")


@pytest.mark.skipif(names_module is None, reason="the batch package is not there yet")
@QUICK
@given(text=st.text(alphabet=ANY_CHAR, max_size=300))
def test_sanitised_batch_names_are_stable_and_can_be_written(scratch: Path, text: str) -> None:
    from valle_studio.batch.names import sanitize_stem

    stem = sanitize_stem(text)
    assert sanitize_stem(stem) == stem
    folder = scratch / f"batch-{next(counter)}"
    folder.mkdir()
    written = atomic_write(folder / f"{stem}.wav", b"RIFF")
    assert written.parent == folder and [p.name for p in folder.iterdir()] == [f"{stem}.wav"]


@pytest.mark.skipif(names_module is None, reason="the batch package is not there yet")
@QUICK
@given(stems=st.lists(st.text(alphabet=ANY_CHAR, max_size=150), min_size=1, max_size=12))
def test_unique_batch_names_never_collide(stems: list[str]) -> None:
    from valle_studio.batch.names import MAX_STEM_BYTES, sanitize_stem, unique_name

    taken: set[str] = set()
    for raw in stems:
        stem = sanitize_stem(raw)
        name = unique_name(stem, ".wav", taken)
        assume(name)
        assert name.casefold() not in taken
        assert len(name.removesuffix(".wav").encode("utf-8")) <= MAX_STEM_BYTES
        taken.add(name.casefold())


# -- temporary names, scripts, spreadsheet cells (reliability, second pass) ----------------------------------
#: Characters a file name on Linux may hold (no folder separator, no NUL, no lone surrogate).
NAME_CHAR = st.characters(codec="utf-8", exclude_characters="/\x00")


@QUICK
@given(name=st.text(alphabet=NAME_CHAR, min_size=1, max_size=255))
def test_every_legal_name_gets_a_legal_temporary_name(scratch: Path, name: str) -> None:
    """Whatever a target may be called, its temporary file can be made beside it (and is recognised)."""
    from valle_studio.core.atomic import NAME_MAX_BYTES, is_temp_name, sweep_temp_files, temp_name

    assume(name not in {".", ".."} and len(name.encode("utf-8")) <= NAME_MAX_BYTES)
    temp = temp_name(name, "0badcafe")
    assert len(temp.encode("utf-8")) <= NAME_MAX_BYTES and is_temp_name(temp)
    folder = scratch / f"temp-{next(counter)}"
    folder.mkdir()
    (folder / temp).write_bytes(b"left by a killed run")
    (folder / name).write_bytes(b"the target")
    assert sweep_temp_files(folder, [name]) == [temp]
    assert [p.name for p in folder.iterdir()] == [name]


#: Ordinary script text: letters, digits, punctuation and spaces of any script, and line breaks.
SCRIPT_TEXT = st.text(alphabet=st.characters(categories=("L", "M", "N", "P", "Zs", "S")) | st.sampled_from(
    ["\n", "\r", "\t"]), max_size=400)


@QUICK
@given(text=SCRIPT_TEXT, encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
def test_real_text_is_never_taken_for_binary(text: str, encoding: str) -> None:
    from valle_studio.batch.script import decode_script_bytes

    decoded, _ = decode_script_bytes(text.encode(encoding))
    assert decoded == text


@QUICK
@given(data=st.binary(min_size=64, max_size=2000))
def test_random_bytes_decode_or_are_refused_in_words(data: bytes) -> None:
    from valle_studio.batch.script import ScriptError, decode_script_bytes

    try:
        text, _ = decode_script_bytes(data)
    except ScriptError as exc:
        assert "script" in str(exc) and "\n" not in str(exc)
        return
    controls = sum(1 for ch in text if (ch < " " or "\x7f" <= ch <= "\x9f") and ch not in "\t\n\x0b\x0c\r\x1a")
    assert controls <= max(2, 0.01 * len(text))  # what is accepted reads as text


@QUICK
@given(text=st.text(alphabet=ANY_CHAR, max_size=40))
def test_no_manifest_cell_starts_a_formula(text: str) -> None:
    from valle_studio.batch.csv_safe import FORMULA_STARTS, spreadsheet_safe

    cell = spreadsheet_safe(text)
    assert isinstance(cell, str) and not cell.startswith(FORMULA_STARTS)
    assert cell in (text, "'" + text)
