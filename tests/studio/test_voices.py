"""Voice library: persistence across instances, names, several clips per voice, crash leftovers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from valle_studio.paths import user_data_dir
from valle_studio.studio.voices import VoiceError, VoiceExists, VoiceLibrary, VoiceNotFound, validate_name


def clip(seconds: float, sr: int = 24000, freq: float = 200.0) -> tuple[np.ndarray, int]:
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), sr


def test_default_root_is_in_the_user_data_folder() -> None:
    assert VoiceLibrary().root == user_data_dir() / "voices"


def test_saved_voice_survives_a_restart_with_its_audio(tmp_path) -> None:
    a, b = clip(3.0), clip(1.5, sr=16000, freq=330)
    VoiceLibrary(tmp_path).save("Alice", [a, b])
    again = VoiceLibrary(tmp_path)  # a new instance reads only what is on disk
    voice = again.get("alice")  # case-insensitive lookup
    assert voice.name == "Alice"
    assert [c.sample_rate for c in voice.clips] == [24000, 16000]
    assert voice.duration_s == pytest.approx(4.5)
    prompts = voice.prompts()
    assert [c.sample_rate for c in prompts] == [24000, 16000]
    # FLAC at 24 bits: equal to the input within the quantisation step.
    np.testing.assert_allclose(prompts[0].samples, a[0], atol=2.0**-22)
    np.testing.assert_allclose(prompts[1].samples, b[0], atol=2.0**-22)
    assert all(c.path.suffix == ".flac" and c.path.parent == voice.folder for c in voice.clips)


def test_list_is_sorted_and_names_are_unique(tmp_path) -> None:
    lib = VoiceLibrary(tmp_path)
    for name in ["bob", "Alice", "carol"]:
        lib.save(name, [clip(0.5)])
    assert lib.names() == ["Alice", "bob", "carol"]
    with pytest.raises(VoiceExists, match="already exists"):
        lib.save("ALICE", [clip(0.5)])
    replaced = lib.save("alice", [clip(0.25)], replace=True)
    assert replaced.name == "alice" and len(replaced.clips) == 1
    assert lib.names() == ["alice", "bob", "carol"]
    assert len([p for p in tmp_path.iterdir() if not p.name.startswith(".")]) == 3


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "needs a name"),
        ("   ", "needs a name"),
        ("a/b", "contains /"),
        ("a\\b", "contains /"),
        ("..", "cannot be used"),
        ("tab\there", "control characters"),
        ("x" * 61, "too long"),
    ],
)
def test_bad_names_are_refused(tmp_path, name: str, message: str) -> None:
    with pytest.raises(VoiceError, match=message):
        VoiceLibrary(tmp_path).save(name, [clip(0.5)])
    assert list(tmp_path.iterdir()) == []


def test_names_keep_inner_spaces_and_unicode(tmp_path) -> None:
    assert validate_name("  Zoë  Müller  ") == "Zoë  Müller"
    lib = VoiceLibrary(tmp_path)
    lib.save("Zoë: narrator?", [clip(0.5)])  # characters Windows forbids in file names are fine here
    assert VoiceLibrary(tmp_path).names() == ["Zoë: narrator?"]


def test_add_and_remove_clips(tmp_path) -> None:
    lib = VoiceLibrary(tmp_path)
    lib.save("Dan", [clip(1.0)])
    voice = lib.add_clip("dan", *clip(2.0))
    assert [c.duration_s for c in voice.clips] == [1.0, 2.0]
    first = voice.clips[0].path
    voice = lib.remove_clip("Dan", 0)
    assert [c.duration_s for c in voice.clips] == [2.0]
    assert not first.exists()
    with pytest.raises(VoiceError, match="delete the voice instead"):
        lib.remove_clip("Dan", 0)
    with pytest.raises(VoiceError, match="no clip 5"):
        lib.remove_clip("Dan", 4)


def test_rename(tmp_path) -> None:
    lib = VoiceLibrary(tmp_path)
    lib.save("Eve", [clip(0.5)])
    lib.save("Frank", [clip(0.5)])
    folder = lib.get("Eve").folder
    assert lib.rename("Eve", "Evelyn").folder == folder
    assert VoiceLibrary(tmp_path).names() == ["Evelyn", "Frank"]
    assert lib.rename("evelyn", "EVELYN").name == "EVELYN"  # a case change is not a clash with itself
    with pytest.raises(VoiceExists):
        lib.rename("EVELYN", "frank")
    with pytest.raises(VoiceNotFound, match="no voice called 'Nobody'"):
        lib.rename("Nobody", "x")


def test_delete(tmp_path) -> None:
    lib = VoiceLibrary(tmp_path)
    lib.save("Gus", [clip(0.5)])
    lib.delete("gus")
    assert lib.names() == []
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(VoiceNotFound):
        lib.delete("gus")


def test_bad_clips_are_refused(tmp_path) -> None:
    lib = VoiceLibrary(tmp_path)
    with pytest.raises(VoiceError, match="at least one clip"):
        lib.save("H", [])
    with pytest.raises(VoiceError, match="mono"):
        lib.save("H", [(np.zeros((100, 2), np.float32), 24000)])
    with pytest.raises(VoiceError, match="NaN"):
        lib.save("H", [(np.full(100, np.nan, np.float32), 24000)])
    with pytest.raises(VoiceError, match="sample rate"):
        lib.save("H", [(np.zeros(100, np.float32), 0)])
    assert lib.names() == []


def test_damaged_and_unfinished_folders_are_skipped(tmp_path) -> None:
    lib = VoiceLibrary(tmp_path)
    lib.save("Ivy", [clip(0.5)])
    (tmp_path / "unfinished").mkdir()  # a crash before the manifest was written
    (tmp_path / "unfinished" / "clip-1.flac").write_bytes(b"")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "voice.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "escape").mkdir()
    (tmp_path / "escape" / "voice.json").write_text(json.dumps({
        "version": 1, "name": "Evil", "created": "x",
        "clips": [{"file": "../../etc/passwd", "sample_rate": 1, "duration_s": 1}]}), encoding="utf-8")
    assert lib.names() == ["Ivy"]


def test_prompt_helpers() -> None:
    from valle_studio.studio.voices import clean_up_clip, prompt_length_advice

    assert prompt_length_advice(5.0) == ""
    assert prompt_length_advice(2.9).startswith("Shorter than 3 s")
    assert prompt_length_advice(12.1).startswith("Longer than 12 s")
    with pytest.raises(VoiceError, match="silent"):
        clean_up_clip(np.zeros(24000, np.float32), 24000)
    samples, sr = clip(1.0)
    padded = np.concatenate([np.zeros(sr, np.float32), samples, np.zeros(sr, np.float32)])
    cleaned = clean_up_clip(padded, sr)
    assert len(cleaned) == pytest.approx(1.2 * sr, abs=0.02 * sr)


def test_load_clips_labels(tmp_path) -> None:
    lib = VoiceLibrary(tmp_path)
    voice = lib.save("Kim", [clip(0.5), clip(0.25)])
    loaded = voice.load_clips()
    assert [c.label for c in loaded] == ["Kim 1", "Kim 2"]
    assert [c.duration for c in loaded] == [0.5, 0.25]


def test_replacing_a_voice_keeps_its_lexicon(tmp_path: Path) -> None:
    from valle_studio.studio.voices import LEXICON_FILE, VoiceLibrary

    library = VoiceLibrary(tmp_path)
    clip = (np.sin(np.linspace(0, 600, 48_000)).astype(np.float32) * 0.3, 24_000)
    first = library.save("Alice", [clip])
    (first.folder / LEXICON_FILE).write_text("Alice\t/ˈælɪs/\n", encoding="utf-8")
    second = library.save("Alice", [clip, clip], replace=True)
    assert second.folder != first.folder and not first.folder.exists()
    assert (second.folder / LEXICON_FILE).read_text(encoding="utf-8") == "Alice\t/ˈælɪs/\n"
