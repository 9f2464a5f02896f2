"""``valle-studio-cli``, the headless front end: ``synth``, ``batch``, ``models``, ``transcribe`` and
``bench``.

:mod:`.dispatch` builds the parser and runs a command (its :func:`main` is the ``valle-studio-cli``
entry point, ``valle_studio.cli:main``; ``python -m valle_studio.cli`` runs the same); one module per
command (:mod:`.synth`, :mod:`.batch`, :mod:`.models`, :mod:`.transcribe`, :mod:`.bench`); :mod:`.options`
holds what they share: the sampler flags, derived from the settings' one declaration so that the CLI, the GUI and
batch generate from the same validated settings, the exit codes and ``CliError``; :mod:`.quality` the
quality-check flags of ``synth`` and ``batch``. Nothing here imports torch or Qt until a command runs.
"""

from valle_studio.cli.dispatch import EXIT_CANCELLED, EXIT_ERROR, EXIT_NO_GOOD_TAKE, EXIT_OK, EXIT_USAGE, main

__all__ = ["EXIT_CANCELLED", "EXIT_ERROR", "EXIT_NO_GOOD_TAKE", "EXIT_OK", "EXIT_USAGE", "main"]
