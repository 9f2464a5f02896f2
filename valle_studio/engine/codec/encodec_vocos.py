"""EnCodec 24 kHz for encoding, Vocos (or EnCodec's own decoder) for decoding: the v1 models' codec.

Follows upstream's audio pipeline: audio is resampled to 24 kHz (with the project's one resampler,
:func:`valle_studio.core.resample.resample`, where upstream uses torchaudio's), encoded by causal
EnCodec at 6 kbps without normalisation or segmenting, and decoded by Vocos with ``bandwidth_id=2``
(6 kbps), falling back to the EnCodec decoder when no Vocos files are given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import torch
from encodec import EncodecModel
from vocos import Vocos

from valle_studio.core.codec_format import CODEBOOK_SIZE, HOP_LENGTH, SAMPLE_RATE
from valle_studio.core.codec_format import FRAMES_PER_SECOND as FRAME_RATE
from valle_studio.core.codec_format import LEVELS as N_LEVELS
from valle_studio.core.resample import resample, resampled_length
from valle_studio.engine.codec import builders
from valle_studio.engine.codec.base import BANDWIDTH_KBPS, MissingWeightsError, prepare_codes

Vocoder = Literal["vocos", "encodec"]


class EncodecVocosCodec:
    """The :class:`~valle_studio.engine.codec.base.Codec` of the ``ar+nar-*-llama-8`` models.

    Build it with :meth:`from_files` (real weights) or :meth:`random` (tests); the constructor takes
    already built networks. All work runs on ``device`` under ``torch.inference_mode``.
    """

    sample_rate = SAMPLE_RATE
    frame_rate = FRAME_RATE
    n_levels = N_LEVELS
    codebook_size = CODEBOOK_SIZE
    hop_length = HOP_LENGTH

    def __init__(self, encodec: EncodecModel, vocos: Vocos | None = None, *,
                 device: str | torch.device = "cpu") -> None:
        self.device = torch.device(device)
        encodec.set_target_bandwidth(BANDWIDTH_KBPS)
        self._encodec = encodec.to(self.device).eval()
        self._vocos = vocos.to(self.device).eval() if vocos is not None else None
        self._bandwidth_id = builders.bandwidth_id(vocos) if vocos is not None else -1

    @classmethod
    def from_files(cls, encodec_weights: str | Path, vocos_config: str | Path | None = None,
                   vocos_weights: str | Path | None = None, *,
                   device: str | torch.device = "cpu") -> EncodecVocosCodec:
        """Load the codec from local files; nothing is downloaded.

        Args:
            encodec_weights: ``encodec_24khz-d7cc33bc.th`` (EnCodec's published 24 kHz state dict).
            vocos_config: ``config.yaml`` of ``charactr/vocos-encodec-24khz``.
            vocos_weights: ``pytorch_model.bin`` of the same repository. Give both Vocos files or
                neither; without them, decoding uses EnCodec's decoder.

        Raises:
            MissingWeightsError: a named file does not exist (the message names it).
            CodecError: a file is unreadable or does not fit the architecture.
        """
        if (vocos_config is None) != (vocos_weights is None):
            raise ValueError("give both vocos_config and vocos_weights, or neither "
                             f"(got config={vocos_config!r}, weights={vocos_weights!r})")
        named = [(encodec_weights, "EnCodec weights file"), (vocos_config, "Vocos config file"),
                 (vocos_weights, "Vocos weights file")]
        for path, what in named:  # report a missing file before spending seconds on building
            if path is not None and not Path(path).is_file():
                raise MissingWeightsError(path, what)
        config = builders.read_vocos_config(vocos_config) if vocos_config is not None else None
        encodec = builders.build_encodec(encodec_weights)
        vocos = None
        if config is not None and vocos_weights is not None:
            vocos = builders.build_vocos(encodec, config)
            builders.load_vocos_weights(vocos, vocos_weights)
        return cls(encodec, vocos, device=device)

    @classmethod
    def random(cls, seed: int = 0, *, device: str | torch.device = "cpu",
               with_vocos: bool = True) -> EncodecVocosCodec:
        """The same architectures with seeded random weights: for tests and demos, needs no files.

        The global torch RNG is left as it was.
        """
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            encodec = builders.build_encodec(None)
            builders.randomize_codebooks(encodec)
            vocos = builders.build_vocos(encodec) if with_vocos else None
        return cls(encodec, vocos, device=device)

    @property
    def vocoder(self) -> Vocoder:
        """Which network :meth:`decode` uses by default."""
        return "vocos" if self._vocos is not None else "encodec"

    @property
    def encodec_model(self) -> EncodecModel:
        return self._encodec

    @property
    def vocos_model(self) -> Vocos | None:
        return self._vocos

    def frames_for(self, n_samples: int, sample_rate: int = SAMPLE_RATE) -> int:
        """Number of code frames :meth:`encode` returns for ``n_samples`` at ``sample_rate``."""
        return -(-resampled_length(n_samples, sample_rate, SAMPLE_RATE) // HOP_LENGTH)

    def encode(self, samples: np.ndarray | torch.Tensor, sample_rate: int) -> torch.Tensor:
        """Encode audio into codes.

        Args:
            samples: ``[S]`` mono, or ``[C, S]`` (channels first; averaged to mono), float, full scale 1.
            sample_rate: rate of ``samples`` in Hz; other rates than 24 kHz are resampled (soxr).

        Returns:
            ``codes: [T, 8] int64`` on the CPU, ``T = ceil(S_24k / 320)`` (75 frames per second).
        """
        wav = torch.as_tensor(np.asarray(samples) if not isinstance(samples, torch.Tensor) else samples)
        if not wav.is_floating_point():
            raise ValueError(f"samples must be floating point (full scale 1.0), got dtype {wav.dtype}")
        if wav.ndim == 2:
            if wav.shape[0] > 8 or wav.shape[0] > wav.shape[1]:
                raise ValueError("2-D samples must be [C, S] (channels first), got shape "
                                 f"{tuple(wav.shape)}; transpose soundfile's [S, C] or pass mono [S]")
            wav = wav.mean(dim=0)
        if wav.ndim != 1:
            raise ValueError(f"samples must be [S] mono or [C, S], got shape {tuple(wav.shape)}")
        if wav.numel() == 0:
            raise ValueError("samples is empty: nothing to encode")
        if not bool(torch.isfinite(wav).all()):
            raise ValueError("samples contain NaN or infinity")
        if int(sample_rate) <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        if int(sample_rate) != SAMPLE_RATE:
            wav = torch.from_numpy(resample(wav.to("cpu", torch.float32).numpy(), int(sample_rate), SAMPLE_RATE))
        codes = self._encode(wav.to(self.device, torch.float32))
        return codes.clone()  # cloned outside inference mode: an ordinary tensor callers may edit

    @torch.inference_mode()
    def _encode(self, wav: torch.Tensor) -> torch.Tensor:
        """``wav [S]`` float32 at 24 kHz on the codec's device -> codes ``[T, 8]`` int64 on the CPU."""
        frames = self._encodec.encode(wav[None, None])  # one frame list entry: no segmenting at 24 kHz
        codes = frames[0][0]  # [1, K, T]
        return codes[0, :N_LEVELS].transpose(0, 1).to("cpu", torch.int64)

    def decode(self, codes: torch.Tensor | np.ndarray, *, vocoder: Vocoder | None = None) -> np.ndarray:
        """Decode ``codes: [T, K] int`` (K <= 8, codes >= 1024 read as 0) into ``[T * 320] float32``.

        ``vocoder`` overrides :attr:`vocoder` for this call ("encodec" always works; "vocos" needs the
        Vocos files). Zero frames give an empty array.
        """
        chosen = vocoder or self.vocoder
        if chosen not in ("vocos", "encodec"):
            raise ValueError(f"vocoder must be 'vocos' or 'encodec', got {chosen!r}")
        if chosen == "vocos" and self._vocos is None:
            raise ValueError("this codec was built without Vocos; decode with vocoder='encodec'")
        matrix = prepare_codes(codes, N_LEVELS)
        if matrix.shape[0] == 0:
            return np.zeros(0, np.float32)
        wav = self._decode(matrix.to(self.device), chosen)
        return wav.to("cpu", torch.float32).numpy().reshape(-1).copy()

    @torch.inference_mode()
    def _decode(self, codes: torch.Tensor, vocoder: Vocoder) -> torch.Tensor:
        by_level = codes.transpose(0, 1)  # [K, T]
        if vocoder == "vocos":
            assert self._vocos is not None
            features = self._vocos.codes_to_features(by_level)  # [1, 128, T]
            bandwidth = torch.tensor([self._bandwidth_id], device=self.device)
            return self._vocos.decode(features, bandwidth_id=bandwidth)  # [1, T * 320]
        return self._encodec.decode([(by_level[None], None)])  # [1, 1, T * 320]
