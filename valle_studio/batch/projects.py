"""Where the app keeps its batch projects, and making a project from a script file.

Projects made in the app live in ``user_data_dir()/batch/<script name>-<id>/``; the CLI keeps its
project inside the output folder instead (``OUT_DIR/.valle-batch``).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from pathlib import Path

from valle_studio.batch.names import sanitize_stem, slugify
from valle_studio.batch.project import PROJECT_FILE, BatchProject
from valle_studio.batch.script import read_script
from valle_studio.engine.settings import GenerationSettings


def default_root() -> Path:
    from valle_studio.paths import user_data_dir

    return user_data_dir() / "batch"


def latest(root: Path) -> Path | None:
    """The project folder under ``root`` saved most recently, or None."""
    if not root.is_dir():
        return None
    saved = [((p / PROJECT_FILE).stat().st_mtime, p) for p in root.iterdir() if (p / PROJECT_FILE).is_file()]
    return max(saved)[1] if saved else None


def create_from_script(script_path: Path, root: Path, *, settings: GenerationSettings, voices: Iterable[str] = (),
                       default_voice: str = "", language: str = "en") -> BatchProject:
    """Read ``script_path`` and make a new project for it under ``root`` (open and locked). The
    script's warnings are in ``project.warnings``. Raises ScriptError / ProjectError."""
    script = read_script(script_path, known_voices=voices)
    data = script_path.read_bytes()
    stem = sanitize_stem(slugify(script_path.stem, 40) or "batch", 48)
    folder = root / f"{stem}-{secrets.token_hex(3)}"
    project = BatchProject.create(
        folder, script.lines, name=script_path.stem, settings=settings, default_voice=default_voice,
        language=language, script={"path": str(script_path.resolve()), "sha256": hashlib.sha256(data).hexdigest(),
                                   "format": script.format, "encoding": script.encoding})
    project.warnings.extend(script.warnings)
    return project
