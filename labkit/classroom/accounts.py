"""System users for the class, as The Littlest JupyterHub makes them, and the processes that belong to a session.

Each roster member is a Unix user (``useradd --create-home``; the home is closed to others, ``chmod o-rwx``), so
trainees cannot read each other's files and every process a trainee starts runs as that trainee. Only root can do
this: :func:`require_root` says so and stops the hub before it starts.

A single-user server's whole session (its kernels, the CRL and OCSP servers inside them, a Pebble they started) is
found by the marker variable :data:`SESSION_ENV` that the spawner puts in the server's environment and every child
inherits: :func:`session_processes` lists them, :func:`end_processes` stops them (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import threading
import time

from labkit.errors import LabError

__all__ = ["SESSION_ENV", "require_root", "ensure_user", "remove_user", "session_processes", "user_processes",
           "is_alive", "end_processes"]

SESSION_ENV = "LABKIT_CLASSROOM_SESSION"
_CHAPTER = "README (A class on JupyterHub)"
_USERADD = threading.Lock()  # the hub spawns members at once: useradd calls take turns on /etc/passwd


def require_root() -> None:
    """Raise :class:`~labkit.LabError` ``classroom-root`` unless running as root with ``useradd`` available."""
    if os.geteuid() != 0:
        raise LabError("The classroom hub makes one system user per trainee (useradd) and starts their servers as "
                       "them: run it as root (sudo make classroom)", rule="classroom-root", value=os.geteuid(),
                       chapter=_CHAPTER)
    if shutil.which("useradd") is None:
        raise LabError("useradd is missing (Debian package passwd)", rule="classroom-root", value="useradd",
                       chapter=_CHAPTER)


def ensure_user(name: str, *, home_base: str = "/home", comment: str = "labkit classroom") -> pwd.struct_passwd:
    """The system user ``name``, created with a home below ``home_base`` if missing (as root)."""
    with _USERADD:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
        return _useradd(name, home_base, comment)


def _useradd(name: str, home_base: str, comment: str) -> pwd.struct_passwd:
    require_root()
    home = os.path.join(home_base, name)
    done = subprocess.run(["useradd", "--create-home", "--home-dir", home, "--shell", "/bin/bash",
                           "--comment", comment, name], capture_output=True, text=True, check=False)
    if done.returncode != 0 and "already exists" not in done.stderr:
        raise LabError(f"useradd refused: {done.stderr.strip()}", rule="classroom-useradd", value=name,
                       chapter=_CHAPTER)
    entry = pwd.getpwnam(name)
    os.chmod(entry.pw_dir, 0o750)  # as TLJH: o-rwx on the home
    return entry


def remove_user(name: str) -> None:
    """Stop every process of ``name`` and delete the user and their home (``userdel --remove``); no-op if absent."""
    try:
        uid = pwd.getpwnam(name).pw_uid
    except KeyError:
        return
    end_processes(user_processes(uid))
    subprocess.run(["userdel", "--remove", name], capture_output=True, check=False)


def _proc_pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def user_processes(uid: int) -> list[int]:
    """Process ids of every live process whose real user id is ``uid`` (zombies, which have ended and only wait
    for their parent to collect their exit status, are not counted)."""
    found = []
    for pid in _proc_pids():
        try:
            with open(f"/proc/{pid}/status", encoding="utf-8") as status:
                fields = dict(line.split(":", 1) for line in status if ":" in line)
            if int(fields["Uid"].split()[0]) == uid and not fields["State"].strip().startswith("Z"):
                found.append(pid)
        except (OSError, ValueError, KeyError):
            continue
    return found


def session_processes(marker: str, uid: int | None = None) -> list[int]:
    """Process ids of every process (of ``uid``, if given) whose environment has ``SESSION_ENV=marker``."""
    wanted = f"{SESSION_ENV}={marker}".encode()
    candidates = user_processes(uid) if uid is not None else _proc_pids()
    found = []
    for pid in candidates:
        try:
            with open(f"/proc/{pid}/environ", "rb") as environ:
                if wanted in environ.read().split(b"\0"):
                    found.append(pid)
        except OSError:
            continue
    return found


def is_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie has ended: it only waits for its parent to collect it)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is gone, only not reaped yet
    except OSError:
        return False


def end_processes(pids: list[int], *, grace: float = 3.0) -> list[int]:
    """SIGTERM each process, wait up to ``grace`` seconds, SIGKILL the rest. Returns the ones that needed SIGKILL."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, 15)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(is_alive(p) for p in pids):
        time.sleep(0.05)
    killed = [p for p in pids if is_alive(p)]
    for pid in killed:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, 9)
    return killed
