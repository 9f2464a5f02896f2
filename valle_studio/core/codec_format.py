"""The numbers of the codec VALL-E's v1 models speak, written once for every layer.

EnCodec 24 kHz at 6 kbps: 8 residual codebooks of 1024 entries, 75 frames per second, one frame per
320 samples. The models' level-0 vocabulary has one token more, 1024, which is the AR's stop token
and NAR-len's mask token (the same id plays both parts; it never reaches the codec).
"""

from __future__ import annotations

SAMPLE_RATE = 24_000  # Hz, of the audio the codec encodes and decodes
FRAMES_PER_SECOND = 75  # code frames per second of audio
HOP_LENGTH = SAMPLE_RATE // FRAMES_PER_SECOND  # 320 samples per frame
LEVELS = 8  # residual codebooks per frame (6 kbps)
CODEBOOK_SIZE = 1024  # entries per codebook: codes are 0..1023
STOP_TOKEN = CODEBOOK_SIZE  # level 0 of the AR: "the utterance ends here"
MASK_TOKEN = CODEBOOK_SIZE  # level 0 of NAR-len: "not demasked yet"

__all__ = ["CODEBOOK_SIZE", "FRAMES_PER_SECOND", "HOP_LENGTH", "LEVELS", "MASK_TOKEN", "SAMPLE_RATE",
           "STOP_TOKEN"]
