"""``labkit probe``: a live TLS service checked the way its peers see it (an Expressway, or any TLS server).

:func:`probe` connects to ``host:port`` with the real ``openssl s_client`` (STARTTLS first for XMPP), reads the
certificate chain exactly as the server sent it, and judges it: chain faults, OpenSSL's verification against the
trusted CA list, the name asked for, ``doctor``'s findings on the served certificate for the role given, and whether
the server asked for a client certificate (and which CA names it sent). The answer is a :class:`ProbeResult` with a
text form (:meth:`ProbeResult.text`) and a JSON form (:meth:`ProbeResult.as_json`).

Why ``openssl s_client``: a peer's judgement starts from the unverified chain as sent, which Python 3.11's ``ssl``
does not expose (``get_unverified_chain`` arrived in 3.13). ``openssl s_client -showcerts`` prints every certificate
the server sent, in order, whether or not it verifies; ``-starttls xmpp`` / ``xmpp-server`` speaks XMPP's STARTTLS
(RFC 6120 section 5); ``-msg`` shows the handshake messages (a CertificateRequest among them). It is the command
administrators already run, so :attr:`ProbeResult.command` is shown beside labkit's answer.

Rule ids (the command line's ``--json`` carries them; ``doctor``'s own rules on the served certificate come too, each
with its chapter). Every finding names its source in ``chapter``: a guide chapter, an RFC section, or
"labkit's advice".

============================  ========  ==========================================================================
rule                          severity  fires when
============================  ========  ==========================================================================
chain-incomplete              error     the served chain stops below a root: the next issuer was not sent and is
                                        not a root in the trusted CA list (warning when the trusted list holds
                                        that intermediate, so only this client gets by)
chain-order                   error     the certificates after the first are not in issuing order (each must
                                        certify the one before it)
chain-root-sent               info      a self-signed root was sent too: allowed, but useless to the peer
chain-expired-ca              error     a CA certificate the server sent is expired or not yet valid at "now"
chain-unrelated               warning   a certificate the server sent is not on the path from its certificate up
verify-failed                 error     OpenSSL's verification against the trusted CA list failed (the code and
                                        the kit's explanation of it)
name-mismatch                 error     the name asked for (``servername``, else the host) is not in the served
                                        certificate's subject alternative names
client-certificate-requested  info      the server asked for a client certificate (mutual TLS): the CA names it
                                        sent, or that it sent none
client-certificate-required   error     the server asked for a client certificate, none was given, and it ended
                                        the handshake
client-certificate-refused    error     a client certificate was given and the server refused it
handshake-failed              error     no TLS session came about (the alert or OpenSSL's reason)
starttls-failed               error     the XMPP server did not offer or accept STARTTLS for the domain asked
============================  ========  ==========================================================================

Refused with a :class:`~labkit.errors.LabkitError` (the command line exits 2): ``probe-unreachable`` (the name does
not resolve, the connection is refused or times out, or nothing answers within ``timeout``), and bad input
(``probe-service``, ``probe-port``, ``probe-role``, ``probe-timeout``, ``cert-and-key``; a ``ca`` file without a
certificate, ``ca-file-certificate``, or a list without one, ``probe-ca``), always before any connection.

Roles: ``expressway`` (either kind, doctor's default), ``expressway-c``, ``expressway-e``, and ``peer`` (a server
that is not an Expressway, such as an LDAP server or Unified CM: ``doctor`` is not applied).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import html
import inspect
import ipaddress
import shlex
import ssl
import tempfile
import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

from labkit import guide, lab
from labkit.errors import InputError
from labkit.expressway.doctor import Expectations, doctor
from labkit.expressway.findings import Finding, Verdict, html_table, severity_html
from labkit.expressway.roles import PROBE_ROLES
from labkit.tls.s_client import (
    SERVICES,
    Service,
    Session,
    hostport,
    is_ip,
    parse,
    refuse_unreachable,
    resolve,
    run_s_client,
    s_client_args,
    shown,
)
from labkit.x509.convert import pem_command
from labkit.x509.decode import fingerprint, label
from labkit.x509.loading import load_all, load_trusted, read_file
from labkit.x509.text import name_line
from labkit.x509.verify import VERIFY_MESSAGES, explain_verify_code, verify_chain

__all__ = ["SERVICES", "ROLES", "Service", "ServedCertificate", "ProbeResult", "probe", "chain_findings",
           "name_findings"]

_RFC_CHAIN = "RFC 8446 section 4.4.2 and RFC 5246 section 7.4.2 (the certificate_list)"
_RFC_PATH = "RFC 5280 section 6 (path validation), as OpenSSL applies it"
_RFC_VALIDITY = "RFC 5280 section 4.1.2.5 (validity)"
_RFC_NAME = "RFC 9525 section 6 (service identity)"
_RFC_CERT_REQUEST = "RFC 8446 section 4.3.2 and RFC 5246 section 7.4.4 (CertificateRequest)"
_RFC_XMPP = "RFC 6120 section 5 (STARTTLS)"
_ADVICE = "labkit's advice"





ROLES = tuple(PROBE_ROLES)  # labkit.expressway.roles: doctor's roles for an Expressway, and "peer"
_MAX_TIMEOUT = 300.0


@dataclass(frozen=True)
class ServedCertificate:
    """One certificate as the server sent it: its place in the list (``depth`` 0 is the server's own), subject and
    issuer as OpenSSL prints them, validity (UTC) and SHA-256 fingerprint (``AB:CD:...``)."""

    depth: int
    subject: str
    issuer: str
    not_before: _dt.datetime
    not_after: _dt.datetime
    sha256: str
    self_signed: bool
    ca: bool
    certificate: x509.Certificate = field(repr=False, compare=False)

    @classmethod
    def of(cls, depth: int, cert: x509.Certificate) -> ServedCertificate:
        return cls(depth, name_line(cert), name_line(cert, "issuer"), cert.not_valid_before_utc,
                   cert.not_valid_after_utc, fingerprint(cert), _self_signed(cert), _is_ca(cert), cert)

    def as_dict(self) -> dict:
        return {"depth": self.depth, "subject": self.subject, "issuer": self.issuer,
                "not_before": _iso(self.not_before), "not_after": _iso(self.not_after), "sha256": self.sha256,
                "self_signed": self.self_signed, "ca": self.ca,
                "pem": self.certificate.public_bytes(serialization.Encoding.PEM).decode()}


@dataclass(frozen=True)
class ProbeResult(Verdict):
    """What one probe saw and concluded. ``ok``: no finding of severity error; :meth:`exit_code` is the command
    line's (0 clean, 1 problems)."""

    host: str
    port: int
    service: str
    servername: str | None
    role: str
    at: _dt.datetime
    version: str | None
    cipher: str | None
    chain: tuple[ServedCertificate, ...]
    trusted: str  # what the chain was verified against: the --ca file, "the given CA certificates" or "system"
    verify_code: int | None
    verify_message: str
    name_checked: str | None
    client_certificate_requested: bool
    client_ca_names: tuple[str, ...]
    client_certificate_sent: bool
    findings: tuple[Finding, ...]
    command: str
    expressway_version: str | None = None

    def exit_code(self) -> int:
        return 0 if self.ok else 1

    @property
    def verify_explanation(self) -> str:
        if self.verify_code is None:
            return ""
        return "verified" if self.verify_code == 0 else explain_verify_code(self.verify_code)

    def as_json(self) -> dict:
        return {
            "host": self.host, "port": self.port, "service": self.service, "servername": self.servername,
            "role": self.role, "at": _iso(self.at), "ok": self.ok, "version": self.version, "cipher": self.cipher,
            "chain": [c.as_dict() for c in self.chain],
            "verification": {"trusted": self.trusted, "code": self.verify_code, "message": self.verify_message,
                             "explanation": self.verify_explanation},
            "name": {"checked": self.name_checked,
                     "matches": None if self.name_checked is None else "name-mismatch" not in self.rules()},
            "client_certificate": {"requested": self.client_certificate_requested,
                                   "ca_names": list(self.client_ca_names), "sent": self.client_certificate_sent},
            "findings": [f.as_dict() for f in self.findings],
            "command": self.command, "expressway_version": self.expressway_version,
        }

    def chain_table(self):
        """The served chain as a table (pandas), one row per certificate in the order sent."""
        import pandas as pd

        return pd.DataFrame([{"depth": c.depth, "subject": c.subject, "issuer": c.issuer,
                              "not after": f"{c.not_after:%Y-%m-%d %H:%M}", "sha256": c.sha256[:23] + "..."}
                             for c in self.chain], columns=["depth", "subject", "issuer", "not after", "sha256"])

    def findings_text(self) -> str:
        if not self.findings:
            return "no findings"
        return "\n".join(f"{f.severity.upper():<8} {f.rule:<28} {f.message} [{f.chapter}]" for f in self.findings)

    def verdict(self) -> str:
        counts = {s: sum(f.severity == s for f in self.findings) for s in ("error", "warning", "info")}
        head = "OK" if self.ok else "PROBLEMS"
        return f"{head}: {counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} note(s)"

    def text(self) -> str:
        extra = [f"service {self.service}", f"role {self.role}"]
        if self.servername:
            extra.insert(1, f"name {self.servername}")
        lines = [f"probe {hostport(self.host, self.port)} ({', '.join(extra)}) at {self.at:%Y-%m-%d %H:%M} UTC"]
        lines.append(f"TLS: {self.version or '-'}, {self.cipher or '-'}")
        lines.append("served chain (as sent):" if self.chain else "served chain: nothing received")
        for c in self.chain:
            lines.append(f"  [{c.depth}] {c.subject}")
            lines.append(f"      issuer: {c.issuer}")
            lines.append(f"      valid {c.not_before:%Y-%m-%d %H:%M} to {c.not_after:%Y-%m-%d %H:%M} UTC; "
                         f"sha256 {c.sha256}")
        if self.verify_code is not None:
            state = "OK" if self.verify_code == 0 else f"FAILED, code {self.verify_code} ({self.verify_message})"
            lines.append(f"verification against {self.trusted}: {state}")
        if self.name_checked is not None:
            found = "not in" if "name-mismatch" in self.rules() else "in"
            lines.append(f"name {self.name_checked}: {found} the certificate's subject alternative names")
        if self.client_certificate_requested:
            names = "; ".join(self.client_ca_names) if self.client_ca_names else "none"
            lines.append(f"client certificate: requested (CA names sent: {names})")
        else:
            lines.append("client certificate: not requested")
        lines.append(self.findings_text())
        lines.append(self.verdict())
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(self.text())

    def _repr_html_(self) -> str:
        chain = [(str(c.depth), html.escape(c.subject), html.escape(c.issuer), f"{c.not_after:%Y-%m-%d}")
                 for c in self.chain]
        rows = [(severity_html(f.severity), f"<code>{html.escape(f.rule)}</code>", html.escape(f.message),
                 html.escape(f.chapter)) for f in self.findings]
        return (f"<p><b>{html.escape(hostport(self.host, self.port))}</b> ({html.escape(self.service)}): "
                f"{html.escape(self.verdict())}; {html.escape(self.version or '-')}</p>"
                + html_table(("depth", "subject", "issuer", "not after"), chain)
                + html_table(("severity", "rule", "finding", "source"), rows))


# -- the probe ------------------------------------------------------------------------------------------------------

def probe(host: str, port: int | None = None, *, service: str = "https", ca=None, servername: str | None = None,
          role: str = "expressway", fqdn: str | None = None, cluster_fqdn: str | None = None,
          peer_fqdn: str | None = None, ucm_domains=(), xmpp_domains=(), chat_aliases=(), phone_profiles=(),
          cert=None, key=None, timeout: float = 10.0, at: _dt.datetime | str | None = None,
          expressway_version: str | None = None) -> ProbeResult:
    """Connect to ``host:port`` (default: the service's port) and judge what it serves.

    ``ca``: the trusted CA list (a PEM file's path, or certificates); None uses this machine's CA store.
    ``servername``: the name sent (SNI; the XMPP domain for STARTTLS) and checked (default: ``host``).
    ``cert``/``key``: a client certificate (chain) and its key, paths or objects, for mutual TLS. ``role`` and the
    UC names are ``doctor``'s (``role="peer"`` skips ``doctor``). ``at`` is "now" for every validity check
    (the lab clock unless given; the command line uses real time); OpenSSL gets it as ``-attime``.
    ``timeout`` (seconds) bounds the whole probe. ``expressway_version`` is passed to ``doctor`` when it takes one
    (until then it is recorded and otherwise ignored).

    Raises :class:`~labkit.errors.InputError` for bad input and ``probe-unreachable`` when nothing answers.
    """
    spec = _check_input(host, port, service, role, timeout, cert, key)
    port = spec.port if port is None else int(port)
    moment = lab.now(at)
    expect = None
    if role != "peer":
        expect = Expectations(role, fqdn, cluster_fqdn, peer_fqdn, tuple(ucm_domains), tuple(xmpp_domains),
                              tuple(chat_aliases), tuple(phone_profiles))
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="labkit-probe-") as tmp:
        folder = Path(tmp)
        trusted_certs, trusted_label, ca_file, converted = _trust(ca, folder)  # files first: bad input, then network
        client_files = _client_files(cert, key, folder)
        resolve(host, port, timeout)
        args = s_client_args(host, port, spec, servername, ca_file, client_files, moment)
        remaining = max(0.5, timeout - (time.monotonic() - started))
        run = run_s_client(args, folder, remaining)
    session = parse(run.stdout, run.stderr)
    refuse_unreachable(host, port, run, session, timeout)

    findings: list[Finding] = []
    served = session.chain
    name = servername or host
    findings += _session_findings(session, spec, name, bool(client_files))
    verify_code, verify_message = session.verify_code, session.verify_message
    if served:
        findings += chain_findings(served, trusted_certs, moment)
        if verify_code not in (None, 0):
            verify_code, verify_message, why = _first_cause(served, trusted_certs, moment, verify_code,
                                                            verify_message)
            findings.append(Finding("verify-failed", "error", f"OpenSSL could not verify the served chain against "
                                    f"{trusted_label}: code {verify_code} ({verify_message}): {why}", _RFC_PATH))
        findings += name_findings(served[0], name)
        if expect is not None:
            findings += _doctor_findings(served[0], expect, moment, expressway_version)
    return ProbeResult(
        host=host, port=port, service=spec.name, servername=servername, role=role, at=moment,
        version=session.version, cipher=session.cipher,
        chain=tuple(ServedCertificate.of(i, c) for i, c in enumerate(served)), trusted=trusted_label,
        verify_code=verify_code if served else None,
        verify_message=verify_message if served else "",
        name_checked=name if served else None, client_certificate_requested=session.certificate_requested,
        client_ca_names=session.ca_names, client_certificate_sent=bool(client_files) and session.certificate_requested,
        findings=tuple(findings), expressway_version=expressway_version,
        command=" && ".join([*([shlex.join(converted)] if converted else []), shown(args, folder)]))


