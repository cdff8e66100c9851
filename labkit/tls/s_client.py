"""What a TLS server sends, read with the real ``openssl s_client`` (guide chapter 2's TLS steps).

A peer's judgement starts from the unverified chain as the server sent it, which Python 3.11's ``ssl`` does not
expose (``get_unverified_chain`` arrived in 3.13). ``openssl s_client -showcerts`` prints every certificate the
server sent, in order, whether or not it verifies; ``-starttls xmpp`` / ``xmpp-server`` speaks XMPP's STARTTLS
(RFC 6120 section 5); ``-msg`` shows the handshake messages (a CertificateRequest among them). It is the command
administrators already run, so :func:`shown` gives it as a user would type it.

* :data:`SERVICES` -- the TLS services of an Expressway: default port and how TLS starts;
* :func:`s_client_args`, :func:`run_s_client` -- build and run the command (bounded by a timeout; with TLS 1.3 it
  waits a moment for the server's verdict on a client certificate);
* :func:`parse` -- what it printed, as a :class:`Session` (the chain as sent, version, cipher, verify code, whether a
  client certificate was asked for and with which CA names, an alert);
* :func:`resolve`, :func:`refuse_unreachable` -- a host that cannot be reached is a one-line
  :class:`~labkit.errors.InputError` (rule ``probe-unreachable``) naming the host, the port and the cause.

:mod:`labkit.expressway.probe` judges what this reads.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shlex
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from labkit import guide
from labkit.errors import InputError, LabError

__all__ = ["Service", "SERVICES", "Run", "Session", "hostport", "is_ip", "resolve", "s_client_args", "run_s_client",
           "parse", "refuse_unreachable", "unreachable", "shown"]


@dataclass(frozen=True)
class Service:
    """A kind of TLS service on an Expressway: its default port and how TLS starts (``starttls``: the value of
    ``openssl s_client -starttls``, or None for TLS from the first byte)."""

    name: str
    port: int
    starttls: str | None
    what: str


SERVICES: dict[str, Service] = {s.name: s for s in (
    Service("https", 443, None, "HTTPS (web administration, MRA's web proxy)"),
    Service("sip-tls", 5061, None, "SIP over TLS (neighbor zones, B2B)"),
    Service("traversal", 7001, None, "a traversal zone's SIP TLS port on the Expressway-E (mutual TLS)"),
    Service("xmpp-c2s", 5222, "xmpp", "XMPP client connections, STARTTLS (RFC 6120)"),
    Service("xmpp-s2s", 5269, "xmpp-server", "XMPP federation, STARTTLS (RFC 6120)"),
    Service("ldaps", 636, None, "LDAP over TLS (the Expressway as an LDAP client)"),
)}


def unreachable(host: str, port: int, cause: str) -> InputError:
    shown = host if len(host) <= 80 else f"{host[:60]}... ({len(host)} characters)"
    return InputError(f"Cannot reach {hostport(shown, port)}: {cause}", rule="probe-unreachable",
                      value=hostport(host, port), chapter=guide.CH2_TLS)


def resolve(host: str, port: int, timeout: float) -> None:
    """Resolve the name first, in a thread so that a slow resolver cannot hold the probe past ``timeout``."""
    with contextlib.suppress(ValueError):
        ipaddress.ip_address(host)
        return
    outcome: list = []

    def lookup() -> None:
        try:
            outcome.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except (OSError, UnicodeError) as exc:  # UnicodeError: a label longer than DNS allows
            outcome.append(exc)

    thread = threading.Thread(target=lookup, name="labkit-probe-dns", daemon=True)
    thread.start()
    thread.join(timeout)
    if not outcome:
        raise unreachable(host, port, f"the name did not resolve within {timeout:g} s")
    if isinstance(outcome[0], OSError):
        raise unreachable(host, port, f"the name does not resolve ({outcome[0].strerror or outcome[0]})")


def hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def s_client_args(host, port, spec: Service, servername, ca_file, client_files, moment) -> list[str]:
    exe = shutil.which("openssl")
    if exe is None:
        raise LabError("The openssl command is not installed: `apt-get install openssl` (or `make test`, which "
                       "installs it when run as root)", rule="openssl-installed", value="openssl",
                       chapter=guide.APPX_B)
    args = [exe, "s_client", "-connect", hostport(host, port)]
    name = servername or (None if is_ip(host) else host)
    args += ["-servername", name] if name else ["-noservername"]
    if spec.starttls:
        args += ["-starttls", spec.starttls, "-xmpphost", servername or host]
    args += ["-showcerts", "-msg", "-attime", str(int(moment.timestamp()))]
    if ca_file is not None:
        args += ["-CAfile", str(ca_file)]
    if client_files is not None:
        cert_path, key_path, rest = client_files
        args += ["-cert", str(cert_path), "-key", str(key_path)]
        if rest is not None:
            args += ["-cert_chain", str(rest)]
    return args


@dataclass(frozen=True)
class Run:
    stdout: str
    stderr: str
    timed_out: bool
    returncode: int | None


_LINGER = 1.0  # seconds: how long to wait for a TLS 1.3 server's verdict on the client certificate


def run_s_client(args: list[str], folder: Path, timeout: float) -> Run:
    """Run ``openssl s_client`` with its standard input open, and close it once the handshake is reported.

    With TLS 1.3 a server that asked for a client certificate judges it only after the client's Finished, so
    standard input stays open until its answer (a session ticket or an alert) arrives, at most :data:`_LINGER`
    seconds. ``timeout`` bounds everything: then the process is killed.
    """
    proc = subprocess.Popen(args, cwd=folder, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    out: list[str] = []
    err: list[str] = []

    def reader(stream, sink: list[str]) -> None:
        for raw in iter(stream.readline, b""):
            sink.append(raw.decode("utf-8", errors="replace"))

    threads = [threading.Thread(target=reader, args=(proc.stdout, out), daemon=True),
               threading.Thread(target=reader, args=(proc.stderr, err), daemon=True)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    reported_at = None
    closed = timed_out = False
    while proc.poll() is None:
        now = time.monotonic()
        if now >= deadline:
            timed_out = True
            proc.kill()
            break
        if not closed:
            text = "".join(out)
            marker = text.find("\nVerify return code:")
            if marker >= 0:
                reported_at = reported_at or now
                after = text[marker:]
                waiting = ("CertificateRequest" in text[:marker] and "New, TLSv1.3," in text
                           and "NewSessionTicket" not in after and "Alert" not in after
                           and now - reported_at < _LINGER)
                if not waiting:
                    with contextlib.suppress(OSError):
                        proc.stdin.close()
                    closed = True
        time.sleep(0.005)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=2)
    for thread in threads:
        thread.join(timeout=2)
    with contextlib.suppress(OSError):
        proc.stdin.close()
    return Run("".join(out), "".join(err), timed_out, proc.returncode)


@dataclass(frozen=True)
class Session:
    connected: bool
    client_hello_sent: bool
    chain: tuple[x509.Certificate, ...]
    version: str | None
    cipher: str | None
    verify_code: int | None
    verify_message: str
    certificate_requested: bool
    ca_names: tuple[str, ...]
    alert_received: str | None
    reason: str


_CA_NAMES_END = ("Client Certificate Types", "Requested Signature Algorithms", "Shared Requested",
                 "Peer signing", "Peer signature", "Server Temp Key", "---")


def parse(stdout: str, stderr: str) -> Session:
    lines = stdout.splitlines()
    chain: list[x509.Certificate] = []
    version = cipher = None
    verify_code, verify_message = None, ""
    ca_names: list[str] = []
    requested = hello = False
    alert = None
    in_chain = in_names = False
    pem: list[str] = []
    for line in lines:
        if line == "Certificate chain" and not chain:
            in_chain = True
            continue
        if in_chain:
            if line == "---":
                in_chain = False
            elif line.startswith("-----BEGIN CERTIFICATE-----"):
                pem = [line]
            elif pem:
                pem.append(line)
                if line.startswith("-----END CERTIFICATE-----"):
                    chain.append(x509.load_pem_x509_certificate("\n".join(pem).encode()))
                    pem = []
            continue
        if line == "Acceptable client certificate CA names":
            in_names = True
            continue
        if in_names:
            if line.startswith(_CA_NAMES_END):
                in_names = False
            else:
                ca_names.append(line.strip())
                continue
        if line.startswith(">>> ") and line.endswith(", ClientHello"):
            hello = True
        elif line.startswith("<<< ") and line.endswith(", CertificateRequest"):
            requested = True
        elif line.startswith("<<< ") and ", Alert [" in line and "fatal " in line and alert is None:
            alert = line.rsplit("fatal ", 1)[1].strip()
        elif line.startswith("New, ") and ", Cipher is " in line and version is None:
            proto, _, suite = line[5:].partition(", Cipher is ")
            if suite.strip() != "(NONE)":
                version, cipher = proto.strip(), suite.strip()
        elif line.startswith("Verify return code: ") and verify_code is None:
            code, _, message = line[len("Verify return code: "):].partition(" ")
            with contextlib.suppress(ValueError):
                verify_code, verify_message = int(code), message.strip().strip("()")
    # OpenSSL's error lines: CODE:error:LIBCODE:library:function:reason:file:line:data
    reason = next((line.split(":")[5] for line in stderr.splitlines()
                   if ":error:" in line and line.count(":") >= 6), "")
    return Session("CONNECTED(" in stdout, hello, tuple(chain), version, cipher, verify_code, verify_message,
                    requested, tuple(ca_names), alert, reason)


def refuse_unreachable(host: str, port: int, run: Run, session: Session, timeout: float) -> None:
    if session.connected:
        if run.timed_out and not session.chain:
            raise unreachable(host, port, f"connected, but no TLS answer within {timeout:g} s")
        return
    if run.timed_out:
        raise unreachable(host, port, f"no connection within {timeout:g} s")
    errno = next((line.split("errno=", 1)[1].strip() for line in run.stderr.splitlines() if "errno=" in line), "")
    cause = os.strerror(int(errno)).lower() if errno.isdigit() and int(errno) else ""
    if not cause:
        cause = session.reason or (run.stderr.strip().splitlines() or ["no connection"])[-1]
    raise unreachable(host, port, cause)


def shown(args: list[str], folder: Path) -> str:
    """The command as a user would type it: ``openssl`` by name, labkit's temporary files by their names."""
    prefix = f"{folder}/"
    return shlex.join(["openssl", *(a.removeprefix(prefix) for a in args[1:])])
