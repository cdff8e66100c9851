"""Exercises that check themselves: ``check("01.2", answer, ...)`` says pass or not yet, with a hint.

Each exercise is a small function that works the expected answer out from the objects it is given (a signature is
verified, a fingerprint recomputed), so no answer is written down here. Reference solutions live in
``notebooks/solutions/``.
"""

from __future__ import annotations

import datetime as _dt
import html
import re
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import ExtendedKeyUsageOID

from . import lab, pki, progress_store
from .decode import fingerprint
from .errors import LabError

__all__ = ["Exercise", "Result", "EXERCISES", "check", "progress", "mystery_signature"]


@dataclass(frozen=True)
class Result:
    exercise: str
    passed: bool
    message: str

    def __str__(self) -> str:
        return f"{'PASS' if self.passed else 'NOT YET'} [{self.exercise}] {self.message}"

    def __bool__(self) -> bool:
        return self.passed

    def _repr_html_(self) -> str:
        colour = "#1b7f3b" if self.passed else "#a4262c"
        return (f'<div style="border-left:4px solid {colour};padding:4px 8px"><b>{"PASS" if self.passed else "NOT YET"}'
                f" [{html.escape(self.exercise)}]</b> {html.escape(self.message)}</div>")

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    chapter: str
    checker: Callable[..., tuple[bool, str]]


EXERCISES: dict[str, Exercise] = {}
_RESULTS: dict[str, Result] = {}  # the latest result of each exercise checked in this session
lab.on_reset_all(_RESULTS.clear)
lab.on_reset_all(progress_store.forget)  # and the saved ones (~/.labkit/progress.json)


def _exercise(ex_id: str, title: str, chapter: str):
    def register(func):
        EXERCISES[ex_id] = Exercise(ex_id, title, chapter, func)
        return func
    return register


def check(exercise_id: str, *answer, **context) -> Result:
    """Check an answer to exercise ``exercise_id``; never raises for a wrong answer, only says why.

    The result is also saved to ``~/.labkit/progress.json`` and, under JupyterHub, sent to the class service in the
    background (:mod:`labkit.progress_store`)."""
    if exercise_id not in EXERCISES:
        raise LabError(f"No such exercise; choose one of {', '.join(EXERCISES)}", rule="exercise-id",
                       value=exercise_id)
    try:
        passed, message = EXERCISES[exercise_id].checker(*answer, **context)
    except TypeError as exc:
        passed, message = False, f"the answer is not in the expected form ({exc})"
    result = Result(exercise_id, passed, message)
    _RESULTS[exercise_id] = result
    progress_store.record(exercise_id, passed, message)
    return result


def progress(notebook: str | None = None):
    """Which exercises pass, as a table (``notebook="01"`` for one notebook's): this session's results, and the
    saved ones of earlier sessions (``~/.labkit/progress.json``) for exercises not checked since."""
    import pandas as pd

    saved = progress_store.load()
    rows = []
    for ex in EXERCISES.values():
        if notebook and not ex.id.startswith(f"{notebook}."):
            continue
        result = _RESULTS.get(ex.id) or saved.get(ex.id)
        status = "not tried" if result is None else ("pass" if result.passed else "not yet")
        rows.append({"exercise": ex.id, "title": ex.title, "status": status, "guide": ex.chapter})
    return pd.DataFrame(rows, columns=["exercise", "title", "status", "guide"])


# -- 00 welcome -------------------------------------------------------------------------------------------------

@_exercise("00.1", "Move the lab clock one week forward", "notebook 00-welcome")
def _clock_week(answer) -> tuple[bool, str]:
    expected = lab.DEFAULT_INSTANT + _dt.timedelta(days=7)
    if not isinstance(answer, _dt.datetime):
        return False, "pass the value of lab.now() after moving the clock (a datetime)"
    if lab.now(answer) == expected:
        return True, f"the lab clock reads {expected:%Y-%m-%d %H:%M} UTC; lab.reset() puts it back"
    return False, (f"{answer:%Y-%m-%d %H:%M} is not one week after the default instant: call lab.reset() first, "
                   "then lab.clock.advance(days=7)")


# -- 01 PKI basics ----------------------------------------------------------------------------------------------

_CANDIDATES = (
    "Restart the Expressway-E at 22:00",
    "Append the new root CA to the trusted CA list",
    "Discard the pending CSR on peer 2",
)


def mystery_signature() -> tuple[tuple[str, ...], bytes, object]:
    """Three messages, a signature over one of them and the public key that checks it (exercise 01.1)."""
    return _CANDIDATES, pki.sign(lab.fixture_key("ucm"), _CANDIDATES[2]), lab.fixture_key("ucm").public_key()