_NO_PATH = {2, 18, 19, 20, 21}  # OpenSSL found no path to a trusted root


def _first_cause(served, trusted, moment, code: int, message: str) -> tuple[int, str, str]:
    """The code, OpenSSL's short message and the kit's explanation of why the served chain fails verification.

    ``s_client`` prints only OpenSSL's *last* verify error (its callback carries on past each one), so a chain whose
    issuing CA lacks basicConstraints ends on code 26 (purpose) though the first fault is 79. The one chain check,
    :func:`labkit.x509.verify.verify_chain`, names the first cause as ``labkit verify`` and ``labkit handshake`` do;
    when it finds no fault (a fault of the purpose, which it leaves to TLS), or when OpenSSL found no path to a
    trusted root at all (codes 2, 18-21: nothing carried on after that), OpenSSL's code stands."""
    check = verify_chain(served[0], trusted=trusted, intermediates=served[1:], at=moment, purpose="expressway")
    if check.ok or check.code is None or check.code == code or code in _NO_PATH:
        return code, message, explain_verify_code(code)
    why = f"{check.reason} ({explain_verify_code(check.code)}; s_client's last error was {code}, {message})"
    return check.code, VERIFY_MESSAGES.get(check.code, f"error {check.code}"), why




def _check_input(host, port, service, role, timeout, cert, key) -> Service:
    if service not in SERVICES:
        raise InputError(f"Unknown service; choose one of {', '.join(SERVICES)}", rule="probe-service",
                         value=service, chapter=guide.CH2_TLS)
    if not isinstance(host, str) or not host.strip() or any(ch.isspace() for ch in host.strip()):
        raise InputError("Give the host as a name or an IP address", rule="probe-host", value=host,
                         chapter=guide.CH2_TLS)
    if port is not None and not (isinstance(port, int) and 0 < port < 65536):
        raise InputError("The port is a number from 1 to 65535", rule="probe-port", value=port, chapter=guide.CH2_TLS)
    if role not in ROLES:
        raise InputError(f"Unknown role; choose one of {', '.join(ROLES)}", rule="probe-role", value=role,
                         chapter=guide.CH4)
    if not isinstance(timeout, int | float) or not 0 < timeout <= _MAX_TIMEOUT:
        raise InputError(f"The timeout is a number of seconds above 0 and at most {_MAX_TIMEOUT:.0f}",
                         rule="probe-timeout", value=timeout, chapter=guide.CH2_TLS)
    if (cert is None) != (key is None):
        raise InputError("--cert and --key go together", rule="cert-and-key", value=cert or key, chapter=guide.CH2_TLS)
    return SERVICES[service]






