"""Exercise results that last: a file in the trainee's home, and a copy on the class service under JupyterHub.

:func:`record` is called by :func:`labkit.exercises.check` for every answer. It writes the result to
``~/.labkit/progress.json`` (``$LABKIT_PROGRESS_FILE``, or ``$LABKIT_HOME/progress.json``, changes the place): one
JSON document replaced whole through a temporary file and a rename (as ``labkit.x509.files`` does), mode 0600
in a 0700 folder, so it survives a kernel restart, a server restart and a killed process. Concurrent kernels of
the same trainee take turns through an exclusive ``flock`` on ``progress.json.lock``.

Under JupyterHub the spawner sets ``$LABKIT_CLASS_URL`` (the class service) beside the hub's
``$JUPYTERHUB_API_TOKEN`` (this trainee's own token). Each :func:`record` then starts a daemon thread that sends
every result not yet acknowledged to ``POST {LABKIT_CLASS_URL}api/results``, with a short timeout. The notebook
never waits for it: when the service is down the check has already answered, the result stays marked unsent in
the file, and the next check sends it too ("a later check catches up").

The file format (version 1)::

    {"version": 1,
     "results": {"05.1": {"passed": true, "message": "...", "at": "2026-01-05T09:00:00.123456+00:00",
                          "attempts": 2, "sent": false}}}

``at`` is the machine's real time (not the lab clock): it orders attempts and tells the instructor when the
trainee last worked. Standard library only (plus :mod:`labkit.errors`): it sits below :mod:`labkit.exercises` in
the layers, so the class service and the spawner can reuse it without the notebook stack.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import json
import os
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from labkit.errors import LabkitError

__all__ = ["Record", "path", "record", "load", "forget", "sync", "class_endpoint", "FILE_ENV", "HOME_ENV",
           "CLASS_URL_ENV", "VERSION"]

FILE_ENV = "LABKIT_PROGRESS_FILE"
HOME_ENV = "LABKIT_HOME"
CLASS_URL_ENV = "LABKIT_CLASS_URL"
TOKEN_ENV = "JUPYTERHUB_API_TOKEN"
VERSION = 1
SEND_TIMEOUT = 3.0  # seconds one POST to the class service may take (in the background thread)
_CHAPTER = "README (A class on JupyterHub: progress that lasts)"


@dataclass(frozen=True)
class Record:
    """The latest result of one exercise: ``passed``, the checker's ``message`` (the hint when not passed),
    ``at`` (ISO 8601, real UTC time of the check), ``attempts`` (checks so far) and ``sent`` (acknowledged by the
    class service)."""

    exercise: str
    passed: bool
    message: str
    at: str
    attempts: int = 1
    sent: bool = False

    def payload(self) -> dict:
        """What the class service receives (everything but ``sent``)."""
        data = asdict(self)
        del data["sent"]
        return data


def path() -> Path:
    """Where the results live: ``$LABKIT_PROGRESS_FILE``, else ``$LABKIT_HOME/progress.json``, else
    ``~/.labkit/progress.json``."""
    if os.environ.get(FILE_ENV):
        return Path(os.environ[FILE_ENV]).expanduser()
    if os.environ.get(HOME_ENV):
        return Path(os.environ[HOME_ENV]).expanduser() / "progress.json"
    return Path.home() / ".labkit" / "progress.json"


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat()


_warned: set[str] = set()


def _warn_once(key: str, text: str) -> None:
    """One line on stderr, once per session: a progress file problem must never stop a check from answering."""
    if key not in _warned:
        _warned.add(key)
        print(f"labkit: {text}", file=sys.stderr)


@contextlib.contextmanager
def _locked(target: Path) -> Iterator[None]:
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(target.with_name(target.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _read(target: Path) -> dict[str, Record]:
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        document = json.loads(text)
        if not isinstance(document, dict) or document.get("version") != VERSION:
            raise ValueError("not a version 1 progress file")
        return {ex: Record(exercise=ex, passed=bool(r["passed"]), message=str(r["message"]), at=str(r["at"]),
                           attempts=int(r.get("attempts", 1)), sent=bool(r.get("sent", False)))
                for ex, r in document["results"].items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        # Keep the unreadable file for whoever wants to look at it, and start a fresh one.
        aside = target.with_name(target.name + ".unreadable")
        os.replace(target, aside)
        _warn_once("unreadable", f"{target} was not a progress file; kept as {aside.name}, starting afresh")
        return {}


def _write(target: Path, results: dict[str, Record]) -> None:
    document = {"version": VERSION,
                "results": {ex: {k: v for k, v in asdict(r).items() if k != "exercise"}
                            for ex, r in sorted(results.items())}}
    # A temporary file in the same folder, then a rename: every other process (a kernel restarted, a server
    # restarted, a killed kernel) sees the old file or the new one. No fsync: only a power cut in the following
    # seconds could lose the last result, and each check would otherwise wait for the disk.
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(document, indent=1) + "\n")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load() -> dict[str, Record]:
    """Every exercise's latest result in the progress file (``{}`` when there is none or it cannot be read)."""
    target = path()
    try:
        with _locked(target):
            return _read(target)
    except OSError as exc:
        _warn_once("read", f"progress not read from {target} ({exc.strerror or exc})")
        return {}


