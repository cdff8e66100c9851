"""ACME on the Expressway-E against a real ACME server, Pebble (guide chapter 5).

The Expressway-E asks Let's Encrypt for its server certificate with ACME; the lab uses Pebble, Let's Encrypt's small
test server (Debian package ``pebble``), on 127.0.0.1 only. Layers, from the bottom:

* :class:`Pebble` -- the ACME server and its DNS (``pebble-challtestsrv``, which answers every name with
  127.0.0.1): two processes in their own process groups, a config with free ports, an HTTPS certificate for
  ``localhost``/``127.0.0.1`` from a lab CA, and a reliable :meth:`Pebble.stop` (also at exit, and when the object
  is garbage collected);
* :class:`ChallengeHost` -- the Expressway-E's short-lived "virtual host": it serves ``GET
  /.well-known/acme-challenge/<token>`` and nothing else (404, no listing), and runs only during validation;
* :class:`AcmeAccount`, :func:`order_certificate`, :func:`deploy`, :func:`revoke` -- the ACME client flow of
  chapter 5 (account with accepted terms, CSR signed by the provider after HTTP-01 validation, staged certificate
  deployed without a restart, Pebble's CAs appended to the trusted CA list);
* :class:`AcmePage` -- the Expressway-E's ACME page for one node: what the widgets in ``labkit.widgets.acme`` call;
* :func:`renewal_schedule` / :func:`renewal_timeline` -- the automated-renewal model on the lab clock (no network).

Pebble issues certificates at the machine's real time and makes new root and intermediate CAs at every start, so
serials, dates and URLs differ on every run: notebooks print only stable facts (status, names, verdicts).
Chain checks use real time (``lab.now_real()``), not the lab clock.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import contextlib
import ctypes
import datetime as _dt
import json
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Mapping
from pathlib import Path

from labkit import guide, lab
from labkit.errors import LabError
from labkit.httpd import free_port
from labkit.x509.certs import CertSpec, issue

__all__ = ["PEBBLE_MISSING", "Pebble", "pebble_available", "clear_stale_folders", "shared_pebble"]

_HOST = "127.0.0.1"


PEBBLE_MISSING = ("Pebble is not installed: run `apt-get install pebble` as root (Debian's `pebble` package ships "
                  "`pebble` and `pebble-challtestsrv`; `make test` installs it when run as root)")


def pebble_available() -> bool:
    """Whether ``pebble`` and ``pebble-challtestsrv`` are on PATH."""
    return shutil.which("pebble") is not None and shutil.which("pebble-challtestsrv") is not None


#: Process ids of every Pebble / challtestsrv this Python process started (tests check none survives).
STARTED_PIDS: list[int] = []


def _die_with_parent() -> None:  # runs in the child between fork and exec (Linux): killed if the kernel dies
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


#: Linux sends PR_SET_PDEATHSIG when the *thread* that forked the child ends, not the process. So every lab process
#: is forked by this one thread, which lives as long as Python does: a Pebble started from a widget's worker thread
#: outlives that thread, and still dies with the kernel.
_SPAWNER = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="labkit-spawner")

_FOLDER_PREFIX = "labkit-pebble-"
_OWNER = "owner.pid"  # the process id of the Python that made a Pebble folder


def _remove_folder(holder: dict) -> None:
    folder, holder["folder"] = holder.get("folder"), None
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def _cleanup(processes: list[subprocess.Popen], holder: dict, timeout: float) -> None:
    """Stop the processes and remove the temporary folder (at stop(), at exit, or when the Pebble is collected)."""
    _stop_processes(processes, timeout)
    _remove_folder(holder)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def clear_stale_folders(root: str | Path | None = None) -> list[Path]:
    """Remove the temporary folders of Pebbles whose Python process is gone (a killed kernel leaves one behind);
    returns what was removed. Folders of live processes, and of other users, are left alone."""
    removed = []
    for folder in Path(root or tempfile.gettempdir()).glob(f"{_FOLDER_PREFIX}*"):
        try:
            owner = int((folder / _OWNER).read_text())
        except (OSError, ValueError):
            continue  # not ours to judge (being made, or not a labkit folder)
        if not _alive(owner):
            shutil.rmtree(folder, ignore_errors=True)
            if not folder.exists():
                removed.append(folder)
    return removed


def _stop_processes(processes: list[subprocess.Popen], timeout: float = 5.0) -> None:
    """SIGTERM each process group, wait, then SIGKILL what is left; reap everything (safe to call twice)."""
    for proc in processes:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in processes:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    processes.clear()


_LIVE: weakref.WeakSet[Pebble] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for pebble in list(_LIVE):
        pebble.stop()


def _tls_files(folder: Path) -> tuple[Path, Path, Path]:
    """The lab CA (fixture key ``root-ca``) and Pebble's HTTPS certificate for localhost and 127.0.0.1, valid now
    in real time (Pebble and the client check it against the machine's clock). Serials are fixed, so the lab's
    serial counter is untouched."""
    start = lab.now_real() - _dt.timedelta(days=1)
    ca = issue(CertSpec("labkit Pebble TLS CA", ca=True, days=30), lab.fixture_key("root-ca"), at=start, serial=0xACE)
    server = issue(CertSpec("localhost", sans=("localhost", "127.0.0.1"), days=30, client_auth=False),
                   lab.fixture_key("ec-p256"), ca, at=start, serial=0xACE1)
    paths = folder / "tls-ca.pem", folder / "tls-cert.pem", folder / "tls-key.pem"
    paths[0].write_bytes(ca.cert_pem())
    paths[1].write_bytes(server.cert_pem() + ca.cert_pem())
    paths[2].write_bytes(server.key_pem())
    paths[2].chmod(0o600)
    return paths


class Pebble:
    """Pebble and its DNS server on 127.0.0.1, with free ports; a context manager.

    ``with Pebble() as pebble:`` starts both and waits until the ACME directory answers; leaving the block (or
    :meth:`stop`, at interpreter exit, or when the object is collected) stops both process groups: SIGTERM, then
    SIGKILL after ``stop_timeout`` seconds. On Linux the processes also die with the Python process that started
    them (a killed Jupyter kernel leaves no orphan).

    Certificates last ``lifetime_days`` (90, as Let's Encrypt's; Pebble's own default is five years).
    Every name resolves to 127.0.0.1 (challtestsrv's default answer), so Pebble validates HTTP-01 challenges by
    fetching ``http://<name>:<http_port>/.well-known/acme-challenge/<token>`` from this machine.
    """

    def __init__(self, *, lifetime_days: int = 90, start_timeout: float = 15.0, stop_timeout: float = 5.0,
                 authz_reuse: int = 0):
        self.lifetime_days = lifetime_days
        #: PEBBLE_AUTHZREUSE: the percentage of orders for which Pebble hands back a still valid authorization of
        #: the account instead of a new one (Let's Encrypt reuses them for 30 days). Pebble's own default is 50; the
        #: lab asks for 0, which Pebble still honours only 99 times in 100 (see ``order_certificate``).
        self.authz_reuse = authz_reuse
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.port = self.management_port = self.http_port = self.tls_port = 0
        self.dns_port = self.dns_management_port = 0
        self._processes: list[subprocess.Popen] = []
        self._holder: dict = {"folder": None}
        self._finalizer = weakref.finalize(self, _cleanup, self._processes, self._holder, stop_timeout)
        self._ssl: ssl.SSLContext | None = None
        #: How many times this Pebble was started: each start is a new ACME server (new CAs, no accounts), so an
        #: account registered at an earlier start is gone (see ``AcmeAccount.current``).
        self.starts = 0

    # -- life cycle ----------------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return bool(self._processes) and all(p.poll() is None for p in self._processes)

    @property
    def pids(self) -> tuple[int, ...]:
        return tuple(p.pid for p in self._processes)

    def start(self) -> Pebble:
        """Write the config, start challtestsrv and Pebble, and wait for the directory (LabError if it never
        answers, with the end of Pebble's log)."""
        if self._processes:
            return self
        binaries = {name: shutil.which(name) for name in ("pebble", "pebble-challtestsrv")}
        missing = [name for name, path in binaries.items() if path is None]
        if missing:
            raise LabError(PEBBLE_MISSING, rule="pebble-installed", value=", ".join(missing), chapter=guide.CH5)
        clear_stale_folders()
        self.folder = Path(tempfile.mkdtemp(prefix=_FOLDER_PREFIX))
        (self.folder / _OWNER).write_text(str(os.getpid()))
        self.starts += 1
        ca, cert, key = _tls_files(self.folder)
        self.ca_bundle = str(ca)
        self._ssl = ssl.create_default_context(cafile=self.ca_bundle)
        self.port, self.management_port, self.http_port, self.tls_port, self.dns_port, self.dns_management_port = (
            _free_ports(6))
        config = {"pebble": {"listenAddress": f"{_HOST}:{self.port}",
                             "managementListenAddress": f"{_HOST}:{self.management_port}",
                             "certificate": str(cert), "privateKey": str(key), "httpPort": self.http_port,
                             "tlsPort": self.tls_port, "ocspResponderURL": "",
                             "certificateValidityPeriod": self.lifetime_days * 86400,  # Let's Encrypt: 90 days
                             "externalAccountBindingRequired": False}}
        (self.folder / "pebble-config.json").write_text(json.dumps(config, indent=2))
        env = {**os.environ, "PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0",
               "PEBBLE_AUTHZREUSE": str(self.authz_reuse)}
        self._spawn([binaries["pebble-challtestsrv"], "-defaultIPv4", _HOST, "-defaultIPv6", "",
                     "-dns01", f"{_HOST}:{self.dns_port}", "-management", f"{_HOST}:{self.dns_management_port}",
                     "-http01", "", "-https01", "", "-tlsalpn01", ""], "challtestsrv.log", env)
        self._spawn([binaries["pebble"], "-config", str(self.folder / "pebble-config.json"),
                     "-dnsserver", f"{_HOST}:{self.dns_port}"], "pebble.log", env)
        _LIVE.add(self)
        lab.started(self)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _spawn(self, argv: list[str], log_name: str, env: Mapping[str, str]) -> None:
        log = open(self.folder / log_name, "wb")  # noqa: SIM115 (the child keeps it; closed right after the fork)
        with log:
            proc = _SPAWNER.submit(subprocess.Popen, argv, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, env=dict(env), cwd=self.folder, start_new_session=True,
                                   preexec_fn=_die_with_parent).result()  # noqa: PLW1509
        self._processes.append(proc)
        STARTED_PIDS.append(proc.pid)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while True:
            if not self.running:
                raise LabError(f"Pebble stopped while starting: {self.log_tail()}", rule="pebble-start",
                               value=self.directory_url, chapter=guide.CH5)
            try:
                self._get(self.directory_url, timeout=1)
                self._dns_ready()
                return
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    raise LabError(f"Pebble's directory did not answer within {self.start_timeout:g} s: "
                                   f"{self.log_tail()}", rule="pebble-start", value=self.directory_url,
                                   chapter=guide.CH5) from None
                time.sleep(0.1)

    def _dns_ready(self) -> None:
        self._dns_command("clear-servfail", {"host": "ready.lab.example"})

    @property
    def folder(self) -> Path | None:
        """The temporary folder of this run (config, TLS files, logs); None when stopped."""
        return self._holder["folder"]

    @folder.setter
    def folder(self, value: Path | None) -> None:
        self._holder["folder"] = value

    def stop(self) -> None:
        """Stop Pebble and challtestsrv (their whole process groups) and delete the temporary folder."""
        _cleanup(self._processes, self._holder, self.stop_timeout)
        _LIVE.discard(self)
        lab.stopped(self)

    def __enter__(self) -> Pebble:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def log_tail(self, lines: int = 5) -> str:
        """The last lines of Pebble's log (why it refused to start, for instance)."""
        if self.folder is None or not (self.folder / "pebble.log").exists():
            return "no log"
        text = (self.folder / "pebble.log").read_text(errors="replace").strip().splitlines()
        return " | ".join(text[-lines:]) or "empty log"

    # -- what the lab reads from it ----------------------------------------------------------------------------

    @property
    def directory_url(self) -> str:
        return f"https://{_HOST}:{self.port}/dir"

    @property
    def management_url(self) -> str:
        return f"https://{_HOST}:{self.management_port}"

    def _get(self, url: str, *, timeout: float = 5) -> bytes:
        with urllib.request.urlopen(url, context=self._ssl, timeout=timeout) as response:  # noqa: S310
            return response.read()

    def _require_running(self) -> None:
        if not self.running:
            raise LabError("Pebble is not running: use `with Pebble() as pebble:` or pebble.start()",
                           rule="pebble-running", value="stopped", chapter=guide.CH5)

    def roots(self) -> str:
        """PEM of Pebble's root CA and then its intermediate (made afresh at every start): what chapter 5 appends
        to the trusted CA list of every Expressway-E and traversal Expressway-C."""
        self._require_running()
        return "".join(self._get(self.management_url + path).decode().strip() + "\n"
                       for path in ("/roots/0", "/intermediates/0"))

    def cert_status(self, serial: int | str) -> dict:
        """Pebble's record of a certificate it issued (``{"Status": "Valid"|"Revoked", ...}``), by serial."""
        self._require_running()
        number = serial if isinstance(serial, int) else int(str(serial).replace(":", ""), 16)
        try:
            return json.loads(self._get(f"{self.management_url}/cert-status-by-serial/{number:x}"))
        except urllib.error.HTTPError as exc:
            if exc.code != 404:
                raise
            raise LabError("Pebble has no certificate with this serial", rule="pebble-serial",
                           value=f"{number:X}", chapter=guide.CH5) from None

    def _dns_command(self, command: str, body: Mapping[str, object]) -> None:
        request = urllib.request.Request(f"http://{_HOST}:{self.dns_management_port}/{command}",
                                         data=json.dumps(body).encode(), method="POST")
        with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
            response.read()

    def break_dns(self, name: str) -> None:
        """Make the lab DNS fail for ``name`` (SERVFAIL): the name no longer resolves, so validation fails."""
        self._require_running()
        self._dns_command("set-servfail", {"host": name})

    def fix_dns(self, name: str) -> None:
        """Undo :meth:`break_dns`."""
        self._require_running()
        self._dns_command("clear-servfail", {"host": name})

    def __repr__(self) -> str:
        return f"Pebble({'running, directory ' + self.directory_url if self.running else 'stopped'})"


_SHARED: list[Pebble] = []  # the kernel's Pebble (shared_pebble), once made


def shared_pebble() -> Pebble | None:
    """The kernel's Pebble for the notebooks: started at the first call and kept running for the kernel's lifetime
    (stopped at exit, or by ``lab.reset_all()``), so a notebook run again, its widgets and its exercises use one
    provider instead of a new one per run; started again if it was stopped. None when Pebble is not installed
    (:data:`PEBBLE_MISSING` says what to install). Raises LabError ``pebble-start`` if it cannot start."""
    if not pebble_available():
        return None
    if not _SHARED:
        _SHARED.append(Pebble())
    return _SHARED[0].start()


def _free_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports
