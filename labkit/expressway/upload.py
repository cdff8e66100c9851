"""Reading files the way the Expressway's certificate pages read them (guide chapter 7), and their findings.

The pages take PEM only (chapter 7; appendix C converts DER): :func:`_file_bytes` reads every file through
:mod:`labkit.x509.loading` and refuses DER, PKCS#7, PKCS#12 and text without ``-----BEGIN`` with rule ``pem-only``,
saying what the file holds and how to convert it. What labkit assumes where the guide is silent:

* text outside the PEM blocks (the ``-text`` dump that appendix B's own ``openssl ca ... -out certs/server.pem``
  writes before the certificate, ``Bag Attributes`` lines, comments) is skipped, as OpenSSL skips it: the guide has
  that very file uploaded, and the Expressway reads its certificates with OpenSSL (chapter 6 decodes the stored file
  with ``openssl x509``). The upload goes ahead with an ``info`` finding (``pem-extra-text``);
* a PKCS#7 file (``-----BEGIN PKCS7-----`` or DER) is refused like DER: the guide asks for PEM certificates, and
  names no PKCS#7 upload.

:class:`Findings` is what an Append or Upload returns.
"""

from __future__ import annotations

import re
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from labkit import guide
from labkit.errors import InputError, LabkitError, PasswordError
from labkit.expressway.doctor import extra_text_findings, pkcs7_advice, split_options
from labkit.x509 import decode
from labkit.x509.loading import KINDS, describe, load, load_all, outside_text, read_file

__all__ = ["Findings", "pem_notes"]

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
    _refuse_pkcs7(raw, what)
    return raw


def _not_pem(raw: bytes, what: str) -> InputError:
    try:
        items = load_all(raw)
    except PasswordError:  # a PKCS#12 file with a password
        items = None
    except LabkitError:
        items = []
    if items is None or (items and items[0].container == "PKCS#12"):
        hint = ("it is a PKCS#12 file (.pfx/.p12: certificate and key together); take it apart: `labkit convert "
                "FILE.pfx --to pem -o cert.pem --chain-out chain.pem --key-out key.pem` (openssl pkcs12 -in FILE.pfx "
                "-clcerts -nokeys -out cert.pem)")
        value = f"PKCS#12, {len(raw)} bytes"
    elif items and items[0].container == "PKCS#7":
        hint = (f"it is {describe(items)}; convert it: `labkit convert FILE.p7b --to pem {split_options(items)}` "
                "(openssl pkcs7 -inform DER -print_certs -in FILE.p7b -out chain.pem)")
        value = f"PKCS#7 DER, {len(raw)} bytes"
    elif items:
        kind = items[0].kind
        tool = "pkey" if kind == "private-key" else {"csr": "req", "crl": "crl"}.get(kind, "x509")
        hint = (f"it is {KINDS[kind]} in DER (binary) form; convert it: `labkit convert FILE.cer --to pem -o "
                f"FILE.pem` (openssl {tool} -inform DER -in FILE.cer -out FILE.pem)")
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


def _refuse_pkcs7(raw: bytes, what: str) -> None:
    """A PEM PKCS#7 file (``-----BEGIN PKCS7-----``) is refused as DER is (labkit's assumption: the guide asks for
    PEM certificates), saying what it holds and how to get the certificates out (doctor's ``pem-only`` note says the
    same)."""
    if not any(label in ("PKCS7", "PKCS #7 SIGNED DATA") for label in _labels(raw)):
        return
    text = pkcs7_advice(load_all(raw), what)
    raise InputError(text[0].upper() + text[1:], rule="pem-only", value="PKCS7", chapter=guide.CH7_PEM)


_extra_text = extra_text_findings  # the pem-extra-text finding, as doctor gives it


def pem_notes(raw: bytes, items: list) -> list[str]:
    """What the Expressway's pages would make of a file that labkit read (``items``: its objects), one line each:
    DER, PKCS#7 and PKCS#12 are not taken (chapter 7, appendix C), and how to convert them; text outside the PEM
    blocks is skipped (labkit's assumption, see the module docstring). Empty for a clean PEM file."""
    if not items:
        return []
    first = items[0]
    notes = []
    if first.container == "PKCS#12":
        notes.append(f"{describe(items)}; the Expressway takes PEM files only: the certificate, its CA chain (for "
                     "the trusted CA list) and the key are uploaded apart: `labkit convert FILE --to pem -o cert.pem "
                     f"--chain-out chain.pem --key-out key.pem` [{guide.CH7_PEM}]")
    elif first.container == "PKCS#7":
        notes.append(f"{describe(items)}; the Expressway takes PEM certificates (that it refuses PKCS#7 is labkit's "
                     f"assumption): `labkit convert FILE --to pem {split_options(items)}` [{guide.CH7_PEM}]")
    elif first.encoding == "DER":
        notes.append(f"DER input: the Expressway takes PEM only; `labkit convert FILE --to pem -o FILE.pem` "
                     f"[{guide.CH7_PEM}]")
    extra = outside_text(raw)
    if extra is not None:
        notes.append(f"text outside the PEM blocks ('{extra[:40]}') was skipped, as OpenSSL skips it; labkit assumes "
                     "the Expressway does the same (appendix B uploads such a file); `labkit convert FILE --to pem "
                     f"-o clean.pem` writes a clean copy [{guide.CH7}]")
    return notes


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
