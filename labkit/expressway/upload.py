"""Reading files the way the Expressway's certificate pages read them (guide chapter 7), and their findings.

The pages take PEM only: :func:`_file_bytes` refuses DER, PKCS#12 and text without ``-----BEGIN`` with rule
``pem-only`` and says how to convert (appendix C). :class:`Findings` is what an Append or Upload returns.
"""

from __future__ import annotations

import re
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from labkit import guide
from labkit.errors import InputError, LabkitError
from labkit.x509 import decode
from labkit.x509.loading import KINDS, load, read_file

__all__ = ["Findings"]

_BEGIN = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----")


_TRUSTED_LABELS = {"CERTIFICATE", "X509 CERTIFICATE", "X509 CRL"}


_KEY_LABELS = {"PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"}


_MIN_RSA = 2048


class Findings(list):
    """The findings of one Append or Upload: a list of :class:`~labkit.expressway.doctor.Finding`, printed one per
    line."""

    def rules(self) -> list[str]:
        return [f.rule for f in self]

    def text(self) -> str:
        if not self:
            return "no warnings"
        return "\n".join(f"{f.severity.upper():<8} {f.rule:<24} {f.message} [{f.reference()}]" for f in self)

    def __str__(self) -> str:
        return self.text()

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(self.text())


def _file_bytes(data, what: str) -> bytes:
    """The bytes of a file given as PEM text, bytes or a Path; anything that is not PEM is refused."""
    if isinstance(data, Path):
        raw = read_file(data)
    elif isinstance(data, str):
        raw = data.encode("utf-8")
    elif isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
    else:
        raise InputError(f"Give the {what} as PEM text, bytes or a Path", rule="input-type",
                         value=type(data).__name__, chapter=guide.CH7)
    if not raw.strip():
        raise InputError(f"The {what} is empty", rule="input-not-empty", value=what, chapter=guide.CH7)
    if b"-----BEGIN " not in raw:
        raise _not_pem(raw, what)
    return raw


def _not_pem(raw: bytes, what: str) -> InputError:
    try:
        kind = load(raw).kind
    except LabkitError:
        kind = None
    if kind is not None:
        tool = "pkey" if kind == "private-key" else {"csr": "req", "crl": "crl"}.get(kind, "x509")
        hint = (f"it is {KINDS[kind]} in DER (binary) form; convert it: "
                f"`openssl {tool} -inform DER -in FILE.cer -out FILE.pem`")
        value = f"DER, {len(raw)} bytes"
    elif raw[:1] == b"\x30":
        hint = ("binary data that is not one certificate or key (a PKCS#12 .p12/.pfx bundle? "
                "`openssl pkcs12 -in FILE.p12 -nokeys -out cert.pem` extracts the certificates)")
        value = f"binary, {len(raw)} bytes"
    else:
        hint = "there is no '-----BEGIN' line"
        value = raw
    return InputError(f"The {what} must be PEM, the only format the Expressway takes: {hint}", rule="pem-only",
                      value=value, chapter=guide.CH7_PEM)


def _labels(raw: bytes) -> list[str]:
    return [m.group(1).decode() for m in _BEGIN.finditer(raw)]


def _as_certificate(cert) -> x509.Certificate:
    """A certificate given as an object, PEM text, PEM or DER bytes, or a Path."""
    if isinstance(cert, x509.Certificate):
        return cert
    return load(read_file(cert) if isinstance(cert, Path) else cert, expect="certificate").obj


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _cn(cert: x509.Certificate) -> str | None:
    values = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else None


_label = decode.label


def _self_signed(cert: x509.Certificate) -> bool:
    return cert.subject == cert.issuer


def _short_fingerprint(cert: x509.Certificate) -> str:
    return decode.fingerprint(cert)[:23] + "..."


def _basic_constraints(cert: x509.Certificate) -> x509.BasicConstraints | None:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return None


def _constraints_text(cert: x509.Certificate) -> str:
    constraints = _basic_constraints(cert)
    if constraints is None:
        return "missing"
    return "CA:TRUE" if constraints.ca else "CA:FALSE"
