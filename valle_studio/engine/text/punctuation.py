"""Punctuation preservation for phonemizer that keeps decimal numbers whole.

With ``preserve_punctuation=True`` phonemizer hides the punctuation marks from espeak and puts them
back afterwards. Its pattern already refuses to treat the point of ``3.14`` as a mark, but it then
cuts the line at the first occurrence of each mark's *text* rather than where the pattern matched, so
in ``"Pi is 3.14 ok."`` the final ``.`` cuts the line at the decimal point. espeak then receives
``"Pi is 3"`` and ``"14 ok"`` separately, the marks are restored as if the first part ended the
utterance, and upstream, which keeps only the first output chunk, speaks "Pi is three." and drops
the rest.

:class:`DecimalSafePunctuation` cuts at the matched positions instead, so espeak receives the decimal
number in context and reads it the way it reads it without punctuation handling ("three point one
four"). Lines without a decimal separator between digits are cut exactly as before, so every other
phonemizer output (and upstream's recorded phonemes) is unchanged.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from phonemizer.punctuation import Punctuation

if TYPE_CHECKING:
    from phonemizer.punctuation import _MarkIndex

__all__ = ["DECIMAL_SEPARATORS", "DecimalSafePunctuation", "marks_pattern"]

#: Marks that also separate the digits of a number ("3.14", "3,14").
DECIMAL_SEPARATORS = ".,"


def marks_pattern(marks: str) -> re.Pattern[str]:
    """One regular expression for a run of ``marks`` with the spaces around them.

    A decimal separator counts as a mark only when it is not squeezed between two digits.
    """
    decimal = "".join(sorted(m for m in set(marks) if m in DECIMAL_SEPARATORS))
    other = "".join(sorted(m for m in set(marks) if m not in DECIMAL_SEPARATORS))
    choices = []
    if other:
        choices.append(f"[{re.escape(other)}]")
    if decimal:
        sep = f"[{re.escape(decimal)}]"
        choices += [f"(?<![0-9]){sep}", f"{sep}(?![0-9])"]
    return re.compile(rf"(\s*(?:{'|'.join(choices)})+\s*)+")


class DecimalSafePunctuation(Punctuation):
    """phonemizer's :class:`Punctuation`, cutting lines where its pattern matched (see module docstring)."""

    def __init__(self, marks: str | None = None) -> None:
        marks = Punctuation.default_marks() if marks is None else marks
        super().__init__(marks)
        self._marks_re = marks_pattern(marks)  # the same on every phonemizer version

    def _preserve_line(self, line: str, num: int) -> tuple[list[str], list[_MarkIndex]]:
        """``(chunks, marks)`` of one line: the text between the marks, and each mark with where it sits
        in the utterance: ``B`` (begins it), ``E`` (ends it), ``I`` (inside) or ``A`` (the whole line)."""
        from phonemizer.punctuation import _MarkIndex

        found = list(self._marks_re.finditer(line))
        if not found:
            return [line], []
        if len(found) == 1 and found[0].group() == line:
            return [], [_MarkIndex(num, line, "A")]
        chunks: list[str] = []
        marks = []
        cursor = 0
        for i, match in enumerate(found):
            if i == 0 and match.start() == 0:
                position = "B"
            elif i == len(found) - 1 and match.end() == len(line):
                position = "E"
            else:
                position = "I"
            marks.append(_MarkIndex(num, match.group(), position))
            chunks.append(line[cursor:match.start()])
            cursor = match.end()
        chunks.append(line[cursor:])
        return chunks, marks
