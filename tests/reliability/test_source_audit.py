"""Source rules of the reliability issue, checked on the package's code (see ``source_audit.py``):
every file written through the one atomic-write function, models loaded only as plain weights."""

from __future__ import annotations

from pathlib import Path

from tests.reliability.source_audit import package_files, unsafe_loads, write_sites

ROOT = Path(__file__).resolve().parents[2]

#: Write sites that do not go through ``atomic_write``, each with the reason it is right as it is.
ALLOWED_WRITES: dict[tuple[str, str, str], str] = {
    ("valle_studio/core/atomic.py", "_fsync_file", "open"):
        "the atomic writer itself: reopens its own temporary file to flush it",
    ("valle_studio/core/atomic.py", "write_temp", "open"):
        "the atomic writer itself: writes its temporary file",
    ("valle_studio/core/commit.py", "_replace_all", "os.replace"):
        "the output-commit step: moves each staged temporary file over its target (and, after a failed "
        "rename, the hard-linked backup back), the second half of the atomic writer for several files",
    ("valle_studio/cli/logfile.py", "cli_log", "logging.handlers.RotatingFileHandler"):
        "the CLI's log file is appended to as things happen (and rotated), as the app's is",
    ("valle_studio/cli/dispatch.py", "_silence_stdout", "os.open"):
        "opens the null device, to put it in place of a stdout whose reader is gone: nothing is stored",
    ("valle_studio/cli/dispatch.py", "_usable_stderr", "open"):
        "opens the null device in place of a closed stderr: nothing is stored",
    ("valle_studio/core/atomic.py", "atomic_write", "os.replace"):
        "the atomic writer itself: the rename that makes the new content appear at once",
    ("valle_studio/app/main.py", "setup_logging", "logging.handlers.RotatingFileHandler"):
        "the log file is appended to as things happen (and rotated); replacing it would lose the log",
    ("valle_studio/app/settings.py", "AppSettings.from_file", "QSettings"):
        "Qt writes the INI itself through QSaveFile (temporary file + rename): atomic as well",
    ("valle_studio/engine/model/native/__init__.py", "build", "tempfile.mkstemp"):
        "the compiler writes the library into this temporary file (atomic_write takes bytes, not a "
        "subprocess's output file); it is renamed into place only after a successful build",
    ("valle_studio/engine/model/native/__init__.py", "build", "os.replace"):
        "moves the freshly compiled library into place in one rename, so no process loads half a file",
    ("valle_studio/engine/store/downloader.py", "download_file", "open"):
        "the resumable partial download (.partial/*.part): grows chunk by chunk so an interrupted "
        "download resumes; it is never used before verification",
    ("valle_studio/engine/store/downloader.py", "download_file", "os.replace"):
        "moves the verified partial download into place in one rename",
    ("valle_studio/engine/store/parts.py", "_copier.copy", "shutil.copyfile"):
        "copies an imported model part into the temporary file atomic_write hands it (then renamed)",
    ("valle_studio/engine/debug.py", "_atomic_write", "tempfile.mkstemp"):
        "test/demo checkpoints and tokenizers: the atomic pattern by hand (temporary file beside the "
        "target, then rename), since the engine imports no layer above it",
    ("valle_studio/engine/debug.py", "write_tiny_checkpoint", "save_file"):
        "writes the temporary file of that pattern (the writer handed to debug._atomic_write)",
    ("valle_studio/engine/debug.py", "write_tiny_lora", "save_file"):
        "the tiny LoRA's temporary file, the same pattern (the writer handed to debug._atomic_write)",
    ("valle_studio/engine/debug.py", "_atomic_write", "os.replace"):
        "the rename of that pattern",
    ("valle_studio/studio/history.py", "_move", "os.replace"):
        "moves a take's finished audio file to the trash and back (Delete and Undo): a rename, not a write",
    ("valle_studio/studio/history.py", "History._read_index", "os.replace"):
        "moves a damaged history index aside (a rename; no content is written)",
    ("valle_studio/studio/audit.py", "AuditLog.append", "open"):
        "the audit log only grows: one line appended (and fsynced) under a file lock; rewriting it through "
        "the atomic writer on every export would cost more each time, and a torn last line is skipped",
    ("valle_studio/audio/tags.py", "tag_file", ".write_bytes"):
        "tags the temporary file of an atomic write (the combined WAV's writer) before its rename",
    ("valle_studio/batch/lock.py", "ProjectLock.acquire", "os.open"):
        "a lock file: it only holds an OS lock and the holder's process id, never content",
}


def test_every_file_write_goes_through_the_atomic_writer() -> None:
    unexplained, used = [], set()
    for path, source in package_files(ROOT):
        for site, sanctioned in write_sites(source, path):
            if sanctioned:
                continue
            if site.key in ALLOWED_WRITES:
                used.add(site.key)
            else:
                unexplained.append(str(site))
    assert not unexplained, ("files written without valle_studio.core.atomic.atomic_write (use it, or add the "
                             "site to ALLOWED_WRITES with the reason):\n  " + "\n  ".join(unexplained))
    stale = sorted(set(ALLOWED_WRITES) - used)
    assert not stale, f"allow-list entries that match no code any more: {stale}"


def test_the_scanner_finds_writes_and_their_safe_forms() -> None:
    """The rule cannot pass vacuously: known writes are found, and only the safe forms are let through."""
    source = '''
import io, json, os
import numpy as np
import soundfile as sf
from valle_studio.core.atomic import atomic_write

def bad(path, data, obj):
    open(path, "w").write("x")
    with open(path, "ab" if data else "rb") as fh:
        json.dump(obj, fh)
    path.write_text("x")
    np.save(path, data)
    sf.write(path, data, 24000)
    os.open(path, os.O_WRONLY | os.O_CREAT)
    path.open("w")

def good(path, data):
    open(path).read()
    open(path, "rb").read()
    path.open("rb")
    buffer = io.BytesIO()
    np.save(buffer, data)
    atomic_write(path, lambda tmp: sf.write(tmp, data, 24000, format="WAV"))

    def write(temp):
        with open(temp, "wb") as fh:
            fh.write(b"x")

    atomic_write(path, write)

def sneaky(path, data):
    atomic_write(path, lambda tmp: sf.write(path, data, 24000))  # writes the target, not the temp file
'''
    sites = write_sites(source)
    flagged = sorted((s.function, s.api) for s, ok in sites if not ok)
    assert flagged == sorted([("bad", "open"), ("bad", "open"), ("bad", "json.dump"), ("bad", ".write_text"),
                              ("bad", "np.save"), ("bad", "sf.write"), ("bad", "os.open"), ("bad", "open"),
                              ("sneaky", "sf.write")])
    assert sorted(s.function for s, ok in sites if ok) == ["good", "good", "good.write"]


def test_models_are_loaded_only_as_plain_weights() -> None:
    found = [str(site) for path, source in package_files(ROOT) for site in unsafe_loads(source, path)]
    assert not found, "code that could run what a file contains:\n  " + "\n  ".join(found)


def test_the_load_scanner_finds_unsafe_loads() -> None:
    source = '''
import pickle, torch, numpy as np, yaml
torch.load(p)
torch.load(p, weights_only=False)
torch.load(p, weights_only=True)
pickle.loads(b)
np.load(p, allow_pickle=True)
np.load(p, allow_pickle=False)
np.load(p)
yaml.load(s)
yaml.safe_load(s)
eval("1")
app.exec()
'''
    assert [s.api for s in unsafe_loads(source)] == ["torch.load", "torch.load", "pickle.loads", "np.load",
                                                    "yaml.load", "eval"]
