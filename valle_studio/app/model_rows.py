"""What the model manager lists: one :class:`ModelRow` per catalog or imported model (no widgets).

Reads the model store through its public methods only (``available``, ``installed``, ``entry``,
``missing_files``), so a test double with those methods works too.
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from valle_studio.engine.bench.recommend import cost_words
from valle_studio.engine.bench.record import BenchRecord
from valle_studio.engine.interfaces import ModelStoreProtocol
from valle_studio.engine.store.parts import WEIGHTS, ModelPart

log = logging.getLogger(__name__)

PRECISIONS = {
    "auto": "Automatic (on the CPU as measured by the benchmark, half precision on a GPU)",
    "float32": "float32 (full precision)",
    "float16": "float16 (GPU only: half the memory)",
    "bfloat16": "bfloat16 (GPU, or a CPU that has it natively: half the memory)",
    "int8": "int8 (CPU only: fastest, less exact)",
}
DEVICE_NAMES = {"auto": "Automatic (the fastest found)", "cpu": "CPU", "mps": "Apple GPU (MPS)"}


def cpu_bf16_available() -> bool:
    """Whether this CPU computes bfloat16 natively (read without torch, for the precision choices)."""
    from valle_studio.engine.bench.machine import cpu_bf16_flag

    return bool(cpu_bf16_flag())


def precision_offer(key: str, *, on_cpu: bool, bf16_native: bool, record: BenchRecord | None,
                    auto_reason: str) -> tuple[bool, str]:
    """Whether precision ``key`` can be chosen for the device, and its tooltip: what it costs here, from the
    saved benchmark ``record`` of this machine where there is one (``auto_reason``: what "auto" means now)."""
    measured = record.variant("cpu", key) if record is not None and on_cpu else None
    cost = f" Measured here: {cost_words(measured.cost)}." if measured is not None and measured.cost else ""
    if key == "auto":
        return True, (f"On this CPU now: {auto_reason}." if on_cpu else "bfloat16 or float16 on a GPU.")
    if key == "float16":
        return (not on_cpu), ("Half precision needs a GPU." if on_cpu else "")
    if key == "bfloat16":
        if on_cpu and not bf16_native:
            return False, "This CPU has no native bfloat16: it would run about 200x slower than float32."
        return True, cost.strip() or ("Run Help → Benchmark this machine to measure it here." if on_cpu else "")
    if key == "int8":
        if not on_cpu:
            return False, "int8 is for the CPU only; use float16 or bfloat16 on a GPU."
        return True, cost.strip() or "Run Help → Benchmark this machine to measure its speed and accuracy here."
    return True, ""


def installed_names(store: ModelStoreProtocol) -> list[str]:
    """Models whose checkpoint is on disk; [] when the store cannot be read."""
    try:
        return list(store.installed())
    except Exception:  # a broken models folder must not stop the window from opening
        log.exception("could not list installed models")
        return []


def device_label(device: str) -> str:
    if device.startswith("cuda"):
        return f"NVIDIA GPU (CUDA{device[4:]})"
    return DEVICE_NAMES.get(device, device)


@dataclass(frozen=True)
class ModelRow:
    """What the list shows about one model."""

    name: str
    title: str
    description: str
    size: str
    installed: bool
    missing: int  # files still to fetch (the model's own and the shared runtime files it needs)
    in_catalog: bool
    lora: bool = False  # a LoRA voice adapter, not a model: applied in the Studio tab, never the default
    parts: tuple[ModelPart, ...] = ()  # weights, tokenizer, codec, vocoder (a store without parts: none)

    @property
    def missing_parts(self) -> list[ModelPart]:
        return [part for part in self.parts if not part.present]

    @property
    def complete(self) -> bool:
        """Everything it needs to speak is on disk."""
        return self.installed and not self.missing and not self.missing_parts

    @property
    def status(self) -> str:
        lacking = [part.short for part in self.missing_parts if part.key != WEIGHTS]
        origin = "Installed" if self.in_catalog or self.lora else "Imported"
        if self.installed and lacking:
            return f"{origin}; missing: {', '.join(lacking)}"
        if self.installed and not self.missing:
            return origin
        if self.installed:
            return f"{origin}, {self.missing} more file(s) to download"
        return "Available to download"


def model_rows(store: ModelStoreProtocol) -> list[ModelRow]:
    """Catalog models and imported ones, in the store's order."""
    installed = installed_names(store)
    names = list(store.available()) + [n for n in installed if n not in store.available()]
    rows = []
    for name in names:
        entry = None
        try:
            entry = store.entry(name)
        except Exception:  # an imported model has no catalog entry
            entry = None
        try:
            missing = len(store.missing_files(name))
        except Exception:
            missing = 0
        rows.append(ModelRow(
            name=name, title=getattr(entry, "display_name", name),
            description=getattr(entry, "description", "A model file you imported."),
            size=getattr(entry, "size_text", "") if entry is not None else "",
            installed=name in installed, missing=missing, in_catalog=entry is not None,
            parts=model_parts(store, name),
        ))
    return rows + lora_rows(store)


