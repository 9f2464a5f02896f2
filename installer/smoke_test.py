"""Smoke-test a frozen VALL-E Studio bundle: the app starts, the CLI speaks, nothing comes from outside.

    .venv/bin/python installer/smoke_test.py [--bundle dist/cpu/valle-studio] [--json report.json]

Run it with the project's venv (not the bundle): the venv writes the tiny test model. Checks:

1. GUI, first run: ``valle-studio --quit-after MS --screenshot PNG`` offscreen (or, with ``--xcb``,
   as a real X11 window on a private Xvfb server), with a fresh ``VALLE_STUDIO_HOME``. It must exit 0,
   create the user folders and a log that shows a start and a clean exit with no traceback, error or
   critical line, and save a screenshot of the main window. On Linux it runs under ``LD_DEBUG=files``:
   PortAudio and torch (imported by the engine thread after the window is up) must be loaded from
   inside the bundle.
2. espeak-ng: ``valle-studio-cli --version`` names the espeak-ng the build chose (1.51 on Debian 12),
   loaded from inside the bundle.
3. CLI: a tiny random-weight model (``valle_studio.engine.debug.write_tiny_checkpoint``) and
   upstream's ``tokenizer.json`` go through ``valle-studio-cli synth --text "Hello there."
   --out-codes out.npy`` (text -> bundled espeak-ng -> phonemes -> tokens -> codes). The codes
   must be ``[T, 8]`` integers in 0..1023 and equal those of the same command run from the venv
   (same seed, one thread), so the frozen engine computes what the source computes.
4. CLI with audio: a random-weight EnCodec/Vocos saved in the published files' formats where the
   model store looks for them, a synthetic reference clip, ``synth --prompt ref.wav --out out.wav``:
   libsndfile reads and writes, EnCodec encodes, the model generates, Vocos (torchaudio) decodes.
   The WAV must match the venv's for the same command.

Both runs happen without network where ``unshare --net`` works (Linux as root), proving the app
needs none until a model is downloaded. Prints a summary and exits 1 on any failed check.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_BUNDLE = ROOT / "dist" / "cpu" / "valle-studio"
DEFAULT_TOKENIZER = Path(os.environ.get("VALLE_PARITY_DIR", ROOT.parent / "shared" / "fixtures" / "ecker-parity"))
DEFAULT_TOKENIZER = DEFAULT_TOKENIZER / "tokenizer.json"
TEXT = "Hello there."
SEED = 7
BAD_LOG = re.compile(r"Traceback \(most recent call last\)|uncaught exception| ERROR | CRITICAL ")


class SmokeFailure(Exception):
    """A check failed; the message says which and why."""


def executable(bundle: Path, name: str) -> Path:
    """Path of one of the bundle's programs (``bundle`` is the onedir folder or the macOS .app)."""
    folder = bundle / "Contents" / "MacOS" if bundle.suffix == ".app" else bundle
    path = folder / (name + (".exe" if sys.platform == "win32" else ""))
    if not path.is_file():
        raise SmokeFailure(f"{path} does not exist: build the bundle first (installer/README.md)")
    return path


def offline_prefix() -> list[str]:
    """``unshare --net`` where it works (no network at all inside), else nothing."""
    tool = shutil.which("unshare")
    if tool and sys.platform.startswith("linux"):
        probe = subprocess.run([tool, "--net", "true"], capture_output=True)
        if probe.returncode == 0:
            return [tool, "--net"]
    return []


