"""Notebook 05, the OpenSSL CA (guide appendices B-F): exercises 05.1-05.3 on a certificate for a mutual-TLS zone,
a CRL that revokes it, and a serial found in the CA database.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import ExtendedKeyUsageOID

from labkit import guide
from labkit.ca import self_signed
from labkit.chapters import plots
from labkit.chapters.lab_ca import init_ca
from labkit.exercises import check, exercise
from labkit.x509 import certs, decode, pki
from labkit.x509.convert import convert
from labkit.x509.openssl import attime, labkit_command, openssl

__all__ = ["attime", "certs", "check", "convert", "decode", "init_ca", "labkit_command", "openssl", "pki", "plots",
           "self_signed"]


@exercise("05.1", "Issue a certificate for a mutual-TLS zone", guide.APPX_E)
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


@exercise("05.2", "Publish a CRL that revokes it", guide.CH8)
def _crl_revokes(answer, *, certificate: x509.Certificate, ca) -> tuple[bool, str]:
    if not isinstance(answer, x509.CertificateRevocationList):
        return False, "pass the CRL object that ca.crl() returned"
    if not answer.is_signature_valid(ca.certificate.public_key()):
        return False, f"this CRL was not signed by {ca.name}"
    if answer.get_revoked_certificate_by_serial_number(certificate.serial_number) is None:
        return False, "the certificate's serial is not on this CRL: revoke it first, then publish a new CRL"
    return True, "a relying party that loads this CRL now refuses the certificate"


@exercise("05.3", "Find a serial in the CA database", guide.APPX_B)
def _serial_of(answer, *, ca, common_name: str) -> tuple[bool, str]:
    wanted = [e for e in ca.entries() if e.subject.endswith(f"/CN={common_name}")]
    given = str(answer).strip().upper().removeprefix("0X")
    if any(e.serial_hex == given.zfill(len(e.serial_hex)) for e in wanted):
        return True, "found it: index.txt keys every certificate by its serial"
    return False, f"look for /CN={common_name} in issuing.table() (or index.txt) and give its serial in hex"
