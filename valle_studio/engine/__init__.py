"""Inference engine: checkpoints, model, text, codec, sampling, generation. torch only, no Qt."""
