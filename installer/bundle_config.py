"""What goes into the frozen VALL-E Studio bundle: entry points, excluded modules, dropped libraries.

``valle_studio.spec`` reads everything from here, and ``tests/test_installer.py`` checks it, so the
two cannot drift apart. Only the standard library is used: PyInstaller imports this file while it
runs the spec, and the normal test suite imports it without PyInstaller.

Two flavours of bundle:

- ``cpu`` (the default): runs everywhere, on the CPU (and on Apple's GPU through MPS on macOS). On
  Windows and macOS the torch wheel from PyPI already is CPU-only. On Linux PyPI's torch is a CUDA
  build whose core libraries *link* against CUDA, so those must ship even for CPU use; only the
  CUDA libraries that torch loads lazily (cuDNN's engines, cuSOLVER, NVRTC's builtins, profiler
  and nvshmem plugins) can be left out. See ``installer/README.md`` for the sizes.
- ``cuda``: for NVIDIA GPU users on Linux/Windows: every CUDA library torch may load is kept.
"""

from __future__ import annotations

import fnmatch
import re

APP_NAME = "VALL-E Studio"
APP_VERSION_MODULE = "valle_studio"  # its __version__ names the bundle
BUNDLE_IDENTIFIER = "io.github.valle-studio"  # macOS CFBundleIdentifier

GUI_NAME = "valle-studio"
CLI_NAME = "valle-studio-cli"

#: Executable name -> the console/gui script it freezes (the same targets as pyproject's scripts).
ENTRY_POINTS: dict[str, str] = {
    GUI_NAME: "valle_studio.app.main:main",
    CLI_NAME: "valle_studio.cli:main",
}

#: Executable name -> launcher script, relative to ``installer/``.
LAUNCHERS: dict[str, str] = {
    GUI_NAME: "launchers/valle_studio_gui.py",
    CLI_NAME: "launchers/valle_studio_cli.py",
}

#: Executable name -> whether it gets a console (Windows/macOS). The GUI must not open a terminal.
CONSOLE: dict[str, bool] = {GUI_NAME: False, CLI_NAME: True}

FLAVOURS = ("cpu", "cuda")
DEFAULT_FLAVOUR = "cpu"

#: Runtime hook (in hooks/rthooks/) that the cpu flavour runs first: it hides NVIDIA GPUs from torch.
CPU_ONLY_RUNTIME_HOOK = "pyi_rth_valle_cpu_only.py"

#: The PySide6 modules the app imports; every other Qt binding module is excluded.
QT_MODULES_USED = ("QtCore", "QtGui", "QtWidgets")

QT_MODULES_EXCLUDED = (
    "Qt3DAnimation", "Qt3DCore", "Qt3DExtras", "Qt3DInput", "Qt3DLogic", "Qt3DRender",
    "QtAxContainer", "QtBluetooth", "QtCharts", "QtConcurrent", "QtDataVisualization", "QtDBus",
    "QtDesigner", "QtGraphs", "QtGraphsWidgets", "QtHelp", "QtHttpServer", "QtLocation", "QtMultimedia",
    "QtMultimediaWidgets", "QtNetwork", "QtNetworkAuth", "QtNfc", "QtOpenGL", "QtOpenGLWidgets", "QtPdf",
    "QtPdfWidgets", "QtPositioning", "QtPrintSupport", "QtQml", "QtQuick", "QtQuick3D", "QtQuickControls2",
    "QtQuickTest", "QtQuickWidgets", "QtRemoteObjects", "QtScxml", "QtSensors", "QtSerialBus",
    "QtSerialPort", "QtSpatialAudio", "QtSql", "QtStateMachine", "QtSvg", "QtSvgWidgets", "QtTest",
    "QtTextToSpeech", "QtUiTools", "QtWebChannel", "QtWebEngineCore", "QtWebEngineQuick",
    "QtWebEngineWidgets", "QtWebSockets", "QtWebView", "QtXml",
)

#: Modules that hooks or optional imports would drag in but the app never runs.
PYTHON_EXCLUDES = (
    # torch.compile's GPU code generator (~0.9 GB with its own CUDA toolchain); the engine never compiles.
    "triton",
    # torch extras for training/profiling/export tooling.
    "torch.utils.tensorboard", "torch.utils.benchmark", "torch.utils.bottleneck", "tensorboard",
    # Training-only dependencies of vocos/encodec extras, notebooks, GUIs we do not use, test tools.
    "matplotlib", "pytorch_lightning", "lightning", "transformers", "torchvision", "pandas", "sklearn",
    "IPython", "jupyter_client", "ipykernel", "notebook", "tkinter", "_tkinter", "PIL",
    "pytest", "_pytest", "hypothesis", "pytestqt", "importlinter", "grimp", "ruff",
    "setuptools", "pkg_resources", "distutils", "pip", "wheel",
    "PyInstaller", "_pyinstaller_hooks_contrib",
    "shiboken6_generator",
    *(f"PySide6.{name}" for name in QT_MODULES_EXCLUDED),
)

#: Distributions whose metadata is read at run time through importlib.metadata.
COPY_METADATA = (
    "torch", "torchaudio", "numpy", "tqdm", "filelock", "packaging", "huggingface_hub", "tokenizers",
    "safetensors", "phonemizer", "pyyaml",
)

#: Qt libraries that only plugins we drop would load (the virtual keyboard needs QML and Quick, the PDF
#: image plugin needs QtPdf, embedded EGLFS needs its device integration). Matched on the Linux and
#: Windows names (``Qt6Qml``) and the macOS framework names (``QtQml.framework``).
QT_LIBS_DROPPED = ("VirtualKeyboard", "Qml", "Quick", "Pdf", "Network", "EglFS", "EglFs")

