"""OCSP as protocol objects (guide chapter 8): requests, responses from a CA's database, and their verification.

No HTTP here (that is :mod:`labkit.revocation.servers`, and :func:`query` is the one thin client call):

    der = request(leaf, issuing.certificate)               # openssl ocsp -issuer ca.pem -cert leaf.pem -reqout r.der
    answer = respond(issuing, der)                         # openssl ocsp -index index.txt -CA ca.pem -rsigner ...
    status = verify_response(answer, leaf, issuing.certificate)   # openssl ocsp -respin ... -issuer ... -cert ...
    status.status                                          # "good", "revoked" or "unknown"

Responses are signed with SHA-256 by the CA itself or by a delegated responder (a certificate the CA issued with the
``ocsp-signing`` profile: OCSPSigning EKU, id-pkix-ocsp-nocheck). Time is an input: ``thisUpdate`` and
``producedAt`` are the lab clock's instant (or ``at``), so a lab response is the same bytes on every run.
"""

from __future__ import annotations

import datetime as _dt
import http.client
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from labkit import guide, lab
from labkit.errors import InputError, PolicyError
from labkit.httpd import open_url
from labkit.x509.der import DerError, children, header_length, plain_problem, tlv
from labkit.x509.reasons import REASONS

__all__ = ["OcspStatus", "request", "respond", "verify_response", "query", "ocsp_url", "crl_urls",
           "check_responder", "MEDIA_REQUEST", "MEDIA_RESPONSE"]

MEDIA_REQUEST = "application/ocsp-request"
MEDIA_RESPONSE = "application/ocsp-response"
MAX_MESSAGE = 64 * 1024  # an OCSP request or response of the lab is well under 4 KiB

_DIGESTS = {"sha1": hashes.SHA1, "sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}
_REASON_NAMES = {flag: name for name, flag in REASONS.items()}


@dataclass(frozen=True)
class OcspStatus:
    """What a verified OCSP response says about one certificate."""

    status: str  # "good", "revoked" or "unknown"
    revocation_time: _dt.datetime | None
    reason: str | None  # OpenSSL's name ("keyCompromise"); None when revoked without a reason, or not revoked
    this_update: _dt.datetime
    next_update: _dt.datetime | None
    signer: str  # "CA", or the delegated responder's subject

    def __str__(self) -> str:
        text = self.status
        if self.revocation_time is not None:
            text += f" (revoked {self.revocation_time:%Y-%m-%d %H:%M:%S}Z" + (f", {self.reason})" if self.reason
                                                                               else ")")
        nxt = f"{self.next_update:%Y-%m-%d %H:%M:%S}Z" if self.next_update else "-"
        return f"{text}; this update {self.this_update:%Y-%m-%d %H:%M:%S}Z, next update {nxt}; signed by {self.signer}"


# -- the request ---------------------------------------------------------------------------------------------------

def request(cert: x509.Certificate, issuer: x509.Certificate, *, digest: str = "sha256",
            nonce: bytes | None = None) -> bytes:
    """A DER OCSP request for ``cert`` (``openssl ocsp -issuer ISSUER -cert CERT -sha256 -no_nonce -reqout r.der``).

    The CertID names the certificate by its issuer's name hash, its issuer's key hash and its serial. ``nonce``
    (bytes) adds a nonce extension that the responder echoes, so an old response cannot be replayed; without it the
    request is the same bytes on every run. OpenSSL adds a random nonce unless ``-no_nonce`` and hashes with SHA-1
    unless told ``-sha256``.
    """
    if digest not in _DIGESTS:
        raise PolicyError(f"The CertID digest is one of {', '.join(_DIGESTS)}", rule="ocsp-digest", value=digest,
                          chapter=guide.CH8_OCSP)
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, _DIGESTS[digest]())
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


# -- the response --------------------------------------------------------------------------------------------------

