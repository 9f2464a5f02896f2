"""Importing any module of the package opens no network connection and resolves no host name.

A fresh interpreter installs an audit hook (it sees every socket connection and name lookup Python
makes, whichever library makes it) and then imports every module of ``valle_studio``. A download only
ever happens when the user asks for one; the model store's own tests show that nothing is fetched when
every file is present (``tests/engine/test_store_store.py``), and the GUI session of
``test_write_scope.py`` shows it for a whole session.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import importlib, json, pkgutil, sys

NETWORK_EVENTS = {"socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr",
                  "socket.sendto", "http.client.connect", "urllib.Request", "ftplib.connect"}
attempts = []


def hook(event, args):
    if event in NETWORK_EVENTS:
        attempts.append([event, repr(args)[:200]])


sys.addaudithook(hook)
import valle_studio

names = sorted(m.name for m in pkgutil.walk_packages(valle_studio.__path__, "valle_studio.")
               if not m.name.endswith("__main__"))  # __main__ would start the app
failed = []
for name in names:
    try:
        importlib.import_module(name)
    except Exception as exc:
        failed.append([name, repr(exc)])
import socket  # the canary: a lookup made here must be seen, or the hook sees nothing

seen = len(attempts)
socket.getaddrinfo("127.0.0.1", 9)
canary = len(attempts) > seen
del attempts[seen:]
print(json.dumps({"modules": names, "attempts": attempts, "failed": failed, "canary": canary}))
"""


def test_importing_every_module_touches_no_network(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path))  # VALLE_STUDIO_HOME: conftest
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT, env=env,
                          timeout=240)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(report["modules"]) > 60 and "valle_studio.engine.store.hub_fetch" in report["modules"]
    assert report["canary"], "the audit hook did not see a name lookup: this test would see nothing"
    assert report["failed"] == [], report["failed"]
    assert report["attempts"] == [], f"network activity while importing: {report['attempts']}"
    assert not list(tmp_path.iterdir()), "importing wrote into the home folder"
