"""Issue certificates from a small frozen spec: enough for chains, trust stores and failure labs.

This is the building block behind the lab's examples (a root, an issuing CA, an Expressway). The OpenSSL-style CA
with a database lives in its own module; both sign the same way: SHA-256, RSA PKCS#1 v1.5 (deterministic), or
deterministic ECDSA (RFC 6979) for EC keys, so a fixed key, instant and serial always give the same bytes.

OpenSSL equivalent of one step: ``openssl req -x509 -key root.key -subj "/CN=Lab Root CA" -days 3650 ...``.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from labkit import guide, lab
from labkit.errors import PolicyError, WrongTypeError
from labkit.x509.files import write_atomic, write_private
from labkit.x509.names import check_attribute, check_common_name, check_country

__all__ = ["CertSpec", "Issued", "issue", "request", "sign_request", "sign_builder", "check_days", "validity_end",
           "X509_LAST"]

#: The last instant an X.509 date can express: GeneralizedTime 99991231235959Z (RFC 5280 4.1.2.5 gives it the
#: meaning "no well-defined expiration date").
X509_LAST = _dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=_dt.timezone.utc)


def check_days(days: int, what: str = "A certificate") -> int:
    """``days`` if it is a whole number of days above 0 (``bool`` is not a number of days). Raises WrongTypeError
    ``validity-days`` or PolicyError ``validity-positive``: 0 or negative days are refused, never replaced by a
    default."""
    if isinstance(days, bool) or not isinstance(days, int):
        raise WrongTypeError(f"{what}'s validity is a whole number of days", rule="validity-days", value=repr(days),
                             chapter=guide.CH2)
    if days <= 0:
        raise PolicyError(f"{what} must be valid for at least one day", rule="validity-positive", value=days,
                          chapter=guide.CH2)
    return days


def validity_end(start: _dt.datetime, days: int, what: str = "A certificate") -> _dt.datetime:
    """``start`` plus ``days`` (checked by :func:`check_days`), refused with PolicyError ``validity-end`` when the end
    lies past :data:`X509_LAST`: no date after 9999-12-31 can be written (and Python's dates end there too)."""
    check_days(days, what)
    try:
        end = start + _dt.timedelta(days=days)
    except OverflowError:
        end = None
    if end is None or end > X509_LAST:
        raise PolicyError(f"{what} cannot last {days:,} days from {start:%Y-%m-%d}: X.509 dates end on 9999-12-31 "
                          "(GeneralizedTime has four digits for the year)", rule="validity-end", value=days,
                          chapter=guide.RFC5280_TIME)
    return end

@dataclass(frozen=True)
class CertSpec:
    """What a certificate says: subject, names, CA or not, how long it lasts and what it may be used for."""

    common_name: str
    organization: str = "labkit"
    country: str = "GB"
    sans: tuple[str, ...] = ()
    ca: bool = False
    path_length: int | None = None
    days: int = 365
    server_auth: bool = True
    client_auth: bool = True
    start_offset_days: int = 0  # negative: the certificate became valid before "now"

    def __post_init__(self) -> None:
        check_common_name(self.common_name, "The common name")
        check_attribute(self.organization, "The organization")
        check_country(self.country)
        if self.path_length is not None and not self.ca:
            raise PolicyError("path_length only makes sense on a CA certificate (ca=True)",
                              rule="path-length-needs-ca", value=self.path_length, chapter=guide.CH2)
        check_days(self.days)
        if isinstance(self.sans, str):
            object.__setattr__(self, "sans", (self.sans,))

    def subject(self) -> x509.Name:
        return x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, self.country),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, self.organization),
            x509.NameAttribute(NameOID.COMMON_NAME, self.common_name),
        ])


@dataclass(frozen=True)
class Issued:
    """A certificate with its private key (``None`` when the CA signed a CSR: the key stays with its owner)."""

    certificate: x509.Certificate
    key: object = field(repr=False, default=None)

    @property
    def name(self) -> str:
        return self.certificate.subject.rfc4514_string()

    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        if self.key is None:
            raise PolicyError("The CA never sees the private key of a certificate it signs from a CSR",
                              rule="key-stays-with-owner", value=self.name,
                              chapter=guide.CH3)
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())

    def write(self, folder: str | Path, stem: str) -> tuple[Path, Path | None]:
        """Write ``stem.pem`` (certificate) and, when known, ``stem.key.pem`` (key, mode 0600) into ``folder``."""
        folder = Path(folder)
        cert_path = write_atomic(folder / f"{stem}.pem", self.cert_pem())
        key_path = write_private(folder / f"{stem}.key.pem", self.key_pem()) if self.key is not None else None
        return cert_path, key_path


