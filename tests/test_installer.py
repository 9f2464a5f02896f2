"""Fast checks of the bundle recipe (installer/) and the app's desktop assets (assets/).

The real build and the frozen smoke test take minutes and gigabytes, so they are not part of this
suite; run them with ``installer/build_linux.sh --smoke`` (see installer/README.md). What is checked
here: the spec and its config name the right entry points, excludes and dropped files; what the cpu
flavour drops is not linked by what it keeps; the .desktop file is valid; the icons exist at the
sizes their headers claim; the smoke test's own helpers work.
"""

from __future__ import annotations

import ast
import configparser
import importlib
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INSTALLER = ROOT / "installer"
ASSETS = ROOT / "assets"
sys.path.insert(0, str(INSTALLER))

import bundle_config as cfg  # noqa: E402
import smoke_test  # noqa: E402


def _pyproject_scripts() -> dict[str, str]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    project = data["project"]
    return {**project.get("scripts", {}), **project.get("gui-scripts", {})}


# -- entry points ------------------------------------------------------------------------------
def test_entry_points_match_pyproject_scripts() -> None:
    assert _pyproject_scripts() == cfg.ENTRY_POINTS
    assert set(cfg.LAUNCHERS) == set(cfg.ENTRY_POINTS) == set(cfg.CONSOLE)
    assert cfg.CONSOLE == {cfg.GUI_NAME: False, cfg.CLI_NAME: True}


@pytest.mark.parametrize("name", sorted(cfg.LAUNCHERS))
def test_launcher_calls_its_entry_point(name: str) -> None:
    """Each launcher imports exactly the module:function that pyproject names, and exits with it."""
    module, function = cfg.ENTRY_POINTS[name].split(":")
    tree = ast.parse((INSTALLER / cfg.LAUNCHERS[name]).read_text(encoding="utf-8"))
    imports = {(node.module, alias.name) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
               for alias in node.names}
    assert (module, function) in imports
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    names = {getattr(call.func, "id", getattr(call.func, "attr", None)) for call in calls}
    assert {"freeze_support", function, "exit"} <= names
    assert callable(getattr(importlib.import_module(module), function))


def test_spec_builds_both_executables_from_the_config() -> None:
    text = (INSTALLER / "valle_studio.spec").read_text(encoding="utf-8")
    tree = ast.parse(text)  # the spec is plain Python: a syntax error fails here, not in a 3-minute build
    called = {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call)
              and isinstance(node.func, ast.Name)}
    assert {"Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE"} <= called
    for needed in ("cfg.PYTHON_EXCLUDES", "cfg.filter_toc", "cfg.needed_but_dropped", "cfg.LAUNCHERS",
                   "cfg.GUI_NAME, cfg.CLI_NAME", "cfg.CPU_ONLY_RUNTIME_HOOK", '"hooks"', "contents_directory"):
        assert needed in text, f"valle_studio.spec no longer uses {needed}"
    for rel in cfg.LAUNCHERS.values():
        assert (INSTALLER / rel).is_file()
    assert (INSTALLER / "hooks" / "rthooks" / cfg.CPU_ONLY_RUNTIME_HOOK).is_file()


@pytest.mark.parametrize("hook", sorted((INSTALLER / "hooks").rglob("*.py")), ids=lambda p: p.name)
def test_hooks_compile(hook: Path) -> None:
    compile(hook.read_text(encoding="utf-8"), str(hook), "exec")


