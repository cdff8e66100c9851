"""`make lab` serves notebooks/00-welcome.ipynb on 127.0.0.1 (the README's first command, started for real)."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT

from labkit.httpd import free_port


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, b""  # not listening yet


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_lab_serves_the_welcome_notebook(tmp_path):
    port, token = free_port(), secrets.token_hex(8)
    venv = Path(sys.prefix)  # the environment running the tests already has labkit installed
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg")}
    proc = subprocess.Popen(["make", "-s", "lab", f"PORT={port}", f"TOKEN={token}", f"VENV={venv}"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        status, body = 0, b""
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            status, body = _get(f"{base}/api/contents/00-welcome.ipynb?token={token}")
            if status == 200:
                break
            time.sleep(0.5)
        assert status == 200, f"JupyterLab did not serve the notebook (exit {proc.poll()})"
        model = json.loads(body)
        assert model["name"] == "00-welcome.ipynb" and model["type"] == "notebook"
        assert model["content"]["cells"][0]["source"].startswith("# 00")
        page_status, page = _get(f"{base}/lab/tree/00-welcome.ipynb?token={token}")
        assert page_status == 200 and b"JupyterLab" in page
        assert _get(f"{base}/api/contents/00-welcome.ipynb")[0] == 403  # no token, no notebook
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            output = proc.communicate(timeout=20)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output = proc.communicate()[0].decode(errors="replace")
    assert f"http://127.0.0.1:{port}/lab" in output  # make lab prints the URL