def general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def sign_builder(builder, key):
    """Sign any cryptography builder deterministically with ``key`` (SHA-256)."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return builder.sign(key, hashes.SHA256(), ecdsa_deterministic=True)
    return builder.sign(key, hashes.SHA256())


def issue(spec: CertSpec, key, issuer: Issued | None = None, *, at: _dt.datetime | None = None,
          serial: int | None = None) -> Issued:
    """A certificate for ``key`` as ``spec`` says, signed by ``issuer`` (self-signed when ``issuer`` is None).

    ``key`` is the subject's private key, or only its public key (taken from a CSR: the CA never sees the private
    key). ``at`` is "now" (the lab clock by default); ``serial`` comes from the lab counter unless given.
    """
    start = lab.now(at) + _dt.timedelta(days=spec.start_offset_days)
    private = key if hasattr(key, "public_key") else None
    public = private.public_key() if private is not None else key
    if issuer is None and private is None:
        raise PolicyError("A self-signed certificate is signed with its own private key; a public key is not enough",
                          rule="self-signed-needs-private-key", value=spec.common_name, chapter=guide.CH2)
    signer_cert = issuer.certificate if issuer else None
    builder = (
        x509.CertificateBuilder()
        .subject_name(spec.subject())
        .issuer_name(signer_cert.subject if signer_cert else spec.subject())
        .public_key(public)
        .serial_number(lab.next_serial() if serial is None else serial)
        .not_valid_before(start)
        .not_valid_after(validity_end(start, spec.days))
        .add_extension(x509.BasicConstraints(ca=spec.ca, path_length=spec.path_length), critical=True)
        .add_extension(_key_usage(spec.ca, public), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )
    if signer_cert is not None:  # a self-signed root needs no AKI (RFC 5280 4.2.1.1)
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_cert.public_key()), critical=False)
    if not spec.ca:
        usages = [oid for flag, oid in ((spec.server_auth, ExtendedKeyUsageOID.SERVER_AUTH),
                                        (spec.client_auth, ExtendedKeyUsageOID.CLIENT_AUTH)) if flag]
        if usages:
            builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        names = list(dict.fromkeys((spec.common_name, *spec.sans)))
        builder = builder.add_extension(
            x509.SubjectAlternativeName([general_name(n) for n in names]), critical=False)
    return Issued(sign_builder(builder, issuer.key if issuer else private), private)


def _key_usage(ca: bool, public) -> x509.KeyUsage:
    rsa_leaf = not ca and isinstance(public, rsa.RSAPublicKey)  # keyEncipherment means RSA key transport
    return x509.KeyUsage(
        digital_signature=not ca, content_commitment=False, key_encipherment=rsa_leaf, data_encipherment=False,
        key_agreement=False, key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False)


def request(spec: CertSpec, key) -> x509.CertificateSigningRequest:
    """Stage 2 of the guide's three: a CSR carrying ``key``'s public key, the subject and the names of ``spec``.

    OpenSSL: ``openssl req -new -key KEY -subj "/C=GB/O=labkit/CN=NAME" -addext "subjectAltName=DNS:NAME"``.
    """
    names = list(dict.fromkeys((spec.common_name, *spec.sans)))
    builder = (x509.CertificateSigningRequestBuilder().subject_name(spec.subject())
               .add_extension(x509.SubjectAlternativeName([general_name(n) for n in names]), critical=False))
    return sign_builder(builder, key)


def sign_request(csr: x509.CertificateSigningRequest, issuer: Issued, *, days: int = 365,
                 at: _dt.datetime | None = None) -> Issued:
    """Stage 3 in miniature: check the CSR's signature (proof that the requester holds the private key), then
    issue a certificate for its public key with its subject and DNS names. The CA of notebook 05 adds policies,
    profiles and a database; OpenSSL: ``openssl x509 -req -in r.csr -CA ca.pem -CAkey ca.key -copy_extensions copy``.
    """
    if not csr.is_signature_valid:
        raise PolicyError("The CSR's signature does not verify: it was changed after signing, or not signed with "
                          "the key it carries", rule="csr-signature", value=csr.subject.rfc4514_string(),
                          chapter=guide.CH3)

    def first(oid, default):
        values = csr.subject.get_attributes_for_oid(oid)
        return str(values[0].value) if values else default

    try:
        sans = tuple(csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
                     .get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        sans = ()
    spec = CertSpec(first(NameOID.COMMON_NAME, ""), organization=first(NameOID.ORGANIZATION_NAME, "labkit"),
                    country=first(NameOID.COUNTRY_NAME, "GB"), sans=sans, days=days)
    return issue(spec, csr.public_key(), issuer, at=at)
