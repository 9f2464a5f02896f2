"""Take history: persistence across instances, atomic index, pruning, damaged files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from valle_studio.engine.requests import SynthesisResult
from valle_studio.engine.settings import PRESETS, GenerationSettings
from valle_studio.studio.history import History, HistoryError


def _result(seconds: float = 0.5, seed: int = 1234, rate: int = 24_000,
            elapsed: float = 0.25) -> SynthesisResult:
    t = np.arange(int(seconds * rate), dtype=np.float32) / rate
    audio = (0.5 * np.sin(2 * np.pi * 220.0 * t)).astype(np.float32)
    codes = np.zeros((int(seconds * 75), 8), dtype=np.int64)
    return SynthesisResult(audio=audio, sample_rate=rate, codes=codes, sentences=(), seed=seed,
                           modality="nar-len", elapsed_s=elapsed)


def _add(history: History, text: str = "Hello there.", **kw) -> object:
    return history.add(_result(**kw), text=text, voice="Alice", language="en", model="tiny",
                       settings=PRESETS["stable"])


def test_take_survives_a_new_instance(tmp_path: Path) -> None:
    history = History(tmp_path / "h")
    take = _add(history, seed=99, elapsed=0.25)
    again = History(tmp_path / "h")
    assert [t.id for t in again] == [take.id]
    loaded = again.get(take.id)
    assert loaded == take
    assert loaded.text == "Hello there." and loaded.voice == "Alice"
    assert loaded.seed == 99 and loaded.settings.seed == 99  # reusable settings carry the drawn seed
    assert loaded.settings.replace(seed=None) == PRESETS["stable"]
    assert loaded.duration_s == pytest.approx(0.5)
    assert loaded.real_time_factor == pytest.approx(0.5)
    audio, rate = again.load_audio(loaded)
    assert rate == 24_000 and audio.dtype == np.float32 and audio.shape == (12_000,)
    np.testing.assert_allclose(audio, _result().audio, atol=1e-6)  # 24-bit FLAC


def test_order_remove_and_clear(tmp_path: Path) -> None:
    history = History(tmp_path)
    a, b, c = (_add(history, text=s) for s in ("a", "b", "c"))
    assert [t.text for t in history.takes()] == ["a", "b", "c"]
    history.remove(b.id)
    assert [t.id for t in History(tmp_path)] == [a.id, c.id]
    assert not history.audio_path(b).exists()
    history.clear()
    assert len(History(tmp_path)) == 0
    assert not history.audio_path(a).exists() and not history.audio_path(c).exists()
    with pytest.raises(KeyError, match="no take"):
        history.get(a.id)


def test_pruning_deletes_oldest_audio(tmp_path: Path) -> None:
    history = History(tmp_path, max_takes=2)
    first = _add(history, text="1")
    _add(history, text="2")
    _add(history, text="3")
    assert [t.text for t in History(tmp_path)] == ["2", "3"]
    assert not history.audio_path(first).exists()


def test_index_is_valid_json_without_temp_leftovers(tmp_path: Path) -> None:
    history = History(tmp_path)
    _add(history)
    data = json.loads((tmp_path / "index.json").read_text(encoding="utf-8"))
    assert data["version"] == 1 and len(data["takes"]) == 1
    assert GenerationSettings.from_dict(data["takes"][0]["settings"]).seed == 1234
    leftovers = [p.name for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_damaged_index_is_set_aside(tmp_path: Path) -> None:
    (tmp_path / "index.json").write_text("{not json", encoding="utf-8")
    history = History(tmp_path)
    assert len(history) == 0
    assert (tmp_path / "index.json.corrupt").read_text(encoding="utf-8") == "{not json"
    _add(history)
    assert len(History(tmp_path)) == 1


def test_take_with_missing_audio_is_skipped(tmp_path: Path) -> None:
    history = History(tmp_path)
    keep = _add(history, text="keep")
    lost = _add(history, text="lost")
    history.audio_path(lost).unlink()
    assert [t.id for t in History(tmp_path)] == [keep.id]


def test_empty_clip_has_no_rtf_and_codeless_result_is_refused(tmp_path: Path) -> None:
    history = History(tmp_path)
    take = _add(history, seconds=0.0)
    assert take.real_time_factor is None and take.duration_s == 0.0
    codeless = SynthesisResult(audio=None, sample_rate=24_000, codes=np.zeros((3, 8), np.int64),
                               sentences=(), seed=1, modality="ar+nar", elapsed_s=1.0)
    with pytest.raises(HistoryError, match="no audio"):
        history.add(codeless, text="x", voice="", language="en", model="m", settings=GenerationSettings())


def test_default_lives_in_user_data_dir() -> None:
    from valle_studio.paths import user_data_dir

    assert History.default().folder == user_data_dir() / "history"


def test_undoable_remove_and_restore_bring_the_take_and_its_audio_back(tmp_path: Path) -> None:
    history = History(tmp_path)
    first, second, third = (_add(history, text=t) for t in ("one", "two", "three"))
    audio = history.audio_path(second)
    removed = history.remove(second.id, undoable=True)
    assert removed == second and not audio.exists() and [t.id for t in history] == [first.id, third.id]
    assert [t.id for t in History(tmp_path / "elsewhere")] == []  # (another folder is left alone)
    assert history.restore(second) == second
    assert [t.id for t in history] == [first.id, second.id, third.id] and audio.is_file()
    assert [t.id for t in History(tmp_path)] == [first.id, second.id, third.id]  # written to the index
    np.testing.assert_allclose(history.load_audio(second)[0], History(tmp_path).load_audio(second)[0])


def test_restore_fails_clearly_once_the_trash_is_emptied(tmp_path: Path) -> None:
    history = History(tmp_path)
    take = _add(history)
    history.remove(take.id, undoable=True)
    History(tmp_path)  # the history opened again (the next start): the trash is emptied
    with pytest.raises(HistoryError, match="cannot be restored"):
        history.restore(take)
    assert list(history) == []
    history.remove(_add(history).id)  # a plain remove deletes the audio at once
    assert not any((tmp_path / "trash").iterdir()) and not any((tmp_path / "audio").iterdir())
