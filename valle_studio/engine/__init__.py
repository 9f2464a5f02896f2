"""Inference engine: checkpoints, model, text, codec, sampling, generation. torch only, no Qt.

It takes tensors and records, never files of audio or codes: prompts arrive as
:class:`~valle_studio.core.clip.Clip` records or int code arrays, read by the audio layer. The facade is
:class:`~valle_studio.engine.synthesizer.Synthesizer`.
"""
