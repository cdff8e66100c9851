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
import contextlib
import ctypes
import datetime as _dt
import http.server
import json
import os
import random
import re
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509 import verification

from labkit import lab
from labkit.certs import CertSpec, issue
from labkit.errors import InputError, LabError, PolicyError
from labkit.expressway import ExpresswayNode
from labkit.httpd import BackgroundServer, free_port
from labkit.loading import load_all
from labkit.store import CertificateStore

__all__ = [
    "Pebble",
    "pebble_available",
    "PEBBLE_MISSING",
    "ChallengeHost",
    "AcmeAccount",
    "order_certificate",
    "deploy",
    "revoke",
    "verify_chain",
    "is_revoked",
    "san_names",
    "Deployment",
    "AcmePage",
    "RenewalEvent",
    "renewal_schedule",
    "renewal_timeline",
]

CHAPTER = "guide chapter 5 (Using ACME on Expressway-E)"
_HOST = "127.0.0.1"
_WELL_KNOWN = "/.well-known/acme-challenge/"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,128}")
_EMAIL = re.compile(r"[^@\s]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
PEBBLE_MISSING = ("Pebble is not installed: run `apt-get install pebble` as root (Debian's `pebble` package ships "
                  "`pebble` and `pebble-challtestsrv`; `make test` installs it when run as root)")
#: RFC 5280 revocation reason codes that ACME accepts (RFC 8555 section 7.6).
REASONS = {"unspecified": 0, "keyCompromise": 1, "affiliationChanged": 3, "superseded": 4,
           "cessationOfOperation": 5}


def pebble_available() -> bool:
    """Whether ``pebble`` and ``pebble-challtestsrv`` are on PATH."""
    return shutil.which("pebble") is not None and shutil.which("pebble-challtestsrv") is not None


# -- processes ---------------------------------------------------------------------------------------------------

#: Process ids of every Pebble / challtestsrv this Python process started (tests check none survives).
STARTED_PIDS: list[int] = []


def _die_with_parent() -> None:  # runs in the child between fork and exec (Linux): killed if the kernel dies
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


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

    def __init__(self, *, lifetime_days: int = 90, start_timeout: float = 15.0, stop_timeout: float = 5.0):
        self.lifetime_days = lifetime_days
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.folder: Path | None = None
        self.port = self.management_port = self.http_port = self.tls_port = 0
        self.dns_port = self.dns_management_port = 0
        self._processes: list[subprocess.Popen] = []
        self._finalizer = weakref.finalize(self, _stop_processes, self._processes, stop_timeout)
        self._ssl: ssl.SSLContext | None = None

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
            raise LabError(PEBBLE_MISSING, rule="pebble-installed", value=", ".join(missing), chapter=CHAPTER)
        self.folder = Path(tempfile.mkdtemp(prefix="labkit-pebble-"))
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
        env = {**os.environ, "PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0", "PEBBLE_AUTHZREUSE": "0"}
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
            proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=dict(env), cwd=self.folder, start_new_session=True,
                                    preexec_fn=_die_with_parent)  # noqa: PLW1509
        self._processes.append(proc)
        STARTED_PIDS.append(proc.pid)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while True:
            if not self.running:
                raise LabError(f"Pebble stopped while starting: {self.log_tail()}", rule="pebble-start",
                               value=self.directory_url, chapter=CHAPTER)
            try:
                self._get(self.directory_url, timeout=1)
                self._dns_ready()
                return
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    raise LabError(f"Pebble's directory did not answer within {self.start_timeout:g} s: "
                                   f"{self.log_tail()}", rule="pebble-start", value=self.directory_url,
                                   chapter=CHAPTER) from None
                time.sleep(0.1)

    def _dns_ready(self) -> None:
        self._dns_command("clear-servfail", {"host": "ready.lab.example"})

    def stop(self) -> None:
        """Stop Pebble and challtestsrv (their whole process groups) and delete the temporary folder."""
        _stop_processes(self._processes, self.stop_timeout)
        _LIVE.discard(self)
        lab.stopped(self)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

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
                           rule="pebble-running", value="stopped", chapter=CHAPTER)

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
                           value=f"{number:X}", chapter=CHAPTER) from None

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


