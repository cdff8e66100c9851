"""What the classroom tests need from the machine: root, useradd, the proxy and the classroom extra."""

from __future__ import annotations

import os
import shutil

import pytest
from conftest import ROOT

PROXY = ROOT / "classroom" / "node_modules" / ".bin" / "configurable-http-proxy"


def require_classroom() -> None:
    """Skip (fail under CI) when this machine cannot run the hub: not root, no useradd, no proxy."""
    missing = []
    if os.geteuid() != 0:
        missing.append("root (each trainee is a system user)")
    if shutil.which("useradd") is None:
        missing.append("useradd")
    if not PROXY.exists():
        missing.append("configurable-http-proxy (npm, make test installs it)")
    try:
        import jupyterhub  # noqa: F401
        import websocket  # noqa: F401
    except ImportError:
        missing.append("the classroom extra (jupyterhub ...)")
    if missing:
        message = f"the classroom hub needs {', '.join(missing)}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
