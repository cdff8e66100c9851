"""The class's Binder launch: a fresh environment built only from `binder/` runs the notebooks under nbval.

Binder (repo2docker) installs `binder/apt.txt` with apt, takes Python from `binder/runtime.txt` and installs
`binder/requirements.txt` with pip, nothing else. This test does the same in a new virtual environment (the Debian
packages are the ones `make test` installs), adds only the checker (pytest and nbval), and runs every chapter
notebook and the instructor's dashboard with it: an import that only `make test`'s environment satisfies fails here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT

BINDER = ROOT / "binder"


def _runtime_python() -> str:
    version = re.fullmatch(r"python-(\d+\.\d+)", (BINDER / "runtime.txt").read_text().strip())
    assert version, "binder/runtime.txt names a Python as python-X.Y"
    wanted = version.group(1)
    if f"{sys.version_info.major}.{sys.version_info.minor}" == wanted:
        return sys.executable
    found = shutil.which(f"python{wanted}")
    if found is None:
        pytest.skip(f"Binder runs Python {wanted} (binder/runtime.txt), which this machine does not have")
    return found


def test_a_fresh_environment_from_binder_requirements_runs_the_notebooks(tmp_path):
    venv = tmp_path / "binder-venv"
    subprocess.run([_runtime_python(), "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PIP_CONSTRAINT", "VIRTUAL_ENV"}}
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    # What repo2docker runs, from the repository's top folder (requirements.txt says `-e .`).
    subprocess.run([*pip, "-r", str(BINDER / "requirements.txt")], cwd=ROOT, env=env, check=True)
    # Only the checker on top, at its tested versions.
    checker = [line for line in (ROOT / "constraints.txt").read_text().splitlines()
               if line.split("==")[0].lower() in {"pytest", "nbval"}]
    assert len(checker) == 2
    subprocess.run([*pip, *checker], env=env, check=True)
    missing = subprocess.run([python, "-m", "pip", "check"], env=env, capture_output=True, text=True)
    assert missing.returncode == 0, missing.stdout
    # The clinic at /voila/render/instructor/certificate-clinic.ipynb and JupyterLab's widgets need these enabled.
    extensions = subprocess.run([python, "-m", "jupyter", "server", "extension", "list"], env=env,
                                capture_output=True, text=True)
    listed = re.sub(r"\x1b\[[0-9;]*m", "", extensions.stdout + extensions.stderr)
    for name in ("jupyterlab", "voila.server_extension"):
        assert re.search(rf"{re.escape(name)} enabled", listed), listed
    labextensions = subprocess.run([python, "-m", "jupyter", "labextension", "list"], env=env, capture_output=True,
                                   text=True)
    assert "@jupyter-widgets/jupyterlab-manager" in labextensions.stdout + labextensions.stderr

    notebooks = sorted(str(p) for p in (ROOT / "notebooks").glob("*.ipynb"))
    notebooks += sorted(str(p) for p in (ROOT / "notebooks" / "instructor").glob("*.ipynb"))
    run = subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval", "--nbval-current-env",
                          "--nbval-sanitize-with", str(ROOT / "tests" / "nbval-sanitize.cfg"),
                          "--rootdir", str(tmp_path), *notebooks], cwd=tmp_path, env={
                              **env, "LABKIT_WORKDIR": str(tmp_path / "lab-work")},
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert re.search(r"\d+ passed", run.stdout) and " failed" not in run.stdout
