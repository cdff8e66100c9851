"""One chain check for the whole kit, and one explanation of OpenSSL's verify codes.

:func:`verify_chain` builds and verifies the path from a certificate to a trust anchor (RFC 5280 section 6.1) with
cryptography's verifier, at an instant that is an input (the lab clock unless given), and answers with one result
type, :class:`ChainCheck`: whether it verifies, why not in a trainee's words, the path, the rule id, the OpenSSL verify
code that says the same and the depth OpenSSL reports it at (0: the certificate itself). Two purposes cover every
caller:

* ``"tls-server"`` -- what a TLS client checks (guide chapter 2): every certificate it trusts is an anchor, the
  server's name must be a subject alternative name, and the leaf must be fit for TLS server authentication;
  ``openssl verify -CAfile TRUSTED -untrusted CHAIN -verify_hostname NAME LEAF`` asks the same;
* ``"expressway"`` -- what the Expressway's trusted CA list vouches for (chapters 2 and 7), and what
  ``openssl verify -CAfile TRUSTED [-untrusted CHAIN] LEAF`` checks (``labkit verify``): the path must end at a
  self-signed root in the list, every CA on it needs basicConstraints with CA:TRUE, and names and key usages are left
  to TLS.

``crls=`` adds the revocation check of ``openssl verify -crl_check -CRLfile CRL``: the certificate's own CA must have
a CRL among them, current at the instant, that does not list it (chapter 8). Revocation of the CAs above it is not
checked (``-crl_check_all`` would).

When the verifier refuses, the explanation follows OpenSSL's own order of checks (``X509_verify_cert``): building the
path (codes 2, 18, 19, 20), the CA certificates on it (79, 25) and the purpose (26), the security level (66-68), the
name (62), revocation (3, 8, 11, 12, 23), then signatures (7) and validity periods (9, 10) from the root down. So the
code labkit reports is the one ``openssl verify`` prints for the same files (:func:`openssl_verify_args` gives its
command). :data:`VERIFY_CODES` explains the codes OpenSSL reports (``SSLCertVerificationError.verify_code``,
``openssl verify``'s ``error N``), for handshakes and chain checks alike; the numbers are OpenSSL 3's
(``X509_V_ERR_*`` in ``openssl/x509_vfy.h``).

:data:`TLS_ALERTS` explains the alerts a peer sends when its check fails (all the other side of a handshake sees).
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa
from cryptography.x509 import verification
from cryptography.x509.oid import ExtendedKeyUsageOID

from labkit import guide, lab
from labkit.errors import InputError, PolicyError

__all__ = ["VERIFY_CODES", "VERIFY_MESSAGES", "signed_by", "TLS_ALERTS", "PURPOSES", "ChainCheck", "verify_chain",
           "explain_verify_code", "explain_alert", "openssl_verify_args"]

#: OpenSSL's verify codes (``X509_V_ERR_*``) that the lab meets, in a trainee's words.
VERIFY_CODES = {
    2: "the issuer of a certificate in the chain is unknown: a CA certificate above it is missing",
    3: "no CRL was found for a certificate that must be checked",
    7: "a signature does not verify: a CA with the right name but another key is in the trust store",
    8: "the CRL's signature does not verify: it was not signed by the certificate's CA",
    9: "the certificate is not yet valid: check the clocks (NTP) of the CA and both peers",
    10: "the certificate has expired: renew it",
    11: "the CRL is not yet valid (its last update is after the clock): check the clocks",
    12: "the CRL has expired (its next update is before the machine's clock): publish a fresh one",
    18: "the peer's certificate is self-signed and not in the trust store: have it signed by a CA you trust",
    19: "a self-signed certificate in the chain is not trusted: add that root CA to the trusted CA list",
    20: "the issuer is unknown: the root CA is not in the trusted CA list, or the peer does not send its "
        "intermediate CA certificate",
    21: "the chain cannot be verified: an intermediate CA certificate is missing",
    23: "the certificate has been revoked (it is on the CA's CRL)",
    25: "a CA's path length constraint is exceeded: too many CAs below it",
    26: "the certificate is not allowed for this purpose: its Extended Key Usage lacks the purpose needed here "
        "(clientAuth for a TLS client certificate, serverAuth for a server's)",
    62: "the name the client asked for is not in the certificate's subject alternative names",
    64: "the peer address is an IP address that the certificate does not carry: set the peer address to an FQDN "
        "in the certificate's subject alternative names",
    66: "the certificate's key is too small for the security level (RSA under 2048 bits)",
    67: "a CA certificate's key is too small for the security level (RSA under 2048 bits)",
    68: "a CA signed with a digest that is too weak (SHA-1 or older)",
    79: "a CA certificate is not valid as a CA: it lacks basicConstraints with CA:TRUE (an issuing CA made with "
        "`openssl x509 -req` and no extensions, for example)",
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


#: OpenSSL 3's own short message for each code of :data:`VERIFY_CODES` (``X509_verify_cert_error_string``: what
#: ``openssl verify`` prints after ``error N at D depth lookup:`` and ``s_client`` after ``Verify return code: N``).
VERIFY_MESSAGES = {
    2: "unable to get issuer certificate",
    3: "unable to get certificate CRL",
    7: "certificate signature failure",
    8: "CRL signature failure",
    9: "certificate is not yet valid",
    10: "certificate has expired",
    11: "CRL is not yet valid",
    12: "CRL has expired",
    18: "self-signed certificate",
    19: "self-signed certificate in certificate chain",
    20: "unable to get local issuer certificate",
    21: "unable to verify the first certificate",
    23: "certificate revoked",
    25: "path length constraint exceeded",
    26: "unsuitable certificate purpose",
    62: "hostname mismatch",
    64: "IP address mismatch",
    66: "EE certificate key too weak",
    67: "CA certificate key too weak",
    68: "CA signature digest algorithm too weak",
    79: "invalid CA certificate",
}

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

    ``rule`` names the failure (``trust-store-not-empty``, ``chain-verifies``, ``crl-check``), ``code`` is the
    OpenSSL verify code of the same failure and ``depth`` where on the path OpenSSL reports it (0: the certificate;
    both None when it verifies). True when it verifies.
    """

    ok: bool
    reason: str
    path: tuple[x509.Certificate, ...] = ()
    rule: str | None = None
    code: int | None = None
    name: str | None = None  # the server name asked for (purpose "tls-server")
    depth: int | None = None

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return f"{'TRUSTED' if self.ok else 'NOT TRUSTED'}: {self.reason}"

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))

    def require(self) -> tuple[x509.Certificate, ...]:
        """The path; a :class:`~labkit.errors.PolicyError` with the reason (rule ``chain-verifies``,
        ``crl-check`` or ``trust-store-not-empty``) when the chain does not verify."""
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


