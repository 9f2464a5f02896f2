"""Audio codec: mono audio <-> ``[T, 8]`` EnCodec codes (encode with EnCodec, decode with Vocos).

``Codec`` is the protocol the engine depends on; ``EncodecVocosCodec`` implements it with the
``encodec`` and ``vocos`` packages from local weight files (see :mod:`.builders`). The codec's numbers
(24 kHz, 75 frames/s, 8 x 1024 codes) are :mod:`valle_studio.core.codec_format`'s.
"""

from __future__ import annotations

from valle_studio.engine.codec.base import (
    BANDWIDTH_KBPS,
    Codec,
    CodecError,
    MissingWeightsError,
    prepare_codes,
)
from valle_studio.engine.codec.builders import (
    ENCODEC_WEIGHTS_NAME,
    VOCOS_CONFIG_NAME,
    VOCOS_WEIGHTS_NAME,
)
from valle_studio.engine.codec.encodec_vocos import EncodecVocosCodec

__all__ = [
    "BANDWIDTH_KBPS",
    "ENCODEC_WEIGHTS_NAME",
    "VOCOS_CONFIG_NAME",
    "VOCOS_WEIGHTS_NAME",
    "Codec",
    "CodecError",
    "EncodecVocosCodec",
    "MissingWeightsError",
    "prepare_codes",
]