def _free_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


# -- the virtual host --------------------------------------------------------------------------------------------


class _ChallengeHandler(http.server.BaseHTTPRequestHandler):
    server: _ChallengeServer
    server_version = "labkit-acme"
    sys_version = ""

    def log_message(self, format: str, *args) -> None:
        pass  # requests are recorded in ChallengeHost.requests instead

    def _answer(self, status: int, body: bytes, *, send_body: bool = True) -> None:
        self.server.host.requests.append((self.command, self.path, status))
        self.send_response(status)
        self.send_header("Content-Type", "text/plain" if status == 200 else "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        path = self.path.split("?", 1)[0]
        token = path[len(_WELL_KNOWN):] if path.startswith(_WELL_KNOWN) else ""
        validation = self.server.host.resources.get(token) if _TOKEN.fullmatch(token) else None
        if validation is None:
            self._answer(404, b"404 Not Found\n")
        else:
            self._answer(200, validation.encode())

    def _not_found(self) -> None:
        self._answer(404, b"404 Not Found\n", send_body=self.command != "HEAD")

    do_HEAD = do_POST = do_PUT = do_DELETE = do_OPTIONS = do_PATCH = _not_found  # noqa: N815


class _ChallengeServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    host: ChallengeHost


class ChallengeHost(BackgroundServer):
    """The Expressway-E's short-lived virtual host for HTTP-01 (chapter 5): ``GET
    /.well-known/acme-challenge/<token>`` answers the key authorization of a pending challenge; anything else,
    any other method, and any directory gets 404. It listens on 127.0.0.1 only, and only while validation runs.

    ``resources`` maps tokens to key authorizations; ``requests`` records ``(method, path, status)`` of every
    request (Pebble's fetches, for instance).
    """

    thread_name = "labkit-acme-vhost"

    def __init__(self, port: int, resources: Mapping[str, str] | None = None):
        super().__init__(port)
        self.resources: dict[str, str] = dict(resources or {})
        self.requests: list[tuple[str, str, int]] = []

    @property
    def url(self) -> str:
        return f"http://{_HOST}:{self.port}"

    def _make_server(self, address):
        server = _ChallengeServer(address, _ChallengeHandler)
        server.host = self
        return server

    def _listen_error(self, exc: OSError) -> LabError:
        return LabError(f"The ACME virtual host cannot listen on {_HOST}:{self.port}: {exc.strerror or exc}",
                        rule="acme-virtual-host-port", value=self.port, chapter=CHAPTER)

    def __repr__(self) -> str:
        return f"ChallengeHost({'serving ' + self.url if self.running else 'stopped'}, {len(self.resources)} tokens)"


# -- the ACME client flow ----------------------------------------------------------------------------------------


def _acme():
    """The ``acme`` client library (certbot's), imported on first use with a clear message if missing."""
    try:
        import josepy
        from acme import client, errors, messages
    except ImportError:
        raise LabError("The Python `acme` package is missing: pip install acme", rule="acme-installed",
                       value="acme", chapter=CHAPTER) from None
    return client, messages, errors, josepy


@dataclass
class AcmeAccount:
    """An ACME account at a provider: its key (a JWK), contact email, and the client bound to it."""

    pebble: Pebble
    email: str
    client: object = field(repr=False)
    key: object = field(repr=False)
    uri: str = field(repr=False)

    @classmethod
    def register(cls, pebble: Pebble, email: str, accept_terms: bool) -> AcmeAccount:
        """Register with the provider: the admin email and acceptance of its terms of service are required
        (chapter 5: have the provider's terms reviewed first). A fresh account key every time."""
        if accept_terms is not True:
            raise PolicyError("The ACME provider's terms of service must be accepted before an account is "
                              "registered (chapter 5: have them reviewed by your legal team)", rule="acme-terms",
                              value=accept_terms, chapter=CHAPTER)
        email = (email or "").strip()
        if not _EMAIL.fullmatch(email):
            raise InputError("The admin email address is needed for the account (use a dedicated mailbox)",
                             rule="acme-email", value=email, chapter=CHAPTER)
        pebble._require_running()
        client_mod, messages, errors, josepy = _acme()
        key = josepy.JWKEC(key=lab.new_key("ec", 256))
        net = client_mod.ClientNetwork(key, alg=josepy.ES256, verify_ssl=pebble.ca_bundle,
                                       user_agent="labkit-acme")
        client = client_mod.ClientV2(client_mod.ClientV2.get_directory(pebble.directory_url, net), net)
        registration = messages.NewRegistration.from_data(email=email, terms_of_service_agreed=True)
        account = client.new_account(registration)
        return cls(pebble, email, client, key, account.uri)


def _csr_pem(node_or_csr) -> tuple[bytes, ExpresswayNode | None]:
    if isinstance(node_or_csr, ExpresswayNode):
        if node_or_csr.role != "expressway-e":
            raise PolicyError("ACME is available on the Expressway-E only (X12.5 and later)",
                              rule="acme-expressway-e-only", value=node_or_csr.name, chapter=CHAPTER)
        return node_or_csr.csr_pem(), node_or_csr
    if isinstance(node_or_csr, x509.CertificateSigningRequest):
        return node_or_csr.public_bytes(serialization.Encoding.PEM), None
    data = node_or_csr.encode() if isinstance(node_or_csr, str) else bytes(node_or_csr)
    items = load_all(data)
    if len(items) != 1 or items[0].kind != "csr":
        raise InputError("order_certificate takes an Expressway-E node with a pending CSR, or one CSR in PEM",
                         rule="acme-csr", value=", ".join(i.kind for i in items), chapter=CHAPTER)
    return items[0].obj.public_bytes(serialization.Encoding.PEM), None


def _problem(error) -> tuple[str, str]:
    """(rule, Pebble's words) for a failed validation: which names failed and why."""
    details, dns = [], False
    for authz in getattr(error, "failed_authzrs", []):
        for challenge in authz.body.challenges:
            if challenge.error is not None:
                words = f"{challenge.error.typ} {challenge.error.detail}"
                dns = dns or words.endswith(":dns") or ":dns " in words or "could not resolve" in words
                details.append(f"{authz.body.identifier.value}: {challenge.error.detail or challenge.error.typ}")
    return ("acme-name-not-resolved" if dns else "acme-challenge-failed"), "; ".join(details) or str(error)


def order_certificate(account: AcmeAccount, node_or_csr_pem, http_port: int | None = None, *, serve: bool = True,
                      timeout: float = 30, host: ChallengeHost | None = None) -> str:
    """*Sign CSR with ACME provider*: submit the Expressway-E's pending CSR (or a CSR in PEM), answer one HTTP-01
    challenge per name from a :class:`ChallengeHost` on 127.0.0.1:``http_port`` (Pebble's ``httpPort`` by
    default) that runs only while the provider validates, then finalize. Returns the full chain PEM (the
    certificate, then the intermediate that issued it).

    ``serve=False`` leaves the virtual host down (port 80 closed): validation fails. Failures raise
    :class:`~labkit.errors.PolicyError` with the provider's words: ``acme-challenge-failed`` (a challenge file
    could not be read), ``acme-name-not-resolved`` (no DNS answer for a name), ``acme-order-refused`` (the
    provider will not issue for a name at all). Pass ``host`` to inspect the virtual host afterwards.
    """
    client_mod, messages, errors, josepy = _acme()
    csr_pem, _node = _csr_pem(node_or_csr_pem)
    account.pebble._require_running()
    client = account.client
    try:
        order = client.new_order(csr_pem)
    except messages.Error as exc:
        raise PolicyError(f"The ACME provider refused the order: {exc.detail or exc}", rule="acme-order-refused",
                          value=exc.typ, chapter=CHAPTER) from None
    from acme import challenges

    vhost = host if host is not None else ChallengeHost(http_port or account.pebble.http_port)
    if host is not None and http_port is not None:
        vhost.port = http_port
    pending = []
    for authz in order.authorizations:
        if authz.body.status == messages.STATUS_VALID:  # the provider reused an earlier validation for this name
            continue
        for challenge in authz.body.challenges:
            if isinstance(challenge.chall, challenges.HTTP01):
                response, validation = challenge.response_and_validation(account.key)
                vhost.resources[challenge.chall.encode("token")] = validation
                pending.append((challenge, response))
                break
        else:
            raise PolicyError("The provider offered no HTTP-01 challenge", rule="acme-http-01",
                              value=authz.body.identifier.value, chapter=CHAPTER)
    deadline = _dt.datetime.now() + _dt.timedelta(seconds=timeout)
    try:
        if serve:
            vhost.start()
        refused = []
        for challenge, response in pending:
            try:
                client.answer_challenge(challenge, response)
            except messages.Error as exc:
                if "status valid" in str(exc.detail or ""):  # validated meanwhile (reused authorization): fine
                    continue
                refused.append(exc)  # an earlier name already failed: the order is invalid
        order = client.poll_and_finalize(order, deadline)  # raises ValidationError with the failed names
        if refused:
            raise PolicyError(f"The provider refused a challenge answer: {refused[0].detail or refused[0]}",
                              rule="acme-challenge-failed", value=refused[0].typ, chapter=CHAPTER)
    except errors.ValidationError as exc:
        rule, detail = _problem(exc)
        raise PolicyError(f"Validation failed, no certificate was issued: {detail}", rule=rule,
                          value=", ".join(a.body.identifier.value for a in exc.failed_authzrs),
                          chapter=CHAPTER) from None
    except errors.TimeoutError:
        raise PolicyError(f"The provider did not finish within {timeout:g} s", rule="acme-timeout",
                          value=timeout, chapter=CHAPTER) from None
    finally:
        vhost.stop()  # chapter 5: the virtual host runs only during the challenge
        vhost.resources.clear()
    return order.fullchain_pem


def _certificates(pem) -> list[x509.Certificate]:
    data = pem.encode() if isinstance(pem, str) else bytes(pem)
    return [item.obj for item in load_all(data) if item.kind == "certificate"]


def verify_chain(fullchain_pem, roots_pem, *, at: _dt.datetime | None = None) -> bool:
    """Whether the full chain's certificate verifies as a TLS server certificate for its first DNS name, up to a
    root in ``roots_pem`` (cryptography's verifier, at real time unless ``at`` is given)."""
    leaf, *chain = _certificates(fullchain_pem)
    roots = [c for c in _certificates(roots_pem) if c.subject == c.issuer]
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName)
    verifier = (verification.PolicyBuilder().store(verification.Store(roots)).time(at or lab.now_real())
                .build_server_verifier(x509.DNSName(names[0])))
    try:
        verifier.verify(leaf, chain)
    except verification.VerificationError:
        return False
    return True


