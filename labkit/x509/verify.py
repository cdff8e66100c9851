"""One chain check for the whole kit, and one explanation of OpenSSL's verify codes.

:func:`verify_chain` builds and verifies the path from a certificate to a trust anchor (RFC 5280 section 6.1) with
cryptography's verifier, at an instant that is an input (the lab clock unless given), and answers with one result
type, :class:`ChainCheck`: whether it verifies, why not in a trainee's words, the path, the rule id and the OpenSSL
verify code that says the same. Two purposes cover every caller:

* ``"tls-server"`` -- what a TLS client checks (guide chapter 2): every certificate it trusts is an anchor, the
  server's name must be a subject alternative name, and the leaf must be fit for TLS server authentication;
  ``openssl verify -CAfile TRUSTED -untrusted CHAIN -verify_hostname NAME LEAF`` asks the same;
* ``"expressway"`` -- what the Expressway's trusted CA list vouches for (chapters 2 and 7): the path must end at a
  self-signed root in the list, every CA on it needs basicConstraints with CA:TRUE, and names and key usages are
  left to TLS; ``openssl verify -CAfile LIST LEAF`` asks the same.

Revocation is chapter 8's business and is not checked here. :data:`VERIFY_CODES` explains the codes OpenSSL reports
(``SSLCertVerificationError.verify_code``, ``openssl verify``'s ``error N``), for handshakes and chain checks alike,
and :data:`TLS_ALERTS` the alerts a peer sends when its check fails (all the other side of a handshake sees).
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509 import verification

from labkit import guide, lab
from labkit.errors import InputError, PolicyError

__all__ = ["VERIFY_CODES", "TLS_ALERTS", "PURPOSES", "ChainCheck", "verify_chain", "explain_verify_code",
           "explain_alert"]

#: OpenSSL's verify codes (``X509_V_ERR_*``) that the lab meets, in a trainee's words.
VERIFY_CODES = {
    2: "the issuer of a certificate in the chain is unknown: a CA certificate above it is missing",
    3: "no CRL was found for a certificate that must be checked",
    7: "a signature does not verify: a CA with the right name but another key is in the trust store",
    9: "the certificate is not yet valid: check the clocks (NTP) of the CA and both peers",
    10: "the certificate has expired: renew it",
    12: "the CRL has expired (its next update is before the machine's clock): publish a fresh one",
    18: "the peer's certificate is self-signed and not in the trust store: have it signed by a CA you trust",
    19: "a self-signed certificate in the chain is not trusted: add that root CA to the trusted CA list",
    20: "the issuer is unknown: the root CA is not in the trusted CA list, or the peer does not send its "
        "intermediate CA certificate",
    21: "the chain cannot be verified: an intermediate CA certificate is missing",
    23: "the certificate has been revoked (it is on the CA's CRL)",
    24: "a CA certificate is not valid as a CA: it lacks basicConstraints with CA:TRUE",
    26: "the certificate is not allowed for this purpose: its Extended Key Usage lacks the purpose needed here "
        "(clientAuth for a TLS client certificate, serverAuth for a server's)",
    62: "the name the client asked for is not in the certificate's subject alternative names",
    64: "the peer address is an IP address that the certificate does not carry: set the peer address to an FQDN "
        "in the certificate's subject alternative names",
    68: "a CA signed with a digest that is too weak (SHA-1 or older)",
}

#: TLS alerts about certificates (RFC 8446 6.2, RFC 5246 7.2.2), by OpenSSL's names, in a trainee's words: what the
#: side that sent the alert found wrong with the certificate it was given. The other side sees only the alert.
TLS_ALERTS = {
    "unsupported_certificate": "the peer will not accept this certificate for the purpose it is used for: a TLS "
                               "server checking client certificates sends it when the client's certificate lacks "
                               "clientAuth (TLS Web Client Authentication) in its Extended Key Usage (OpenSSL's verify "
                               "code 26 on that side); use a client-and-server certificate, or on X15.5 a separate "
                               "client certificate",
    "bad_certificate": "the peer could not accept this certificate (its name, signature or chain failed the check)",
    "unknown_ca": "the peer does not trust the CA that issued this certificate: its trusted CA list lacks the root "
                  "or an intermediate",
    "certificate_expired": "the peer found this certificate (or one in its chain) expired or not yet valid",
    "certificate_revoked": "the peer found this certificate revoked (on a CRL or by OCSP)",
    "certificate_unknown": "the peer refused this certificate for a reason it did not name (often a revocation "
                           "check that could not complete)",
    "certificate_required": "the server requires a client certificate and none was sent (TLS 1.3)",
    "handshake_failure": "the two sides could not agree on the handshake (in TLS 1.2 also a server that wanted a "
                         "client certificate and got none)",
}

PURPOSES = ("tls-server", "expressway")


def explain_verify_code(code: int | None) -> str:
    """What OpenSSL's verify ``code`` means ("" for None; unknown codes are named by number)."""
    if code is None:
        return ""
    return VERIFY_CODES.get(code, f"OpenSSL verification error {code}")


