"""Notebook 02, the TLS handshake (guide chapter 2's TLS steps, appendix A): the failure lab, exercises 02.1-02.3.

The TLS failure lab: an Expressway-C and an Expressway-E, a working traversal zone, and each classic failure.

Every scenario builds its own small PKI from fixture keys and runs a real handshake (:func:`labkit.tls.connection`);
its expected outcome (which side fails, OpenSSL's ``verify_code``) is part of the scenario, so tests check it.

OpenSSL checks validity against the machine's real clock, not the lab clock. The lab's TLS certificates therefore
run from the lab instant (2026-01-05) to 2049-12-31, so the working cases keep working for years, while the
expired one ended before the lab instant and the not-yet-valid one starts in 2049.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from cryptography import x509

from labkit import guide, lab, tls
from labkit.exercises import check, exercise
from labkit.tls import keys
from labkit.tls.connection import Endpoint, Handshake, handshake
from labkit.tls.walkthrough import classic_rsa, tls13
from labkit.x509.certs import CertSpec, Issued, issue, sign_builder

__all__ = ["TlsPki", "Scenario", "SCENARIOS", "lab_pki", "run_scenario", "traversal_endpoints", "check", "classic_rsa",
           "keys", "tls", "tls13"]

UTC = _dt.timezone.utc
_START = lab.DEFAULT_INSTANT  # every certificate of the TLS lab lasts until lab.LONG_END: OpenSSL checks real time
@dataclass(frozen=True)
class TlsPki:
    root: Issued
    issuing: Issued
    expc: Issued  # Expressway-C, client and server
    expe: Issued  # Expressway-E, client and server
    rogue_root: Issued
    expe_expired: Issued
    expe_not_yet_valid: Issued
    expe_self_signed: Issued
    expc_server_only: Issued  # AD CS "Web Server" template: no clientAuth
    crl: x509.CertificateRevocationList  # the issuing CA's CRL, revoking expe


def _leaf(name: str, key: str, issuer: Issued, serial: int, *, start=_START, days=lab.LONG, client=True) -> Issued:
    spec = CertSpec(name, days=days, client_auth=client)
    return issue(spec, lab.fixture_key(key), issuer, at=start, serial=serial)


@cache
def lab_pki() -> TlsPki:
    """The PKI of the TLS lab (fixture keys, fixed serials from 0x3000, deterministic bytes)."""
    root = issue(CertSpec("labkit Root CA", ca=True, days=lab.LONG), lab.fixture_key("root-ca"), at=_START,
                 serial=0x3000)
    issuing = issue(CertSpec("labkit Issuing CA", ca=True, path_length=0, days=lab.LONG), lab.fixture_key("issuing-ca"),
                    root, at=_START, serial=0x3001)
    rogue = issue(CertSpec("labkit Root CA", ca=True, days=lab.LONG), lab.fixture_key("rogue-ca"), at=_START,
                  serial=0x3002)
    expc = _leaf("expc.lab.example", "expc-1", issuing, 0x3003)
    expe = _leaf("expe.lab.example", "expe-1", issuing, 0x3004)
    expired = _leaf("expe.lab.example", "expe-1", issuing, 0x3005, start=_START - _dt.timedelta(days=400), days=365)
    future = _leaf("expe.lab.example", "expe-1", issuing, 0x3006, start=_dt.datetime(2049, 6, 1, tzinfo=UTC),
                   days=180)
    selfie = issue(CertSpec("expe.lab.example", days=lab.LONG), lab.fixture_key("expe-1"), at=_START, serial=0x3007)
    server_only = _leaf("expc.lab.example", "expc-1", issuing, 0x3008, client=False)
    crl = sign_builder(
        x509.CertificateRevocationListBuilder().issuer_name(issuing.certificate.subject).last_update(_START)
        .next_update(lab.LONG_END).add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(0x3004)
                                                   .revocation_date(_START).build())
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuing.certificate.public_key()), False)
        .add_extension(x509.CRLNumber(1), False), issuing.key)
    return TlsPki(root, issuing, expc, expe, rogue, expired, future, selfie, server_only, crl)


def traversal_endpoints(pki: TlsPki | None = None, **changes) -> tuple[Endpoint, Endpoint]:
    """A working traversal zone: the Expressway-C (client) and the Expressway-E (server), mutual TLS, both sides
    trusting the lab root and sending their issuing CA. ``changes`` replace fields: ``client_chain=...``,
    ``server_trusted=...`` and so on."""
    pki = pki or lab_pki()
    client = dict(chain=(pki.expc.certificate, pki.issuing.certificate), key=pki.expc.key,
                  trusted=(pki.root.certificate,), server_name="expe.lab.example")
    server = dict(chain=(pki.expe.certificate, pki.issuing.certificate), key=pki.expe.key,
                  trusted=(pki.root.certificate,), require_client_certificate=True)
    for name, value in changes.items():
        side, _, attribute = name.partition("_")
        (client if side == "client" else server)[attribute] = value
    return Endpoint(**client), Endpoint(**server)


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    story: str  # what the trainee sees on an Expressway
    fix: str
    chapter: str
    failing_side: str | None  # None: it works
    verify_code: int | None
    build: Callable[[TlsPki], tuple[Endpoint, Endpoint]]


def _s(pki_field: str):
    return lambda p: (getattr(p, pki_field).certificate, p.issuing.certificate)


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("working", "Working traversal zone", "C and E verify each other; the zone is Active.",
             "Nothing to fix.", guide.CH2, None, None, lambda p: traversal_endpoints(p)),
    Scenario("expired", "Server certificate expired", "The zone fails; the C's logs show a certificate error.",
             "Renew the Expressway-E's certificate before it expires, and upload the new one.",
             guide.CH2_POINTS, "client", 10,
             lambda p: traversal_endpoints(p, server_chain=(p.expe_expired.certificate, p.issuing.certificate))),
    Scenario("not-yet-valid", "Server certificate not yet valid", "A freshly issued certificate fails at once.",
             "Check the clock and NTP of the CA and of both Expressways.", guide.CH2, "client", 9,
             lambda p: traversal_endpoints(p, server_chain=(p.expe_not_yet_valid.certificate,
                                                            p.issuing.certificate))),
    Scenario("name-not-in-san", "Peer address not in the SAN", "The zone's peer address names the E by a name "
             "(or IP) its certificate does not carry: SIP TLS negotiation fails.",
             "Set the zone's peer address to a name in the E's certificate, or reissue the certificate with that "
             "name as a SAN.", guide.APPX_A_ZONES, "client", 62,
             lambda p: traversal_endpoints(p, client_server_name="expe-old.lab.example")),
    Scenario("untrusted-ca", "Server's CA not trusted", "The C does not trust the CA that signed the E.",
             "Append the E's root CA certificate to the C's trusted CA list.", guide.CH7_TRUSTED, "client", 20,
             lambda p: traversal_endpoints(p, client_trusted=(p.rogue_root.certificate,))),
    Scenario("missing-intermediate", "Intermediate certificate missing", "The E sends only its own certificate; "
             "the C trusts only the root, so the chain has a gap.",
             "Upload the intermediate CA to the trusted CA list (or have the E send its full chain).",
             guide.CH7_TRUSTED, "client",
             20, lambda p: traversal_endpoints(p, server_chain=(p.expe.certificate,))),
    Scenario("self-signed", "Self-signed server certificate", "The E presents a self-signed certificate.",
             "Use a CA-signed certificate (self-signed ones do not work for Unified Communications).",
             guide.CH2_OVERVIEW, "client", 18,
             lambda p: traversal_endpoints(p, server_chain=(p.expe_self_signed.certificate,))),
    Scenario("client-without-clientauth", "Client certificate without clientAuth", "The C's certificate was made "
             "from the Web Server template: the E, verifying the C on this mutual-TLS zone, refuses it.",
             "Reissue the C's certificate with both serverAuth and clientAuth (the 'Web client and server' "
             "template).", guide.APPX_E, "server", 26,
             lambda p: traversal_endpoints(p, client_chain=(p.expc_server_only.certificate, p.issuing.certificate),
                                           client_key=p.expc_server_only.key)),
    Scenario("no-client-certificate", "No client certificate", "The C presents no certificate on a zone where "
             "the E requires one (TLS verify mode on).",
             "Load a server certificate (with clientAuth) and its key on the C.", guide.APPX_A_ZONES, "server", None,
             lambda p: traversal_endpoints(p, client_chain=(), client_key=None)),
    Scenario("revoked", "Server certificate revoked", "The C checks the CA's CRL and finds the E's certificate "
             "on it.", "Issue a new certificate for the E; find out why the old one was revoked.",
             guide.CH8, "client", 23,
             lambda p: traversal_endpoints(p, client_crls=(p.crl,))),
)}


def run_scenario(name: str, *, tls: str = "any") -> tuple[Scenario, Handshake]:
    """Build scenario ``name``'s endpoints and run the real handshake."""
    if name not in SCENARIOS:
        from labkit.errors import InputError

        raise InputError(f"Unknown scenario; choose one of {', '.join(SCENARIOS)}", rule="tls-scenario", value=name,
                         chapter=guide.APPX_A_ZONES)
    scenario = SCENARIOS[name]
    client, server = scenario.build(lab_pki())
    if tls != "any":
        from dataclasses import replace

        client, server = replace(client, tls=tls), replace(server, tls=tls)
    return scenario, handshake(client, server)