@dataclass(frozen=True)
class Deployment:
    """What :func:`deploy` did: the certificate now in service, the CA certificates appended, the findings of the
    trusted CA list, and that no restart was needed."""

    certificate: x509.Certificate
    appended: tuple[x509.Certificate, ...]
    findings: tuple
    restart_required: bool = False

    def __str__(self) -> str:
        return (f"deployed: {self.certificate.subject.rfc4514_string()}; CA certificates appended: "
                f"{len(self.appended)}; restart required: {self.restart_required}")


def deploy(store: CertificateStore, fullchain_pem, roots_pem) -> Deployment:
    """*Deploy pending certificate*: append the provider's root and intermediate to the trusted CA list, install
    the certificate on the node (it carries the key of the node's pending CSR), and take it into service at once:
    an ACME deployment reloads without a restart, existing TLS connections stay up (chapter 5)."""
    node = store.node
    if node is None:
        raise LabError("deploy needs the CertificateStore of an Expressway-E node", rule="acme-deploy-node",
                       value=store, chapter=CHAPTER)
    leaf, *_ = _certificates(fullchain_pem)
    cas = _certificates(roots_pem) + [c for c in _certificates(fullchain_pem)[1:]]
    unique: list[x509.Certificate] = []
    for cert in cas:
        if cert not in unique:
            unique.append(cert)
    node.install_certificate(leaf)  # refuses a certificate for another key
    findings = store.trusted.append("".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in unique))
    # ServerCertificateSlot models a manual upload (restart needed); an ACME deployment is live at once, which
    # the slot shows after restart(): the process reload of chapter 5.
    store.server.restart()
    return Deployment(leaf, tuple(unique), tuple(findings))


