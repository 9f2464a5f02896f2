"""Child processes of the real CLI for the reliability tests (see :mod:`tests.reliability.driver`)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


class Child:
    """One held run of the CLI in a child process."""

    def __init__(self, tmp_path: Path, hold: str, args: list[str], home: Path, *, text: bool = True) -> None:
        self.marker = tmp_path / f"held-{time.monotonic_ns()}"
        env = {**os.environ, "VALLE_STUDIO_HOME": str(home), "VALLE_TEST_MARKER": str(self.marker),
               "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        self.process = subprocess.Popen([sys.executable, "-m", "tests.reliability.driver", hold, "--", *args],
                                        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=text)

    def wait_until_held(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.marker.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                _out, err = self.process.communicate(timeout=30)
                pytest.fail(f"the child never reached its hold (exit {self.process.returncode}):\n{err}")
            time.sleep(0.02)

    def send(self, signum: int) -> tuple[int, str]:
        """Send ``signum`` and return (exit code, stderr)."""
        self.process.send_signal(signum)
        _out, err = self.process.communicate(timeout=120)
        return self.process.returncode, err



    def run(self, timeout: float = 300.0) -> tuple[int, str]:
        """Let an unheld child finish; (exit code, stderr)."""
        _out, err = self.process.communicate(timeout=timeout)
        return self.process.returncode, err
