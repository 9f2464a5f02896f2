"""How close each espeak-ng choice comes to espeak-ng 1.51, per language, on the text corpus.

    .venv/bin/python -m benchmarks.espeak_agreement            # measure every candidate found here
    .venv/bin/python -m benchmarks.espeak_agreement --record   # re-record the corpus (needs genuine 1.51)

The corpus (``tests/engine/data/text_corpus.json``) holds sentences in the six languages with numbers,
abbreviations, punctuation and quotes. ``--record`` writes, for each, what upstream's own text path gives on
espeak-ng 1.51 (phonemizer's espeak backend, ``preserve_punctuation=True, with_stress=True``, stock
punctuation handling, the first output chunk, Mandarin tone digits mapped, Japanese through pykakasi): the
text parity test compares our front end with those recordings.

The measurement runs *our* front end (:func:`~valle_studio.engine.text.phonemize`) once per candidate
library/data combination and compares each sentence with our front end on genuine 1.51, so what is counted is
the espeak build alone (our deliberate reading of decimals is the same on every build). Printed per language:
sentences that agree exactly, and the share of phoneme tokens that agree (1 - token edit distance / length).
Candidates need their files: the 1.52 library and data of ``espeakng-loader`` 0.2.4 (``--loader-152 DIR``,
default: the installed one when it is not 1.51) and the 1.51 data folder (``--data-151 DIR``, default: the
bootstrap's copy or the 0.1.51.0 wheel's).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from valle_studio.engine.text import PhonemeTokenizer, phonemize
from valle_studio.engine.text.espeak_compat import NORMALISED_LANGUAGES
from valle_studio.engine.text.espeak_setup import EspeakSetup, choose_espeak, data_151_folder, library_version
from valle_studio.engine.text.languages import resolve_language
from valle_studio.engine.text.phonemize import espeak_setup, to_hiragana, use_espeak

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "engine" / "data" / "text_corpus.json"
TOKENIZER = ROOT.parent / "shared" / "fixtures" / "ecker-parity" / "tokenizer.json"
LANGS = ("en", "de", "fr", "ja", "ko", "zh")
_TONES = str.maketrans("12345", "ˇˉˊˋ_")


def upstream_phonemes(text: str, language: str) -> str:
    """Upstream's g2p path as its reference describes it, on the espeak-ng of the current setup."""
    from phonemizer.backend import EspeakBackend
    from phonemizer.backend.espeak.wrapper import EspeakWrapper

    lang = resolve_language(language)
    setup = espeak_setup()
    EspeakWrapper.set_library(setup.library)
    EspeakWrapper.set_data_path(setup.data_for(lang.code))
    if lang.code == "ja":
        text = to_hiragana(text)
    out = EspeakBackend(lang.voice, preserve_punctuation=True, with_stress=True).phonemize([text], strip=True)
    phonemes = out[0] if out else ""
    return phonemes.translate(_TONES) if lang.code == "zh" else phonemes