def _trust(ca, folder: Path) -> tuple[list[x509.Certificate], str, Path | None, list[str] | None]:
    """The trust anchors for the chain checks, a label for the text, the file for ``-CAfile`` (None: the
    machine's store, which ``s_client`` loads by default) and the command that converted a file OpenSSL cannot take
    as ``-CAfile`` (None when it took the file as it is). A PEM file is given to OpenSSL as it is; a PKCS#7 file (PEM
    or DER) or a DER certificate is read as ``handshake --ca`` reads it (:func:`labkit.x509.loading.load_trusted`)
    and given as PEM."""
    if ca is None:
        return _system_certificates(), "this machine's CA store", None, None
    if isinstance(ca, str | Path):
        items = load_trusted(ca)
        certs = [item.obj for item in items]
        label, path = Path(ca).name, Path(ca).absolute()
        converted = pem_command(items, str(ca), f"{Path(ca).name}.pem")
        if converted is not None:
            path = folder / converted[-1]
            path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs))
        return certs, label, path, converted
    else:
        certs = [ca] if isinstance(ca, x509.Certificate) else list(ca)
        label, path = "the given CA certificates", folder / "trusted.pem"
    if not certs or not all(isinstance(c, x509.Certificate) for c in certs):
        raise InputError("The trusted CA list must hold at least one certificate", rule="probe-ca", value=label,
                         chapter=guide.CH7_TRUSTED)
    path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs))
    return certs, label, path, None