def revoke(account: AcmeAccount, cert, reason: str = "unspecified", *, node: ExpresswayNode | None = None) -> dict:
    """Revoke a certificate the provider issued (ACME ``revoke-cert``, signed by the account) and return Pebble's
    record of it. Refused for the certificate ``node`` has in service (``acme-revoke-in-use``): deploy its
    successor first."""
    cert = cert if isinstance(cert, x509.Certificate) else _certificates(cert)[0]
    if reason not in REASONS:
        raise InputError(f"Revocation reasons ACME accepts: {', '.join(REASONS)}", rule="acme-revoke-reason",
                         value=reason, chapter=CHAPTER)
    if node is not None and node.certificate is not None and node.certificate == cert:
        raise PolicyError(f"This is the certificate {node.name} is using: deploy a new one before revoking it",
                          rule="acme-revoke-in-use", value=cert.subject.rfc4514_string(), chapter=CHAPTER)
    _client, messages, errors, _jose = _acme()
    try:
        account.client.revoke(cert, REASONS[reason])
    except (messages.Error, errors.ClientError) as exc:
        raise PolicyError(f"The provider refused to revoke: {getattr(exc, 'detail', None) or exc}",
                          rule="acme-revoke-refused", value=f"{cert.serial_number:X}", chapter=CHAPTER) from None
    return account.pebble.cert_status(cert.serial_number)


