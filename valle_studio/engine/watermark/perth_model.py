"""Loading the trained PerthNet of the ``resemble-perth`` wheel without running its package code.

Why not ``perth.PerthImplicitWatermarker``: in resemble-perth 1.0.1 importing it needs librosa (not a
declared dependency of the wheel, and heavy: numba, llvmlite) and ``pkg_resources`` (gone from current
setuptools), so ``perth.PerthImplicitWatermarker`` is None here; and its checkpoint loader calls
``torch.load`` without ``weights_only``. The house rules want weights loaded with ``weights_only=True``.

So this module uses only the wheel's model *classes* (``PerthNet``, its ``PerthConfig``) and its bundled
files (``pretrained/implicit/hparams.yaml``, ``perth_net_250000.pth.tar``). Python imports a submodule
only after running every parent package's ``__init__``; perth's two ``__init__`` files are what pull in
librosa and ``pkg_resources``, so they are registered as plain package objects pointing at the wheel's
folders (:func:`_package_without_init`) and never executed. The resampling perth does with librosa is
done by our one resampler (``valle_studio.core.resample``).
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import types
from pathlib import Path
from typing import Any

WEIGHTS_FILE = "perth_net_250000.pth.tar"
_lock = threading.Lock()
_loaded: Any = None


class WatermarkUnavailable(RuntimeError):
    """resemble-perth (its model classes or bundled weights) is not installed or not usable."""


def perth_folder() -> Path:
    """The installed ``perth`` package's folder (found without importing it)."""
    spec = importlib.util.find_spec("perth")
    if spec is None or spec.origin is None:
        raise WatermarkUnavailable("the watermark needs the resemble-perth package: pip install resemble-perth")
    return Path(spec.origin).parent


def _package_without_init(name: str, folder: Path) -> None:
    """Make ``name`` importable as a package rooted at ``folder`` without executing its ``__init__``."""
    if name in sys.modules:
        return
    module = types.ModuleType(name)
    module.__path__ = [str(folder)]
    module.__package__ = name
    module.__spec__ = importlib.util.spec_from_loader(name, loader=None, is_package=True)
    if module.__spec__ is not None:
        module.__spec__.submodule_search_locations = [str(folder)]
    sys.modules[name] = module


def load_perth_net() -> Any:
    """The PerthNet with its trained weights, on the CPU in eval mode; loaded once per process.

    Raises:
        WatermarkUnavailable: resemble-perth is missing, or its files do not load.
    """
    global _loaded
    with _lock:
        if _loaded is not None:
            return _loaded
        root = perth_folder()
        weights_dir = root / "perth_net" / "pretrained" / "implicit"
        weights = weights_dir / WEIGHTS_FILE
        if not weights.is_file():
            raise WatermarkUnavailable(f"resemble-perth is installed without its trained weights ({weights})")
        import torch
        import yaml

        _package_without_init("perth", root)
        _package_without_init("perth.perth_net", root / "perth_net")
        try:
            from perth.perth_net.perth_net_implicit.config import PerthConfig
            from perth.perth_net.perth_net_implicit.model.perth_net import PerthNet

            hparams = yaml.safe_load((weights_dir / "hparams.yaml").read_text(encoding="utf-8"))
            net = PerthNet(PerthConfig(**hparams))
            checkpoint = torch.load(weights, map_location="cpu", weights_only=True)
            net.load_state_dict(checkpoint["model"])
        except (ImportError, OSError, KeyError, TypeError, RuntimeError) as exc:
            raise WatermarkUnavailable(f"the resemble-perth watermark model could not be loaded: {exc}") from exc
        net.eval()
        _loaded = net
        return net


__all__ = ["WatermarkUnavailable", "load_perth_net", "perth_folder"]
