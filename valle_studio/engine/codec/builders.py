"""Build the EnCodec 24 kHz and Vocos (encodec-24khz) networks from local files or at random.

Nothing here downloads. The ``encodec`` and ``vocos`` packages normally fetch their weights on
construction (``EncodecModel.encodec_model_24khz()``, ``Vocos.from_pretrained()``, and even
``vocos.feature_extractors.EncodecFeatures.__init__``); this module builds the same architectures with
their download switched off and loads state dicts from paths the caller names, with
``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import torch
from encodec import EncodecModel
from vocos import Vocos

from valle_studio.engine.codec.base import BANDWIDTH_KBPS, CodecError, MissingWeightsError

ENCODEC_WEIGHTS_NAME = "encodec_24khz-d7cc33bc.th"
VOCOS_CONFIG_NAME = "config.yaml"
VOCOS_WEIGHTS_NAME = "pytorch_model.bin"

# The hyper-parameters published in charactr/vocos-encodec-24khz's config.yaml, in the same layout.
DEFAULT_VOCOS_CONFIG: dict[str, Any] = {
    "feature_extractor": {
        "class_path": "vocos.feature_extractors.EncodecFeatures",
        "init_args": {"encodec_model": "encodec_24khz", "bandwidths": [1.5, 3.0, 6.0, 12.0],
                      "train_codebooks": False},
    },
    "backbone": {
        "class_path": "vocos.models.VocosBackbone",
        "init_args": {"input_channels": 128, "dim": 384, "intermediate_dim": 1152, "num_layers": 8,
                      "adanorm_num_embeddings": 4},
    },
    "head": {
        "class_path": "vocos.heads.ISTFTHead",
        "init_args": {"dim": 384, "n_fft": 1280, "hop_length": 320, "padding": "same"},
    },
}

_ENCODEC_PREFIX = "feature_extractor.encodec."
_PATCH_LOCK = threading.Lock()


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence torch's deprecation notice for the old ``weight_norm`` that EnCodec still uses."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*weight_norm.*", category=FutureWarning)
        yield


def _load_state_dict(path: Path, what: str) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise MissingWeightsError(path, what)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle, zip and weights-only errors all mean the same to the user
        raise CodecError(f"{what} '{path}' could not be read as a PyTorch state dict: {exc}") from exc
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CodecError(f"{what} '{path}' is not a plain state dict of tensors")
    return state


def build_encodec(weights: str | Path | None = None) -> EncodecModel:
    """The causal EnCodec 24 kHz model at 6 kbps, from ``weights`` (``encodec_24khz-d7cc33bc.th``).

    ``weights=None`` leaves it randomly initialised (its codebooks are then all zero; see
    :func:`randomize_codebooks`).
    """
    path = Path(weights) if weights is not None else None
    state = _load_state_dict(path, "EnCodec weights file") if path is not None else None
    with _quiet():
        model: EncodecModel = EncodecModel.encodec_model_24khz(pretrained=False)  # declares no return type
    if state is not None:
        try:
            model.load_state_dict(state)
        except RuntimeError as exc:
            raise CodecError(f"EnCodec weights file '{path}' does not fit the 24 kHz model: {exc}") from exc
    model.set_target_bandwidth(BANDWIDTH_KBPS)
    return model.eval()


def randomize_codebooks(model: EncodecModel) -> None:
    """Give an untrained EnCodec random codebooks that still spread codes out (torch's global RNG).

    Untrained codebooks are zeros waiting for k-means, which maps every frame to code 0. Pure noise
    does little better: an untrained encoder's output is a large constant vector plus small
    variations, so one entry wins everywhere. So each level's entries are placed around the mean
    residual of a noise signal, at random directions and the residuals' typical distance; the
    nearest entry then depends on how a frame differs from the mean, and codes vary with the audio.
    """
    with torch.no_grad():
        probe = torch.randn(1, 1, model.sample_rate // 2) * 0.1  # 37 frames: enough for a mean
        residual = model.encoder(probe)[0].transpose(0, 1)  # [T, D]
        for layer in model.quantizer.vq.layers:
            book = layer.get_submodule("_codebook")  # a EuclideanCodebook; its tensors are buffers
            embed = book.get_buffer("embed")
            centre = residual.mean(dim=0)
            spread = (residual - centre).norm(dim=1).mean()
            directions = torch.randn_like(embed)
            embed.copy_(centre + directions / directions.norm(dim=1, keepdim=True) * spread)
            book.get_buffer("embed_avg").copy_(embed)
            book.get_buffer("inited").fill_(1.0)
            nearest = torch.cdist(residual, embed).argmin(dim=1)
            residual = residual - embed[nearest]


def read_vocos_config(path: str | Path) -> dict[str, Any]:
    """Parse and check a Vocos ``config.yaml``: it must describe the EnCodec-features variant."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise MissingWeightsError(path, "Vocos config file")
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CodecError(f"Vocos config '{path}' is not readable YAML: {exc}") from exc
    expected = {part: spec["class_path"] for part, spec in DEFAULT_VOCOS_CONFIG.items()}
    for part, class_path in expected.items():
        found = config.get(part, {}).get("class_path") if isinstance(config, dict) else None
        if found != class_path:
            raise CodecError(f"Vocos config '{path}': {part}.class_path is {found!r}, expected "
                             f"{class_path!r} (the charactr/vocos-encodec-24khz variant)")
    encodec_name = config["feature_extractor"].get("init_args", {}).get("encodec_model", "encodec_24khz")
    if encodec_name != "encodec_24khz":
        raise CodecError(f"Vocos config '{path}': encodec_model is {encodec_name!r}, "
                         "expected 'encodec_24khz'")
    assert isinstance(config, dict)  # the class_path checks above refused anything else
    return config


def build_vocos(encodec: EncodecModel, config: dict[str, Any] | None = None) -> Vocos:
    """A Vocos vocoder for EnCodec codes, sharing ``encodec`` as its feature extractor's codec.

    ``config`` has the ``config.yaml`` layout (default: :data:`DEFAULT_VOCOS_CONFIG`). The weights are
    random until :func:`load_vocos_weights`; the codebook table is copied from ``encodec``.
    """
    from vocos.feature_extractors import EncodecFeatures
    from vocos.heads import ISTFTHead
    from vocos.models import VocosBackbone

    config = config or DEFAULT_VOCOS_CONFIG
    features_args = dict(config["feature_extractor"].get("init_args", {}))
    # EncodecFeatures.__init__ insists on fetching pretrained EnCodec; hand it ours instead. The lock
    # keeps two builds in different threads from seeing each other's model.
    with _quiet(), _PATCH_LOCK, mock.patch.object(EncodecModel, "encodec_model_24khz",
                                        staticmethod(lambda *args, **kwargs: encodec)):
        features = EncodecFeatures(**features_args)
    backbone = VocosBackbone(**config["backbone"].get("init_args", {}))
    head = ISTFTHead(**config["head"].get("init_args", {}))
    return Vocos(feature_extractor=features, backbone=backbone, head=head).eval()


def load_vocos_weights(vocos: Vocos, weights: str | Path) -> None:
    """Load Vocos's ``pytorch_model.bin`` into ``vocos`` (its EnCodec part is not in that file)."""
    path = Path(weights)
    state = _load_state_dict(path, "Vocos weights file")
    state = {key: value for key, value in state.items() if not key.startswith(_ENCODEC_PREFIX)}
    try:
        missing, unexpected = vocos.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # shape mismatches
        raise CodecError(f"Vocos weights file '{path}' does not fit the encodec-24khz vocoder: "
                         f"{exc}") from exc
    # The codebook table is a frozen copy of EnCodec's codebooks, already filled in by build_vocos.
    missing = [key for key in missing
               if not key.startswith(_ENCODEC_PREFIX) and key != "feature_extractor.codebook_weights"]
    if missing or unexpected:
        raise CodecError(f"Vocos weights file '{path}' does not fit the encodec-24khz vocoder: "
                         f"missing {missing[:5]}, unexpected {list(unexpected)[:5]}")


def bandwidth_id(vocos: Vocos) -> int:
    """Index of 6 kbps in the vocoder's bandwidth list (2 for the published model)."""
    bandwidths = [float(b) for b in getattr(vocos.feature_extractor, "bandwidths", [])]
    if BANDWIDTH_KBPS not in bandwidths:
        raise CodecError(f"this Vocos model was not trained for {BANDWIDTH_KBPS} kbps "
                         f"(it knows {bandwidths})")
    return bandwidths.index(BANDWIDTH_KBPS)
