"""Audio file I/O, recording and playback (sounddevice/soundfile, no Qt)."""