def respond(ca, request_der: bytes, *, responder: tuple[x509.Certificate, object] | None = None,
            at: _dt.datetime | None = None, validity_hours: int | None = 24) -> bytes:
    """The DER OCSP response of ``ca`` (a :class:`~labkit.ca.CertificateAuthority`) to ``request_der``.

    The status comes from the CA's ``index.txt`` as it is now: ``V``/``E`` lines are *good*, ``R`` lines *revoked*
    (with time and reason), a serial not in the database or a CertID naming another issuer *unknown*. A request
    for several certificates (``openssl ocsp -cert A -cert B``) is answered for every one, in the order asked, as
    OpenSSL's responder does; SHA-1 and SHA-256 CertIDs are answered in the hash they were asked in. A request
    that cannot be parsed gets a ``malformedRequest`` response (no exception: a responder answers every request).

    ``validity_hours`` sets nextUpdate that many hours after thisUpdate; None leaves nextUpdate out, which RFC 6960
    (4.2.2.1) allows: the responder then always has newer information, and a client must not cache the answer.

    ``responder`` is ``(certificate, key)`` of a delegated responder, or None to sign with the CA's own key. This
    function does not judge the responder (as ``openssl ocsp -rsigner`` does not): :func:`check_responder` does, and
    :func:`verify_response` refuses a response from a responder the CA did not authorise.
    """
    moment = lab.now(at).replace(microsecond=0)  # X.509 times have no fractions
    try:
        requests = _single_requests(bytes(request_der))
    except (ValueError, TypeError, NotImplementedError, UnsupportedAlgorithm, DerError, IndexError):
        return _malformed()
    ca_cert = ca.certificate
    entries = {e.serial: e for e in ca.entries()}
    signer_cert, key = responder if responder is not None else (ca_cert, ca.private_key())
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise PolicyError("The lab signs OCSP responses with RSA or EC keys", rule="ocsp-signing-key",
                          value=type(key).__name__, chapter=guide.CH8_OCSP)
    nonce = _nonce(requests[0].extensions)
    answers = []
    for req in requests:  # one SingleResponse per certificate asked, in the request's order (RFC 6960 4.2.1)
        algorithm = req.hash_algorithm
        name_hash, key_hash, serial = req.issuer_name_hash, req.issuer_key_hash, req.serial_number
        status, revoked_at, reason = ocsp.OCSPCertStatus.UNKNOWN, None, None
        if (name_hash, key_hash) == _issuer_hashes(ca_cert, algorithm):
            entry = entries.get(serial)
            if entry is not None and entry.status == "R":
                status, revoked_at = ocsp.OCSPCertStatus.REVOKED, entry.revoked_at
                reason = REASONS[entry.reason] if entry.reason and entry.reason != "unspecified" else None
            elif entry is not None:
                status = ocsp.OCSPCertStatus.GOOD
        builder = (ocsp.OCSPResponseBuilder()
                   .add_response_by_hash(name_hash, key_hash, serial, algorithm, status, moment,
                                         moment + _dt.timedelta(hours=validity_hours) if validity_hours is not None
                                         else None, revoked_at, reason)
                   .responder_id(ocsp.OCSPResponderEncoding.HASH, signer_cert))
        if responder is not None:
            builder = builder.certificates([signer_cert])
        if nonce is not None:
            builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
        try:
            answers.append(builder.sign(key, hashes.SHA256()))
        except ValueError as exc:  # the key is not the certificate's
            raise PolicyError(f"Cannot sign the OCSP response: {exc}", rule="ocsp-responder-key",
                              value=signer_cert.subject.rfc4514_string(), chapter=guide.CH8_OCSP) from None
    singles = [_single_response(answer) for answer in answers]
    return _with_produced_at(answers[0], moment, key, singles)


def _single_requests(der: bytes) -> list[ocsp.OCSPRequest]:
    """Each certificate of an OCSP request (RFC 6960 4.1.1), as a one-certificate request cryptography parses.

    cryptography reads requests for one certificate only (``NotImplementedError`` otherwise), while ``openssl ocsp
    -cert A -cert B`` asks for several in one request. So the requestList is split here (:mod:`labkit.x509.der`),
    each Request is wrapped into a request of its own with the request's extensions (the nonce), and cryptography
    parses that: the CertID's meaning stays cryptography's.
    """
    tbs = children(der)[0]
    parts = children(tbs)
    request_list = next(part for part in parts if part[0] == 0x30)  # version [0] and requestorName [1] may precede
    extensions = b"".join(part for part in parts if part[0] == 0xA2)
    requests = [ocsp.load_der_ocsp_request(tlv(0x30, tlv(0x30, tlv(0x30, single) + extensions)))
                for single in children(request_list)]
    if not requests:
        raise ValueError("an OCSP request without a certificate")
    return requests


def _single_response(response: ocsp.OCSPResponse) -> bytes:
    """The SingleResponse of a one-certificate response, as DER (the ``responses`` of its ResponseData)."""
    responses = next(part for part in children(response.tbs_response_bytes) if part[0] == 0x30)
    return children(responses)[0]


def _malformed() -> bytes:
    return ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST).public_bytes(
        serialization.Encoding.DER)


