"""Notebook 07, CRL checks (guide chapter 8): the revocation lab below, exercises 07.1-07.3.

The revocation lab of notebook 07: a CA that publishes a CRL and answers OCSP on 127.0.0.1, an Expressway-C and
an Expressway-E on a mutual-TLS zone, and one call per (state, settings) that runs the real handshake.

States: ``good``, ``revoked`` (revoked in the CA database: OCSP says so at once; the CRL once republished),
``ocsp-unknown`` (a certificate the CA database never saw: it names the responder, which answers "unknown"),
``responder-down`` (the OCSP responder stopped) and ``crl-expired`` (the node holds only a CRL whose next update has
passed). The node holds the root CA's CRL too,
because CRL checking covers every CA in the chain (chapter 8); ``run(..., root_crl=False)`` leaves it out.

The issuing CA's certificates name the responder and the distribution point by lab host names without a port
(:data:`OCSP_URL`, :data:`CRL_URL`, as a public CA's on port 80); the servers listen on free ports and answer for those
names while they run (:mod:`labkit.httpd`), so the notebook prints the same certificates on every run and two copies
of it, or two trainees on one machine, never ask for the same port. The servers run until the kernel ends or
``lab.reset_all()`` stops them; :meth:`RevocationLab.run` starts them again if they were stopped, so the settings
widget never decides on a stopped server as if the responder were down by design.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import AuthorityInformationAccessOID

from labkit import guide, lab, revocation
from labkit.ca import init_ca
from labkit.errors import InputError, LabError
from labkit.exercises import check, exercise
from labkit.expressway.revocation import (
    SERVICES,
    CrlStore,
    Decision,
    RevocationSettings,
    outbound_connections,
    sip_tls_handshake,
)
from labkit.revocation import CrlServer, OcspServer
from labkit.revocation.crl import bulk_crl, fetch_crl, is_revoked
from labkit.tls.connection import Endpoint, Handshake
from labkit.x509 import decode
from labkit.x509.certs import CertSpec, Issued, issue, request, sign_builder
from labkit.x509.openssl import labkit_command, openssl

__all__ = ["STATES", "OCSP_URL", "CRL_URL", "RevocationLab", "bulk_crl", "check", "CrlStore", "decode", "fetch_crl",
           "is_revoked", "labkit_command", "openssl", "outbound_connections", "revocation", "RevocationSettings",
           "SERVICES"]

STATES = ("good", "revoked", "ocsp-unknown", "responder-down", "crl-expired")
LONG = lab.LONG  # days: until lab.LONG_END (2049), because OpenSSL checks validity against the real clock
#: Where the issuing CA's certificates say its OCSP responder and its CRL are: lab host names, port 80 as written.
OCSP_URL = "http://ocsp.lab.example/"
CRL_URL = "http://crl.lab.example/issuing.crl"
@dataclass
class Result:
    state: str
    settings: RevocationSettings
    decision: Decision
    trace: Handshake

    @property
    def accepted(self) -> bool:
        return self.trace.ok


class RevocationLab:
    """Build the lab in ``folder``; ``start()`` the CRL server and OCSP responder; ``run(state, settings)``."""

    def __init__(self, folder: str | Path):
        """Make the root and issuing CAs (fixture keys, valid until 2049) in ``folder``; nothing listens yet."""
        folder = Path(folder)
        self.root = init_ca(folder / "root", "labkit Root CA", key=lab.fixture_key("root-ca"), days=LONG)
        self.issuing = init_ca(folder / "issuing", "labkit Issuing CA", key=lab.fixture_key("issuing-ca"),
                               parent=self.root, days=LONG, ocsp_url=OCSP_URL, crl_url=CRL_URL)
        self.expe = self.issuing.sign(request(CertSpec("expe.lab.example"), lab.fixture_key("expe-1")),
                                      "client-server", days=LONG)
        self.issuing.crl(days=LONG)  # a first CRL, fresh until 2049
        self.root_crl = self.root.crl(days=LONG)  # the root's CRL (it lists the issuing CA if that is ever revoked)
        self.ocsp = OcspServer(self.issuing)
        self.crl_server = CrlServer(self.issuing)

    @property
    def ocsp_port(self) -> int:
        """The port the OCSP responder listens on now (a free one, new at each start; 0 before the first)."""
        return self.ocsp.port

    @property
    def crl_port(self) -> int:
        """The port the CRL server listens on now (a free one, new at each start; 0 before the first)."""
        return self.crl_server.port

    @property
    def running(self) -> bool:
        return self.ocsp.running and self.crl_server.running

    def start(self) -> RevocationLab:
        """Start the CRL server and the OCSP responder (those not running), each on a free port, answering for
        :data:`CRL_URL`'s and :data:`OCSP_URL`'s host names. They run until :meth:`stop`, ``lab.reset_all()`` or the
        end of the kernel. Raises LabError ``lab-reset`` when the lab's folder is gone (``lab.reset_all()`` deletes
        the working folders): the notebook's first cell makes a new lab."""
        if not (self.issuing.folder / "index.txt").exists():
            raise LabError("This revocation lab was reset (lab.reset_all() deleted its CA folder): run the notebook's "
                           "first cell again to make a new one", rule="lab-reset", value=str(self.issuing.folder),
                           chapter=guide.NB00_LAB)
        self.ocsp.start()
        self.crl_server.start()
        return self

    def stop(self) -> None:
        self.ocsp.stop()
        self.crl_server.stop()

    def __enter__(self) -> RevocationLab:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def client_certificate(self, state: str) -> Issued:
        """The Expressway-C's certificate for ``state`` (a fresh one per call, so states do not leak)."""
        if state not in STATES:
            raise InputError(f"Unknown state; choose one of {', '.join(STATES)}", rule="revocation-state",
                             value=state, chapter=guide.CH8_SIP)
        key = lab.fixture_key("expc-1")
        if state == "ocsp-unknown":  # signed with the CA's key but never recorded: its responder answers "unknown"
            issuer = Issued(self.issuing.certificate, self.issuing.private_key())
            stray = issue(CertSpec("expc.lab.example", days=LONG), key, issuer,
                          serial=0xDEAD0000 + lab.next_serial()).certificate
            responder = x509.AuthorityInformationAccess([x509.AccessDescription(
                AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(self.issuing.config.ocsp_url))])
            builder = x509.CertificateBuilder(stray.issuer, stray.subject, stray.public_key(), stray.serial_number,
                                              stray.not_valid_before_utc, stray.not_valid_after_utc,
                                              [*stray.extensions, x509.Extension(responder.oid, False, responder)])
            return Issued(sign_builder(builder, issuer.key), key)  # it names the responder, as the CA's own do
        cert = self.issuing.sign(request(CertSpec("expc.lab.example"), key), "client-server", days=LONG)
        if state == "revoked":
            self.issuing.revoke(cert, "keyCompromise")
            self.issuing.crl(days=LONG)  # republish, so CRL users see it too
        return Issued(cert, key)

    def run(self, state: str, settings: RevocationSettings | None = None, *, root_crl: bool = True) -> Result:
        """The real mutual-TLS handshake, the Expressway-E applying ``settings`` to the C's certificate. The node's
        manually uploaded CRL file holds the root's CRL (unless ``root_crl`` is false) and, for ``crl-expired``, the
        issuing CA's stale one. Servers that were stopped (``lab.reset_all()``, another lab that took their names) are
        started again first: only the ``responder-down`` state runs without the responder."""
        settings = settings or RevocationSettings()
        self.start()
        client = self.client_certificate(state)
        store = CrlStore()
        uploaded = [self.root_crl] if root_crl else []
        if state == "crl-expired":
            uploaded.append(self.issuing.crl(at=lab.now() - _dt.timedelta(days=30), days=7))
            self.issuing.crl(days=LONG)  # the server keeps a fresh one; this node holds only the stale file
            settings = RevocationSettings(settings.checking, settings.use_ocsp, settings.use_crls, False,
                                          settings.fallback)
        if uploaded:
            store.upload(b"".join(crl.public_bytes(serialization.Encoding.PEM) for crl in uploaded))
        if state == "responder-down":
            self.ocsp.stop()
        try:
            issuing = self.issuing.certificate
            c = Endpoint(chain=(client.certificate, issuing), key=client.key, trusted=(self.root.certificate,),
                         server_name="expe.lab.example")
            e = Endpoint(chain=(self.expe, issuing), key=lab.fixture_key("expe-1"), trusted=(self.root.certificate,),
                         require_client_certificate=True)
            decision, trace = sip_tls_handshake(c, e, settings, store)
        finally:
            if state == "responder-down":
                self.ocsp.start()  # on a new free port, answering for the same name
        return Result(state, settings, decision, trace)