def explain_alert(alert: str | None) -> str:
    """What a TLS alert about a certificate means (``""`` for None or an alert not about certificates)."""
    return TLS_ALERTS.get(alert or "", "")


@dataclass(frozen=True)
class ChainCheck:
    """Whether a certificate chains to a trust anchor, why, and the path (the certificate first, the anchor last).

    ``rule`` names the failure (``trust-store-not-empty``, ``chain-verifies``) and ``code`` is the OpenSSL verify
    code of the same failure (None when it verifies). True when it verifies.
    """

    ok: bool
    reason: str
    path: tuple[x509.Certificate, ...] = ()
    rule: str | None = None
    code: int | None = None
    name: str | None = None  # the server name asked for (purpose "tls-server")

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return f"{'TRUSTED' if self.ok else 'NOT TRUSTED'}: {self.reason}"

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))

    def require(self) -> tuple[x509.Certificate, ...]:
        """The path; a :class:`~labkit.errors.PolicyError` with the reason (rule ``chain-verifies`` or
        ``trust-store-not-empty``) when the chain does not verify."""
        if not self.ok:
            where = f" for {self.name}" if self.name else ""
            raise PolicyError(f"The chain does not verify{where}: {self.reason}", rule=self.rule or "chain-verifies",
                              value=self.name, chapter=guide.CH2)
        return self.path


@dataclass(frozen=True)
class _Words:
    """How one audience names its anchors: the differences between a TLS client and the Expressway's list."""

    anchors: str  # "the trust store" / "the trusted CA list"
    empty: str  # why an empty store fails
    add: str  # how to fix a missing CA
    ca_check: str  # why basicConstraints matters


_WORDS = {
    "tls-server": _Words("the trust store", "a client trusts nothing until CA certificates are added",
                         "add it (or have the server send it)", "every CA certificate needs it (RFC 5280 4.2.1.9)"),
    "expressway": _Words("the trusted CA list", "the Expressway needs the full chain up to a root",
                         "append it, and every CA above it up to the root (chapter 7 asks for the full chain)",
                         "the Expressway's CA check needs it (chapter 2)"),
}


def _require_ca(policy, cert, constraints) -> None:
    """The Expressway's CA check (chapter 2): basicConstraints must be present (cryptography: required) with CA:TRUE."""
    if not constraints.ca:
        raise ValueError("basicConstraints is CA:FALSE on a certificate used as a CA")


_EXPRESSWAY_CA = verification.ExtensionPolicy.permit_all().require_present(
    x509.BasicConstraints, verification.Criticality.AGNOSTIC, _require_ca)


def _certificates(value, what: str) -> list[x509.Certificate]:
    """Certificate objects from objects, or from PEM text or bytes (a bundle gives each certificate in order)."""
    if isinstance(value, x509.Certificate):
        return [value]
    if isinstance(value, str | bytes | bytearray):
        from labkit.x509.loading import load_certificates

        return load_certificates(value)
    if isinstance(value, Iterable):
        out = []
        for item in value:
            out += _certificates(item, what)
        return out
    raise InputError(f"Give the {what} as certificates or PEM", rule="certificate-input",
                     value=type(value).__name__, chapter=guide.APPX_D)


def _self_signed(cert: x509.Certificate) -> bool:
    return cert.subject == cert.issuer


def _label(name: x509.Name) -> str:
    from labkit.x509.decode import label

    return label(name)


def _first_dns_name(leaf: x509.Certificate) -> str:
    try:
        names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        return names.get_values_for_type(x509.DNSName)[0]
    except (x509.ExtensionNotFound, IndexError):
        return "localhost"


