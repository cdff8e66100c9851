"""Shared fixtures: the real openssl command, a clean lab, and the labkit command line run as a user runs it."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from labkit import lab

ROOT = Path(__file__).resolve().parent.parent

# Exercise results are saved (labkit.progress_store): never in the real home during a test run. Kernels that nbval,
# the browser and the Binder checks start inherit this; each unit test gets its own file (clean_lab below).
_PROGRESS_DIR = tempfile.mkdtemp(prefix="labkit-test-progress-")
atexit.register(shutil.rmtree, _PROGRESS_DIR, True)
os.environ["LABKIT_PROGRESS_FILE"] = str(Path(_PROGRESS_DIR) / "progress.json")
os.environ.pop("LABKIT_CLASS_URL", None)


@pytest.fixture(autouse=True)
def clean_lab(tmp_path, monkeypatch):
    """Every test starts with the lab as a notebook does: default instant, serials from 0x1000."""
    monkeypatch.setenv("LABKIT_WORKDIR", str(tmp_path / "lab-work"))
    monkeypatch.setenv("LABKIT_PROGRESS_FILE", str(tmp_path / "progress" / "progress.json"))
    lab.reset()
    yield
    lab.reset()


@pytest.fixture
def openssl_bin() -> str:
    path = shutil.which("openssl")
    if path is None:
        pytest.skip("the openssl command is not installed (make test installs it as root)")
    return path


def run_openssl(*args, cwd=None, input=None) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *map(str, args)], cwd=cwd, input=input, capture_output=True, check=True)


def run_cli(*args, cwd=None) -> subprocess.CompletedProcess:
    """``labkit ARGS`` in a subprocess, exactly as a shell would run it."""
    return subprocess.run([sys.executable, "-m", "labkit.cli", *map(str, args)], cwd=cwd, capture_output=True,
                          timeout=60)
