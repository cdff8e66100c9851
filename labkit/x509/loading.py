"""Load certificates, CSRs, CRLs, keys and PEM bundles, PEM or DER, detecting format and type.

``load(data)`` returns exactly one :class:`Loaded` object; ``load_all(data)`` every object of a PEM bundle.
``load_file(path)`` reads a file first (refusing empty, huge or missing files). ``expect=`` names the type the
caller needs, so a CSR given where a certificate belongs is refused with a message that says so.

The OpenSSL commands that do the same job: ``openssl x509 -in FILE [-inform DER]``, ``openssl req -in FILE``,
``openssl crl -in FILE``, ``openssl pkey -in FILE`` (guide appendices C and D).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from labkit import guide
from labkit.errors import InputError, PasswordError, WrongTypeError

__all__ = [
    "KINDS",
    "MAX_INPUT_BYTES",
    "Loaded",
    "load",
    "load_all",
    "load_file",
    "read_file",
    "load_certificate",
    "load_certificates",
    "load_csr",
    "load_crl",
    "load_private_key",
]

MAX_INPUT_BYTES = 8 * 1024 * 1024
KINDS = {
    "certificate": "a certificate",
    "csr": "a certificate signing request (CSR)",
    "crl": "a certificate revocation list (CRL)",
    "private-key": "a private key",
    "public-key": "a public key",
}

_PEM_KINDS = {
    "CERTIFICATE": "certificate",
    "TRUSTED CERTIFICATE": "certificate",
    "X509 CERTIFICATE": "certificate",
    "CERTIFICATE REQUEST": "csr",
    "NEW CERTIFICATE REQUEST": "csr",
    "X509 CRL": "crl",
    "PRIVATE KEY": "private-key",
    "ENCRYPTED PRIVATE KEY": "private-key",
    "RSA PRIVATE KEY": "private-key",
    "EC PRIVATE KEY": "private-key",
    "PUBLIC KEY": "public-key",
    "RSA PUBLIC KEY": "public-key",
    "PKCS7": "pkcs7",
}

_BEGIN = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----")
_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END ([A-Z0-9 ]+)-----", re.S)


@dataclass(frozen=True)
class Loaded:
    """One decoded object and how it was found."""

    kind: str  # one of KINDS
    obj: object  # the cryptography object (x509.Certificate, x509.CertificateSigningRequest, ...)
    encoding: str  # "PEM" or "DER"
    label: str | None = None  # the PEM label, when PEM

    @property
    def description(self) -> str:
        where = f"PEM label '{self.label}'" if self.label else "DER"
        return f"{KINDS[self.kind]} ({where})"


def read_file(path: str | Path) -> bytes:
    """The bytes of ``path``, refusing what cannot be a certificate file (missing, a folder, empty, huge)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise InputError("This is a folder, not a file", rule="input-is-file", value=str(path))
        if size > MAX_INPUT_BYTES:
            raise InputError(
                f"File too large for a certificate, CSR, CRL or key ({size:,} bytes; the limit is "
                f"{MAX_INPUT_BYTES:,})",
                rule="file-too-large",
                value=str(path),
            )
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError("No such file", rule="file-exists", value=str(path)) from None
    except PermissionError:
        raise InputError("Permission denied reading the file", rule="file-readable", value=str(path)) from None


def load_file(path: str | Path, *, expect: str | None = None, password: bytes | str | None = None) -> Loaded:
    """Read ``path`` and :func:`load` its single object."""
    return load(read_file(path), expect=expect, password=password)


def load(data: bytes | str, *, expect: str | None = None, password: bytes | str | None = None,
         check_names: bool = True) -> Loaded:
    """Exactly one object from PEM or DER ``data``; ``expect`` (a key of :data:`KINDS`) checks its type.
    ``check_names=False`` lets through a name value that is not a string (doctor reports it instead)."""
    items = load_all(data, password=password, check_names=check_names)
    if len(items) > 1:
        kinds = ", ".join(item.description for item in items)
        raise InputError(
            f"Expected one object but the input holds {len(items)}: {kinds}; load them with load_all()",
            rule="single-object",
            value=f"{len(items)} PEM blocks",
        )
    item = items[0]
    _check_kind(item, expect)
    return item