# -- excludes ----------------------------------------------------------------------------------
def _imported_top_modules() -> dict[str, set[str]]:
    """Every module the valle_studio package imports by an import statement -> the files that do."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / "valle_studio").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                found.setdefault(name, set()).add(path.name)
    return found


def test_nothing_the_app_imports_is_excluded() -> None:
    excluded = set(cfg.PYTHON_EXCLUDES)
    clashes = {name: files for name, files in _imported_top_modules().items()
               if any(name == ex or name.startswith(ex + ".") for ex in excluded)}
    assert not clashes, f"modules imported by valle_studio but excluded from the bundle: {clashes}"


def test_only_the_used_qt_modules_survive() -> None:
    used = {name.split(".")[1] for name in _imported_top_modules() if name.startswith("PySide6.")}
    assert used <= set(cfg.QT_MODULES_USED), f"the app imports Qt modules the bundle does not list: {used}"
    assert not set(cfg.QT_MODULES_USED) & set(cfg.QT_MODULES_EXCLUDED)
    for module in ("PySide6.QtWebEngineCore", "PySide6.QtQml", "PySide6.QtMultimedia", "PySide6.QtNetwork"):
        assert module in cfg.PYTHON_EXCLUDES
    assert "triton" in cfg.PYTHON_EXCLUDES


# -- dropped files -----------------------------------------------------------------------------
@pytest.mark.parametrize("dest", [
    "nvidia/cudnn/lib/libcudnn_engines_precompiled.so.9", "nvidia/cudnn/lib/libcudnn_ops.so.9",
    "nvidia/cu13/lib/libcusolver.so.12", "nvidia/cu13/lib/libcusolverMg.so.12",
    "torch/lib/libtorch_cuda_linalg.so", "nvidia/cu13/lib/libnvrtc-builtins.so.13.0",
])
def test_cpu_flavour_drops_lazy_cuda_libraries_and_cuda_keeps_them(dest: str) -> None:
    assert cfg.dropped(dest, "cpu")
    assert not cfg.dropped(dest, "cuda")


@pytest.mark.parametrize("dest", [
    "torch/lib/libtorch_cpu.so", "torch/lib/libtorch_cuda.so", "nvidia/cudnn/lib/libcudnn.so.9",
    "nvidia/cu13/lib/libcublasLt.so.13", "nvidia/cu13/lib/libcudart.so.13", "torch/bin/torch_shm_manager",
    "espeakng_loader/libespeak-ng.so", "libportaudio.so.2", "PySide6/Qt/lib/libQt6Widgets.so.6",
    "PySide6/Qt/lib/libQt6Svg.so.6", "PySide6/Qt/plugins/platforms/libqxcb.so",
    "PySide6/Qt/plugins/platforms/libqwayland.so", "PySide6/Qt/translations/qtbase_de.qm",
    "PySide6\\Qt6Widgets.dll",
])
def test_what_every_flavour_keeps(dest: str) -> None:
    assert not cfg.dropped(dest, "cpu")
    assert not cfg.dropped(dest, "cuda")


@pytest.mark.parametrize("dest", [
    "PySide6/Qt/lib/libQt6Quick.so.6", "PySide6/Qt6Qml.dll", "PySide6\\Qt6Network.dll",
    "PySide6/Qt/lib/QtQml.framework/Versions/A/QtQml", "PySide6/Qt/plugins/platforms/libqeglfs.so",
    "PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so", "torch/include/ATen/ATen.h",
    "triton/backends/nvidia/bin/ptxas", "torch/bin/protoc",
])
def test_what_no_flavour_ships(dest: str) -> None:
    assert cfg.dropped(dest, "cpu")
    assert cfg.dropped(dest, "cuda")


def test_unknown_flavour_is_an_error() -> None:
    with pytest.raises(ValueError, match="flavour 'gpu'"):
        cfg.dropped("torch/lib/libtorch.so", "gpu")


def test_filter_toc_splits_rows() -> None:
    toc = [("torch/lib/libtorch_cpu.so", "/x/a", "BINARY"), ("nvidia/cudnn/lib/libcudnn_adv.so.9", "/x/b", "BINARY")]
    kept, gone = cfg.filter_toc(toc, "cpu")
    assert kept == toc[:1] and gone == ["nvidia/cudnn/lib/libcudnn_adv.so.9"]
    assert cfg.filter_toc(toc, "cuda") == (toc, [])


def test_needed_but_dropped_names_the_link() -> None:
    imports = {"torch/lib/libtorch_cuda.so": {"libcudnn.so.9", "libc.so.6"}, "x/liba.so": {"libQt6Qml.so.6"}}
    gone = ["PySide6/Qt/lib/libQt6Qml.so.6", "nvidia/cudnn/lib/libcudnn_ops.so.9"]
    assert cfg.needed_but_dropped(imports, gone) == ["x/liba.so needs libQt6Qml.so.6"]
    assert cfg.needed_but_dropped(imports, ["nvidia/cudnn/lib/libcudnn_ops.so.9"]) == []


def _elf_needed(path: Path) -> set[str]:
    out = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True, check=True).stdout
    return {line.split("[", 1)[1].rstrip("]") for line in out.splitlines() if "(NEEDED)" in line}


def test_cpu_flavour_drops_nothing_the_installed_torch_links_against() -> None:
    """Read the NEEDED entries of this venv's torch/nvidia libraries: none may be a dropped one."""
    torch = pytest.importorskip("torch")
    if not sys.platform.startswith("linux") or shutil.which("readelf") is None:
        pytest.skip("needs Linux and readelf")
    site = Path(torch.__file__).resolve().parents[1]
    libs = [p for p in [*site.glob("torch/lib/*.so*"), *site.glob("nvidia/**/lib/*.so*")] if p.is_file()]
    dest = {p: p.relative_to(site).as_posix() for p in libs}
    gone = [d for d in dest.values() if cfg.dropped(d, "cpu")]
    imports = {d: _elf_needed(p) for p, d in dest.items() if d not in gone}
    assert cfg.needed_but_dropped(imports, gone) == []
    if torch.version.cuda:  # a CUDA build: the drop list must still find the big lazily-loaded libraries
        assert any("libcudnn_" in d for d in gone), "the cpu flavour drops no cuDNN engine: patterns out of date"


