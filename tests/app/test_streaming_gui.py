"""Play while generating: chunks into the output panel and the player, through a fake output stream.

The panel-level test feeds hand-made chunks at real-time speed; the window-level tests run the tiny
random model on the real engine thread (as ``test_generation.py`` does) with the fake PortAudio stream
of ``tests.audio.fake_stream`` standing in for the sound card.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.app.test_generation import close_window, make_services, open_window
from tests.audio.fake_stream import FakeStreamFactory
from valle_studio.app.audio_bridge import PlaybackController
from valle_studio.app.services import AppServices
from valle_studio.app.settings import AppSettings
from valle_studio.app.widgets.output_panel import OutputPanel
from valle_studio.engine.settings import PRESETS

pytestmark = pytest.mark.gui

SR = 24_000
#: Two AR+NAR sentences; with this seed and the tiny tokenizer the tiny model makes 42 and 300 frames
#: (the 4 s cap): several chunks.
STREAMED = PRESETS["default"].replace(modality="ar+nar", max_duration=4.0, seed=2, gap=0.1)
TEXT = "Stream this sentence. And then this one."


def services_for(home: Path, tokenizer: Path, codec: Any, *, speed: float = 1.0, step_s: float = 0.0,
                 output_reason: str | None = None) -> AppServices:
    """``test_generation``'s services with a fake device at ``speed`` x real time; ``step_s`` slows
    every AR step of a streamed generation down (so that a test can act between two chunks)."""
    services = make_services(home, tokenizer, codec, output_reason=output_reason)
    factory = FakeStreamFactory(speed=speed, output_reason=output_reason)
    services.playback = PlaybackController(stream_factory=factory)
    services.factory = factory  # type: ignore[attr-defined]
    inner = services.loader

    def loader(spec: Any) -> Any:
        synth = inner(spec)
        original = synth.stream

        def stream(request: Any, *, options: Any = None, progress: Any = None, cancel: Any = None) -> Any:
            def hook(event: Any) -> None:
                if event.stage == "generating" and step_s:
                    time.sleep(step_s)
                if progress is not None:
                    progress(event)

            return original(request, options=options, progress=hook, cancel=cancel)

        synth.stream = stream
        return synth

    services.loader = loader
    return services


def _voiced(samples: np.ndarray) -> np.ndarray:
    """The samples that are not exact zeros: what a device got, whatever silence underruns added."""
    return samples[samples != 0]


def test_panel_appends_chunks_gaplessly_while_playing(qtbot: Any) -> None:
    factory = FakeStreamFactory(speed=1.0)
    playback = PlaybackController(stream_factory=factory)
    panel = OutputPanel(playback)
    qtbot.addWidget(panel)
    assert panel.play_while_generating.isChecked() and panel.play_while_generating.isEnabled()
    t = np.arange(int(0.6 * SR)) / SR
    take = (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    pieces = np.split(take, [4800, 6000, 8400, 9000, 12000])  # 0.2 s first, then short uneven chunks

    panel.begin_stream(pieces[0], SR, title="Generating: hi", play=True)
    assert playback.state == "playing" and panel.streaming and panel.title.text() == "Generating: hi"
    durations = [panel.waveform.duration]
    for piece in pieces[1:]:
        qtbot.wait(15)  # faster than real time, as a generation that keeps up
        panel.append_stream(piece)
        durations.append(panel.waveform.duration)
    panel.end_stream()
    assert durations == pytest.approx(np.cumsum([len(p) for p in pieces]) / SR)  # the waveform grows
    qtbot.waitUntil(lambda: playback.state == "stopped", timeout=5_000)  # ends by itself at the end

    (stream,) = factory.streams  # one stream from the first sample to the last: no reopen, no gap
    heard = stream.output()
    assert stream.starts == 1 and playback.player.underruns == 0
    np.testing.assert_array_equal(heard[: len(take)], take)
    assert not heard[len(take):].any()  # only the silence of the last block after the take
    np.testing.assert_array_equal(panel.samples, take)
    panel.set_clip(take, SR, title="Take", name="take", streamed=True)  # the finished take: keeps the player
    assert not panel.streaming and panel.title.text() == "Take" and len(factory.streams) == 1
    playback.shutdown()


def test_window_plays_the_take_while_it_is_generated(qtbot: Any, home: Path, tiny_tokenizer: Path,
                                                    codec: Any) -> None:
    services = services_for(home, tiny_tokenizer, codec, speed=1.0)
    window = open_window(qtbot, services)
    window.text_panel.set_text(TEXT)
    window.sampler_panel.set_settings(STREAMED)
    assert window.stream_bridge.wanted()
    chunks: list[Any] = []
    waveform: list[float] = []
    window.engine.job_chunk.connect(lambda _job, chunk: (chunks.append(chunk),
                                                         waveform.append(window.output_panel.waveform.duration)))
    with qtbot.waitSignal(window.take_added, timeout=60_000) as blocker:
        window.generate()
    take = blocker.args[0]
    audio, rate = services.history.load_audio(take)

    assert len(chunks) >= 3 and chunks[-1].final
    assert [c.sample_offset for c in chunks] == [0, *np.cumsum([len(c.samples) for c in chunks])[:-1]]
    assert waveform == sorted(waveform) and waveform[-1] > waveform[0]  # it grew chunk by chunk
    joined = np.concatenate([c.samples for c in chunks])
    assert rate == SR and len(joined) == len(audio) == round(take.duration_s * SR)
    np.testing.assert_allclose(audio, joined, atol=1e-4)  # the kept take is what was streamed
    panel = window.output_panel
    np.testing.assert_array_equal(panel.samples, joined)
    assert not panel.streaming and panel.title.text() == TEXT
    # Finishing did not reload the player: it is still playing the take, past its start.
    player = services.playback.player
    assert services.playback.state == "playing" and player.position > 0
    assert player.duration == pytest.approx(len(joined) / SR)
    (stream,) = services.factory.streams  # type: ignore[attr-defined]
    heard = _voiced(stream.output())
    assert len(heard) > SR // 10
    np.testing.assert_array_equal(heard, _voiced(joined)[: len(heard)])
    close_window(window)


def test_stop_mid_stream_stops_sound_and_generation(qtbot: Any, home: Path, tiny_tokenizer: Path,
                                                    codec: Any) -> None:
    services = services_for(home, tiny_tokenizer, codec, speed=1.0, step_s=0.01)
    window = open_window(qtbot, services)
    window.text_panel.set_text(TEXT)
    window.sampler_panel.set_settings(STREAMED)
    chunks: list[Any] = []
    window.engine.job_chunk.connect(lambda _job, chunk: chunks.append(chunk))
    with qtbot.waitSignal(window.engine.job_chunk, timeout=60_000):
        job = window.generate()
    assert services.playback.state == "playing" and window.output_panel.streaming
    with qtbot.waitSignal(window.engine.job_stopped, timeout=10_000) as stopped:
        window.stop_action.trigger()  # Esc
        assert services.playback.state == "stopped"  # the sound stops at once, with the generation
        assert not window.output_panel.streaming
        assert window.output_panel.title.text().startswith("Stopped")
    assert stopped.args == [job, "cancelled"]
    shown = len(chunks)
    qtbot.wait(100)
    assert len(chunks) == shown and not chunks[-1].final  # nothing more arrived; the take never ended
    assert window.history_model.rowCount() == 0 and window.generate_action.isEnabled()
    (stream,) = services.factory.streams  # type: ignore[attr-defined]
    assert stream.closed
    close_window(window)


def test_box_off_or_no_device_generates_whole_takes(qtbot: Any, home: Path, tiny_tokenizer: Path,
                                                    codec: Any) -> None:
    services = services_for(home, tiny_tokenizer, codec, speed=20.0)
    window = open_window(qtbot, services)
    window.output_panel.play_while_generating.setChecked(False)
    assert services.settings.qsettings.value(AppSettings.play_while_generating.key) in (False, "false")
    close_window(window)

    services = services_for(home, tiny_tokenizer, codec, speed=20.0)  # a restart keeps the choice
    again = open_window(qtbot, services)
    assert not again.output_panel.play_while_generating.isChecked() and not again.stream_bridge.wanted()
    again.text_panel.set_text(TEXT)
    again.sampler_panel.set_settings(STREAMED)
    chunks: list[Any] = []
    again.engine.job_chunk.connect(lambda _job, chunk: chunks.append(chunk))
    with qtbot.waitSignal(again.take_added, timeout=60_000):
        again.generate()
    assert chunks == [] and again.output_panel.samples is not None
    close_window(again)

    silent = services_for(home, tiny_tokenizer, codec, output_reason="No audio output device found")
    window = open_window(qtbot, silent)
    box = window.output_panel.play_while_generating
    assert not box.isEnabled() and not window.stream_bridge.wanted() and "no audio output" in box.toolTip()
    close_window(window)