def is_revoked(pebble: Pebble, cert: x509.Certificate) -> bool:
    """Whether Pebble's management API lists ``cert`` as revoked."""
    return pebble.cert_status(cert.serial_number).get("Status") == "Revoked"


def san_names(cert_or_pem) -> list[str]:
    """The DNS names of a certificate or CSR (or of the first certificate of a PEM chain), in their order."""
    cert = cert_or_pem if hasattr(cert_or_pem, "extensions") else _certificates(cert_or_pem)[0]
    return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName)


# -- the ACME page of one Expressway-E ---------------------------------------------------------------------------


class AcmePage:
    """*Maintenance > Security > ACME certificate* of one Expressway-E: provider, account, *Sign CSR with ACME
    provider* (the certificate is staged), *Deploy pending certificate*, and the automated-mode scheduler.

    ``store`` is the node's :class:`~labkit.store.CertificateStore` (made for ``node`` if not given).
    """

    def __init__(self, node: ExpresswayNode, store: CertificateStore | None = None):
        if node.role != "expressway-e":
            raise PolicyError("ACME is available on the Expressway-E only (X12.5 and later)",
                              rule="acme-expressway-e-only", value=node.name, chapter=CHAPTER)
        self.node = node
        self.store = store if store is not None else CertificateStore(node)
        self.provider: Pebble | None = None
        self.account: AcmeAccount | None = None
        self.pending: str | None = None
        self.schedule: tuple[tuple[str, ...], str] | None = None

    def register(self, provider: Pebble, email: str, accept_terms: bool) -> str:
        """Choose the provider and register the account (terms must be accepted)."""
        self.account = AcmeAccount.register(provider, email, accept_terms)
        self.provider = provider
        return f"Account registered with the ACME provider for {self.account.email}"

    def sign(self, *, serve: bool = True) -> str:
        """*Sign CSR with ACME provider*: the certificate is staged, not yet in service."""
        if self.account is None:
            raise PolicyError("Register an ACME account first (provider, admin email, accept terms)",
                              rule="acme-account", value=self.node.name, chapter=CHAPTER)
        self.pending = order_certificate(self.account, self.node, serve=serve)
        return (f"A signed certificate is staged for {self.node.name}: "
                f"{', '.join(san_names(self.pending))}; deploy it to take it into service")

    def deploy(self) -> str:
        """*Deploy pending certificate*: in service at once, no restart."""
        if self.pending is None or self.provider is None:
            raise PolicyError("There is no pending ACME certificate: sign the CSR with the ACME provider first",
                              rule="acme-nothing-pending", value=self.node.name, chapter=CHAPTER)
        result = deploy(self.store, self.pending, self.provider.roots())
        self.pending = None
        return (f"Deployed on {self.node.name} without a restart; {len(result.appended)} CA certificates appended "
                "to the trusted CA list")

    def automate(self, days: Iterable[str], time_of_day: str) -> str:
        """Turn on automated mode: renewals at two-thirds of the lifetime, deployment on ``days`` at
        ``time_of_day``."""
        days = tuple(days)
        renewal_schedule(lab.now(), days_of_week=days, time_of_day=time_of_day, horizon_days=1)  # validates
        self.schedule = (tuple(_weekday_name(d) for d in days), time_of_day)
        return f"Automated mode on: deployment on {', '.join(self.schedule[0])} at {time_of_day}"

    def status(self) -> str:
        cert = self.node.certificate
        return "\n".join([
            f"Expressway-E: {self.node.name}",
            f"ACME account: {'registered' if self.account else 'none'}",
            f"CSR pending: {self.node.pending_csr is not None}",
            f"ACME certificate staged: {self.pending is not None}",
            f"certificate in service: {', '.join(san_names(cert)) if cert is not None else 'none'}",
            f"automated mode: {'on' if self.schedule else 'off'}",
        ])

    def __repr__(self) -> str:
        return f"AcmePage({self.node.name}, account {'registered' if self.account else 'none'})"