def load_all(data: bytes | str, *, password: bytes | str | None = None, allow_text: bool = False,
             check_names: bool = True) -> list[Loaded]:
    """Every object in ``data``: a DER object, or each block of a PEM file or bundle, in order.

    Text outside the PEM blocks (for example the dump ``openssl ca`` writes before the block unless ``-notext``)
    is refused unless ``allow_text``: the Expressway wants a clean PEM file.
    """
    raw = _as_bytes(data)
    if len(raw) > MAX_INPUT_BYTES:
        raise InputError(
            f"Input too large for a certificate, CSR, CRL or key ({len(raw):,} bytes; the limit is "
            f"{MAX_INPUT_BYTES:,})",
            rule="file-too-large",
            value=f"{len(raw):,} bytes",
        )
    if not raw.strip():
        raise InputError("The input is empty", rule="input-not-empty", value=raw)
    pwd = password.encode() if isinstance(password, str) else password
    items = _load_pem(raw, pwd, allow_text) if b"-----BEGIN " in raw else [_load_der(raw, pwd)]
    for item in items if check_names else ():
        _check_names(item)
    return items


def _check_names(item: Loaded) -> None:
    """Refuse a certificate or CSR whose subject or issuer holds a value that is not a string: cryptography and
    OpenSSL 3 cannot read it, and an Expressway shows it undecoded (appendix A's SSH failures)."""
    if item.kind not in ("certificate", "csr"):
        return
    try:
        item.obj.subject  # noqa: B018 - parsed lazily: this reads it
        if item.kind == "certificate":
            item.obj.issuer  # noqa: B018
    except ValueError:
        from labkit.x509.text import name_line

        raise InputError(
            "A name attribute holds a value that is not a string, which OpenSSL 3 refuses and an Expressway shows "
            "undecoded; request the certificate again without that attribute",
            rule="name-value-not-string",
            value=name_line(item.obj),
            chapter=guide.APPX_A,
        ) from None


def _as_bytes(data: bytes | str) -> bytes:
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    raise InputError(
        "Give PEM text or bytes (use load_file() for a path)", rule="input-type", value=type(data).__name__
    )


def _load_pem(raw: bytes, password: bytes | None, allow_text: bool) -> list[Loaded]:
    items: list[Loaded] = []
    pos = 0
    for begin in _BEGIN.finditer(raw):
        if begin.start() < pos:
            continue
        between = raw[pos : begin.start()]
        if between.strip() and not allow_text:
            where = "before the first PEM block" if pos == 0 else "between PEM blocks"
            raise InputError(
                f"Text {where}: a PEM file must start with '-----BEGIN'; delete the extra lines "
                "(`openssl x509 -in FILE -out clean.pem` writes a clean copy)",
                rule="pem-no-extra-text",
                value=between.strip().splitlines()[0],
            )
        block = _BLOCK.match(raw, begin.start())
        label = begin.group(1).decode()
        if block is not None and raw[block.end() : block.end() + 5] == b"-----":
            raise InputError(
                f"'-----END {label}-----' runs into the next '-----BEGIN' line: the file lacks the newline "
                "after its END line (typically a key file without a trailing newline joined to a certificate); "
                "OpenSSL refuses such a file, so add the newline",
                rule="pem-glued-blocks",
                value=raw[raw.rfind(b"\n", 0, block.end()) + 1 :].split(b"\n", 1)[0].strip().decode("ascii", "replace"),
                chapter=guide.APPX_A,
            )
        if block is None or block.group(3) != block.group(1):
            raise InputError(
                f"Truncated PEM: '-----BEGIN {label}-----' has no matching '-----END {label}-----'",
                rule="pem-complete",
                value=label,
            )
        items.extend(_decode_block(label, block.group(0), block.group(2), password))
        pos = block.end()
    tail = raw[pos:]
    if tail.strip() and not allow_text:
        raise InputError(
            "Text after the last PEM block; delete it", rule="pem-no-extra-text", value=tail.strip().splitlines()[0]
        )
    return items


def _decode_block(label: str, block: bytes, body: bytes, password: bytes | None) -> list[Loaded]:
    kind = _PEM_KINDS.get(label)
    if kind is None:
        raise InputError(
            f"Unknown PEM label; expected one of: {', '.join(sorted(_PEM_KINDS))}",
            rule="pem-label",
            value=label,
        )
    if kind == "private-key":
        return [Loaded(kind, _private_key(block, password, pem=True), "PEM", label)]
    try:
        body_lines = [line for line in body.splitlines() if b":" not in line]  # skip RFC 1421 headers
        der = base64.b64decode(b"".join(line.strip() for line in body_lines), validate=True)
    except (binascii.Error, ValueError):
        raise InputError("The PEM body is not valid base64", rule="pem-base64", value=label) from None
    if not der:
        raise InputError("The PEM block is empty", rule="pem-base64", value=label)
    try:
        if kind == "pkcs7":  # a .p7b chain, as AD CS hands them out: one entry per certificate
            from cryptography.hazmat.primitives.serialization import pkcs7

            return [Loaded("certificate", c, "PEM", label) for c in pkcs7.load_der_pkcs7_certificates(der)]
        if label == "RSA PUBLIC KEY":
            return [Loaded(kind, serialization.load_pem_public_key(block), "PEM", label)]
        return [Loaded(kind, _DER_PARSERS[kind](der), "PEM", label)]
    except ValueError as exc:
        what = KINDS.get(kind, "PKCS#7 certificates")
        raise InputError(
            f"The PEM block labelled '{label}' does not hold valid {what} (cut short or corrupted?): {exc}",
            rule="pem-content",
            value=label,
        ) from None


