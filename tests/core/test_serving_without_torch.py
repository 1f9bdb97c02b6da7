"""Serving needs no training stack: `make install-serve` (what `make demo` uses) leaves out
the ``train`` extra, so the demo, the worker and the dashboard must import and classify
with torch and the export tools absent; and the Makefile's installs rerun only when
pyproject.toml changes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# what the `train` extra brings; None in sys.modules makes any import of them fail
TRAIN_ONLY = ("torch", "sklearn", "onnx", "onnxscript")

SERVING = f"""
import sys
for name in {TRAIN_ONLY!r}:
    sys.modules[name] = None
import app.cli, app.launcher, stream.worker, dashboard.app, dashboard.server
import stream.ingest.scenario, stream.alerts.agents
from core.config import Settings
from stream.classifiers import load_classifier

classifier = load_classifier(Settings().model)
[result] = classifier.classify(["Acme shares plunge after profit warning"])
print("classified", type(classifier).__name__)
"""


def test_the_serving_code_imports_and_classifies_without_torch() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", SERVING], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "classified" in done.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_installs_again_only_when_pyproject_changes(tmp_path: Path) -> None:
    """The real Makefile, with a venv whose python records what pip was asked to do."""
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    calls = tmp_path / "calls.log"
    python = venv / "bin" / "python"
    python.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    python.chmod(0o755)

    def make(target: str) -> list[str]:
        calls.write_text("")
        done = subprocess.run(
            ["make", "--no-print-directory", f"VENV={venv}", target], cwd=tmp_path,
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return [c for c in calls.read_text().splitlines() if c.startswith("-m pip install")]

    assert make("install-serve") == ["-m pip install --quiet -e .[dev]"]
    assert make("install-serve") == []  # nothing changed: no reinstall
    # pyproject.toml edited after the install (explicit times: file clocks tick coarsely)
    now = time.time()
    _mtime(tmp_path / "pyproject.toml", now - 500)
    _mtime(venv / ".finsent-installed-serve", now - 600)
    assert make("install-serve") == ["-m pip install --quiet -e .[dev]"]

    full = make("install")
    assert full[0] == "-m pip install --quiet -e .[train,dev]"  # `make test` gets everything
    assert make("install") == []
    # after a full install, serving needs nothing more
    _mtime(tmp_path / "pyproject.toml", now - 400)
    _mtime(venv / ".finsent-installed-all", now - 300)
    _mtime(venv / ".finsent-installed-serve", now - 500)
    assert make("install-serve") == []


def _mtime(path: Path, at: float) -> None:
    os.utime(path, (at, at))