# -- renewal on the lab clock -----------------------------------------------------------------------------------

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _weekday(day) -> int:
    if isinstance(day, int) and 0 <= day <= 6:
        return day
    if isinstance(day, str):
        for index, name in enumerate(_DAYS):
            if len(day.strip()) >= 3 and name.lower().startswith(day.strip().lower()):
                return index
    raise InputError("Days are weekday names (Monday or Mon) or numbers 0 (Monday) to 6 (Sunday)",
                     rule="acme-schedule-day", value=day, chapter=CHAPTER)


def _weekday_name(day) -> str:
    return _DAYS[_weekday(day)]


def _time_of_day(value) -> _dt.time:
    if isinstance(value, _dt.time):
        return value.replace(tzinfo=None, microsecond=0)
    match = re.fullmatch(r"\s*([01]?\d|2[0-3]):([0-5]\d)\s*", str(value))
    if not match:
        raise InputError("The deployment time is HH:MM (24-hour)", rule="acme-schedule-time", value=value,
                         chapter=CHAPTER)
    return _dt.time(int(match[1]), int(match[2]))


@dataclass(frozen=True)
class RenewalEvent:
    """One step of automated mode: ``kind`` is ``issued``, ``attempt`` (``ok`` says whether it got a certificate),
    ``deployed`` or ``expires``; ``generation`` counts certificates from 0."""

    when: _dt.datetime
    kind: str
    generation: int
    ok: bool = True

    def __str__(self) -> str:
        extra = "" if self.kind != "attempt" else (" (certificate obtained)" if self.ok else " (failed)")
        return f"{self.when:%Y-%m-%d %a %H:%M} {self.kind:<8} certificate {self.generation}{extra}"


