"""Benchmark this machine: measured speed per device and precision, time estimates, and the advice they give.

Torch-free (the GUI and batch use them before the engine starts):

- :mod:`.record` -- the saved results (:class:`BenchRecord`), written atomically, read back checked;
- :mod:`.estimate` -- expected durations of a line or a request, from a record or a conservative guess;
- :mod:`.recommend` -- what ``auto`` precision means on the CPU and the "Fast on this CPU" preset;
- :mod:`.choice` -- the saved record of *this* machine, as the Synthesizer applies it when loading;
- :mod:`.shape`, :mod:`.machine` -- byte and FLOP counts of a model, and which machine this is.

With torch: :mod:`.runner` (:func:`run_benchmark`) measures, with :mod:`.probes` (the timed items),
:mod:`.hardware` (the bounds), :mod:`.tune` (kernel choice), :mod:`.costs` (accuracy against float32),
:mod:`.subject` (the model measured) and :mod:`.inputs`.
"""
