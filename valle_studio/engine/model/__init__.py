"""The VALL-E v1 model: checkpoint loading, config, backbone, KV cache, input layout.

Public API::

    model = load_model("ar+nar-len-llama-8.sft", device="cpu", dtype=torch.float32)
    logits = model([ModelInput.ar(text, lang, prom, resp)])  # [1, 1, 1025]
"""

from __future__ import annotations

from valle_studio.engine.model import kernels
from valle_studio.engine.model.checkpoint import CheckpointError
from valle_studio.engine.model.config import ModelConfig
from valle_studio.engine.model.devices import DeviceError, resolve_device, resolve_dtype
from valle_studio.engine.model.inputs import ModelInput
from valle_studio.engine.model.kv_cache import KVCache
from valle_studio.engine.model.loader import load_model
from valle_studio.engine.model.prompt_mix import PromptMix
from valle_studio.engine.model.vall_e import Trace, VallEModel

__all__ = [
    "CheckpointError",
    "DeviceError",
    "KVCache",
    "ModelConfig",
    "ModelInput",
    "PromptMix",
    "Trace",
    "VallEModel",
    "kernels",
    "load_model",
    "resolve_device",
    "resolve_dtype",
]