_DER_PARSERS = {
    "certificate": x509.load_der_x509_certificate,
    "csr": x509.load_der_x509_csr,
    "crl": x509.load_der_x509_crl,
    "public-key": serialization.load_der_public_key,
}


def _private_key(data: bytes, password: bytes | None, *, pem: bool):
    loader = serialization.load_pem_private_key if pem else serialization.load_der_private_key
    try:
        return loader(data, password=password)
    except TypeError as exc:
        if "not encrypted" in str(exc):
            return loader(data, password=None)
        raise PasswordError(
            "The private key is encrypted: give its passphrase", rule="key-passphrase", value="no passphrase"
        ) from None
    except ValueError as exc:
        if password is not None and ("decrypt" in str(exc).lower() or "password" in str(exc).lower()):
            raise PasswordError(
                "Wrong passphrase for the encrypted private key", rule="key-passphrase", value="(hidden)"
            ) from None
        raise InputError(
            f"Not a valid private key: {exc}", rule="key-content", value="private key", chapter=guide.APPX_D
        ) from None


def _load_der(raw: bytes, password: bytes | None) -> Loaded:
    if raw[:1] != b"\x30":
        text_like = all(32 <= b < 127 or b in (9, 10, 13) for b in raw[:200])
        hint = (
            "it is text without a '-----BEGIN' line"
            if text_like
            else "it does not start with an ASN.1 SEQUENCE (byte 0x30)"
        )
        raise InputError(
            f"Not a certificate, CSR, CRL or key in PEM or DER: {hint}", rule="pem-or-der", value=raw,
            chapter=guide.APPX_C
        )
    for kind, parser in _DER_PARSERS.items():
        try:
            return Loaded(kind, parser(raw), "DER")
        except ValueError:
            continue
    try:
        return Loaded("private-key", serialization.load_der_private_key(raw, password=password), "DER")
    except TypeError:
        if password is None:
            raise PasswordError(
                "The private key is encrypted: give its passphrase", rule="key-passphrase", value="no passphrase"
            ) from None
    except ValueError as exc:
        if password is not None and "decrypt" in str(exc).lower():
            raise PasswordError(
                "Wrong passphrase for the encrypted private key", rule="key-passphrase", value="(hidden)"
            ) from None
    raise InputError(
        "DER data that is not a certificate, CSR, CRL or key (truncated or corrupted?)",
        rule="der-content",
        value=raw,
        chapter=guide.APPX_C,
    )


def _check_kind(item: Loaded, expect: str | None) -> None:
    if expect is None or item.kind == expect:
        return
    if expect not in KINDS:
        raise InputError(f"Unknown type; choose one of {', '.join(KINDS)}", rule="kind-name", value=expect)
    hint = ""
    if expect == "certificate" and item.kind == "csr":
        hint = ": a CSR must be signed by a CA before it becomes a certificate (guide chapter 3)"
    raise WrongTypeError(
        f"Expected {KINDS[expect]} but found {item.description}{hint}",
        rule=f"expect-{expect}",
        value=item.label or "DER",
    )


def load_certificate(data: bytes | str) -> x509.Certificate:
    return load(data, expect="certificate").obj


def load_certificates(data: bytes | str) -> list[x509.Certificate]:
    """Every certificate of a PEM bundle (a chain or a trusted CA list); other objects are refused."""
    items = load_all(data)
    for item in items:
        _check_kind(item, "certificate")
    return [item.obj for item in items]


def load_csr(data: bytes | str) -> x509.CertificateSigningRequest:
    return load(data, expect="csr").obj


def load_crl(data: bytes | str) -> x509.CertificateRevocationList:
    return load(data, expect="crl").obj


def load_private_key(data: bytes | str, password: bytes | str | None = None):
    return load(data, expect="private-key", password=password).obj