def renewal_schedule(issued_at: _dt.datetime | str | None = None, *, lifetime_days: int = 90,
                     renew_fraction: float = 2 / 3, days_of_week: Iterable = ("Monday",),
                     time_of_day: str | _dt.time = "02:00", horizon_days: int = 365, seed: int = 0,
                     failed_attempts: int = 0) -> list[RenewalEvent]:
    """Automated mode, modelled on the lab clock (chapter 5), in time order.

    The first certificate is issued at ``issued_at`` (the lab clock by default) and deployed at the next slot of
    the admin's schedule (``days_of_week`` at ``time_of_day``). From day ``lifetime_days * renew_fraction`` of a
    certificate's life (day 60 of 90) the stored CSR is resubmitted twice a day at random times (a seeded RNG:
    the same ``seed`` gives the same times); the first ``failed_attempts`` attempts of each renewal fail (port 80
    closed, say). A renewed certificate is deployed at the next slot after it arrives. Events stop at
    ``horizon_days`` after ``issued_at``.
    """
    start = lab.now(issued_at)
    if not isinstance(lifetime_days, int) or lifetime_days <= 0:
        raise InputError("The lifetime is a positive number of days", rule="acme-lifetime", value=lifetime_days,
                         chapter=CHAPTER)
    if not 0 < renew_fraction < 1:
        raise InputError("Renewal starts part-way through the lifetime: 0 < renew_fraction < 1",
                         rule="acme-renew-fraction", value=renew_fraction, chapter=CHAPTER)
    days = sorted({_weekday(d) for d in ([days_of_week] if isinstance(days_of_week, str | int) else days_of_week)})
    if not days:
        raise InputError("Choose at least one deployment day", rule="acme-schedule-day", value="none",
                         chapter=CHAPTER)
    slot_time = _time_of_day(time_of_day)
    end = start + _dt.timedelta(days=horizon_days)
    rng = random.Random(seed)

    def next_slot(after: _dt.datetime) -> _dt.datetime:
        day = after.date()
        while True:
            slot = _dt.datetime.combine(day, slot_time, tzinfo=after.tzinfo)
            if day.weekday() in days and slot > after:
                return slot
            day += _dt.timedelta(days=1)

    events: list[RenewalEvent] = []
    generation, issued = 0, start
    events.append(RenewalEvent(issued, "issued", 0))
    events.append(RenewalEvent(next_slot(issued), "deployed", 0))
    while issued < end:
        events.append(RenewalEvent(issued + _dt.timedelta(days=lifetime_days), "expires", generation))
        due_day = (issued + _dt.timedelta(days=lifetime_days * renew_fraction)).date()
        failures, obtained = failed_attempts, None
        day = due_day
        while obtained is None:
            midnight = _dt.datetime.combine(day, _dt.time(), tzinfo=start.tzinfo)
            for second in sorted(rng.sample(range(86400), 2)):  # two attempts a day, random times
                when = midnight + _dt.timedelta(seconds=second)
                ok = failures == 0
                events.append(RenewalEvent(when, "attempt", generation + 1, ok))
                if ok:
                    obtained = when
                    break
                failures -= 1
            day += _dt.timedelta(days=1)
        generation, issued = generation + 1, obtained
        events.append(RenewalEvent(issued, "issued", generation))
        events.append(RenewalEvent(next_slot(issued), "deployed", generation))
    return sorted((e for e in events if e.when <= end), key=lambda e: (e.when, e.generation))


def renewal_timeline(events: list[RenewalEvent]):
    """A matplotlib figure: one bar per certificate from issue to expiry, the renewal attempts as ticks and the
    deployments as diamonds."""
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    issued = {e.generation: e.when for e in events if e.kind == "issued"}
    expires = {e.generation: e.when for e in events if e.kind == "expires"}
    fig, ax = plt.subplots(figsize=(9, 0.5 * len(issued) + 1.5))
    for gen, start in issued.items():
        stop = expires.get(gen, start + _dt.timedelta(days=90))
        ax.barh(gen, mdates.date2num(stop) - mdates.date2num(start), left=mdates.date2num(start), height=0.4,
                color="#cfe2f3", edgecolor="#1f4e79")
    for kind, marker, colour, label in (("attempt", "|", "#a4262c", "renewal attempt"),
                                        ("deployed", "D", "#1b7f3b", "deployed")):
        points = [e for e in events if e.kind == kind]
        if points:
            ax.scatter([mdates.date2num(e.when) for e in points], [e.generation for e in points], marker=marker,
                       color=colour, label=label, zorder=3, s=60 if marker == "|" else 30)
    ax.set_yticks(list(issued), [f"certificate {g}" for g in issued])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    ax.set_title("ACME automated mode: renew at two-thirds of the lifetime, deploy on the schedule")
    ax.legend(loc="lower right", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    plt.close(fig)
    return fig

