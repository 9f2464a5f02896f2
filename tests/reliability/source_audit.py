"""Read the package's source (AST, nothing imported) for two rules of the reliability issue.

1. Every file the app writes goes through :func:`valle_studio.core.atomic.atomic_write`. A *write
   site* is a call of a file-writing API (see :data:`WRITE_APIS`, plus ``open``/``os.open`` with a
   writing mode). It is fine when it is in ``core/atomic.py`` itself, when it writes into an in-memory
   buffer (a name bound to ``io.BytesIO()``/``io.StringIO()``), or when it is inside a writer handed to
   ``atomic_write`` (a ``def``/``lambda`` passed as its second argument) and writes to that writer's
   own parameter, the temporary file. Anything else must be on an explicit allow-list with a reason.
2. Model files are loaded only through safetensors or ``torch.load(weights_only=True)``; nothing is
   unpickled, ``eval``'d or ``exec``'d (see :func:`unsafe_loads`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: Dotted call names that write files (the receiver's name as written in the source).
WRITE_APIS = {
    "np.save", "np.savez", "np.savez_compressed", "np.savetxt", "numpy.save", "sf.write", "soundfile.write",
    "json.dump", "pickle.dump", "torch.save", "save_file", "yaml.dump", "shutil.copy", "shutil.copy2",
    "shutil.copyfile", "shutil.copytree", "shutil.move", "os.replace", "os.rename", "tempfile.mkstemp",
    "tempfile.NamedTemporaryFile", "NamedTemporaryFile", "mkstemp", "RotatingFileHandler",
    "logging.FileHandler", "logging.handlers.RotatingFileHandler", "QSettings", "QFile", "QSaveFile",
}
#: Method names that write whatever object they are called on (``Path.write_text`` ...). Renames carry
#: no content (a renamed file is whole or absent), so they are not write sites.
WRITE_METHODS = {"write_text", "write_bytes"}
_WRITE_FLAGS = {"O_WRONLY", "O_RDWR", "O_CREAT", "O_APPEND", "O_TRUNC"}


@dataclass(frozen=True)
class Site:
    """One write (or load) site: file relative to the repository, enclosing function, API, line."""

    path: str
    function: str
    api: str
    line: int

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.path, self.function, self.api)

    def __str__(self) -> str:
        return f"{self.path}:{self.line} {self.function}(): {self.api}"


def dotted(node: ast.AST) -> str:
    """``np.save`` for ``np.save(...)``'s func; "" when it is not a plain dotted name."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else ""
    return ""


def _strings(node: ast.AST | None) -> list[str]:
    """Every string constant a mode expression can evaluate to (both branches of ``a if c else b``)."""
    if node is None:
        return []
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    return ["?"]  # unknown at a glance: treated as writing


def _mode(call: ast.Call, position: int) -> ast.AST | None:
    for keyword in call.keywords:
        if keyword.arg == "mode":
            return keyword.value
    return call.args[position] if len(call.args) > position else None


def write_api(call: ast.Call) -> str | None:
    """The writing API this call uses, or None when it only reads (or is no file API at all)."""
    name = dotted(call.func)
    last = name.rsplit(".", 1)[-1]
    if name in ("open", "io.open", "os.fdopen"):
        modes = _strings(_mode(call, 1)) or ["r"]
        return "open" if any(set(m) & set("wax+?") for m in modes) else None
    if isinstance(call.func, ast.Attribute) and last == "open" and name != "os.open":
        # Path.open(mode): only a literal mode tells it from the many other .open() methods
        # (BatchProject.open(folder), safe_open(...)); a literal writing mode is a write site.
        modes = [m for m in _strings(_mode(call, 0)) if m != "?"]
        return "open" if any(set(m) & set("wax+") for m in modes) else None
    if name == "os.open":
        flags = call.args[1] if len(call.args) > 1 else ast.Constant(0)
        named = {n.attr for n in ast.walk(flags) if isinstance(n, ast.Attribute)}
        return "os.open" if named & _WRITE_FLAGS else None
    if name in WRITE_APIS or last in ("mkstemp", "NamedTemporaryFile"):
        return name
    if isinstance(call.func, ast.Attribute) and call.func.attr in WRITE_METHODS:
        return f".{call.func.attr}"
    return None


