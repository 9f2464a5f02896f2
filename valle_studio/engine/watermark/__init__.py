"""An imperceptible watermark in generated speech: resemble-perth's trained PerthNet (MIT).

:func:`apply_watermark` marks ``[S]`` float32 audio at any rate; :func:`detect_watermark` says how sure the
decoder is (0..1) that audio carries the mark, and :data:`DETECTION_THRESHOLD` is where "yes" starts (the
value perth's own ``round()`` uses). Both take numpy arrays, no files: reading a file is the audio/CLI
layers' work. The network runs at 32 kHz; audio is resampled there and back with our one resampler.

Long audio is processed in pieces of :data:`CHUNK_SECONDS` so memory stays bounded; the STFT of each
piece reflects at its ends, so the pieces join without a gap. The model is loaded once per process
(:mod:`.perth_model`), and a lock keeps two threads from running it at once.
"""

from __future__ import annotations

import threading

import numpy as np

from valle_studio.core.resample import resample
from valle_studio.engine.watermark.perth_model import WatermarkUnavailable, load_perth_net

DETECTION_THRESHOLD = 0.5
MODEL_RATE = 32_000
CHUNK_SECONDS = 30.0
_run_lock = threading.Lock()


def _to_model_rate(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    audio = np.asarray(samples, dtype=np.float32).reshape(-1)
    return audio.copy() if sample_rate == MODEL_RATE else resample(audio, sample_rate, MODEL_RATE)


def _pieces(length: int) -> list[tuple[int, int]]:
    step = int(CHUNK_SECONDS * MODEL_RATE)
    return [(start, min(start + step, length)) for start in range(0, length, step)]


def apply_watermark(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """``samples`` (``[S]`` float, mono) with the watermark embedded: ``[S]`` float32 at the same rate.

    Raises:
        WatermarkUnavailable: resemble-perth is not installed.
        ValueError: empty audio.
    """
    import torch

    audio = np.asarray(samples, dtype=np.float32).reshape(-1)
    if audio.size == 0:
        raise ValueError("cannot watermark empty audio")
    net = load_perth_net()
    model_audio = _to_model_rate(audio, sample_rate)
    out = np.empty_like(model_audio)
    with _run_lock, torch.inference_mode():
        for start, end in _pieces(len(model_audio)):
            piece = torch.from_numpy(model_audio[start:end])
            magnitude, phase = net.ap.signal_to_magphase(piece)
            marked, _mask = net.encoder(magnitude[None])
            signal = net.ap.magphase_to_signal(marked[0], phase).numpy()
            # The inverse STFT can come back a few samples short of the piece; pad with the original.
            n = min(len(signal), end - start)
            out[start:start + n] = signal[:n]
            out[start + n:end] = model_audio[start + n:end]
    back = out if sample_rate == MODEL_RATE else resample(out, MODEL_RATE, sample_rate)
    result = np.zeros_like(audio)
    n = min(len(back), len(audio))
    result[:n] = back[:n]
    return result


def detect_watermark(samples: np.ndarray, sample_rate: int) -> float:
    """The decoder's confidence (0..1) that ``samples`` carry the watermark; >= :data:`DETECTION_THRESHOLD`
    means yes. A long clip is judged piece by piece and the pieces' confidences averaged, weighted by length.

    Raises:
        WatermarkUnavailable: resemble-perth is not installed.
    """
    import torch

    audio = np.asarray(samples, dtype=np.float32).reshape(-1)
    if audio.size == 0:
        return 0.0
    net = load_perth_net()
    model_audio = _to_model_rate(audio, sample_rate)
    total, weight = 0.0, 0
    with _run_lock, torch.inference_mode():
        for start, end in _pieces(len(model_audio)):
            magnitude, _phase = net.ap.signal_to_magphase(torch.from_numpy(model_audio[start:end]))
            score = float(net.decoder(magnitude[None])[0].clamp(0.0, 1.0))
            if np.isfinite(score):
                total += score * (end - start)
                weight += end - start
    return total / weight if weight else 0.0


def is_watermarked(confidence: float) -> bool:
    return confidence >= DETECTION_THRESHOLD


__all__ = ["DETECTION_THRESHOLD", "WatermarkUnavailable", "apply_watermark", "detect_watermark", "is_watermarked"]
