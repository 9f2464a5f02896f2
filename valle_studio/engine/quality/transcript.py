"""What the model's speech-to-text head hears in a clip, beside what was asked.

:class:`Transcript` is the answer of
:meth:`Synthesizer.transcript <valle_studio.engine.synthesizer.Synthesizer.transcript>`: the phoneme
ids heard (``<bos>``/``</eos>`` left out) and their IPA, and, when the caller says what the clip should
say, the ids and IPA of that text and the phoneme error rate between the two. Ids are compared, not
strings: several IPA symbols share one id, so the IPA of ids is only a reading aid.
"""

from __future__ import annotations

from dataclasses import dataclass

from valle_studio.engine.quality.code_checks import phoneme_error_rate


@dataclass(frozen=True)
class Transcript:
    """``ids``/``ipa``: heard; ``asked_ids``/``asked_ipa``: what the text asks for (None: not given)."""

    ids: tuple[int, ...]
    ipa: str
    asked_ids: tuple[int, ...] | None = None
    asked_ipa: str | None = None

    @property
    def error_rate(self) -> float | None:
        """Phoneme error rate of what was heard against what was asked (None without an asked text)."""
        return None if self.asked_ids is None else phoneme_error_rate(self.asked_ids, self.ids)

    def to_json(self) -> dict[str, object]:
        """``{"ids": [int, ...], "ipa": str}``: the CLI's ``transcribe --json`` answer."""
        return {"ids": list(self.ids), "ipa": self.ipa}


__all__ = ["Transcript"]