def clean_env(home: Path) -> dict[str, str]:
    """The environment of a user who never installed Python: nothing of the venv leaks in."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "PHONEMIZER_", "VIRTUAL_ENV", "LD_", "QT_", "HF_"))}
    env.update(VALLE_STUDIO_HOME=str(home), QT_QPA_PLATFORM="offscreen", OMP_NUM_THREADS="1")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p)
    return env


def loaded_from(debug_prefix: Path, soname_part: str) -> list[str]:
    """Paths of libraries whose name contains ``soname_part``, from LD_DEBUG=files output."""
    paths = set()
    for log in debug_prefix.parent.glob(debug_prefix.name + ".*"):
        for line in log.read_text(errors="replace").splitlines():
            match = re.search(r"calling init: (\S+)", line)
            if match and soname_part in Path(match.group(1)).name:
                paths.add(match.group(1))
    return sorted(paths)


def xvfb_prefix() -> list[str]:
    """Run under a private X server (``xvfb-run``), for the real xcb platform plugin."""
    tool = shutil.which("xvfb-run")
    if tool is None:
        raise SmokeFailure("--xcb needs xvfb-run (Debian/Ubuntu: apt-get install xvfb xauth)")
    return [tool, "-a", "-s", "-screen 0 1280x800x24"]


def check_gui(bundle: Path, work: Path, offline: list[str], quit_after_ms: int, xcb: bool = False) -> dict:
    home = work / "gui-home"
    shot = work / "main-window.png"
    env = clean_env(home)
    display = []
    if xcb:
        env["QT_QPA_PLATFORM"] = "xcb"
        display = xvfb_prefix()
    debug = work / "ld-gui"
    if sys.platform.startswith("linux"):
        env.update(LD_DEBUG="files", LD_DEBUG_OUTPUT=str(debug))
    start = time.monotonic()
    command = [*offline, *display, str(executable(bundle, "valle-studio")),
               "--quit-after", str(quit_after_ms), "--screenshot", str(shot)]
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=quit_after_ms / 1000 + 240)
    seconds = time.monotonic() - start
    if run.returncode != 0:
        raise SmokeFailure(f"GUI exited with {run.returncode}; stderr:\n{run.stderr[-3000:]}")
    if "Traceback" in run.stderr:
        raise SmokeFailure(f"GUI printed a traceback:\n{run.stderr[-3000:]}")
    for sub in ("data", "config", "logs"):
        if not (home / sub).is_dir():
            raise SmokeFailure(f"first run did not create the user folder {home / sub}")
    log_file = home / "logs" / "valle-studio.log"
    if not log_file.is_file():
        raise SmokeFailure(f"no log file at {log_file}")
    text = log_file.read_text(encoding="utf-8", errors="replace")
    bad = [line for line in text.splitlines() if BAD_LOG.search(line)]
    if bad:
        raise SmokeFailure("the log has errors:\n" + "\n".join(bad[:20]) + f"\n(full log: {log_file})")
    for needed in ("starting", "screenshot saved to", "exited with code 0"):
        if needed not in text:
            raise SmokeFailure(f"the log lacks {needed!r}; log:\n{text[-3000:]}")
    if not shot.is_file() or shot.stat().st_size < 2000:
        raise SmokeFailure(f"no screenshot of the main window at {shot}")
    result = {"gui_seconds": round(seconds, 1), "platform": env["QT_QPA_PLATFORM"], "screenshot": str(shot),
              "log": str(log_file), "log_lines": len(text.splitlines())}
    if sys.platform.startswith("linux"):
        for key, part in (("portaudio", "libportaudio"), ("torch", "libtorch_cpu"), ("qt_platform", "libqxcb"
                          if xcb else "libqoffscreen")):
            paths = loaded_from(debug, part)
            outside = [p for p in paths if not Path(p).resolve().is_relative_to(bundle.resolve())]
            if not paths or outside:
                raise SmokeFailure(f"{part} was not loaded from the bundle: {paths or 'not loaded at all'}")
            result[key] = paths[0]
    return result


def write_inputs(work: Path, tokenizer: Path) -> tuple[Path, Path]:
    from valle_studio.engine.debug import write_tiny_checkpoint

    if not tokenizer.is_file():
        raise SmokeFailure(f"tokenizer {tokenizer} not found (pass --tokenizer or set VALLE_PARITY_DIR)")
    model = write_tiny_checkpoint(work / "tiny.sft")
    local_tokenizer = work / "tokenizer.json"
    shutil.copyfile(tokenizer, local_tokenizer)
    return model, local_tokenizer


def synth_args(model: Path, tokenizer: Path, out: Path) -> list[str]:
    return ["synth", "--model", str(model), "--tokenizer", str(tokenizer), "--text", TEXT,
            "--out-codes", str(out), "--seed", str(SEED), "--device", "cpu"]


def check_espeak(bundle: Path, work: Path, offline: list[str]) -> dict:
    """``valle-studio-cli --version`` of the bundle names the espeak-ng it carries: the version this build
    machine's venv uses (the hook bundles exactly that choice), taken from inside the bundle."""
    from valle_studio.engine.text import espeak_version

    run = subprocess.run([*offline, str(executable(bundle, "valle-studio-cli")), "--version"],
                         env=clean_env(work / "version-home"), capture_output=True, text=True, timeout=120)
    lines = run.stdout.strip().splitlines()
    line = next((x for x in lines if x.startswith("espeak-ng")), "")
    if run.returncode != 0 or not line:
        raise SmokeFailure(f"frozen --version failed ({run.returncode}): {run.stdout}{run.stderr[-2000:]}")
    wanted = espeak_version()
    if not line.startswith(f"espeak-ng {wanted} (bundled with the app"):
        raise SmokeFailure(f"the bundle's espeak-ng is not the build's espeak-ng {wanted} from inside the bundle: "
                           f"{line!r}")
    return {"espeak_line": line}