@exercise("02.1", "Who refuses, and with which code?", guide.APPX_A_ZONES)
def _who_refuses(side, code, *, scenario: str) -> tuple[bool, str]:
    from labkit.chapters.ch02_tls_handshake import run_scenario

    _, trace = run_scenario(scenario)
    outcome = trace.outcome
    if str(side).strip().lower() != outcome.failed_side:
        return False, "which end checks the certificate that is wrong? The client checks the server's; on a " \
                      "mutual-TLS zone the server checks the client's"
    if code != outcome.verify_code:
        return False, "the side is right; now the code: the handshake's outcome holds OpenSSL's verify code"
    return True, f"the {outcome.failed_side} refuses with verify_code {outcome.verify_code}: {outcome.explanation}"


@exercise("02.2", "Compute the master secret yourself", guide.CH2_TLS)
def _master(answer, *, walkthrough) -> tuple[bool, str]:
    from labkit.tls.keys import parse_keylog

    client_random = next(s.value for s in walkthrough.steps if s.name == "client random")
    logged = parse_keylog(walkthrough.trace.keylog)["CLIENT_RANDOM"][client_random]
    if answer == logged:
        return True, "the same 48 bytes OpenSSL logged: the randoms make every session's keys different"
    if isinstance(answer, bytes) and len(answer) == 48:
        return False, ("48 bytes, but not this session's: the PRF takes the premaster secret, the label and both "
                       "randoms, in the order RFC 5246 (8.1) gives")
    return False, "pass the master secret as bytes (48 of them): tls_keys derives it from the premaster and the randoms"


@exercise("02.3", "Make the zone work again", guide.APPX_A_ZONES)
def _zone_name(answer) -> tuple[bool, str]:
    from dataclasses import replace

    from labkit.chapters.ch02_tls_handshake import SCENARIOS, lab_pki
    from labkit.tls.connection import handshake

    client, server = SCENARIOS["name-not-in-san"].build(lab_pki())
    trace = handshake(replace(client, server_name=str(answer).strip()), server)
    if trace.ok:
        return True, "the peer address is now a name in the Expressway-E's certificate, and the zone comes up"
    return False, f"still failing: {trace.outcome.explanation}; look at the E's certificate SANs"