def model_parts(store: ModelStoreProtocol, name: str) -> tuple[ModelPart, ...]:
    """The store's parts of ``name`` (engine/store/parts.py); none from a store that has no ``parts``."""
    parts = getattr(store, "parts", None)
    if parts is None:
        return ()
    try:
        return tuple(parts(name))
    except Exception:  # a broken models folder must not stop the list
        log.exception("could not list the parts of %s", name)
        return ()


def lora_rows(store: ModelStoreProtocol) -> list[ModelRow]:
    """Catalog LoRAs and imported ones (a store without LoRAs gives none)."""
    try:
        available, installed = list(store.available_loras()), list(store.installed_loras())
    except Exception:  # a test double or an older store without LoRAs
        return []
    rows = []
    for name in dict.fromkeys([*available, *installed]):
        entry = None
        try:
            entry = store.entry(name) if name in available else None
        except Exception:
            entry = None
        rows.append(ModelRow(
            name=name, title=getattr(entry, "display_name", f"LoRA: {name}"),
            description=getattr(entry, "description", "A LoRA voice adapter you imported."),
            size=getattr(entry, "size_text", "") if entry is not None else "",
            installed=name in installed, missing=0 if name in installed else 1, in_catalog=entry is not None,
            lora=True,
        ))
    return rows


def remove_question(name: str, row: ModelRow | None) -> str:
    """What Remove asks: whether the model can come back by a download (catalog) or only from the user's file."""
    if row is not None and not row.in_catalog:
        return (f"Delete {name} from this computer? It was imported from a file, so it cannot be downloaded again: "
                "keep your own copy of that file if you may want it back.")
    return f"Delete {name} from this computer? You can download it again later from this list."


def parts_html(row: ModelRow) -> str:
    """The parts the model needs, each present or not, with links to download or import a missing one."""
    lines = ["<p><b>What it needs to speak:</b></p><ul>"]
    for part in row.parts:
        mark = "✔" if part.present else "✘"
        actions = []
        if not part.present and part.fetchable and part.key != WEIGHTS:
            actions.append(f'<a href="fetch:{html.escape(part.key)}">Download</a>')
        if not part.present and part.importable:
            actions.append(f'<a href="import:{html.escape(part.key)}">Import a file…</a>')
        tail = f" — {' · '.join(actions)}" if actions else ""
        lines.append(f"<li>{mark} <b>{html.escape(part.title)}</b>: {html.escape(part.note)}{tail}</li>")
    lines.append("</ul>")
    return "".join(lines)


def load_failure_summary(store: ModelStoreProtocol, name: str, message: str) -> str:
    """One sentence for a model that did not load: the parts it lacks when that is the cause, else the cause."""
    from valle_studio.app.widgets.error_dialog import summary_of

    lacking = [_in_sentence(part) for part in model_parts(store, name) if not part.present and part.key != WEIGHTS]
    if lacking and re.search(r"not installed|is missing|missing:", message):  # the cause, not a bystander
        return (f"{name} cannot be loaded yet: it still needs its {_words(lacking)}, which the model manager "
                "can download or import.")
    return summary_of(message, f"{name} could not be loaded")


def model_tooltip(store: ModelStoreProtocol, name: str, path: object = "") -> str:
    """The status bar's model tooltip: the catalog's long name and description, and the file in use."""
    try:
        entry = store.entry(name)
        words = f"{getattr(entry, 'display_name', name)}: {getattr(entry, 'description', '')}"
    except Exception:  # an imported model: no catalog words
        words = f"{name}: a model file you imported."
    return f"{words}\n{Path(str(path))}" if path else words


def _in_sentence(part: ModelPart) -> str:
    title = part.title.split(" (")[0]
    return title[0].lower() + title[1:] if title.startswith("Phoneme") else title  # names keep their capitals


def _words(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