def verify_chain(leaf, *, trusted, intermediates=(), name: str | None = None,
                 at: _dt.datetime | str | None = None, purpose: str = "tls-server") -> ChainCheck:
    """Verify the path from ``leaf`` to an anchor in ``trusted``, at ``at`` (the lab clock by default).

    ``leaf`` is a certificate, or a PEM chain whose first certificate is the leaf and whose others are offered as
    intermediates; ``trusted`` and ``intermediates`` are certificates or PEM. ``purpose`` is ``"tls-server"`` (with
    ``name`` the server name asked for, by default the leaf's first DNS SAN) or ``"expressway"`` (the trusted CA
    list's check). Returns a :class:`ChainCheck`; raises :class:`~labkit.errors.InputError` (``purpose``,
    ``certificate-input``) only for input that is not what it should be.
    """
    if purpose not in PURPOSES:
        raise InputError(f"The purpose is one of {', '.join(PURPOSES)}", rule="purpose", value=purpose,
                         chapter=guide.CH2)
    words = _WORDS[purpose]
    given = _certificates(leaf, "certificate")
    if not given:
        raise InputError("There is no certificate to verify", rule="certificate-input", value="nothing",
                         chapter=guide.APPX_D)
    cert, chain = given[0], given[1:] + _certificates(intermediates, "intermediates")
    anchors = _certificates(trusted, "trusted certificates")
    moment = lab.now(at)
    name = (name or _first_dns_name(cert)) if purpose == "tls-server" else None
    if purpose == "tls-server":
        if not anchors:
            return ChainCheck(False, f"{words.anchors} is empty: {words.empty}", rule="trust-store-not-empty",
                              code=20, name=name)
        verifier = (verification.PolicyBuilder().store(verification.Store(anchors)).time(moment)
                    .build_server_verifier(x509.DNSName(name)))
        inner, known = chain, anchors + chain
    else:
        roots = [c for c in anchors if _self_signed(c)]
        if not roots:
            what = "is empty" if not anchors else "holds no root (self-signed) certificate"
            return ChainCheck(False, f"{words.anchors} {what}: {words.empty}", rule="trust-store-not-empty",
                              code=20 if not anchors else 2)
        verifier = (verification.PolicyBuilder().store(verification.Store(roots)).time(moment)
                    .extension_policies(ca_policy=_EXPRESSWAY_CA, ee_policy=verification.ExtensionPolicy.permit_all())
                    .build_client_verifier())
        inner = [c for c in anchors if not _self_signed(c)] + chain
        known = roots + inner
    try:
        result = verifier.verify(cert, inner)
    except verification.VerificationError as exc:
        reason, code = _explain(str(exc), cert, known, moment, words)
        return ChainCheck(False, reason, rule="chain-verifies", code=code, name=name)
    path = tuple(result if isinstance(result, list) else result.chain)
    names = " <- ".join(f"'{_label(c.subject)}'" for c in reversed(path))
    return ChainCheck(True, f"{names}: the path ends at a {'root' if purpose == 'expressway' else 'trust anchor'} "
                            f"in {words.anchors}", path, name=name)


def _explain(detail: str, cert: x509.Certificate, known: list[x509.Certificate], moment: _dt.datetime,
             words: _Words) -> tuple[str, int | None]:
    """Trainee words, and the OpenSSL code, for one of cryptography's verifier messages."""
    who = re.search(r"subject=<Name\(([^)]*)\)>", detail)
    if "basicConstraints" in detail or "2.5.29.19" in detail:
        return f"a CA certificate on the path lacks basicConstraints with CA:TRUE, and {words.ca_check}", 24
    if "not valid at validation time" in detail:
        subject = who.group(1) if who else ""
        late = any(c.not_valid_before_utc > moment for c in [cert, *known] if c.subject.rfc4514_string() == subject)
        return (f"a certificate on the path{' (' + subject + ')' if subject else ''} is outside its validity period "
                f"at {moment:%Y-%m-%d %H:%M} UTC"), (9 if late else 10)
    if "Forbidden signature algorithm" in detail or "forbidden" in detail.lower():
        return "a signature on the path uses an algorithm the verifier refuses (SHA-1 or older)", 68
    if "signature does not match" in detail:
        return (f"a CA certificate with the issuer's name is in {words.anchors}, but its key did not sign this "
                "certificate: it is another CA with the same name"), 7
    if "no matching subjectAltName" in detail:
        return (f"the name asked for is not among the certificate's subject alternative names"
                f"{' (' + who.group(1) + ')' if who else ''}"), 62
    if "extended key usage" in detail.lower() or "EKU" in detail:
        return "the certificate's Extended Key Usage does not allow TLS server authentication", 26
    current, depth = cert, 0
    while depth < 10:
        if _self_signed(current):
            return f"'{_label(current.subject)}' is self-signed and is not in {words.anchors}", (18 if depth == 0
                                                                                                   else 19)
        parents = [c for c in known if c.subject == current.issuer and c != current]
        if not parents:
            return (f"'{_label(current.issuer)}', which issued '{_label(current.subject)}', is not in "
                    f"{words.anchors}: {words.add}"), (20 if depth == 0 else 2)
        current, depth = parents[0], depth + 1
    return re.sub(r" \(encountered processing <Certificate.*$", "", detail), None