@exercise("07.1", "Keep the zone up while the responder is down", guide.CH8_SIP)
def _fallback_choice(answer, *, revocation_lab) -> tuple[bool, str]:
    from labkit.expressway.revocation import RevocationSettings

    try:
        settings = RevocationSettings(use_ocsp=True, use_crls=False, fallback=str(answer))
    except Exception:
        return False, "the fallback is 'revoked' or 'not-revoked'"
    result = revocation_lab.run("responder-down", settings)
    if result.accepted:
        return True, "with 'treat as not revoked' an unreachable responder does not take the zone down (at a cost: " \
                     "a revoked certificate would pass too)"
    return False, "this fallback refuses every certificate whose status cannot be checked"


@exercise("07.2", "Ask the responder", guide.CH8_OCSP)
def _ocsp_answer(answer, *, certificate) -> tuple[bool, str]:
    from labkit.revocation import OcspStatus

    if not isinstance(answer, OcspStatus):
        return False, "pass what revocation.query(...) returned"
    if answer.status != "revoked":
        return False, f"the responder says '{answer.status}': revoke the certificate first, then ask again"
    return True, f"revoked at {answer.revocation_time:%Y-%m-%d %H:%M} ({answer.reason}): the responder reads the " \
                 "CA database at each request, so the answer changed at once"


@exercise("07.3", "Look a serial up on a big CRL", guide.CH8)
def _big_lookup(answer, *, crl, serial: int) -> tuple[bool, str]:
    from labkit.revocation.crl import is_revoked

    if not isinstance(answer, bool):
        return False, "answer True or False"
    if answer == is_revoked(crl, serial):
        return True, "right; is_revoked answers from a set of the CRL's serials, built once"
    return False, "not so: look the serial up on the CRL instead of reading the range (this chapter has a helper)"