def _target(call: ast.Call) -> ast.AST | None:
    return call.args[0] if call.args else None


def _names_of(node: ast.AST | None) -> set[str]:
    """``temp`` for ``temp`` and ``str(temp)``; empty otherwise."""
    if isinstance(node, ast.Name):
        return {node.id}
    if isinstance(node, ast.Call) and dotted(node.func) == "str" and len(node.args) == 1:
        return _names_of(node.args[0])
    return set()


class _Scanner(ast.NodeVisitor):
    def __init__(self, path: str, tree: ast.Module) -> None:
        self.path = path
        self.stack: list[ast.AST] = []
        self.sites: list[tuple[Site, bool]] = []  # (site, sanctioned)
        self.writers: set[int] = set()  # ids of defs/lambdas handed to atomic_write
        writer_names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and dotted(node.func).endswith("atomic_write") and len(node.args) > 1:
                handed = node.args[1]
                if isinstance(handed, ast.Lambda):
                    self.writers.add(id(handed))
                elif isinstance(handed, ast.Name):
                    writer_names.add(handed.id)
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in writer_names:
                self.writers.add(id(node))

    def _function(self) -> str:
        names = [n.name for n in self.stack if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
        return ".".join(names) or "<module>"

    def _buffers(self) -> set[str]:
        scope = next((n for n in reversed(self.stack) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))),
                     None)
        found: set[str] = set()
        for node in ast.walk(scope) if scope is not None else ():
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                    and dotted(node.value.func).rsplit(".", 1)[-1] in ("BytesIO", "StringIO")):
                found |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        return found

    def _inside_writer(self, call: ast.Call) -> bool:
        for node in reversed(self.stack):
            if id(node) in self.writers:
                params = {a.arg for a in node.args.args}  # type: ignore[attr-defined]
                return bool(_names_of(_target(call)) & params)
        return False

    def generic_visit(self, node: ast.AST) -> None:
        self.stack.append(node)
        super().generic_visit(node)
        self.stack.pop()

    def visit_Call(self, node: ast.Call) -> None:
        api = write_api(node)
        if api is not None:
            site = Site(self.path, self._function(), api, node.lineno)
            in_memory = bool(_names_of(_target(node)) & self._buffers())
            self.sites.append((site, in_memory or self._inside_writer(node)))
        self.generic_visit(node)


def write_sites(source: str, path: str = "<source>") -> list[tuple[Site, bool]]:
    """Every write site of ``source`` and whether it is sanctioned (atomic writer, in-memory buffer)."""
    tree = ast.parse(source)
    scanner = _Scanner(path, tree)
    scanner.visit(tree)
    return scanner.sites


def package_files(root: Path) -> Iterator[tuple[str, str]]:
    """``(path relative to the repository, source)`` of every module of the package."""
    for file in sorted((root / "valle_studio").rglob("*.py")):
        yield file.relative_to(root).as_posix(), file.read_text(encoding="utf-8")


def unsafe_loads(source: str, path: str = "<source>") -> list[Site]:
    """Calls that could run code from a file: pickle/dill/joblib loads, ``torch.load`` without
    ``weights_only=True``, ``np.load(allow_pickle=True)``, ``yaml.load``, and ``eval``/``exec``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = dotted(node.func)
        keywords = {k.arg: k.value for k in node.keywords}
        literal = {k: v.value for k, v in keywords.items() if isinstance(v, ast.Constant)}.get
        bad = (name in ("pickle.load", "pickle.loads", "dill.load", "dill.loads", "joblib.load", "yaml.load",
                        "eval", "exec", "marshal.loads", "shelve.open")
               or (name == "torch.load" and literal("weights_only") is not True)
               or (name in ("np.load", "numpy.load") and "allow_pickle" in keywords
                   and literal("allow_pickle") is not False))  # the default refuses pickles
        if bad:
            found.append(Site(path, "", name, node.lineno))
    return found