def _nonce(extensions: x509.Extensions) -> bytes | None:
    try:
        return extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
    except x509.ExtensionNotFound:
        return None


def _issuer_hashes(issuer: x509.Certificate, algorithm: hashes.HashAlgorithm) -> tuple[bytes, bytes]:
    """The CertID's issuerNameHash and issuerKeyHash (the hash of the subjectPublicKey BIT STRING's value)."""
    return _digest(algorithm, issuer.subject.public_bytes()), _digest(algorithm, _public_key_bits(issuer))


def _digest(algorithm: hashes.HashAlgorithm, data: bytes) -> bytes:
    h = hashes.Hash(type(algorithm)())
    h.update(data)
    return h.finalize()


def _public_key_bits(cert: x509.Certificate) -> bytes:
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    _, bits = children(spki)
    return bits[header_length(bits) + 1:]  # skip the BIT STRING's "unused bits" byte


# cryptography stamps producedAt with the machine's clock, and builds responses for one certificate. The lab wants
# producedAt on the lab clock (same bytes every run), and one response for every certificate of a request: the signed
# ResponseData is re-encoded with producedAt = ``moment`` and the SingleResponses of every certificate asked, and
# signed again with the same key.

def _with_produced_at(response: ocsp.OCSPResponse, moment: _dt.datetime, key,
                      singles: list[bytes] | None = None) -> bytes:
    tbs_parts = children(response.tbs_response_bytes)
    for i, part in enumerate(tbs_parts):
        if part[0] == 0x18:  # the first GeneralizedTime of ResponseData is producedAt
            tbs_parts[i] = tlv(0x18, moment.astimezone(_dt.timezone.utc).strftime("%Y%m%d%H%M%SZ").encode())
            if singles is not None:  # the responses SEQUENCE follows producedAt
                tbs_parts[i + 1] = tlv(0x30, b"".join(singles))
            break
    tbs = tlv(0x30, b"".join(tbs_parts))
    outer = children(response.public_bytes(serialization.Encoding.DER))  # status, [0] responseBytes
    oid, octets = children(children(outer[1])[0])
    basic = children(octets[header_length(octets):])  # tbs, algorithm, signature, [0] certs
    basic[0], basic[2] = tbs, tlv(0x03, b"\x00" + _sign(key, tbs))
    octets = tlv(0x04, tlv(0x30, b"".join(basic)))
    return tlv(0x30, outer[0] + tlv(0xA0, tlv(0x30, oid + octets)))


def _sign(key, data: bytes) -> bytes:
    """SHA-256 with RSA PKCS#1 v1.5 or deterministic ECDSA (RFC 6979): the same bytes for the same input."""
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return key.sign(data, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))


# -- verification --------------------------------------------------------------------------------------------------

def check_responder(issuer: x509.Certificate, responder: x509.Certificate, *, at: _dt.datetime | None = None) -> None:
    """Refuse a delegated responder the CA did not authorise (RFC 6960 4.2.2.2): it must be issued by ``issuer``
    itself, carry the OCSPSigning extended key usage, and be valid at ``at``."""
    who = responder.subject.rfc4514_string()
    try:
        responder.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        raise PolicyError("The OCSP response is signed by a certificate the CA did not issue: only the CA, or a "
                          "responder certificate the CA itself issued with the OCSPSigning EKU, may answer for it",
                          rule="ocsp-responder-not-authorised", value=who, chapter=guide.CH8_OCSP) from None
    try:
        usages = responder.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        usages = []
    if ExtendedKeyUsageOID.OCSP_SIGNING not in usages:
        raise PolicyError("The responder certificate lacks the OCSPSigning extended key usage, so the CA did not "
                          "delegate OCSP to it (sign it with the 'ocsp-signing' profile)",
                          rule="ocsp-responder-not-authorised", value=who, chapter=guide.CH8_OCSP)
    moment = lab.now(at)
    if not responder.not_valid_before_utc <= moment <= responder.not_valid_after_utc:
        raise PolicyError(f"The responder certificate is not valid at {moment:%Y-%m-%d %H:%M}Z",
                          rule="ocsp-responder-validity", value=who, chapter=guide.CH8_OCSP)


