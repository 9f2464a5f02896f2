"""The sizes of a model that its speed depends on, and the bytes and FLOPs each pass costs (no torch).

The benchmark compares every measured pass with a hardware bound computed from these counts, and the
estimator turns measured rates back into times for other lengths with them. They are counted from
the configuration (the same products the model runs), not estimated.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from valle_studio.core.codec_format import CODEBOOK_SIZE

#: Bytes per weight of the backbone matrices in each precision (int8 keeps one float32 scale per row,
#: which is negligible). Embeddings, norms and heads stay in the model's float dtype.
WEIGHT_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2, "int8": 1}
#: Bytes per element of activations and the KV cache (an int8 model computes them in float32).
ACTIVATION_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2, "int8": 4}


@dataclass(frozen=True)
class ModelShape:
    """Sizes of a v1 model's backbone: ``dim``, attention ``heads`` / ``kv_heads``, ``layers``, ``ffn_dim``."""

    dim: int
    heads: int
    kv_heads: int
    layers: int
    ffn_dim: int

    @property
    def head_dim(self) -> int:
        return self.dim // self.heads

    @property
    def linear_params(self) -> int:
        """Weights of the backbone's linear layers (what every token is multiplied with)."""
        hd = self.head_dim
        attention = self.dim * self.heads * hd * 2 + self.dim * self.kv_heads * hd * 2
        return self.layers * (attention + 3 * self.dim * self.ffn_dim)

    @classmethod
    def of(cls, config: Any) -> ModelShape:
        """The shape of a :class:`~valle_studio.engine.model.ModelConfig` (or anything with its fields)."""
        return cls(int(config.dim), int(config.heads), int(config.kv_heads), int(config.layers),
                   int(config.ffn_dim))

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelShape:
        values = {name: data[name] for name in ("dim", "heads", "kv_heads", "layers", "ffn_dim")}
        if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values.values()):
            raise ValueError(f"model sizes must be positive whole numbers, got {values}")
        if values["dim"] % values["heads"]:
            raise ValueError(f"dim {values['dim']} is not a multiple of heads {values['heads']}")
        return cls(**values)


#: The published v1 models (``ar+nar-llama-8``, ``ar+nar-len-llama-8``): 238 M parameters.
V1_SHAPE = ModelShape(dim=1024, heads=16, kv_heads=16, layers=12, ffn_dim=4096)


def ar_step_bytes(shape: ModelShape, precision: str, *, context: int, batch: int = 1,
                  classes: int = CODEBOOK_SIZE + 1) -> int:
    """Bytes one AR decode step must read: every backbone weight, the norms, the AR head, and the cached
    keys/values of ``context`` positions of each of ``batch`` rows."""
    w, a = WEIGHT_BYTES[precision], ACTIVATION_BYTES[precision]
    small = (2 * shape.layers + 1) * shape.dim + classes * (shape.dim + 1)  # norms and the head
    kv = 2 * shape.layers * batch * context * shape.kv_heads * shape.head_dim
    return w * shape.linear_params + a * (small + kv)


def ar_step_flops(shape: ModelShape, *, context: int, classes: int = CODEBOOK_SIZE + 1) -> int:
    """FLOPs of one AR decode step (one row): linear layers, attention over ``context`` keys, head."""
    attention = shape.layers * 2 * 2 * context * shape.heads * shape.head_dim
    return 2 * shape.linear_params + attention + 2 * shape.dim * classes


def pass_flops(shape: ModelShape, tokens: int, *, head_rows: int, classes: int = CODEBOOK_SIZE) -> int:
    """Useful FLOPs of one bidirectional (or prefill) pass over ``tokens`` positions, no padding: the
    linear layers, attention scores and weighted sums, and the head on ``head_rows`` rows."""
    attention = shape.layers * 2 * 2 * tokens * tokens * shape.heads * shape.head_dim
    return 2 * tokens * shape.linear_params + attention + 2 * head_rows * shape.dim * classes


__all__ = ["ACTIVATION_BYTES", "V1_SHAPE", "WEIGHT_BYTES", "ModelShape", "ar_step_bytes", "ar_step_flops",
           "pass_flops"]