def check_cli(bundle: Path, work: Path, offline: list[str], tokenizer: Path) -> dict:
    import numpy as np

    model, tokenizer = write_inputs(work, tokenizer)
    frozen_out, venv_out = work / "frozen.npy", work / "venv.npy"
    env = clean_env(work / "cli-home")
    debug = work / "ld-cli"
    if sys.platform.startswith("linux"):
        env.update(LD_DEBUG="files", LD_DEBUG_OUTPUT=str(debug))
    start = time.monotonic()
    run = subprocess.run([*offline, str(executable(bundle, "valle-studio-cli")),
                          *synth_args(model, tokenizer, frozen_out)],
                         env=env, capture_output=True, text=True, timeout=600)
    seconds = time.monotonic() - start
    if run.returncode != 0 or not frozen_out.is_file():
        raise SmokeFailure(f"frozen synth exited with {run.returncode}; stderr:\n{run.stderr[-3000:]}")
    codes = np.load(frozen_out)
    if codes.ndim != 2 or codes.shape[1] != 8 or codes.shape[0] < 1 or codes.dtype.kind not in "iu":
        raise SmokeFailure(f"{frozen_out}: expected [T, 8] integer codes, got {codes.shape} {codes.dtype}")
    if codes.min() < 0 or codes.max() > 1023:
        raise SmokeFailure(f"{frozen_out}: codes outside 0..1023 ({codes.min()}..{codes.max()})")

    venv_env = dict(os.environ, OMP_NUM_THREADS="1", VALLE_STUDIO_HOME=str(work / "venv-home"))
    reference = subprocess.run([sys.executable, "-m", "valle_studio.cli", *synth_args(model, tokenizer, venv_out)],
                               env=venv_env, capture_output=True, text=True, timeout=600, cwd=ROOT)
    if reference.returncode != 0:
        raise SmokeFailure(f"the same synth from the venv failed:\n{reference.stderr[-3000:]}")
    expected = np.load(venv_out)
    if expected.shape != codes.shape or not (expected == codes).all():
        raise SmokeFailure(f"frozen codes {codes.shape} differ from the venv's {expected.shape} for the same seed")
    result = {"cli_seconds": round(seconds, 1), "codes_shape": list(codes.shape),
              "codes_range": [int(codes.min()), int(codes.max())], "matches_venv": True,
              "cli_stderr_tail": run.stderr.strip().splitlines()[-1] if run.stderr.strip() else ""}
    if sys.platform.startswith("linux"):
        espeak = loaded_from(debug, "libespeak-ng")
        system = [p for p in espeak if p.startswith(("/usr/", "/lib"))]
        if not espeak or system:
            raise SmokeFailure(f"espeak-ng did not come from the bundle: {espeak or 'not loaded at all'}")
        result["espeak"] = espeak[0]
    return result


def install_random_codec(home: Path, seed: int = 0) -> None:
    """A seeded random EnCodec/Vocos in the published files' formats, where the store under ``home``
    (as ``VALLE_STUDIO_HOME``) looks for them."""
    import torch
    import yaml

    from valle_studio.engine.codec import EncodecVocosCodec
    from valle_studio.engine.codec.builders import DEFAULT_VOCOS_CONFIG
    from valle_studio.engine.store import ModelStore

    paths = ModelStore(home / "data" / "models").codec_paths()
    codec = EncodecVocosCodec.random(seed=seed)
    for path in paths.values():
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    torch.save(codec.encodec_model.state_dict(), paths["encodec_weights"])
    vocos = codec.vocos_model
    if vocos is None:
        raise SmokeFailure("EncodecVocosCodec.random() built no Vocos")
    torch.save({k: v for k, v in vocos.state_dict().items() if not k.startswith("feature_extractor.encodec.")},
               paths["vocos_weights"])
    Path(paths["vocos_config"]).write_text(yaml.safe_dump(DEFAULT_VOCOS_CONFIG))