def verify_response(response_der: bytes, cert: x509.Certificate, issuer: x509.Certificate, *,
                    at: _dt.datetime | None = None, nonce: bytes | None = None) -> OcspStatus:
    """Check an OCSP response as a relying party must, then say what it reports about ``cert``.

    In order: the response status is *successful*; the signature over ``tbsResponseData`` verifies with the key of
    the responder it names (the CA, or a certificate included in the response); a delegated responder is
    authorised by the CA (:func:`check_responder`); the response is about ``cert`` (serial and issuer hashes); if
    ``nonce`` was sent and the response has one, they match; and ``thisUpdate <= at <= nextUpdate`` on the lab
    clock. Any failure raises :class:`~labkit.PolicyError` naming the rule; bytes that are no OCSP response at all
    raise :class:`~labkit.InputError`.
    """
    try:
        response = ocsp.load_der_ocsp_response(bytes(response_der))
    except ValueError as exc:
        raise InputError(f"Not a DER OCSP response: {plain_problem(exc)}", rule="ocsp-response-der",
                         value=bytes(response_der), chapter=guide.CH8_OCSP) from None
    if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise PolicyError("The responder did not answer with a status: it refused the request",
                          rule="ocsp-status", value=response.response_status.name, chapter=guide.CH8_OCSP)
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        raise PolicyError("The certificate was not issued by the issuer given: OCSP asks the issuer's responder",
                          rule="ocsp-issuer", value=issuer.subject.rfc4514_string(), chapter=guide.CH8_OCSP) from None
    moment = lab.now(at)
    signer = _signer(response, issuer)
    _check_signature(response, signer)
    delegated = signer is not issuer
    if delegated:
        check_responder(issuer, signer, at=moment)
    single = _single_for(response, cert, issuer)
    answered = _nonce(response.extensions)
    if nonce is not None and answered is not None and answered != nonce:
        raise PolicyError("The response's nonce is not the one sent: it answers another request (a replay?)",
                          rule="ocsp-nonce", value=answered.hex(), chapter=guide.CH8_OCSP)
    this_update, next_update = single.this_update_utc, single.next_update_utc
    if moment < this_update:
        raise PolicyError(f"The response is not valid yet: thisUpdate {this_update:%Y-%m-%d %H:%M:%S}Z is after "
                          f"{moment:%Y-%m-%d %H:%M:%S}Z (a clock problem)", rule="ocsp-not-yet-valid",
                          value=f"{this_update:%Y-%m-%d %H:%M:%S}Z", chapter=guide.CH8_OCSP)
    if next_update is not None and moment > next_update:
        raise PolicyError(f"The response is stale: nextUpdate {next_update:%Y-%m-%d %H:%M:%S}Z has passed at "
                          f"{moment:%Y-%m-%d %H:%M:%S}Z; ask the responder again", rule="ocsp-stale",
                          value=f"{next_update:%Y-%m-%d %H:%M:%S}Z", chapter=guide.CH8_OCSP)
    state = {ocsp.OCSPCertStatus.GOOD: "good", ocsp.OCSPCertStatus.REVOKED: "revoked",
             ocsp.OCSPCertStatus.UNKNOWN: "unknown"}[single.certificate_status]
    reason = single.revocation_reason
    return OcspStatus(state, single.revocation_time_utc, _REASON_NAMES.get(reason) if reason else None, this_update,
                      next_update, signer.subject.rfc4514_string() if delegated else "CA")


def _signer(response: ocsp.OCSPResponse, issuer: x509.Certificate) -> x509.Certificate:
    """The certificate the responder ID names: the issuer itself, or one of the certificates sent along."""
    for candidate in (issuer, *response.certificates):
        if response.responder_key_hash is not None:
            if response.responder_key_hash == _digest(hashes.SHA1(), _public_key_bits(candidate)):
                return candidate
        elif response.responder_name == candidate.subject:
            return candidate
    named = response.responder_key_hash.hex() if response.responder_key_hash else (
        response.responder_name.rfc4514_string())
    raise PolicyError("The responder that signed this response is neither the CA nor a certificate included in the "
                      "response, so nothing vouches for its key", rule="ocsp-responder-not-authorised", value=named,
                      chapter=guide.CH8_OCSP)


def _check_signature(response: ocsp.OCSPResponse, signer: x509.Certificate) -> None:
    key, data, signature = signer.public_key(), response.tbs_response_bytes, response.signature
    try:
        algorithm = response.signature_hash_algorithm
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(algorithm))
        elif isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            key.verify(signature, data)
        else:
            raise UnsupportedAlgorithm(type(key).__name__)
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
        raise PolicyError("The response's signature does not verify with the responder's key: it was altered, or "
                          "signed by someone else", rule="ocsp-signature", value=signer.subject.rfc4514_string(),
                          chapter=guide.CH8_OCSP) from None


