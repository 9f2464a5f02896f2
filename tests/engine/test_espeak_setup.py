"""Which espeak-ng is chosen (1.51 first), what the bundle manifest says, and the 1.52 normalisation."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from valle_studio.engine.text import espeak_setup as es
from valle_studio.engine.text.espeak_compat import normalise, split_mandarin_syllables
from valle_studio.engine.text.espeak_setup import EspeakSetup, EspeakUnavailable, choose_espeak
from valle_studio.engine.text.phonemize import espeak_setup


def _setup(version: str, **kwargs: object) -> EspeakSetup:
    return EspeakSetup("/lib/libespeak-ng.so.1", version, "test", **kwargs)  # type: ignore[arg-type]


def test_the_first_usable_candidate_wins_and_none_is_a_clear_error() -> None:
    calls: list[str] = []

    def none(tried: list[str]) -> None:
        calls.append("none")
        tried.append("candidate A: does not load")

    def found(tried: list[str]) -> EspeakSetup:
        calls.append("found")
        return _setup("1.51")

    assert choose_espeak((none, found, found)) == _setup("1.51") and calls == ["none", "found"]
    with pytest.raises(EspeakUnavailable, match=r"candidate A: does not load.*apt-get install libespeak-ng1"):
        choose_espeak((none,))


def test_trained_version_and_description() -> None:
    assert _setup("1.51").is_trained_version and _setup("1.51.0").is_trained_version
    assert not _setup("1.52.0").is_trained_version
    hybrid = _setup("1.52.0", data="/d151", data_by_language={"zh": "/d152"}, normalise=frozenset({"zh"}))
    assert not hybrid.is_trained_version and hybrid.data_for("zh") == "/d152" and hybrid.data_for("en") == "/d151"
    assert hybrid.describe() == ("espeak-ng 1.52.0 (test), 1.51 data /d151 (Mandarin: the library's own data), "
                                 "normalised toward 1.51 for zh")
    assert _setup("1.51").describe() == "espeak-ng 1.51 (test)"


def test_library_version_of_missing_or_foreign_files(tmp_path: Path) -> None:
    assert es.library_version(tmp_path / "nothing.so") is None
    junk = tmp_path / "libjunk.so"
    junk.write_bytes(b"not an ELF file")
    assert es.library_version(junk) is None


def test_environment_override_must_load(monkeypatch: pytest.MonkeyPatch) -> None:
    running = espeak_setup()
    monkeypatch.setenv("PHONEMIZER_ESPEAK_LIBRARY", "/nonexistent/libespeak-ng.so")
    with pytest.raises(EspeakUnavailable, match="PHONEMIZER_ESPEAK_LIBRARY=/nonexistent"):
        es._from_environment([])
    monkeypatch.setenv("PHONEMIZER_ESPEAK_LIBRARY", running.library)
    monkeypatch.setenv("PHONEMIZER_ESPEAK_DATA_PATH", "/some/data")
    chosen = es._from_environment([])
    assert chosen is not None and chosen.version == running.version and chosen.data == "/some/data"


def test_a_frozen_bundle_reads_its_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    running = espeak_setup()
    folder = tmp_path / es.BUNDLE_FOLDER
    folder.mkdir()
    (folder / "libespeak.so").write_bytes(Path(running.library).resolve().read_bytes())
    manifest = {"library": "libespeak.so", "version": running.version, "source": "Debian's libespeak-ng1",
                "data": "espeak-ng-data", "data_by_language": {"zh": "espeak-ng-data-1"}, "normalise": ["zh"]}
    (folder / es.BUNDLE_MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    assert es._from_bundle([]) is None  # not frozen
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    chosen = es._from_bundle([])
    assert chosen is not None and chosen.library == str(folder / "libespeak.so")
    assert chosen.data == str(folder / "espeak-ng-data") and chosen.data_for("zh") == str(folder / "espeak-ng-data-1")
    assert chosen.normalise == frozenset({"zh"}) and chosen.source.startswith("bundled with the app")
    (folder / es.BUNDLE_MANIFEST).unlink()
    tried: list[str] = []
    assert es._from_bundle(tried) is None and "no valle_studio_espeak/espeak.json" in tried[0]


def test_the_1_51_data_folder_is_found_in_the_venv(tmp_path: Path) -> None:
    assert es.data_151_folder(tmp_path) is None
    folder = tmp_path / es.DATA_151_FOLDER
    folder.mkdir(parents=True)
    (folder / "phontab").write_bytes(b"\0")
    assert es.data_151_folder(tmp_path) == folder


def test_own_data_folder_beside_the_library(tmp_path: Path) -> None:
    (tmp_path / "espeak-ng-data").mkdir()
    (tmp_path / "espeak-ng-data" / "phontab").write_bytes(b"\0")
    assert es.own_data_folder(tmp_path / "libespeak-ng.so.1") == tmp_path / "espeak-ng-data"


@pytest.mark.parametrize(("raw", "expected"), [
    ("ni2χˈɑu2 s.ˈi.5 tɕˈiɛ5", "nˈi2 χˈɑu2 s.ˈi.5 tɕˈiɛ5"),  # 1.52's joined word, split as 1.51 writes it
    ("wˈo2 mˈə1n", "wˈo2 mˈə1n"),  # one syllable with a coda after its tone: unchanged
    ("tɕiou2pai2", "tɕˈiou2 pˈai2"),
    ("ts.o-5kˈo-1", "ts.ˈo-5 kˈo-1"),
])
def test_mandarin_syllables_are_split_and_stressed(raw: str, expected: str) -> None:
    assert split_mandarin_syllables(raw) == expected


def test_normalise_by_language() -> None:
    assert normalise("mˈʏlɜ bɾˈʏkə", "de") == "mˈylɜ bɾˈykə"  # ʏ is not in the tokenizer at all
    assert normalise("fˈɔːɹ", "en") == "fˈɔːɹ"  # 1.51 writes ɔːɹ too ("or", "war"): left alone
    assert normalise("ni2χˈɑu2", "zh") == "nˈi2 χˈɑu2"