def test_version_string() -> None:
    import valle_studio

    assert cfg.version_string(valle_studio.__version__) == valle_studio.__version__
    with pytest.raises(ValueError, match="not usable"):
        cfg.version_string("1.0 beta/2")


# -- desktop entry -----------------------------------------------------------------------------
def test_desktop_file_is_valid() -> None:
    path = ASSETS / "valle-studio.desktop"
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Name"] == cfg.APP_NAME
    assert entry["Exec"].split()[0] == cfg.GUI_NAME
    assert entry["Icon"] == "valle-studio"
    assert entry["Terminal"] == "false"
    assert entry["Categories"].endswith(";") and "Audio" in entry["Categories"].split(";")
    validator = shutil.which("desktop-file-validate")
    if validator:
        result = subprocess.run([validator, str(path)], capture_output=True, text=True)
        assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


# -- icons -------------------------------------------------------------------------------------
def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_png_icons_have_their_sizes() -> None:
    sizes = (16, 24, 32, 48, 64, 128, 256, 512)
    for size in sizes:
        path = ASSETS / "icons" / f"valle-studio-{size}.png"
        assert _png_size(path) == (size, size)
        assert path.stat().st_size < 64_000, f"{path} is larger than an icon needs"


def test_ico_holds_16_to_256() -> None:
    data = (ASSETS / "valle-studio.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind) == (0, 1)
    sizes = set()
    for i in range(count):
        width, height = data[6 + 16 * i], data[7 + 16 * i]
        sizes.add((width or 256, height or 256))  # 0 means 256 in an ICONDIRENTRY
    assert {(s, s) for s in (16, 32, 48, 256)} <= sizes


def test_icns_is_well_formed() -> None:
    data = (ASSETS / "valle-studio.icns").read_bytes()
    assert data[:4] == b"icns" and struct.unpack(">I", data[4:8])[0] == len(data)
    kinds, offset = set(), 8
    while offset < len(data):
        kind, length = data[offset:offset + 4], struct.unpack(">I", data[offset + 4:offset + 8])[0]
        assert length >= 8
        kinds.add(kind.decode("ascii"))
        offset += length
    assert offset == len(data)
    assert {"ic07", "ic08", "ic09", "ic10"} <= kinds  # 128, 256, 512, 1024 px


def test_svg_source_is_square_and_parses() -> None:
    root = ET.parse(ASSETS / "valle-studio.svg").getroot()
    assert root.tag.endswith("svg") and root.get("viewBox") == "0 0 512 512"


# -- the smoke test's helpers ------------------------------------------------------------------
def test_smoke_executable_names_a_missing_build(tmp_path: Path) -> None:
    with pytest.raises(smoke_test.SmokeFailure, match="build the bundle first"):
        smoke_test.executable(tmp_path, "valle-studio")
    app = tmp_path / "VALL-E Studio.app" / "Contents" / "MacOS"
    app.mkdir(parents=True)
    exe = app / ("valle-studio-cli" + (".exe" if sys.platform == "win32" else ""))
    exe.write_bytes(b"")
    assert smoke_test.executable(tmp_path / "VALL-E Studio.app", "valle-studio-cli") == exe


def test_smoke_env_leaks_nothing_of_the_venv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", "/somewhere")
    monkeypatch.setenv("PHONEMIZER_ESPEAK_LIBRARY", "/usr/lib/libespeak-ng.so")
    monkeypatch.setenv("LD_LIBRARY_PATH", "/opt/lib")
    env = smoke_test.clean_env(tmp_path)
    assert not {"PYTHONPATH", "PHONEMIZER_ESPEAK_LIBRARY", "LD_LIBRARY_PATH"} & set(env)
    assert env["VALLE_STUDIO_HOME"] == str(tmp_path) and env["QT_QPA_PLATFORM"] == "offscreen"


def test_smoke_reads_ld_debug_output(tmp_path: Path) -> None:
    prefix = tmp_path / "ld-gui"
    (tmp_path / "ld-gui.4242").write_text(
        "      4242:\t\n      4242:\tcalling init: /opt/app/_internal/libportaudio.so.2\n"
        "      4242:\tfile=libportaudio.so.2 [0];  needed by x\n"
        "      4242:\tcalling init: /lib/x86_64-linux-gnu/libc.so.6\n")
    assert smoke_test.loaded_from(prefix, "libportaudio") == ["/opt/app/_internal/libportaudio.so.2"]
    assert smoke_test.loaded_from(prefix, "libespeak") == []