#: Qt files inside the collected PySide6 tree that the app does not need (glob, on the destination).
QT_DROP = (
    *(f"PySide6/*Qt6{name}*" for name in QT_LIBS_DROPPED),
    *(f"PySide6/Qt/lib/Qt{name}*" for name in QT_LIBS_DROPPED),
    "PySide6/Qt/plugins/imageformats/*qpdf*",
    "PySide6/Qt/plugins/platforminputcontexts/*virtualkeyboard*",
    "PySide6/Qt/plugins/platforms/*qvnc*",
    "PySide6/Qt/plugins/platforms/*qlinuxfb*",
    "PySide6/Qt/plugins/platforms/*qeglfs*",
    "PySide6/Qt/plugins/platforms/*qminimalegl*",
    "PySide6/Qt/plugins/platforms/*qvkkhrdisplay*",
    "PySide6/Qt/plugins/egldeviceintegrations/*",
    "PySide6/Qt/plugins/generic/*",
    "PySide6/Qt/plugins/tls/*",
    "PySide6/Qt/plugins/networkinformation/*",
    "PySide6/Qt/plugins/sqldrivers/*",
    "PySide6/Qt/plugins/multimedia/*",
    "PySide6/Qt/plugins/qmltooling/*",
    "PySide6/Qt/qml/*",
    "PySide6/Qt/resources/qtwebengine*",
    "PySide6/Qt/libexec/QtWebEngineProcess*",
    # Translations of Qt's own dialogs are kept (qtbase_*); those of modules we exclude are not.
    *(f"PySide6/Qt/translations/{name}*" for name in (
        "qtwebengine", "qtmultimedia", "qtdeclarative", "qtconnectivity", "qtlocation", "qtserialport",
        "qtwebsockets", "qtvirtualkeyboard", "qt_help", "designer", "linguist", "assistant")),
)

#: CUDA libraries that PyPI's Linux torch loads only on demand (dlopen), never at import or on the CPU.
#: The cpu flavour leaves them out; libraries that libtorch links against directly must stay.
CUDA_LAZY_LIBS = (
    "*/cudnn/lib/libcudnn_*",          # cuDNN's engines/ops/graph; libcudnn.so.9 (the loader) is linked and kept
    "*/libcusolver*",                  # only torch.linalg on CUDA, through libtorch_cuda_linalg
    "torch/lib/libtorch_cuda_linalg*",
    "*/libnvrtc-builtins*",            # runtime compilation (jiterator) on a GPU
    "*/libnvrtc.alt*",
    "*/libnvperf_*",                   # CUPTI's profiler back ends
    "*/libpcsamplingutil*",
    "*/libcheckpoint*",
    "*/nvshmem/lib/nvshmem_*",         # nvshmem transport/bootstrap plugins; libnvshmem_host is linked
    "*/libnvblas*",
    "*/libcufftw*",
    "*/libnvToolsExt*",
    "torch/lib/libcaffe2_nvrtc*",
)

#: Files never worth shipping, whatever the flavour.
ALWAYS_DROP = (
    "torch/bin/protoc*",  # protobuf's compiler; torch/bin/torch_shm_manager must stay (torch checks for it)
    "torch/include/*",
    "torch/share/cmake/*",
    "*/triton/*",
    "triton/*",
)


def _norm(dest: str) -> str:
    return dest.replace("\\", "/")


def _matches(dest: str, patterns: tuple[str, ...]) -> bool:
    path = _norm(dest)
    return any(fnmatch.fnmatchcase(path, pattern) for pattern in patterns)


def dropped(dest: str, flavour: str) -> bool:
    """Whether a collected file (its destination path inside the bundle) is left out of ``flavour``."""
    if flavour not in FLAVOURS:
        raise ValueError(f"bundle flavour {flavour!r} is not one of {', '.join(FLAVOURS)}")
    if _matches(dest, ALWAYS_DROP) or _matches(dest, QT_DROP):
        return True
    return flavour == "cpu" and _matches(dest, CUDA_LAZY_LIBS)


def filter_toc(toc: list[tuple[str, str, str]], flavour: str) -> tuple[list[tuple[str, str, str]], list[str]]:
    """Split a PyInstaller TOC (``(dest, src, typecode)`` rows) into what is kept and the dropped names."""
    kept, gone = [], []
    for entry in toc:
        (gone if dropped(entry[0], flavour) else kept).append(entry)
    return kept, [entry[0] for entry in gone]


def needed_but_dropped(imports: dict[str, set[str]], gone: list[str]) -> list[str]:
    """Kept binaries that link against a dropped one: ``["kept/dest needs libfoo.so", ...]``.

    ``imports`` maps each kept binary's destination to the names it links against (as PyInstaller's
    ``bindepend.get_imports`` reports them: base names on Linux/Windows, install names on macOS).
    """
    gone_names = {_norm(name).rsplit("/", 1)[-1] for name in gone}
    problems = []
    for dest, names in sorted(imports.items()):
        for name in sorted(names):
            if _norm(name).rsplit("/", 1)[-1] in gone_names:
                problems.append(f"{_norm(dest)} needs {name}")
    return problems


_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def version_string(version: str) -> str:
    """A version fit for file names and Windows version resources (``0.1.0`` -> ``0.1.0``).

    Raises ValueError for anything but dotted alphanumerics, so a stray character in
    ``valle_studio.__version__`` is caught before PyInstaller writes it into resources.
    """
    if not _SAFE_NAME.match(version):
        raise ValueError(f"valle_studio.__version__ {version!r} is not usable in a bundle name")
    return version