def _system_certificates() -> list[x509.Certificate]:
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and Path(candidate).is_file():
            with contextlib.suppress(ValueError, OSError), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a system root with an odd serial is still a root
                return x509.load_pem_x509_certificates(Path(candidate).read_bytes())
    return []


def _client_files(cert, key, folder: Path) -> tuple[Path, Path, Path | None] | None:
    """The client certificate, its key and any further chain certificates as files for ``s_client``: the given
    files where OpenSSL can take them as they are, else files in ``folder``."""
    if cert is None:
        return None
    if isinstance(cert, str | Path):
        chain = [item.obj for item in load_all(read_file(cert)) if item.kind == "certificate"]
    else:
        chain = [cert] if isinstance(cert, x509.Certificate) else list(cert)
    key_obj = key
    if isinstance(key, str | Path):
        keys = [item.obj for item in load_all(read_file(key)) if item.kind == "private-key"]
        key_obj = keys[0] if len(keys) == 1 else None
    if not chain or key_obj is None or not hasattr(key_obj, "private_bytes"):
        raise InputError("--cert needs a certificate (then its chain) and --key exactly one private key",
                         rule="cert-and-key", value=str(cert), chapter=guide.CH2_TLS)
    if key_obj.public_key() != chain[0].public_key():
        raise InputError("The client key does not belong to the client certificate", rule="key-mismatch",
                         value=name_line(chain[0]), chapter=guide.CH7)
    if isinstance(cert, str | Path) and len(chain) == 1:
        cert_path = Path(cert).absolute()
    else:
        cert_path = folder / "client.pem"
        cert_path.write_bytes(chain[0].public_bytes(serialization.Encoding.PEM))
    if isinstance(key, str | Path):
        key_path = Path(key).absolute()
    else:
        key_path = folder / "client.key"
        key_path.touch(mode=0o600)
        key_path.write_bytes(key_obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))
    rest = None
    if len(chain) > 1:
        rest = folder / "client-chain.pem"
        rest.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain[1:]))
    return cert_path, key_path, rest