def _single_for(response: ocsp.OCSPResponse, cert: x509.Certificate,
                issuer: x509.Certificate) -> ocsp.OCSPSingleResponse:
    for single in response.responses:
        if single.serial_number != cert.serial_number:
            continue
        if (single.issuer_name_hash, single.issuer_key_hash) == _issuer_hashes(issuer, single.hash_algorithm):
            return single
    asked = ", ".join(f"{s.serial_number:X}" for s in response.responses)
    raise PolicyError(f"The response is about another certificate (serial {asked}), not serial "
                      f"{cert.serial_number:X} of this issuer", rule="ocsp-wrong-certificate", value=asked,
                      chapter=guide.CH8_OCSP)


# -- where to ask, and asking --------------------------------------------------------------------------------------

def ocsp_url(cert: x509.Certificate) -> str | None:
    """The first OCSP responder URL of the certificate's Authority Information Access, or None."""
    try:
        aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return None
    for description in aia:
        if (description.access_method == x509.AuthorityInformationAccessOID.OCSP
                and isinstance(description.access_location, x509.UniformResourceIdentifier)):
            return description.access_location.value
    return None


def crl_urls(cert: x509.Certificate) -> list[str]:
    """Every URI of the certificate's CRL Distribution Points, in order (empty when it has none)."""
    try:
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except x509.ExtensionNotFound:
        return []
    return [name.value for point in points for name in (point.full_name or [])
            if isinstance(name, x509.UniformResourceIdentifier)]


def query(url: str | None, cert: x509.Certificate, issuer: x509.Certificate, *, at: _dt.datetime | None = None,
          timeout: float = 3.0) -> OcspStatus:
    """Ask the responder at ``url`` (None: the one in ``cert``'s AIA) about ``cert`` with an HTTP POST, then
    :func:`verify_response` the answer (``openssl ocsp -issuer ISSUER -cert CERT -url URL``).

    The request carries a fresh nonce; a response that echoes another one is refused. A responder that cannot be
    reached, does not answer within ``timeout`` seconds or answers with an HTTP error raises
    :class:`~labkit.InputError` rule ``ocsp-unreachable``: whether to fail open or closed then is the caller's policy
    (the Expressway's "revocation checking failure" setting). A URL on a lab host name (``http://ocsp.lab.example/``)
    goes to the lab's responder for that name (:func:`labkit.httpd.open_url`).
    """
    if url is None:
        url = ocsp_url(cert)
        if url is None:
            raise InputError("The certificate names no OCSP responder (no Authority Information Access OCSP URI)",
                             rule="ocsp-url", value=cert.subject.rfc4514_string(), chapter=guide.CH8_OCSP)
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - parsed lazily: a port that is no number raises here
    except (ValueError, AttributeError):
        raise InputError("Not a URL (a responder is http://HOST[:PORT]/PATH)", rule="ocsp-url", value=url,
                         chapter=guide.CH8_OCSP) from None
    if parts.scheme != "http":
        raise InputError("OCSP is asked over plain http (the response is signed; RFC 6960 appendix A)",
                         rule="ocsp-url", value=url, chapter=guide.CH8_OCSP)
    if not parts.hostname or len(parts.hostname) > 253 or any(len(label) > 63 for label in parts.hostname.split(".")):
        raise InputError("The responder's host name is missing or longer than DNS allows (253 characters, 63 a "
                         "label)", rule="ocsp-url", value=url, chapter=guide.CH8_OCSP)
    nonce = os.urandom(16)
    body = request(cert, issuer, nonce=nonce)
    post = urllib.request.Request(url, data=body, method="POST",
                                  headers={"Content-Type": MEDIA_REQUEST, "Accept": MEDIA_RESPONSE})
    try:
        with open_url(post, timeout=timeout) as reply:
            answer = reply.read(MAX_MESSAGE + 1)
    except urllib.error.HTTPError as exc:
        raise InputError(f"The OCSP responder answered HTTP {exc.code} {exc.reason}", rule="ocsp-unreachable",
                         value=url, chapter=guide.CH8_OCSP) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException, UnicodeError) as exc:
        why = getattr(exc, "reason", exc)
        raise InputError(f"The OCSP responder cannot be reached: {why}", rule="ocsp-unreachable", value=url,
                         chapter=guide.CH8_OCSP) from None
    if len(answer) > MAX_MESSAGE:
        raise InputError("The OCSP responder's answer is too large to be an OCSP response", rule="ocsp-response-der",
                         value=url, chapter=guide.CH8_OCSP)
    return verify_response(answer, cert, issuer, at=at, nonce=nonce)
