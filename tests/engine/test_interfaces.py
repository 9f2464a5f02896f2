"""The Protocols the app types its services with match the real classes, and stay torch-free.

A Protocol nobody checks drifts: a renamed parameter or a method that went away would only show up as
a type error somewhere else, or not at all. Each public member of a Protocol must exist on the class
it describes, with the same parameters (names, kinds, defaults).
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from typing import Any

import pytest

from valle_studio.engine import interfaces

#: Members a parallel change adds to the synthesizer (``encode_prompts``); every other one must exist.
_NOT_YET: set[str] = set()


def _members(protocol: type) -> dict[str, Any]:
    names: dict[str, Any] = {}
    for klass in reversed(protocol.__mro__):
        if klass is object or klass.__name__ in ("Protocol", "Generic"):
            continue
        names.update({k: v for k, v in vars(klass).items() if not k.startswith("_")})
        names.update({k: None for k in getattr(klass, "__annotations__", {}) if not k.startswith("_")})
    return names


def _parameters(fn: Any) -> list[tuple[str, Any, Any]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize(("protocol", "concrete"), [
    ("SynthesizerProtocol", "valle_studio.engine.synthesizer:Synthesizer"),
    ("ModelStoreProtocol", "valle_studio.engine.store:ModelStore"),
    ("DownloaderProtocol", "valle_studio.engine.store:ModelStore"),
    ("ModelFilesProtocol", "valle_studio.engine.store:ModelStore"),
    ("CatalogEntryProtocol", "valle_studio.engine.store:CatalogEntry"),
])
def test_the_real_classes_have_every_member(protocol: str, concrete: str) -> None:
    module, name = concrete.split(":")
    klass = getattr(__import__(module, fromlist=[name]), name)
    declared = _members(getattr(interfaces, protocol))
    missing = {member for member in declared if not hasattr(klass, member)
               and member not in getattr(klass, "__annotations__", {})}
    # Instance attributes set in __init__ (``info``) are not class attributes: look in __init__'s code.
    missing = {m for m in missing if f"self.{m} =" not in inspect.getsource(klass.__init__)}
    assert missing <= _NOT_YET, f"{name} lacks {sorted(missing)} of {protocol}"
    for member, declaration in declared.items():
        if callable(declaration) and hasattr(klass, member) and not isinstance(getattr(klass, member), property):
            assert _parameters(getattr(klass, member)) == _parameters(declaration), f"{name}.{member}"


def test_importing_the_interfaces_imports_no_torch() -> None:
    code = "import sys, valle_studio.engine.interfaces; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