# -- running s_client -----------------------------------------------------------------------------------------------







# -- reading what s_client printed ----------------------------------------------------------------------------------









# -- judging it -----------------------------------------------------------------------------------------------------

def _session_findings(session: Session, spec: Service, name: str, client_given: bool) -> list[Finding]:
    findings: list[Finding] = []
    if spec.starttls and not session.client_hello_sent:
        findings.append(Finding("starttls-failed", "error", f"the XMPP server did not offer or accept STARTTLS for "
                                f"the domain '{name}' (an unknown domain, or TLS not enabled on this port): no "
                                "TLS handshake took place", _RFC_XMPP))
        return findings
    if session.certificate_requested:
        names = ("; ".join(f"'{n}'" for n in session.ca_names) if session.ca_names
                 else "none (any client certificate may be offered)")
        findings.append(Finding("client-certificate-requested", "info", f"the server asked for a client "
                                f"certificate (mutual TLS); CA names it sent: {names}", _RFC_CERT_REQUEST))
    failed = session.version is None or session.alert_received is not None
    if not failed:
        return findings
    why = f"alert {session.alert_received}" if session.alert_received else (session.reason or "no reason given")
    if session.certificate_requested and not client_given:
        findings.append(Finding("client-certificate-required", "error", f"the server requires a client "
                                f"certificate and ended the handshake without one ({why}): probe again with "
                                "--cert and --key", _RFC_CERT_REQUEST))
    elif session.certificate_requested and client_given:
        findings.append(Finding("client-certificate-refused", "error", f"the server refused the client "
                                f"certificate ({why}): check that it comes from a CA the server trusts, that it "
                                "carries clientAuth, and that --cert holds its intermediate CA certificates after it",
                                guide.APPX_E))
    else:
        findings.append(Finding("handshake-failed", "error", f"no TLS session came about ({why}); is this port a "
                                f"{spec.what} port?", guide.CH2_TLS))
    return findings