@_exercise("01.1", "Which message was signed?", "guide chapter 2 (PKI Introduction)")
def _which_message(answer: str) -> tuple[bool, str]:
    _, signature, public = mystery_signature()
    if pki.verify(public, str(answer), signature):
        return True, "the signature verifies over exactly this message and no other"
    return False, "that message does not verify: try pki.verify(ucm_public, candidate, mystery) on each candidate"


@_exercise("01.2", "Whose key signed the server certificate?", "guide chapter 2 (PKI Introduction)")
def _issuer_of(answer, *, server: x509.Certificate) -> tuple[bool, str]:
    if not isinstance(answer, x509.Certificate):
        return False, "pass a certificate object (one of chain.<...>.certificate)"
    if answer == server:
        return False, "that is the server certificate itself; a CA signed it"
    if answer.subject != server.issuer:
        return False, "this certificate's Subject is not the server certificate's Issuer: read the Issuer line"
    try:
        server.verify_directly_issued_by(answer)
    except (ValueError, TypeError, InvalidSignature):
        return False, "the name matches the Issuer, but this certificate's key did not make the signature"
    return True, f"{answer.subject.rfc4514_string()} signed it: its public key verifies the server's signature"


@_exercise("01.3", "Put the three stages in order", "guide chapter 2 (Certificate Generation Overview)")
def _stages(answer) -> tuple[bool, str]:
    words = [str(a).lower() for a in answer] if isinstance(answer, list | tuple) else []
    patterns = (r"\bkeys?\b|key ?pair", r"request|csr", r"cert|sign|authori|issue")
    if len(words) == 3 and all(re.search(p, w) for p, w in zip(patterns, words, strict=True)):
        return True, "key first, then the request that carries the public key, then the CA's signed certificate"
    return False, "three steps: what must exist before a request can carry a public key? What does the CA return?"


@_exercise("01.4", "Read a fingerprint with OpenSSL", "guide appendix D (Decode Certificates)")
def _fingerprint(answer: str, *, certificate: x509.Certificate) -> tuple[bool, str]:
    text = str(answer)
    found = re.findall(r"(?:[0-9A-Fa-f]{2}:){19,31}[0-9A-Fa-f]{2}|\b[0-9A-Fa-f]{40,64}\b", text)
    given = found[-1].replace(":", "").upper() if found else ""
    expected = fingerprint(certificate, "sha256").replace(":", "")
    if given == expected:
        return True, "fingerprints match: OpenSSL and labkit hash the same DER bytes"
    if len(given) == 40:
        return False, "that is a SHA-1 fingerprint (20 bytes); ask openssl for -sha256"
    return False, ("not this certificate's SHA-256 fingerprint: run openssl x509 -in root.pem -noout -fingerprint "
                   "-sha256 and paste the 'sha256 Fingerprint=...' line (or pass run.stdout)")


# -- 05 OpenSSL CA ----------------------------------------------------------------------------------------------

_APPX_E = "guide appendix E (Enable AD CS for 'Client and Server')"