def record(exercise: str, passed: bool, message: str) -> Record | None:
    """Save the latest result of ``exercise`` and, under JupyterHub, send it in the background.

    Returns the saved :class:`Record`, or ``None`` when the file could not be written (one line on stderr says
    why; the check itself still answers)."""
    target = path()
    try:
        with _locked(target):
            results = _read(target)
            previous = results.get(exercise)
            saved = Record(exercise, bool(passed), str(message), _now(),
                           attempts=(previous.attempts + 1) if previous else 1)
            results[exercise] = saved
            _write(target, results)
    except (OSError, LabkitError) as exc:
        _warn_once("write", f"progress not saved to {target} ({getattr(exc, 'strerror', None) or exc})")
        return None
    if class_endpoint() is not None:
        sync(wait=False)
    return saved


def forget() -> None:
    """Empty the progress file (``lab.reset_all()``): results already on the class service stay there."""
    target = path()
    with contextlib.suppress(OSError), _locked(target):
        if target.exists():
            _write(target, {})


# -- the copy on the class service ---------------------------------------------------------------------------------

def class_endpoint() -> tuple[str, str] | None:
    """``(results URL, token)`` when running under JupyterHub with the class service configured, else ``None``."""
    base, token = os.environ.get(CLASS_URL_ENV, ""), os.environ.get(TOKEN_ENV, "")
    if not base or not token:
        return None
    return base.rstrip("/") + "/api/results", token


_sync_lock = threading.Lock()
_sync_again = threading.Event()
_sync_thread: threading.Thread | None = None


def _send_pending() -> int:
    """POST every unsent result; mark the ones the service acknowledged. Returns how many were acknowledged."""
    endpoint = class_endpoint()
    if endpoint is None:
        return 0
    url, token = endpoint
    pending = [r for r in load().values() if not r.sent]
    if not pending:
        return 0
    body = json.dumps({"results": [r.payload() for r in pending]}).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Authorization": f"token {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=SEND_TIMEOUT) as answer:
            if answer.status // 100 != 2:
                return 0
    except (OSError, urllib.error.URLError, ValueError):
        return 0  # service down or refusing: the results stay unsent, the next check tries again
    target = path()
    acknowledged = 0
    try:
        with _locked(target):
            results = _read(target)
            for sent in pending:
                now = results.get(sent.exercise)
                if now is not None and now.at == sent.at and not now.sent:  # not replaced by a newer check meanwhile
                    results[sent.exercise] = replace(now, sent=True)
                    acknowledged += 1
            _write(target, results)
    except (OSError, LabkitError):
        return 0
    return acknowledged


def _sync_loop() -> None:
    global _sync_thread
    while True:
        _sync_again.clear()
        _send_pending()
        with _sync_lock:
            if not _sync_again.is_set():
                _sync_thread = None
                return


def sync(*, wait: bool = True) -> int | None:
    """Send unsent results to the class service now.

    ``wait=True`` sends in this thread and returns how many the service acknowledged; ``wait=False`` (what
    :func:`record` does) hands the work to one background thread and returns ``None`` at once. A check made while
    a send is under way is sent right after it."""
    global _sync_thread
    if wait:
        return _send_pending()
    with _sync_lock:
        _sync_again.set()
        if _sync_thread is None:
            _sync_thread = threading.Thread(target=_sync_loop, name="labkit-progress-sync", daemon=True)
            _sync_thread.start()
    return None