def _self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _issued_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    if child.issuer != parent.subject:
        return False
    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature):  # a wrong key, an odd algorithm: not this parent
        return False
    return True


def _label(cert: x509.Certificate) -> str:
    return label(cert.subject)


def chain_findings(served: Sequence[x509.Certificate], trusted: Iterable[x509.Certificate] = (),
                   at: _dt.datetime | str | None = None) -> list[Finding]:
    """Faults of a chain as a server sent it (``served[0]`` is the server's own certificate), judged against
    ``trusted`` (the trust anchors a peer holds) at ``at`` (the lab clock unless given).

    Rules: ``chain-order``, ``chain-incomplete``, ``chain-root-sent``, ``chain-expired-ca``, ``chain-unrelated``
    (see the module's table). Pure: no network, no files.
    """
    served = list(served)
    trusted = list(trusted)
    moment = lab.now(at)
    findings: list[Finding] = []
    if not served:
        return findings
    path = [served[0]]
    pool = served[1:]
    while not _self_signed(path[-1]):
        parent = next((c for c in pool if c not in path and _issued_by(path[-1], c)), None)
        if parent is None:
            break
        path.append(parent)
    sent_path = [c for c in served[1:] if c in path]
    if sent_path != path[1:]:
        order = " -> ".join(f"[{served.index(c)}]" for c in path)
        cas = [repr(_label(c)) for c in path[1:] if not _self_signed(c)]
        findings.append(Finding("chain-order", "error", f"the certificates are not sent in issuing order (the path "
                                f"runs {order} in the order sent): send {', then '.join(cas)} right after the "
                                "server's certificate, each one followed by the CA that issued it (the root may be "
                                "left out)", _RFC_CHAIN))
    for cert in served:
        if cert not in path:
            findings.append(Finding("chain-unrelated", "warning", f"'{_label(cert)}' (sent at depth "
                                    f"{served.index(cert)}) is not on the path from the server's certificate up: "
                                    "leave it out of the chain the server sends", _RFC_CHAIN))
    top = path[-1]
    if not _self_signed(top):
        findings += _incomplete(top, trusted, moment)
    for cert in served[1:]:
        if _self_signed(cert) and cert in path:
            findings.append(Finding("chain-root-sent", "info", f"the root '{_label(cert)}' was sent too: peers must "
                                    "already hold it in their trusted CA list, so sending it only adds bytes "
                                    "(allowed, not needed)", _RFC_CHAIN))
    for cert in served[1:]:
        if not _is_ca(cert) or cert not in path:
            continue
        start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
        if moment > end or moment < start:
            state = f"expired on {end:%Y-%m-%d}" if moment > end else f"not valid before {start:%Y-%m-%d}"
            findings.append(Finding("chain-expired-ca", "error", f"the CA certificate '{_label(cert)}' that the "
                                    f"server sends is {state}: peers refuse the chain; install the CA's current "
                                    "certificate on the server (and in the peers' trusted CA lists)", _RFC_VALIDITY))
    return findings