def _crl_list(value) -> list[x509.CertificateRevocationList]:
    if isinstance(value, x509.CertificateRevocationList):
        return [value]
    if isinstance(value, str | bytes | bytearray):
        from labkit.x509.loading import load_all

        items = load_all(value)
        others = [item.description for item in items if item.kind != "crl"]
        if others:
            raise InputError(f"A CRL file holds CRLs only, not {others[0]}", rule="crl-input", value=others[0],
                             chapter=guide.CH8)
        return [item.obj for item in items]
    if isinstance(value, Iterable):
        out = []
        for item in value:
            out += _crl_list(item)
        return out
    raise InputError("Give the CRLs as CRL objects or PEM/DER", rule="crl-input", value=type(value).__name__,
                     chapter=guide.CH8)


def _self_signed(cert: x509.Certificate) -> bool:
    return cert.subject == cert.issuer


def _label(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(values[0].value) if values else (name.rfc4514_string() or "(empty name)")


def _first_dns_name(leaf: x509.Certificate) -> str:
    try:
        names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        return names.get_values_for_type(x509.DNSName)[0]
    except (x509.ExtensionNotFound, IndexError):
        return "localhost"


def verify_chain(leaf, *, trusted, intermediates=(), name: str | None = None,
                 at: _dt.datetime | str | None = None, purpose: str = "tls-server", crls=None) -> ChainCheck:
    """Verify the path from ``leaf`` to an anchor in ``trusted``, at ``at`` (the lab clock by default).

    ``leaf`` is a certificate, or a PEM chain whose first certificate is the leaf and whose others are offered as
    intermediates; ``trusted`` and ``intermediates`` are certificates or PEM. ``purpose`` is ``"tls-server"`` (with
    ``name`` the server name asked for, by default the leaf's first DNS SAN) or ``"expressway"`` (the trusted CA
    list's check, and ``openssl verify``'s). ``crls`` (CRL objects, PEM or DER; None: no revocation check) checks
    the leaf against its CA's CRL, as ``openssl verify -crl_check`` does. Returns a :class:`ChainCheck`; raises
    :class:`~labkit.errors.InputError` (``purpose``, ``certificate-input``, ``crl-input``) only for input that is
    not what it should be.
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
    revocation = None if crls is None else _crl_list(crls)
    moment = lab.now(at)
    name = (name or _first_dns_name(cert)) if purpose == "tls-server" else None
    if purpose == "tls-server":
        if not anchors:
            return ChainCheck(False, f"{words.anchors} is empty: {words.empty}", rule="trust-store-not-empty",
                              code=20, name=name, depth=0)
        verifier = (verification.PolicyBuilder().store(verification.Store(anchors)).time(moment)
                    .build_server_verifier(x509.DNSName(name)))
        inner = chain
    else:
        roots = [c for c in anchors if _self_signed(c)]
        if not roots:
            what = "is empty" if not anchors else "holds no root (self-signed) certificate"
            return ChainCheck(False, f"{words.anchors} {what}: {words.empty}", rule="trust-store-not-empty",
                              code=20 if not anchors else 2, depth=0 if not anchors else None)
        verifier = (verification.PolicyBuilder().store(verification.Store(roots)).time(moment)
                    .extension_policies(ca_policy=_EXPRESSWAY_CA, ee_policy=verification.ExtensionPolicy.permit_all())
                    .build_client_verifier())
        inner = [c for c in anchors if not _self_signed(c)] + chain
    case = _Case(cert, anchors, chain, moment, words, purpose, name, revocation)
    try:
        result = verifier.verify(cert, inner)
    except verification.VerificationError as exc:
        reason, code, depth = case.explain(str(exc))
        rule = "crl-check" if code in _CRL_CODES else "chain-verifies"
        return ChainCheck(False, reason, rule=rule, code=code, name=name, depth=depth)
    path = tuple(result if isinstance(result, list) else result.chain)
    if revocation is not None:
        problem = case.revocation(list(path))
        if problem is not None:
            reason, code, depth = problem
            return ChainCheck(False, reason, path, rule="crl-check", code=code, name=name, depth=depth)
    names = " <- ".join(f"'{_label(c.subject)}'" for c in reversed(path))
    crl_note = "; the certificate is not on its CA's current CRL" if revocation is not None else ""
    return ChainCheck(True, f"{names}: the path ends at a {'root' if purpose == 'expressway' else 'trust anchor'} "
                            f"in {words.anchors}{crl_note}", path, name=name)


_CRL_CODES = {3, 8, 11, 12, 23}


def openssl_verify_args(cert_file: str, *, ca_file: str | None, untrusted_file: str | None = None,
                        crl_file: str | None = None, at: _dt.datetime | str | None = None) -> list[str]:
    """The arguments of the ``openssl verify`` command that asks what :func:`verify_chain` (purpose
    ``"expressway"``) asks: only ``ca_file`` is trusted (``-no-CApath -no-CAstore``: never the machine's own trust
    store), at security level 2 (RSA of 2048 bits or more, no SHA-1: what labkit's verifier enforces; at its default
    level ``openssl verify`` accepts SHA-1), ``-crl_check`` with a CRL file, ``-attime`` when ``at`` is given."""
    args = ["verify"]
    if at is not None:
        args += ["-attime", str(int(lab.now(at).timestamp()))]
    args += ["-auth_level", "2", "-no-CApath", "-no-CAstore"]
    args += ["-CAfile", ca_file] if ca_file else ["-no-CAfile"]
    if untrusted_file:
        args += ["-untrusted", untrusted_file]
    if crl_file:
        args += ["-crl_check", "-CRLfile", crl_file]
    return [*args, cert_file]


# -- the explanation, in OpenSSL's order ---------------------------------------------------------------------------

def signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether ``issuer`` (its subject is ``cert``'s issuer name) made ``cert``'s signature with its key, whatever the
    digest (RFC 5280 6.1.3 (a)(1)); False, never an error, for anything else. Neither validity nor extensions are
    looked at. Unlike cryptography's ``verify_directly_issued_by``, SHA-1 is not refused here: OpenSSL reports it
    later, as too weak (code 68)."""
    if cert.issuer != issuer.subject:
        return False
    key = issuer.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes, cert.signature_algorithm_parameters,
                       cert.signature_hash_algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
        else:
            cert.verify_directly_issued_by(issuer)
        return True
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False


def _constraints(cert: x509.Certificate) -> x509.BasicConstraints | None:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return None


def _small_key(cert: x509.Certificate) -> int | None:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey | dsa.DSAPublicKey) and key.key_size < 2048:
        return key.key_size
    return None


