"""Torch-free, Qt-free basics that every layer may import; nothing here imports the rest of valle_studio.

- :mod:`.atomic` -- the one atomic-write function (a file is wholly replaced or left as it was);
- :mod:`.codec_format` -- the numbers of the codec the models speak (24 kHz, 75 frames/s, 8 x 1024 codes);
- :mod:`.clip` -- the reference-clip record that ``audio/`` makes from files and the engine takes,
  and the checks every prompt goes through;
- :mod:`.resample` -- the one resampler (soxr), for files, recordings and the codec alike.
"""
