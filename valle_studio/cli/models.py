"""``valle-studio-cli models``: list, download, import, remove and choose the default model; LoRAs too.

LoRAs (voice adapters) are catalog entries named ``lora-<name>``: ``models download lora-glados`` fetches
one, ``models import lora.sft`` recognises a LoRA file by its tensors and installs it as a LoRA, and
``synth --lora glados`` applies it.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from valle_studio.cli.options import EXIT_OK, CliError, StderrProgress


def add_parser(sub: Any) -> None:
    """The ``models`` command on ``sub`` (the main parser's subparsers)."""
    models = sub.add_parser("models", help="manage installed models (list, download, import, remove, default)")
    actions = models.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="known and installed models, with their licence terms")
    download = actions.add_parser("download", help="download models (and the tokenizers/codec they need)")
    download.add_argument("names", nargs="+", metavar="NAME")
    imp = actions.add_parser("import", help="import a local .sft or .pth checkpoint, or a lora.sft")
    imp.add_argument("path")
    imp.add_argument("--name", help="name to install it under (default: from the file name)")
    imp.add_argument("--replace", action="store_true", help="replace an installed model of that name")
    remove = actions.add_parser("remove", help="delete an installed model or LoRA")
    remove.add_argument("name")
    default = actions.add_parser("default", help="show or set the default model")
    default.add_argument("name", nargs="?")
    models.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """The command's handler: one store action."""
    from valle_studio.engine.store import ModelStore

    store = ModelStore()
    if args.action == "list":
        installed = set(store.installed())
        for name in dict.fromkeys([*store.available(), *installed]):
            mark = "*" if name == store.default_model else " "
            state = "installed" if name in installed else "not installed"
            if name in installed:
                state = ("imported" if store.is_imported(name) else state) + _missing_words(store, name)
            print(f"{mark} {name:28s} {state}")
            for title, terms in store.licences(name) if name in store.available() else []:
                print(f"      {title}: {terms}")
        installed_loras = set(store.installed_loras())
        print("LoRAs (apply with --lora NAME[:STRENGTH]):")
        for name in dict.fromkeys([*store.available_loras(), *installed_loras]):
            state = "installed" if name in installed_loras else "not installed"
            print(f"  {name:28s} {state}")
        if store.available_loras():
            print(f"      {store.entry(store.available_loras()[0]).licence}")
        return EXIT_OK
    if args.action == "download":
        progress = StderrProgress()
        for name in args.names:
            written = store.download(name, progress=progress)
            print(f"{name}: {'downloaded ' + str(len(written)) + ' file(s)' if written else 'already complete'}",
                  file=sys.stderr)
        return EXIT_OK
    if args.action == "import":
        from pathlib import Path

        from valle_studio.engine.store.validate import is_lora_file

        if is_lora_file(Path(args.path)):
            name = store.import_lora(args.path, args.name, replace=args.replace, progress=StderrProgress())
            print(f"imported the LoRA as {name} (apply it with --lora {name})", file=sys.stderr)
            return EXIT_OK
        name = store.import_file(args.path, args.name, replace=args.replace, progress=StderrProgress())
        lacking = _missing_words(store, name)
        print(f"imported as {name}" + (f"{lacking} (`valle-studio-cli models download {name}` fetches them)"
                                       if lacking else ""), file=sys.stderr)
        return EXIT_OK
    if args.action == "remove":
        is_lora = store.lora_path(args.name) is not None or args.name in store.available_loras()
        removed = store.remove_lora(args.name) if is_lora else store.remove(args.name)
        if not removed:
            raise CliError(f"{'LoRA' if is_lora else 'model'} '{args.name}' is not installed")
        return EXIT_OK
    if args.name:
        store.default_model = args.name
    print(store.default_model)
    return EXIT_OK


def _missing_words(store: Any, name: str) -> str:
    """``", missing: tokenizer, EnCodec"`` for an installed model that lacks parts, else ``""``."""
    lacking = [part.short for part in store.parts(name) if not part.present]
    return f", missing: {', '.join(lacking)}" if lacking else ""
