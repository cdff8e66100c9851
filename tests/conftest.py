"""Shared fixtures: the real openssl command, a clean lab, and the labkit command line run as a user runs it."""

from __future__ import annotations

import atexit
import datetime as dt
import hashlib
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


def lab_clock_behind_the_machine(days: float = 30) -> dt.datetime:
    """Freeze the lab clock ``days`` behind the machine's clock (and return that instant).

    For tests whose certificates and CRLs, made at the lab clock, are then judged by the real ``openssl`` or Python's
    ``ssl``: these read the machine's clock, which a test cannot set (Python's ssl has no ``-attime``). From the lab
    instant (2026-01-05), such a test would hold only while the machine's date lies after it; from here, material made
    for many days is valid by the machine's clock on any date, and what a test makes for a few days (a 7-day CRL,
    a 20-day certificate) has ended by it.
    """
    return lab.use_lab_time(lab.now_real() - dt.timedelta(days=days))


#: The machine dates the TLS lab's fixed certificates are made for (notebook 02's and 09's chapter modules,
#: the same bytes on every run for the notebooks): from the lab instant, when they begin, to 2049-06-01, when the
#: not-yet-valid scenario's certificate begins. Real handshakes judge them at the machine's clock.
TLS_LAB_DATES = (lab.DEFAULT_INSTANT, dt.datetime(2049, 6, 1, tzinfo=dt.timezone.utc))


def outside_tls_lab_dates(now: dt.datetime) -> str | None:
    """Why a machine clock reading ``now`` cannot run the TLS lab's handshakes (None: it can)."""
    start, end = TLS_LAB_DATES
    if start <= now < end:
        return None
    return (f"the machine's clock ({now:%Y-%m-%d}) is outside {start:%Y-%m-%d} .. {end:%Y-%m-%d}, the dates the TLS "
            "lab's certificates are made for; OpenSSL judges them at the machine's clock (check NTP)")


@pytest.fixture
def machine_clock_in_tls_lab_dates() -> None:
    """Skip, naming both dates, a test of real handshakes on the TLS lab's fixed certificates when the machine's
    clock lies outside :data:`TLS_LAB_DATES`: OpenSSL would refuse them for their dates, not for what the test
    checks, and no test can move the clock OpenSSL reads. (The kit itself needs a clock in that window: its notebooks
    run these handshakes.) The clock is read here, not through labkit, so that no change to labkit can make these
    tests skip; tests/test_tls.py pins the window to the certificates."""
    problem = outside_tls_lab_dates(dt.datetime.now(dt.timezone.utc))
    if problem:
        pytest.skip(problem)


#: Marks a test that runs real handshakes (or ``openssl verify``) on the TLS lab's fixed certificates.
tls_lab_dates = pytest.mark.usefixtures("machine_clock_in_tls_lab_dates")


@pytest.fixture
def openssl_bin() -> str:
    path = shutil.which("openssl")
    if path is None:
        pytest.skip("the openssl command is not installed (make test installs it as root)")
    return path


def run_openssl(*args, cwd=None, input=None) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *map(str, args)], cwd=cwd, input=input, capture_output=True, check=True)


#: The ``labkit`` console script pip installed beside this Python: what an administrator types.
LABKIT = Path(sys.executable).with_name("labkit")


def run_cli(*args, cwd=None, expect: int | tuple[int, ...] = 0,
            input: bytes | None = None) -> subprocess.CompletedProcess:
    """``labkit ARGS`` in a subprocess, exactly as a shell would run it (the installed console script).

    ``expect`` is the exit code (or the codes) the call must end with: every command-line test states it, so a crash
    (exit 1 with a traceback) never passes for a refusal (exit 2) or a finding (exit 1).
    """
    done = subprocess.run([str(LABKIT), *map(str, args)], cwd=cwd, capture_output=True, timeout=60, input=input)
    codes = expect if isinstance(expect, tuple) else (expect,)
    assert done.returncode in codes, (
        f"labkit {' '.join(map(str, args))} exited {done.returncode}, expected {expect}\n"
        f"stderr: {done.stderr.decode(errors='replace')}")
    assert b"Traceback" not in done.stderr, done.stderr.decode(errors="replace")
    return done


def snapshot(folder) -> dict[str, tuple]:
    """Everything on disk under ``folder``: each path (relative), its type and mode, a file's SHA-256, a link's target.
    Two equal snapshots mean nothing was added, removed, changed or re-moded (for "a failure changes nothing")."""
    folder = Path(folder)
    seen: dict[str, tuple] = {}
    for path in sorted(folder.rglob("*")):
        info, name = path.lstat(), str(path.relative_to(folder))
        if path.is_symlink():
            seen[name] = ("link", os.readlink(path))
        elif path.is_file():
            seen[name] = ("file", oct(info.st_mode), hashlib.sha256(path.read_bytes()).hexdigest())
        else:
            seen[name] = ("other", oct(info.st_mode))
    return seen


# The browser test's canary notebook holds a defect per check on purpose: it is opened in JupyterLab by
# tests/test_browser.py, never run by nbval.
collect_ignore = ["browser_canary.ipynb"]