def _incomplete(top: x509.Certificate, trusted: list[x509.Certificate], moment) -> list[Finding]:
    """The served chain ends at ``top``, which is not a root: is its issuer a root the peer holds?"""
    issuer = label(top.issuer)
    parents = [c for c in trusted if _issued_by(top, c)]
    if any(_self_signed(c) for c in parents):
        return []
    fix = ("the server must send it after its own certificate (on an Expressway, the guide asks for the whole CA "
           "chain in the trusted CA list)")
    if parents:
        return [Finding("chain-incomplete", "warning", f"the server did not send the intermediate CA '{issuer}'; "
                        f"this client holds it in its trusted CA list and gets by, but a peer that trusts only the "
                        f"root cannot build the path: {fix}", _RFC_CHAIN)]
    return [Finding("chain-incomplete", "error", f"the served chain stops at '{_label(top)}', whose issuer "
                    f"'{issuer}' was not sent and is not a root in the trusted CA list: if '{issuer}' is an "
                    f"intermediate CA, {fix}; if it is a root, add it to the trusted CA list", _RFC_CHAIN)]


def _dns_matches(pattern: str, name: str) -> bool:
    """RFC 9525 section 6.3: a wildcard only as the whole left-most label, matching exactly one label."""
    pattern, name = pattern.lower().rstrip("."), name.lower().rstrip(".")
    if pattern == name:
        return True
    if pattern.startswith("*.") and "*" not in pattern[2:]:
        head, _, rest = name.partition(".")
        return bool(head) and rest == pattern[2:]
    return False


def name_findings(cert: x509.Certificate, name: str) -> list[Finding]:
    """``name-mismatch`` when ``name`` (a DNS name or an IP address) is not among ``cert``'s subject alternative
    names (RFC 9525: the CN is not looked at when there are SANs, and modern clients never look at it)."""
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        sans = x509.SubjectAlternativeName([])
    if is_ip(name):
        address = ipaddress.ip_address(name)
        if address in sans.get_values_for_type(x509.IPAddress):
            return []
        listed = [str(a) for a in sans.get_values_for_type(x509.IPAddress)] or ["none"]
        return [Finding("name-mismatch", "error", f"the address {name} is not an IP address SAN of the served "
                        f"certificate (its IP SANs: {', '.join(listed)}); connect by an FQDN the certificate "
                        "carries", guide.APPX_A_ZONES)]
    dns = sans.get_values_for_type(x509.DNSName)
    if any(_dns_matches(pattern, name) for pattern in dns):
        return []
    listed = ", ".join(dns) or "none"
    return [Finding("name-mismatch", "error", f"'{name}' is not among the served certificate's DNS names ({listed}): "
                    "peers that connect by this name refuse it; use a name it carries or have it reissued with this "
                    f"one ({_RFC_NAME})", guide.APPX_A_ZONES)]


def _doctor_findings(leaf: x509.Certificate, expect: Expectations, moment, version) -> list[Finding]:
    options = dict(role=expect.role, fqdn=expect.fqdn, cluster_fqdn=expect.cluster_fqdn, peer_fqdn=expect.peer_fqdn,
                   ucm_domains=expect.ucm_domains, xmpp_domains=expect.xmpp_domains,
                   chat_aliases=expect.chat_aliases, phone_profiles=expect.phone_profiles, at=moment)
    if version is not None and "expressway_version" in inspect.signature(doctor).parameters:
        options["expressway_version"] = version
    return list(doctor(leaf, **options).findings)


def _iso(moment: _dt.datetime) -> str:
    return moment.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