def check_audio(bundle: Path, work: Path, offline: list[str]) -> dict:
    """``synth --prompt ref.wav --out out.wav`` through the codec, frozen and from the venv."""
    import numpy as np
    import soundfile

    rate = 24_000
    t = np.arange(int(1.5 * rate)) / rate
    clip = 0.4 * np.sin(2 * np.pi * (180 + 60 * t) * t) * (0.5 + 0.4 * np.sin(2 * np.pi * 3 * t))
    reference = work / "ref.wav"
    soundfile.write(reference, clip.astype(np.float32), rate)
    home = work / "audio-home"
    install_random_codec(home)
    args = ["synth", "--model", str(work / "tiny.sft"), "--tokenizer", str(work / "tokenizer.json"),
            "--text", TEXT, "--prompt", str(reference), "--seed", str(SEED), "--steps", "4",
            "--max-duration", "1", "--device", "cpu", "--dtype", "float32"]
    env = clean_env(home)
    frozen_wav, venv_wav = work / "frozen.wav", work / "venv.wav"
    start = time.monotonic()
    run = subprocess.run([*offline, str(executable(bundle, "valle-studio-cli")), *args, "--out", str(frozen_wav)],
                         env=env, capture_output=True, text=True, timeout=600)
    seconds = time.monotonic() - start
    if run.returncode != 0 or not frozen_wav.is_file():
        raise SmokeFailure(f"frozen synth --out exited with {run.returncode}; stderr:\n{run.stderr[-3000:]}")
    venv_env = dict(os.environ, OMP_NUM_THREADS="1", VALLE_STUDIO_HOME=str(home))
    ref = subprocess.run([sys.executable, "-m", "valle_studio.cli", *args, "--out", str(venv_wav)],
                         env=venv_env, capture_output=True, text=True, timeout=600, cwd=ROOT)
    if ref.returncode != 0:
        raise SmokeFailure(f"the same synth --out from the venv failed:\n{ref.stderr[-3000:]}")
    audio, sr = soundfile.read(frozen_wav, dtype="float32")
    expected, _ = soundfile.read(venv_wav, dtype="float32")
    if sr != rate or audio.ndim != 1 or len(audio) < rate // 10 or not np.isfinite(audio).all():
        raise SmokeFailure(f"{frozen_wav}: expected mono 24 kHz audio, got {audio.shape} at {sr} Hz")
    if audio.shape != expected.shape or not np.allclose(audio, expected, atol=1e-4):
        raise SmokeFailure(f"frozen audio {audio.shape} differs from the venv's {expected.shape}")
    return {"audio_seconds": round(len(audio) / sr, 2), "cli_seconds": round(seconds, 1), "matches_venv": True,
            "peak": round(float(np.abs(audio).max()), 3)}


def bundle_size(bundle: Path) -> int:
    return sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file() and not p.is_symlink())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--bundle", type=Path, default=DEFAULT_BUNDLE, help="the onedir folder (or .app)")
    parser.add_argument("--tokenizer", type=Path, default=DEFAULT_TOKENIZER, help="upstream's tokenizer.json")
    parser.add_argument("--quit-after", type=int, default=20000, metavar="MS",
                        help="how long the GUI runs before it quits itself (it imports torch meanwhile)")
    parser.add_argument("--xcb", action="store_true",
                        help="show the GUI as a real X11 window on a private Xvfb server instead of offscreen")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="work in DIR and keep it (screenshot, logs)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the summary as JSON")
    args = parser.parse_args(argv)

    work = args.keep or Path(tempfile.mkdtemp(prefix="valle-smoke-"))
    work.mkdir(parents=True, exist_ok=True)
    offline = offline_prefix()
    summary: dict = {"bundle": str(args.bundle), "offline": bool(offline),
                     "bundle_bytes": bundle_size(args.bundle) if args.bundle.exists() else 0}
    try:
        summary["gui"] = check_gui(args.bundle, work, offline, args.quit_after, args.xcb)
        print(f"smoke: GUI ok ({summary['gui']['gui_seconds']} s)", flush=True)
        summary["espeak"] = check_espeak(args.bundle, work, offline)
        print(f"smoke: espeak ok ({summary['espeak']['espeak_line']})", flush=True)
        summary["cli"] = check_cli(args.bundle, work, offline, args.tokenizer)
        print(f"smoke: CLI ok ({summary['cli']['cli_seconds']} s)", flush=True)
        summary["audio"] = check_audio(args.bundle, work, offline)
        print(f"smoke: CLI with audio ok ({summary['audio']['cli_seconds']} s)", flush=True)
        summary["ok"] = True
    except (SmokeFailure, subprocess.TimeoutExpired) as exc:
        summary["ok"], summary["error"] = False, str(exc)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"smoke: {'passed' if summary['ok'] else 'FAILED: ' + summary['error'].splitlines()[0]}")
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
