"""The Ray choice without a Ray instance (in the default suite): the CLI flags' checks, the message when Ray
is not installed (simulated), the Batch tab's option without Ray and its settings popup."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.app.conftest import no_dangling_qthreads, no_unexpected_message_boxes  # noqa: F401  (fixtures)
from valle_studio import cli
from valle_studio.app.widgets.cluster_option import ClusterDialog, ClusterOption
from valle_studio.cluster import availability
from valle_studio.cluster.options import ClusterOptions, ClusterOptionsError

SHOTS = Path(os.environ.get("VALLE_SHOTS_DIR", "/work/shots/ray"))


def shoot(widget, name: str) -> None:
    """A screenshot for the reviewers when the shots folder exists (never required by the test)."""
    if SHOTS.is_dir():
        widget.grab().save(str(SHOTS / name))


def argv(tmp_path: Path, *extra: str) -> list[str]:
    script = tmp_path / "s.txt"
    script.write_text("Hello there.\n", encoding="utf-8")
    return ["batch", str(script), "--out-dir", str(tmp_path / "out"), "--model", str(tmp_path / "missing.sft"),
            "--voice", "Nobody", *extra]


def test_worker_flags_need_ray(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(argv(tmp_path, "--ray-workers", "3")) == cli.EXIT_ERROR
    assert "--ray-workers need --ray" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_ray_flag_without_ray_says_how_to_add_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(availability, "ray_available", lambda: False)
    assert cli.main(argv(tmp_path, "--ray")) == cli.EXIT_ERROR
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--ray: Ray is not installed" in last and "pip install 'valle-studio[cluster]'" in last
    assert not (tmp_path / "out").exists()  # refused before anything was made


@pytest.mark.parametrize(("flag", "value", "words"), [("--ray-workers", "0", "number of Ray workers"),
                                                      ("--ray-cpus", "0", "CPUs per Ray worker"),
                                                      ("--ray-retries", "-1", "Ray retries")])
def test_bad_ray_values_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str,
                                            value: str, words: str) -> None:
    if not availability.ray_available():
        pytest.skip("needs Ray installed (the cluster extra)")
    assert cli.main(argv(tmp_path, "--ray", flag, value)) == cli.EXIT_ERROR
    assert words in capsys.readouterr().err.strip().splitlines()[-1]


def test_cluster_options() -> None:
    options = ClusterOptions(workers=3, cpus=2.5, gpus=0.5)
    assert options.threads == 2 and options.where() == "a local Ray instance"
    assert ClusterOptions(address="auto").where() == "the Ray cluster of this machine"
    assert ClusterOptions(address="10.0.0.1:6379").where() == "the Ray cluster at 10.0.0.1:6379"
    with pytest.raises(ClusterOptionsError):
        ClusterOptions(gpus=-1)


def test_the_option_without_ray_says_how_to_add_it(qtbot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(availability, "ray_available", lambda: False)
    option = ClusterOption()
    qtbot.addWidget(option)
    option.resize(420, option.sizeHint().height())
    option.show()
    assert not option.check.isEnabled() and not option.enabled
    assert "pip install 'valle-studio[cluster]'" in option.check.toolTip()
    assert option.status.text() == "Ray not installed"
    shoot(option, "cluster_option_without_ray.png")
    option.open_settings()
    dialog = option.dialog
    assert isinstance(dialog, ClusterDialog) and dialog.note.isVisible() and not dialog.workers.isEnabled()
    assert "valle-studio[cluster]" in dialog.note.text()
    shoot(dialog, "cluster_settings_without_ray.png")
    dialog.accept()
    assert option.options() == ClusterOptions()  # nothing changes without Ray


def test_the_settings_popup_sets_the_options(qtbot) -> None:
    option = ClusterOption()
    qtbot.addWidget(option)
    option.check.setChecked(True)
    option.open_settings()
    dialog = option.dialog
    assert dialog is not None and not dialog.table.isVisible()
    dialog.address.setText(" auto ")
    dialog.workers.setValue(4)
    dialog.cpus.setValue(2)
    dialog.gpus.setValue(1)
    dialog.retries.setValue(3)
    shoot(dialog, "cluster_settings_popup.png")
    dialog.accept()
    assert option.options() == ClusterOptions(address="auto", workers=4, cpus=2, gpus=1, retries=3)
    assert "the Ray cluster of this machine" in option.check.toolTip() and "4 × 2 CPU, 1 GPU" in option.status.text()


def test_the_ray_choice_is_kept_between_sessions(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from valle_studio.app import cluster_memory
    from valle_studio.app.settings import AppSettings

    monkeypatch.setattr(availability, "ray_available", lambda: True)
    path = tmp_path / "settings.ini"
    first = ClusterOption()
    qtbot.addWidget(first)
    cluster_memory.restore(first, AppSettings.from_file(path))  # nothing saved yet: the defaults
    assert first.options() == ClusterOptions() and not first.check.isChecked()
    first.set_options(ClusterOptions(address="head:6379", workers=4, cpus=2.0, gpus=1.0, retries=3))
    first.check.setChecked(True)
    second = ClusterOption()
    qtbot.addWidget(second)
    cluster_memory.restore(second, AppSettings.from_file(path))  # the next start
    assert second.options() == ClusterOptions(address="head:6379", workers=4, cpus=2.0, gpus=1.0, retries=3)
    assert second.check.isChecked()
    # A value that no longer reads is ignored: the option starts as the first time.
    settings = AppSettings.from_file(tmp_path / "bad.ini")
    settings.cluster = '{"enabled": true, "options": {"workers": 0}}'
    third = ClusterOption()
    qtbot.addWidget(third)
    cluster_memory.restore(third, settings)
    assert third.options() == ClusterOptions() and not third.check.isChecked()
