"""The one take record of the history and of batch projects: fields, JSON form, old history files."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from valle_studio.engine.settings import PRESETS, GenerationSettings
from valle_studio.studio.history import History
from valle_studio.studio.takes import Take, rtf_of

SR = 24_000
#: The settings exactly as a take of the first history format wrote them (``stable`` with seed 99).
OLD_SETTINGS = {
    "modality": "auto", "ar_temperature": 0.6, "nar_temperature": 0.0, "min_temperature": None, "top_k": 0,
    "top_p": 1.0, "min_p": 0.05, "top_no": 0.0, "repetition_penalty": 1.1, "repetition_penalty_decay": 0.5,
    "length_penalty": 0.0, "cfg_strength": 3.0, "cfg_rescale": 0.75, "max_steps": 50, "max_duration": 12.0,
    "duration_frames": None, "remask": False, "scores_masked_only": False, "prompt_length": 0.0,
    "split": "sentences", "context_history": 0, "gap": 0.0, "seed": 99, "no_phonemize": False,
}


def _old_history_entry(take_id: str, **changes: object) -> dict:
    """One take as the history index of format 1 stored it (written out by hand, not by the code)."""
    entry = {
        "id": take_id, "created": "2024-05-01T09:30:00+00:00", "text": "Hello there.", "voice": "Alice",
        "language": "en", "model": "tiny", "settings": OLD_SETTINGS, "seed": 99, "modality": "nar-len",
        "duration_s": 0.5, "elapsed_s": 0.25, "real_time_factor": 0.5, "sample_rate": SR,
        "audio_file": f"audio/{take_id}.flac", "extra": {"note": "kept"},
    }
    entry.update(changes)
    return entry


def _flac(path: Path, seconds: float = 0.5) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * SR)) / SR
    sf.write(path, (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), SR, format="FLAC", subtype="PCM_24")


def test_history_and_batch_share_one_record() -> None:
    from valle_studio.batch import rows
    from valle_studio.studio import history

    assert rows.Take is history.Take is Take


def test_an_old_history_index_reads_and_keeps_its_format(tmp_path: Path) -> None:
    entries = [_old_history_entry("20240501-093000-aaaaaa"),
               _old_history_entry("20240501-093100-bbbbbb", text="Empty one.", duration_s=0.0,
                                  real_time_factor=None)]
    for entry in entries:
        _flac(tmp_path / entry["audio_file"], entry["duration_s"])
    (tmp_path / "index.json").write_text(json.dumps({"version": 1, "takes": entries}), encoding="utf-8")

    history = History(tmp_path)
    first, empty = history.takes()
    assert (first.id, first.text, first.voice, first.language, first.model) == \
        ("20240501-093000-aaaaaa", "Hello there.", "Alice", "en", "tiny")
    assert first.settings == PRESETS["stable"].replace(seed=99) and first.seed == 99
    assert (first.modality, first.duration_s, first.elapsed_s, first.real_time_factor, first.sample_rate) == \
        ("nar-len", 0.5, 0.25, 0.5, SR)
    assert first.audio_file == "audio/20240501-093000-aaaaaa.flac" and first.extra == {"note": "kept"}
    assert first.created_local.year == 2024 and empty.real_time_factor is None
    assert history.load_audio(first)[0].shape == (SR // 2,)
    # The same JSON comes back out: the history index format did not change, except that the settings
    # added since format 1 was written (issue 18: samplers and the LoRA) appear with their defaults.
    added = {"dry_multiplier": 0.0, "dry_base": 1.75, "dry_allowed_length": 2, "dry_sequence_breakers": [],
             "mirostat_tau": 0.0, "mirostat_eta": 0.1, "ras_window": 0, "ras_threshold": 0.1, "beam_width": 1,
             "lora": "", "lora_strength": 1.0}
    now = [{**entry, "settings": {**OLD_SETTINGS, **added}} for entry in entries]
    assert json.loads(json.dumps([t.to_dict() for t in history.takes()])) == now
    history.remove(empty.id)
    data = json.loads((tmp_path / "index.json").read_text(encoding="utf-8"))
    assert data == {"version": 1, "takes": now[:1]}


def test_damaged_take_entries_are_skipped_with_the_rest_kept(tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    good = _old_history_entry("20240501-093000-aaaaaa")
    no_seed = {k: v for k, v in _old_history_entry("20240501-093000-cccccc").items() if k != "seed"}
    bad_settings = _old_history_entry("20240501-093000-dddddd", settings={**OLD_SETTINGS, "top_p": 7.0})
    for entry in (good, no_seed, bad_settings):
        _flac(tmp_path / entry["audio_file"])
    (tmp_path / "index.json").write_text(json.dumps({"version": 1, "takes": [good, no_seed, bad_settings, 3]}),
                                         encoding="utf-8")
    assert [t.id for t in History(tmp_path)] == [good["id"]]
    assert "lacks seed" in caplog.text and "top_p" in caplog.text


def test_the_json_form_round_trips_and_reads_the_batch_format_1_take() -> None:
    take = Take(id="t1", created="2024-05-01T09:30:00+00:00", text="Hi.", voice="Narrator", language="de",
                model="tiny", settings=GenerationSettings(max_steps=4, seed=5), seed=5, modality="ar+nar",
                duration_s=1.25, elapsed_s=0.5, real_time_factor=0.4, sample_rate=SR,
                audio_file="takes/r1-t1.flac")
    assert Take.from_dict(json.loads(json.dumps(take.to_dict()))) == take
    old_batch = {"id": "t1", "file": "takes/r1-t1.flac", "seed": 5, "duration_s": 1.25,
                 "settings": GenerationSettings(max_steps=4, seed=5).to_dict(), "text": "Hi.", "voice": "Narrator",
                 "language": "de", "model": "tiny", "created": "2024-05-01T09:30:00+00:00", "elapsed_s": 0.5}
    # what format 1 did not record: the path that ran, the sample rate (unknown); the RTF follows from the rest
    assert Take.from_dict(old_batch) == replace(take, modality="", sample_rate=0)
    assert Take.from_dict({**old_batch, "elapsed_s": 0.0}).real_time_factor is None


@pytest.mark.parametrize(("data", "words"), [
    ({"id": "t", "created": "x", "seed": 1, "duration_s": 1.0}, "take t lacks audio_file"),
    ({"id": "t", "audio_file": "a.flac", "duration_s": 1.0}, "take t lacks created, seed"),
    ({"id": "t", "created": "x", "seed": "one", "duration_s": 1.0, "audio_file": "a"}, "take t: invalid literal"),
    ({"id": "t", "created": "x", "seed": 1, "duration_s": 1.0, "audio_file": "a", "settings": {"max_steps": 0}},
     "take t: max_steps"),
    (["not", "a", "take"], "must be an object"),
])
def test_unusable_entries_are_value_errors_naming_the_take(data: object, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        Take.from_dict(data)  # type: ignore[arg-type]


def test_rtf_of_has_no_value_for_empty_or_untimed_clips() -> None:
    assert rtf_of(0.5, 2.0) == 0.25
    assert rtf_of(0.5, 0.0) is None and rtf_of(0.0, 2.0) is None