def record(path: Path) -> None:
    """Re-record every case's upstream phonemes; refuses to run on anything but genuine 1.51."""
    setup = choose_espeak()
    if not setup.is_trained_version:
        sys.exit(f"--record needs genuine espeak-ng 1.51 for library and data; this is {setup.describe()}")
    use_espeak(setup)
    corpus = json.loads(path.read_text(encoding="utf-8"))
    for case in corpus["cases"]:
        case["upstream"] = upstream_phonemes(case["text"], case["language"])
    corpus["espeak_ng_version"] = setup.version
    corpus["about"] = ("'upstream': upstream's text path (phonemizer espeak backend, preserve_punctuation, "
                       "with_stress, stock punctuation, first chunk) on espeak-ng 1.51, recorded by "
                       "benchmarks/espeak_agreement.py --record")
    path.write_text(json.dumps(corpus, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"recorded {len(corpus['cases'])} cases with {setup.describe()}")


def _edit_distance(a: Sequence[int], b: Sequence[int]) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


def run_corpus(setup: EspeakSetup, cases: list[dict[str, str]]) -> list[str]:
    use_espeak(setup)
    return [phonemize(case["text"], case["language"]) for case in cases]


def candidates(loader_152: Path | None, data_151: Path | None) -> dict[str, Callable[[], EspeakSetup | None]]:
    """Name -> the candidate's setup (None when its files are not here)."""
    def reference() -> EspeakSetup:
        return choose_espeak()

    def lib152() -> tuple[str, str, str] | None:
        if loader_152 is None:
            return None
        names = [p for p in loader_152.glob("*espeak-ng*") if p.suffix in {".so", ".dylib", ".dll"}]
        version = library_version(names[0]) if names else None
        return None if version is None else (str(names[0]), str(loader_152 / "espeak-ng-data"), version)

    def with_151_data(zh_own: bool) -> EspeakSetup | None:
        found = lib152()
        if found is None or data_151 is None:
            return None
        library, own, version = found
        if not zh_own:
            return EspeakSetup(library, version, "1.52 library, 1.51 data", data=str(data_151))
        return EspeakSetup(library, version, "1.52 library, 1.51 data, Mandarin own data", data=str(data_151),
                           data_by_language={"zh": own}, normalise=frozenset({"zh"}))

    def own_data(normalised: bool) -> EspeakSetup | None:
        found = lib152()
        if found is None:
            return None
        library, own, version = found
        return EspeakSetup(library, version, "1.52 library and data", data=own,
                           normalise=NORMALISED_LANGUAGES if normalised else frozenset())

    return {
        "1.51 (reference)": reference,
        "1.52 library + 1.51 data, Mandarin 1.52 data + syllable split (chosen off Linux x86_64)":
            lambda: with_151_data(True),
        "1.52 library + 1.51 data for every language": lambda: with_151_data(False),
        "1.52 library + 1.52 data, normalised (de, zh)": lambda: own_data(True),
        "1.52 library + 1.52 data (espeakng-loader 0.2.4 as is)": lambda: own_data(False),
    }


def measure(loader_152: Path | None, data_151: Path | None, tokenizer: PhonemeTokenizer) -> None:
    cases = json.loads(CORPUS.read_text(encoding="utf-8"))["cases"]
    reference_setup = choose_espeak()
    if not reference_setup.is_trained_version:
        sys.exit(f"measuring needs genuine espeak-ng 1.51 as the reference; this is {reference_setup.describe()}")
    reference = run_corpus(reference_setup, cases)
    counts = {lang: sum(c["language"] == lang for c in cases) for lang in LANGS}
    print(f"{len(cases)} sentences: " + ", ".join(f"{lang} {n}" for lang, n in counts.items()))
    print(f"reference: {reference_setup.describe()}\n")
    for name, make in candidates(loader_152, data_151).items():
        setup = make()
        if setup is None:
            print(f"{name}: files not here, skipped")
            continue
        got = run_corpus(setup, cases)
        cells = []
        for lang in LANGS:
            rows = [i for i, c in enumerate(cases) if c["language"] == lang]
            exact = sum(got[i] == reference[i] for i in rows)
            ref_ids = [tokenizer.encode(reference[i]) for i in rows]
            errors = sum(_edit_distance(tokenizer.encode(got[i]), r) for i, r in zip(rows, ref_ids, strict=True))
            share = 1 - errors / sum(len(r) for r in ref_ids)
            cells.append(f"{lang} {exact}/{len(rows)} ({share:.1%})")
        print(f"{name}:\n    " + ", ".join(cells))
    use_espeak(None)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--record", action="store_true", help="re-record the corpus' upstream phonemes (1.51 only)")
    parser.add_argument("--loader-152", type=Path, help="espeakng_loader folder of the 0.2.4 wheel (1.52)")
    parser.add_argument("--data-151", type=Path, help="espeak-ng-data folder of 1.51")
    parser.add_argument("--tokenizer", type=Path, default=TOKENIZER, help="upstream's tokenizer.json")
    args = parser.parse_args(argv)
    if args.record:
        record(CORPUS)
        return 0
    data_151 = args.data_151 or data_151_folder()
    measure(args.loader_152, data_151, PhonemeTokenizer(args.tokenizer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
