"""Bring espeak-ng 1.52 output closer to the 1.51 spelling the models were trained on.

Used only when no 1.51 library is available for a language (:mod:`.espeak_setup`). Each rule was found
by running both versions over the measurement corpus (``benchmarks/espeak_agreement.py``); the
README lists what each choice reaches per language. Rules that would also change words 1.51 spells
the same way are left out: 1.52's ``ɔːɹ`` for "four, door" cannot be mapped back to ``oːɹ``, because
1.51 itself writes ``ɔːɹ`` in "or, war, north".

* German (``de``): 1.52 writes the short ``ü`` as ``ʏ`` ("Müller" ``mˈʏlɜ``), 1.51 as ``y``; the
  tokenizer has no ``ʏ`` at all, so every such word would reach the model as ``<unk>``.
* Mandarin (``zh``, raw espeak output with tone digits 1-5): 1.52 reads dictionary words as one word
  (``ni2χˈɑu2``); 1.51 writes every syllable as a word of its own, each with its stress mark
  (``nˈi2 χˈɑu2``). Syllables end at their tone digit, or after a nasal coda right behind it.
"""

from __future__ import annotations

import re

__all__ = ["NORMALISED_LANGUAGES", "normalise", "split_mandarin_syllables"]

NORMALISED_LANGUAGES = frozenset({"de", "zh"})

_VOWELS = frozenset("aeiouyəɑɛɜɪʊɔæøœɐɤɯʌ")
_STRESS = "ˈˌ"
# One syllable: up to a tone digit, plus an n/ŋ coda when a consonant (not a vowel or stress) follows.
_SYLLABLE = re.compile(r".*?[1-5](?:[nŋ](?=[^ˈˌaeiouyəɑɛɜɪʊɔæ]|$))?|.+$")


def _stressed(syllable: str) -> str:
    """``syllable`` with a primary stress before its first vowel, unless it has a stress mark."""
    if any(mark in syllable for mark in _STRESS):
        return syllable
    for i, ch in enumerate(syllable):
        if ch in _VOWELS:
            return syllable[:i] + "ˈ" + syllable[i:]
    return syllable


def split_mandarin_syllables(phonemes: str) -> str:
    """1.52's joined Mandarin words split into 1.51's stressed syllables (tone digits still as digits).

    >>> split_mandarin_syllables("ni2χˈɑu2 s.ˈi.5")
    'nˈi2 χˈɑu2 s.ˈi.5'
    """
    words = []
    for word in phonemes.split(" "):
        syllables = [s for s in _SYLLABLE.findall(word) if s]
        words.append(" ".join(_stressed(s) for s in syllables) if len(syllables) > 1 else word)
    return " ".join(words)


def normalise(phonemes: str, language: str) -> str:
    """``phonemes`` (one language's raw espeak output) with the known 1.52 spellings put back to 1.51's."""
    if language == "de":
        return phonemes.replace("ʏ", "y")
    if language == "zh":
        return split_mandarin_syllables(phonemes)
    return phonemes
