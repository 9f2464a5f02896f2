"""The quality guard: every take is checked, bad takes are caught and retried, best-of-N picks the best.

VALL-E models are unstable: a take can stop after a fraction of a second, loop, run to the duration
cap, mumble, come out silent, or copy the reference clip instead of speaking the text. This package
judges a take from what was asked (phoneme ids, language, reference codes) and what came out (codes,
and the decoded audio when there is a codec):

- :mod:`.thresholds` -- every limit, with the reasoning for each number (the one place to tune them);
- :mod:`.code_checks` -- intelligibility (the model's own speech-to-text head, phoneme error rate over
  token ids), duration plausibility, no stop, loops and held sounds, prompt leak;
- :mod:`.audio_checks` -- leading, trailing and inner silence, level against the reference, clipping;
- :mod:`.verdict` -- :class:`TakeQuality` (``good | suspect | bad``, a score in 0..1, reasons in plain
  words, every measure by name) and how findings combine;
- :mod:`.scorer` -- :func:`score_take`, the checks over one take (the STT pass handed in);
- :mod:`.assess` -- the same with the loaded model (what ``Synthesizer.check`` runs);
- :mod:`.options`, :mod:`.best_of` -- :class:`QualityOptions` and :func:`run_best_of`, the best-of-N
  and retry loop the CLI, the app and batch share;
- :mod:`.report` -- the verdict line of each take and the report's JSON shape;
- :mod:`.transcript` -- :class:`Transcript`, what the STT head hears in a clip beside what was asked.

Only :mod:`.assess` touches torch (when it runs); everything else imports with numpy at most.
"""

from valle_studio.engine.quality.best_of import Candidate, Candidates, derive_seed, run_best_of
from valle_studio.engine.quality.options import QualityError, QualityOptions
from valle_studio.engine.quality.report import report_of, verdict_line
from valle_studio.engine.quality.scorer import PieceInput, TakeInput, score_take
from valle_studio.engine.quality.transcript import Transcript
from valle_studio.engine.quality.verdict import BAD, GOOD, SUSPECT, Finding, TakeQuality

__all__ = ["BAD", "GOOD", "SUSPECT", "Candidate", "Candidates", "Finding", "PieceInput", "QualityError",
           "QualityOptions", "TakeInput", "TakeQuality", "Transcript", "derive_seed", "report_of",
           "run_best_of", "score_take", "verdict_line"]