@_exercise("05.1", "Issue a certificate for a mutual-TLS zone", _APPX_E)
def _mutual_tls_cert(answer, *, ca) -> tuple[bool, str]:
    if not isinstance(answer, x509.Certificate):
        return False, "pass the certificate object that ca.sign(...) returned"
    try:
        answer.verify_directly_issued_by(ca.certificate)
    except (ValueError, TypeError, InvalidSignature):
        return False, f"this certificate was not issued by {ca.name}"
    try:
        usages = set(answer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        usages = set()
    if not {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH} <= usages:
        return False, ("an Expressway on a mutual-TLS zone is both TLS server and TLS client: which profile gives "
                       "both purposes (the AD CS 'Web client and server' template)?")
    return True, "serverAuth and clientAuth: the certificate works on both ends of a mutual-TLS zone"


@_exercise("05.2", "Publish a CRL that revokes it", "guide chapter 8 (Manage Certificate Revocation Lists)")
def _crl_revokes(answer, *, certificate: x509.Certificate, ca) -> tuple[bool, str]:
    if not isinstance(answer, x509.CertificateRevocationList):
        return False, "pass the CRL object that ca.crl() returned"
    if not answer.is_signature_valid(ca.certificate.public_key()):
        return False, f"this CRL was not signed by {ca.name}"
    if answer.get_revoked_certificate_by_serial_number(certificate.serial_number) is None:
        return False, "the certificate's serial is not on this CRL: revoke it first, then publish a new CRL"
    return True, "a relying party that loads this CRL now refuses the certificate"


@_exercise("05.3", "Find a serial in the CA database", "guide appendix B (Certificate Generation Using OpenSSL Only)")
def _serial_of(answer, *, ca, common_name: str) -> tuple[bool, str]:
    wanted = [e for e in ca.entries() if e.subject.endswith(f"/CN={common_name}")]
    given = str(answer).strip().upper().removeprefix("0X")
    if any(e.serial_hex == given.zfill(len(e.serial_hex)) for e in wanted):
        return True, "found it: index.txt keys every certificate by its serial"
    return False, f"look for /CN={common_name} in issuing.table() (or index.txt) and give its serial in hex"


# -- 03 Expressway certificates ---------------------------------------------------------------------------------

def mystery_certificate() -> x509.Certificate:
    """A certificate with one problem an Expressway would not accept (exercise 03.1)."""
    from .specimens import specimens

    return next(s.certificate for s in specimens() if s.name == "web-server-template")


@_exercise("03.1", "Name the broken rule", "guide chapter 2 (Points to be Aware)")
def _broken_rule(answer) -> tuple[bool, str]:
    from .doctor import doctor

    errors = [f.rule for f in doctor(mystery_certificate()).errors]
    if str(answer).strip() in errors:
        return True, f"doctor agrees: {answer} is why the Expressway would refuse it on a mutual-TLS zone"
    return False, "run doctor(mystery) and give the rule id of its error (a short name such as 'cn-not-fqdn')"


@_exercise("03.2", "Subject alternative names of a cluster peer", "guide chapter 2 (Certificate Use on the Expressway)")
def _peer_sans(answer, *, cluster_fqdn: str, peer_fqdn: str) -> tuple[bool, str]:
    from .names import is_fqdn

    names = [str(n).strip().lower() for n in answer] if isinstance(answer, list | tuple) else []
    if not names or not all(is_fqdn(n) for n in names):
        return False, "give a list of FQDNs (no wildcards, no host names)"
    missing = [n for n in (peer_fqdn, cluster_fqdn) if n.lower() not in names]
    if missing:
        return False, f"one name the peer is reached by is missing: {', '.join(missing)}"
    return True, "this peer's own FQDN and the cluster FQDN: traffic for either name reaches it"


@_exercise("03.3", "Common name of a cluster peer", "guide chapter 2 (Certificate Use on the Expressway)")
def _peer_cn(answer, *, cluster_fqdn: str, peer_fqdn: str) -> tuple[bool, str]:
    given = str(answer).strip().lower().rstrip(".")
    if given == cluster_fqdn.lower():
        return True, "every peer of the cluster carries the cluster FQDN as its CN"
    if given == peer_fqdn.lower():
        return False, "that is right for a standalone Expressway; in a cluster the CN is shared by all peers"
    return False, "the CN of a clustered peer is one of the two names in 03.2"


# -- 04 CSR building --------------------------------------------------------------------------------------------

@_exercise("04.1", "An Expressway-E request for MRA with CollabEdgeDNS", "guide chapter 4 (Expressway Certificates)")
def _edge_request(answer, *, domain: str) -> tuple[bool, str]:
    from .expressway import CsrRequest

    if not isinstance(answer, CsrRequest):
        return False, "pass the CsrRequest you built (CsrRequest(role=..., fqdn=..., ...))"
    if answer.role != "expressway-e":
        return False, "registration domains go on the Expressway-E's certificate: role='expressway-e'"
    names = answer.dns_names()
    if f"collab-edge.{domain}" not in names:
        return False, (f"the SANs {names} lack collab-edge.{domain}: give the registration domain {domain} with "
                       "ucm_domain_format='collab-edge'")
    if domain in names:
        return False, f"CollabEdgeDNS keeps the bare domain {domain} out of the certificate; remove it from the SANs"
    return True, f"collab-edge.{domain} is in the SANs, and the top-level domain {domain} is not"


@_exercise("04.2", "Whose certificate is it?", "guide chapter 3 (Server Certificates and Clustered Systems)")
def _owner(answer, *, cluster, certificate) -> tuple[bool, str]:
    owner = cluster.owner_of(certificate)
    if owner is None:
        return False, "none of the peers' keys matches this certificate"
    if str(answer).strip().lower() == owner.name.lower():
        return True, "its public key matches that peer's pending CSR, so only that peer can use it"
    return False, "compare the certificate's public key with each peer's (cluster.owner_of does it for you)"


@_exercise("04.3", "A phone security profile name the Expressway accepts", "guide chapter 4 (Expressway-C)")
def _profile_name(answer, *, profile: str, domain: str) -> tuple[bool, str]:
    from .names import fqdn_problem

    given = str(answer).strip()
    problem = fqdn_problem(given)
    if problem:
        return False, f"since X12.6 the name must be an FQDN: {problem}"
    if given.lower() != f"{profile}.{domain}".lower():
        return False, f"keep the profile's name and make it fully qualified in {domain}"
    return True, ("an FQDN: rename the profile to it on Unified CM and give the same name on the Expressway-C, so "
                  "TLS phones using it can register through MRA")


# -- 02 TLS handshake -------------------------------------------------------------------------------------------

@_exercise("02.1", "Who refuses, and with which code?", "guide appendix A (SIP TLS Negotiation Failures)")
def _who_refuses(side, code, *, scenario: str) -> tuple[bool, str]:
    from .tls_lab import run_scenario

    _, trace = run_scenario(scenario)
    outcome = trace.outcome
    if str(side).strip().lower() != outcome.failed_side:
        return False, "which end checks the certificate that is wrong? The client checks the server's; on a " \
                      "mutual-TLS zone the server checks the client's"
    if code != outcome.verify_code:
        return False, "the side is right; now find OpenSSL's verify_code in the outcome (trace.outcome.verify_code)"
    return True, f"the {outcome.failed_side} refuses with verify_code {outcome.verify_code}: {outcome.explanation}"


@_exercise("02.2", "Compute the master secret yourself", "guide chapter 2 (PKI Introduction: the TLS steps)")
def _master(answer, *, walkthrough) -> tuple[bool, str]:
    from .tls_keys import parse_keylog

    client_random = next(s.value for s in walkthrough.steps if s.name == "client random")
    logged = parse_keylog(walkthrough.trace.keylog)["CLIENT_RANDOM"][client_random]
    if answer == logged:
        return True, "the same 48 bytes OpenSSL logged: the randoms make every session's keys different"
    if isinstance(answer, bytes) and len(answer) == 48:
        return False, 'right length, wrong value: PRF(premaster, b"master secret", client_random + server_random)'
    return False, "pass 48 bytes: tls_keys.master_secret(premaster, client_random, server_random)"


@_exercise("02.3", "Make the zone work again", "guide appendix A (SIP TLS Negotiation Failures)")
def _zone_name(answer) -> tuple[bool, str]:
    from dataclasses import replace

    from .tls import handshake
    from .tls_lab import SCENARIOS, lab_pki

    client, server = SCENARIOS["name-not-in-san"].build(lab_pki())
    trace = handshake(replace(client, server_name=str(answer).strip()), server)
    if trace.ok:
        return True, "the peer address is now a name in the Expressway-E's certificate, and the zone comes up"
    return False, f"still failing: {trace.outcome.explanation}; look at the E's certificate SANs"


# -- 07 CRL checks ----------------------------------------------------------------------------------------------

@_exercise("07.1", "Keep the zone up while the responder is down", "guide chapter 8 (SIP TLS revocation)")
def _fallback_choice(answer, *, revocation_lab) -> tuple[bool, str]:
    from .crl_checks import RevocationSettings

    try:
        settings = RevocationSettings(use_ocsp=True, use_crls=False, fallback=str(answer))
    except Exception:
        return False, "the fallback is 'revoked' or 'not-revoked'"
    result = revocation_lab.run("responder-down", settings)
    if result.accepted:
        return True, "with 'treat as not revoked' an unreachable responder does not take the zone down (at a cost: " \
                     "a revoked certificate would pass too)"
    return False, "this fallback refuses every certificate whose status cannot be checked"


@_exercise("07.2", "Ask the responder", "guide chapter 8 (Online Certificate Status Protocol)")
def _ocsp_answer(answer, *, certificate) -> tuple[bool, str]:
    from .revocation import OcspStatus

    if not isinstance(answer, OcspStatus):
        return False, "pass what revocation.query(...) returned"
    if answer.status != "revoked":
        return False, f"the responder says '{answer.status}': revoke the certificate first, then ask again"
    return True, f"revoked at {answer.revocation_time:%Y-%m-%d %H:%M} ({answer.reason}): the responder reads the " \
                 "CA database at each request, so the answer changed at once"


@_exercise("07.3", "Look a serial up on a big CRL", "guide chapter 8 (Manage Certificate Revocation Lists)")
def _big_lookup(answer, *, crl, serial: int) -> tuple[bool, str]:
    from .crl_checks import is_revoked

    if not isinstance(answer, bool):
        return False, "answer True or False"
    if answer == is_revoked(crl, serial):
        return True, "right; is_revoked answers from a set of the CRL's serials, built once"
    return False, "not so: check with is_revoked(crl, serial)"


# At the end: these modules import this one and register exercises 06.x, 08.x, 09.x and 10.x.
from . import exercises_acme, exercises_capstone, exercises_store, exercises_troubleshooting  # noqa: E402, F401
