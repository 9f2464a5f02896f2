"""The models VALL-E Studio knows how to fetch, and every file each of them needs.

Facts come from ``shared/reference/ecker-vall-e.md`` §1 and §5: the published checkpoint paths on the
Hugging Face repo ``ecker/vall-e``, upstream's tokenizer files at the pinned commit ``73833ee``, and
the codec weights that upstream's codec libraries fetch (EnCodec from Meta's file server, Vocos from
``charactr/vocos-encodec-24khz``).

A catalog is a plain mapping ``name -> CatalogEntry``; :class:`~valle_studio.engine.store.ModelStore`
takes another one in tests. Entries of kind ``"model"`` are checkpoints; the others (tokenizers,
codecs) are shared runtime files that every v1 model ``requires``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from valle_studio.engine.store.errors import UnknownModelError, human_size

Origin = Literal["huggingface", "github", "encodec"]
Kind = Literal["model", "tokenizers", "codec", "lora"]

DEFAULT_MODEL = "ar+nar-len-llama-8"
TOKENIZERS = "tokenizers"
ENCODEC = "encodec-24khz"
VOCOS = "vocos-encodec-24khz"
# Every v1 checkpoint (EnCodec-coded, `proms_emb.embeddings.N`) needs these to run.
RUNTIME_DEPENDENCIES: tuple[str, ...] = (TOKENIZERS, ENCODEC, VOCOS)

TOKENIZER_FILE = "tokenizer.json"
TEXT_TOKENIZER_FILE = "text_tokenizer.json"
VOCOS_CONFIG_FILE = "config.yaml"
VOCOS_WEIGHTS_FILE = "pytorch_model.bin"

# The one name a checkpoint gets inside its model folder, whatever its published name ("fp32.sft").
MODEL_FILE_NAMES: tuple[str, ...] = ("model.sft", "model.pth")
# The one name a LoRA gets inside its folder (upstream's own name for it).
LORA_FILE_NAME = "lora.sft"
LORA_PREFIX = "lora-"  # catalog names of LoRAs; "glados" on the command line means "lora-glados"

UPSTREAM_REPO = "e-c-k-e-r/vall-e"
UPSTREAM_COMMIT = "73833ee56d163998d295b25f88bd295d27ed8768"
WEIGHTS_REPO = "ecker/vall-e"
VOCOS_REPO = "charactr/vocos-encodec-24khz"

ECKER_TERMS = ("Terms set by the author on the Hugging Face model card (huggingface.co/ecker/vall-e); "
               "read them before use.")
TOKENIZER_TERMS = ("Data files of the e-c-k-e-r/vall-e repository (AGPL-3.0), fetched at run time from "
                   "the pinned commit and never bundled with VALL-E Studio.")
ENCODEC_TERMS = "CC-BY-NC 4.0 (Meta's EnCodec weights): non-commercial use only."
VOCOS_TERMS = "MIT (charactr's Vocos weights)."
LORA_TERMS = ("Published by ecker in huggingface.co/ecker/vall-e under the terms of its model card; read them "
              "before use. These LoRAs imitate characters of commercial games: the voices and characters belong "
              "to their publishers and performers, so keep what you make with them to personal, "
              "non-commercial use unless you have their permission.")


@dataclass(frozen=True)
class RemoteFile:
    """One file to fetch.

    ``origin`` picks the base URL from :class:`~valle_studio.engine.store.endpoints.Endpoints`:
    ``huggingface`` (``repo`` is the HF repo, ``revision`` a branch or commit), ``github`` (raw file of
    ``repo`` at commit ``revision``) or ``encodec`` (a file in Meta's EnCodec folder; no repo or
    revision). ``local_name`` is the file's name in the store. ``size``/``sha256`` are checked when
    known; ``sha256_prefix`` is the short hash some publishers put in the file name (EnCodec).
    """

    origin: Origin
    repo: str
    revision: str
    path: str
    local_name: str
    size: int | None = None
    sha256: str | None = None
    sha256_prefix: str | None = None

    def __post_init__(self) -> None:
        if "/" in self.local_name or "\\" in self.local_name or self.local_name in ("", ".", ".."):
            raise ValueError(f"RemoteFile.local_name must be a bare file name, got {self.local_name!r}")
        for field, value in (("sha256", self.sha256), ("sha256_prefix", self.sha256_prefix)):
            if value is not None and any(c not in "0123456789abcdef" for c in value):
                raise ValueError(f"RemoteFile.{field} must be lower-case hex, got {value!r}")
        if self.sha256 is not None and len(self.sha256) != 64:
            raise ValueError(f"RemoteFile.sha256 must have 64 hex digits, got {len(self.sha256)}")


@dataclass(frozen=True)
class CatalogEntry:
    """A model (or shared runtime files) as the model manager shows it.

    ``approx_bytes`` is for display only (the published size, rounded); exact sizes live on the files.
    ``requires`` names the other entries this one needs at run time.
    """

    name: str
    kind: Kind
    display_name: str
    description: str
    licence: str
    files: tuple[RemoteFile, ...]
    requires: tuple[str, ...] = ()
    approx_bytes: int | None = None
    # Trained before upstream's 2025-03-18 "off by one" embedding fix: load with legacy level summing.
    legacy_summing: bool = False

    @property
    def size_text(self) -> str:
        """``"about 456.0 MB"``, or ``"size unknown"``."""
        exact = [f.size for f in self.files]
        if all(s is not None for s in exact):
            return human_size(sum(s for s in exact if s is not None))
        return f"about {human_size(self.approx_bytes)}" if self.approx_bytes else "size unknown"


Catalog = Mapping[str, CatalogEntry]


def _ecker_model(name: str, display: str, path: str, description: str, approx: int, *,
                 legacy_summing: bool = False) -> CatalogEntry:
    weights = RemoteFile("huggingface", WEIGHTS_REPO, "main", path, MODEL_FILE_NAMES[0])
    return CatalogEntry(name, "model", display, description, ECKER_TERMS, (weights,),
                        RUNTIME_DEPENDENCIES, approx, legacy_summing)


def _ecker_lora(name: str, character: str, source: str) -> CatalogEntry:
    """A published LoRA: ``loras/ckpt/lora-<name>-r128-a128/lora.sft`` (rank 128, alpha 128)."""
    weights = RemoteFile("huggingface", WEIGHTS_REPO, "main", f"loras/ckpt/lora-{name}-r128-a128/lora.sft",
                         LORA_FILE_NAME)
    description = (f"LoRA voice adapter: {character} ({source}). Rank 128, alpha 128, trained by ecker on top of "
                   "the published v1 VALL-E backbone; a model of another size refuses it. Apply it in the Studio "
                   "tab with a strength of 0 to 1.5 (1 = as trained).")
    return CatalogEntry(LORA_PREFIX + name, "lora", f"LoRA: {character}", description, LORA_TERMS, (weights,))


#: The LoRAs published in ecker/vall-e that ecker-vall-e.md §1 names (the repository holds a few more).
_LORAS: tuple[CatalogEntry, ...] = (
    _ecker_lora("glados", "GLaDOS", "Portal"),
    _ecker_lora("portal-glados", "GLaDOS, Portal set", "Portal"),
    _ecker_lora("shodan", "SHODAN", "System Shock"),
    _ecker_lora("sam", "Sam", "Sam & Max"),
    _ecker_lora("max", "Max", "Sam & Max"),
    _ecker_lora("samandmax-sam", "Sam, Sam & Max set", "Sam & Max"),
    _ecker_lora("cyberpunk-delamain", "Delamain", "Cyberpunk 2077"),
    _ecker_lora("cyberpunk-panam", "Panam", "Cyberpunk 2077"),
    _ecker_lora("cyberpunk-silverhand", "Johnny Silverhand", "Cyberpunk 2077"),
    _ecker_lora("cyberpunk-takemura", "Takemura", "Cyberpunk 2077"),
)

_ENTRIES: tuple[CatalogEntry, ...] = (
    _ecker_model(
        "ar+nar-len-llama-8", "VALL-E AR+NAR+NAR-len (default)",
        "models/ckpt/ar+nar-len-llama-8/ckpt/fp32.sft",
        "ecker's current default: autoregressive, non-autoregressive and length-predicting "
        "(NAR-len) heads on one LLaMA-style backbone, EnCodec 24 kHz codes. Post-trained in March 2025.",
        # Same backbone as ar+nar-llama-8 (456 MB on the HF tree); the len head adds little.
        456_000_000,
    ),
    _ecker_model(
        "ar+nar-llama-8", "VALL-E AR+NAR",
        "models/ckpt/ar+nar-llama-8/fp32.sft",
        "ecker's previous default (until December 2024): autoregressive level 0 plus "
        "non-autoregressive refinement, no length head. EnCodec 24 kHz codes.",
        456_000_000,
        legacy_summing=True,  # trained before the embedding fix (upstream issues #6/#7)
    ),
    CatalogEntry(
        TOKENIZERS, "tokenizers", "VALL-E tokenizers",
        "Phoneme BPE (tokenizer.json) and raw-text (text_tokenizer.json) vocabularies from upstream, "
        "pinned to commit 73833ee.",
        TOKENIZER_TERMS,
        (
            RemoteFile("github", UPSTREAM_REPO, UPSTREAM_COMMIT, "data/tokenizer.json", TOKENIZER_FILE,
                       size=9_865,
                       sha256="6fe259457bcd02fc62fb7a429daf496599394f153a4f26b292aef6e16dba923a"),
            RemoteFile("github", UPSTREAM_REPO, UPSTREAM_COMMIT, "data/text_tokenizer.json",
                       TEXT_TOKENIZER_FILE, size=163_484,
                       sha256="31511da1ba11d5a11ddc9b8fa8f71878f3492a2c8fedad10f5d5c4e320a46447"),
        ),
    ),
    CatalogEntry(
        ENCODEC, "codec", "EnCodec 24 kHz",
        "Meta's EnCodec at 24 kHz: turns reference audio into the 8 codebooks the models read.",
        ENCODEC_TERMS,
        (RemoteFile("encodec", "", "", "encodec_24khz-d7cc33bc.th", "encodec_24khz-d7cc33bc.th",
                    sha256_prefix="d7cc33bc"),),
    ),
    CatalogEntry(
        VOCOS, "codec", "Vocos (EnCodec 24 kHz)",
        "charactr's Vocos vocoder for EnCodec codes: turns generated codes into 24 kHz audio.",
        VOCOS_TERMS,
        (
            RemoteFile("huggingface", VOCOS_REPO, "main", "config.yaml", VOCOS_CONFIG_FILE),
            RemoteFile("huggingface", VOCOS_REPO, "main", "pytorch_model.bin", VOCOS_WEIGHTS_FILE),
        ),
        requires=(ENCODEC,),  # Vocos' EnCodec feature extractor loads the EnCodec weights
    ),
)

CATALOG: Catalog = MappingProxyType({entry.name: entry for entry in (*_ENTRIES, *_LORAS)})


def model_names(catalog: Catalog) -> list[str]:
    """Names of the checkpoints in ``catalog``, in catalog order."""
    return [name for name, entry in catalog.items() if entry.kind == "model"]


def lora_names(catalog: Catalog) -> list[str]:
    """Names of the LoRAs in ``catalog``, in catalog order."""
    return [name for name, entry in catalog.items() if entry.kind == "lora"]


def lookup(catalog: Catalog, name: str) -> CatalogEntry:
    """The entry called ``name``; raises :class:`UnknownModelError` naming the known ones."""
    try:
        return catalog[name]
    except KeyError:
        known = ", ".join(catalog)
        raise UnknownModelError(f"'{name}' is not in the model catalog (known: {known})") from None


def licence_notes(catalog: Catalog, name: str) -> list[tuple[str, str]]:
    """``(name, licence text)`` for ``name`` and everything it requires, without repeats: a model or LoRA by
    its catalog id (as everywhere), the shared files by their titles ("EnCodec 24 kHz")."""
    seen: list[str] = []

    def visit(entry_name: str) -> None:
        if entry_name in seen:
            return
        seen.append(entry_name)
        for dep in lookup(catalog, entry_name).requires:
            visit(dep)

    visit(name)
    return [(n if catalog[n].kind in ("model", "lora") else catalog[n].display_name, catalog[n].licence) for n in seen]
