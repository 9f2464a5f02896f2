"""Audio files, recording and playback (soundfile/sounddevice, soxr through ``core.resample``; no Qt, no torch).

``io`` reads and writes audio files, ``prompts`` reads a file as a voice prompt for the engine (a 24 kHz
:class:`~valle_studio.core.clip.Clip`, or ``.npy`` codes), ``recording``/``playback``/``devices`` talk to
the sound card, ``processing`` holds small numpy tools (levels, trimming, loudness).
"""