@dataclass(frozen=True)
class _Case:
    """One chain check's inputs, for explaining a refusal as OpenSSL would report it."""

    cert: x509.Certificate
    anchors: list[x509.Certificate]
    untrusted: list[x509.Certificate]
    moment: _dt.datetime
    words: _Words
    purpose: str
    name: str | None
    crls: list[x509.CertificateRevocationList] | None

    def _anchor(self, cert: x509.Certificate) -> bool:
        """A certificate the path may end at: any trusted one for a TLS client, a trusted root for the Expressway."""
        return cert in self.anchors and (self.purpose == "tls-server" or _self_signed(cert))

    def path(self) -> tuple[list[x509.Certificate], tuple[str, int, int] | None]:
        """The path OpenSSL would build (issuers found by name, the signing one preferred, trusted ones first), and
        the reason it cannot reach an anchor, if it cannot."""
        path, current = [self.cert], self.cert
        known = self.anchors + [c for c in self.untrusted if c not in self.anchors]
        while not self._anchor(current):
            depth = len(path) - 1
            if _self_signed(current):
                return path, (f"'{_label(current.subject)}' is self-signed and is not in {self.words.anchors}",
                              18 if depth == 0 else 19, depth)
            parents = [c for c in known if c.subject == current.issuer and c != current and c not in path]
            if not parents:
                trusted = current in self.anchors
                return path, (f"'{_label(current.issuer)}', which issued '{_label(current.subject)}', is not in "
                              f"{self.words.anchors}: {self.words.add}", 2 if trusted else 20, depth)
            signing = [c for c in parents if signed_by(current, c)]
            if not signing:
                return path, (f"a CA certificate with the issuer's name is in {self.words.anchors}, but its key did "
                              "not sign this certificate: it is another CA with the same name", 7, depth)
            current = next((c for c in signing if c in self.anchors), signing[0])
            path.append(current)
            if len(path) > 10:
                return path, ("the chain is longer than ten certificates (a loop?)", 22, depth)
        return path, None

    def explain(self, detail: str) -> tuple[str, int | None, int | None]:
        """Reason, OpenSSL code and depth for the verifier's refusal ``detail``."""
        path, problem = self.path()
        if problem is not None:
            return problem
        top = len(path) - 1
        for depth, ca in enumerate(path[1:], 1):  # check_extensions: every CA on the path must be one
            constraints = _constraints(ca)
            if constraints is None or not constraints.ca:
                if constraints is not None:
                    state = "has basicConstraints CA:FALSE"
                elif ca.version == x509.Version.v1:
                    state = ("has no basicConstraints (it is a version 1 certificate, as `openssl x509 -req` makes "
                             "one without an extension file)")
                else:
                    state = "has no basicConstraints extension"
                return (f"'{_label(ca.subject)}' {state}, so it cannot act as a CA and nothing it signed is trusted "
                        f"({self.words.ca_check}); reissue it with basicConstraints=critical,CA:true", 79, depth)
            below = depth - 1  # CA certificates between this one and the leaf
            if constraints.path_length is not None and below > constraints.path_length:
                return (f"'{_label(ca.subject)}' allows {constraints.path_length} CA(s) below it, and the path has "
                        f"{below}", 25, depth)
        if self.purpose == "tls-server":
            try:
                usages = self.cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
                if ExtendedKeyUsageOID.SERVER_AUTH not in usages:
                    return ("the certificate's Extended Key Usage does not allow TLS server authentication", 26, 0)
            except x509.ExtensionNotFound:
                pass
        for depth, cert in enumerate(path):  # check_auth_level (security level 2)
            bits = _small_key(cert)
            if bits is not None:
                return (f"'{_label(cert.subject)}' has an RSA key of {bits} bits, under the 2048 that security "
                        "level 2 asks", 66 if depth == 0 else 67, depth)
            if depth < top and isinstance(cert.signature_hash_algorithm, hashes.SHA1 | hashes.MD5):
                digest = "SHA-1" if isinstance(cert.signature_hash_algorithm, hashes.SHA1) else "MD5"
                return (f"'{_label(cert.subject)}' is signed with {digest}, a digest too weak for security level 2 "
                        "(OpenSSL's -auth_level 2; labkit's verifier refuses it too)", 68, depth)
        if "no matching subjectAltName" in detail:
            return (f"the name asked for ({self.name}) is not among the certificate's subject alternative names",
                    62, 0)
        if self.crls is not None:
            problem = self.revocation(path)
            if problem is not None:
                return problem
        for depth in range(top, -1, -1):  # internal_verify: from the root down
            cert = path[depth]
            if self.moment < cert.not_valid_before_utc or self.moment > cert.not_valid_after_utc:
                early = self.moment < cert.not_valid_before_utc
                return (f"a certificate on the path ('{_label(cert.subject)}') is outside its validity period at "
                        f"{self.moment:%Y-%m-%d %H:%M} UTC: it is {'not yet valid' if early else 'expired'} (valid "
                        f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M} to {cert.not_valid_after_utc:%Y-%m-%d %H:%M})",
                        9 if early else 10, depth)
        if "Forbidden signature algorithm" in detail or "forbidden" in detail.lower():
            return "a signature on the path uses an algorithm the verifier refuses (SHA-1 or older)", 68, None
        if "extended key usage" in detail.lower() or "EKU" in detail:
            return "the certificate's Extended Key Usage does not allow this purpose", 26, 0
        return re.sub(r" \(encountered processing <Certificate.*$", "", detail), None, None

    def revocation(self, path: list[x509.Certificate]) -> tuple[str, int, int] | None:
        """``-crl_check``: the leaf against its CA's CRLs (None: not revoked, and a current CRL says so)."""
        if len(path) < 2 or self.crls is None:
            return None
        leaf, issuer = path[0], path[1]
        named = [crl for crl in self.crls if crl.issuer == leaf.issuer]
        signed = [crl for crl in named if crl.is_signature_valid(issuer.public_key())]
        who = f"'{_label(issuer.subject)}'"
        if not signed:
            if named:
                return (f"a CRL names {who} as its issuer, but {who}'s key did not sign it", 8, 0)
            return (f"no CRL of {who}, which issued '{_label(leaf.subject)}', was given: the revocation check needs "
                    "one", 3, 0)
        current = [crl for crl in signed if crl.last_update_utc <= self.moment
                   and (crl.next_update_utc is None or self.moment <= crl.next_update_utc)]
        if not current:
            crl = max(signed, key=lambda c: c.last_update_utc)
            if self.moment < crl.last_update_utc:
                return (f"{who}'s CRL is not yet valid at {self.moment:%Y-%m-%d %H:%M} UTC (last update "
                        f"{crl.last_update_utc:%Y-%m-%d %H:%M})", 11, 0)
            return (f"{who}'s CRL expired on {crl.next_update_utc:%Y-%m-%d %H:%M} UTC: OpenSSL refuses it, and the "
                    f"Expressway counts every certificate of that CA as revoked ({guide.CH8})", 12, 0)
        for crl in current:
            entry = crl.get_revoked_certificate_by_serial_number(leaf.serial_number)
            if entry is not None:
                return (f"'{_label(leaf.subject)}' (serial {leaf.serial_number:X}) is revoked: {who}'s CRL lists it "
                        f"since {entry.revocation_date_utc:%Y-%m-%d %H:%M} UTC", 23, 0)
        return None
