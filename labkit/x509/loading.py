"""Read what OpenSSL reads: certificates, CSRs, CRLs and keys in PEM or DER, PEM bundles, PKCS#7 and PKCS#12.

This module is labkit's one reader: decode, convert, doctor, the trusted CA list, the server certificate upload and
the CA all read their input through it. ``load(data)`` returns exactly one :class:`Loaded` object; ``load_all(data)``
every object of a file, in order; ``load_file(path)`` reads a file first (refusing empty, huge or missing files).
``expect=`` names the type the caller needs, so a CSR given where a certificate belongs is refused with a message that
says so.

What it reads, as OpenSSL does:

* **PEM**, one block or many. Text outside the blocks is skipped, as OpenSSL's PEM reader skips it: the ``-text``
  dump that ``openssl ca -out`` writes before the certificate (unless ``-notext``), the ``Bag Attributes`` and
  ``subject=`` lines of ``openssl pkcs12 -nokeys`` output, comments. :func:`outside_text` says whether there was any.
* **DER**: one certificate, CSR, CRL or key (``.cer``, ``.der``; appendix C).
* **PKCS#7** certificate bundles (``.p7b``, ``.p7c``; ``-----BEGIN PKCS7-----`` or DER, as Windows exports them):
  the certificates (and CRLs) they hold, in the file's order. labkit walks the SignedData itself
  (:mod:`labkit.x509.der`): cryptography's ``load_*_pkcs7_certificates`` warns on the unsorted certificate set that
  ``openssl crl2pkcs7`` writes (a ``UserWarning`` that "may become an exception"), and no library warning may reach
  a user.
* **PKCS#12** (``.pfx``, ``.p12``): its certificate, CA certificates and private key, with ``password=`` (bytes or
  str). Without a password, an unprotected file (no password, or the empty one) is read; a protected one raises
  :class:`~labkit.errors.PasswordError` rule ``pkcs12-password``.

:func:`describe` says in one line what a file holds; :func:`chain_order` puts a bundle's certificates in chain order
(the end-entity certificate first), whatever order the file had.

The OpenSSL commands that do the same job: ``openssl x509 -in FILE [-inform DER]``, ``openssl req -in FILE``,
``openssl crl -in FILE``, ``openssl pkey -in FILE`` (guide appendices C and D), ``openssl pkcs7 -print_certs -in FILE
[-inform DER]``, ``openssl pkcs12 -in FILE -info``.
"""

from __future__ import annotations

import base64
import binascii
import errno
import os
import re
import stat
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.utils import CryptographyDeprecationWarning

from labkit import guide
from labkit.errors import InputError, PasswordError, WrongTypeError
from labkit.x509.der import DerError, children, oid_der, plain_problem

__all__ = [
    "KINDS",
    "MAX_INPUT_BYTES",
    "Loaded",
    "load",
    "load_all",
    "load_file",
    "read_file",
    "outside_text",
    "describe",
    "chain_order",
    "load_certificate",
    "load_certificates",
    "load_trusted",
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
    "PKCS #7 SIGNED DATA": "pkcs7",
}

_BEGIN = re.compile(rb"-----BEGIN ([A-Z0-9 #]+)-----")
_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 #]+)-----\r?\n(.*?)-----END ([A-Z0-9 #]+)-----", re.S)

_PKCS7_SIGNED_DATA = oid_der("1.2.840.113549.1.7.2")
_PKCS7_DATA = oid_der("1.2.840.113549.1.7.1")


@dataclass(frozen=True)
class Loaded:
    """One decoded object and how it was found.

    ``container`` is ``"PKCS#7"`` or ``"PKCS#12"`` when the object came out of one (``encoding`` is then the
    container's: PEM or DER); ``name`` is a PKCS#12 friendly name, when the file gave one.
    """

    kind: str  # one of KINDS
    obj: object  # the cryptography object (x509.Certificate, x509.CertificateSigningRequest, ...)
    encoding: str  # "PEM" or "DER"
    label: str | None = None  # the PEM label, when PEM
    container: str | None = None  # "PKCS#7" | "PKCS#12" | None
    name: str | None = None  # the PKCS#12 friendly name

    @property
    def description(self) -> str:
        if self.container:
            where = f"in a {self.container} file ({self.encoding})"
        else:
            where = f"PEM label '{self.label}'" if self.label else "DER"
        return f"{KINDS[self.kind]} ({where})"


def read_file(path: str | Path) -> bytes:
    """The bytes of the file at ``path`` (``"-"``: standard input), at most :data:`MAX_INPUT_BYTES`.

    Only a regular file is read: a folder, a FIFO, a device or a socket is refused at once (it is opened without
    blocking and checked before a byte is read), so ``/dev/zero`` or a named pipe never hangs the caller or fills
    its memory. The size limit counts the bytes read, not what the file system says. Rules: ``file-exists``,
    ``file-readable``, ``input-is-file`` (a folder), ``input-is-regular-file`` (FIFO, device, socket),
    ``symlink-loop``, ``file-too-large``.
    """
    if str(path) == "-":
        return _limited(sys.stdin.buffer, "standard input")
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError("No such file", rule="file-exists", value=str(path)) from None
    except IsADirectoryError:
        raise InputError("This is a folder, not a file", rule="input-is-file", value=str(path)) from None
    except PermissionError:
        raise InputError("Permission denied reading the file", rule="file-readable", value=str(path)) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError("The path is a symbolic link that leads back to itself", rule="symlink-loop",
                             value=str(path)) from None
        raise InputError(f"Cannot open the file: {exc.strerror}", rule="file-readable", value=str(path)) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise InputError("This is a folder, not a file", rule="input-is-file", value=str(path))
        kind = "a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a device" if (
            stat.S_ISCHR(mode) or stat.S_ISBLK(mode)) else "a socket" if stat.S_ISSOCK(mode) else "not a file"
        raise InputError(f"This is {kind}, not a regular file: give a certificate, key, CSR or CRL file",
                         rule="input-is-regular-file", value=str(path))
    with os.fdopen(fd, "rb") as handle:
        return _limited(handle, str(path))


def _limited(stream, name: str) -> bytes:
    """At most MAX_INPUT_BYTES from ``stream``; a larger input is refused (rule ``file-too-large``)."""
    data = stream.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(f"Too large for a certificate, CSR, CRL or key (more than {MAX_INPUT_BYTES:,} bytes)",
                         rule="file-too-large", value=name)
    return data


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
            f"Expected one object but the input holds {len(items)}: {kinds}; give a file with that one object",
            rule="single-object",
            value=f"{len(items)} objects",
        )
    item = items[0]
    _check_kind(item, expect)
    return item


def load_all(data: bytes | str, *, password: bytes | str | None = None, check_names: bool = True) -> list[Loaded]:
    """Every object in ``data``, in order: a DER object, each block of a PEM file or bundle, or what a PKCS#7 or
    PKCS#12 file holds. Text outside PEM blocks is skipped, as OpenSSL skips it.

    ``password`` opens a PKCS#12 file or an encrypted private key. ``check_names=False`` lets a certificate whose
    name holds a value that is not a string through (OpenSSL 3 refuses it; ``doctor`` reports it instead).
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
        raise InputError("The input is empty", rule="input-not-empty", value=f"{len(raw)} bytes of white space")
    pwd = password.encode() if isinstance(password, str) else password
    items = _load_pem(raw, pwd) if b"-----BEGIN " in raw else _load_der(raw, pwd)
    if check_names:
        for item in items:
            _check_names(item)
    return items


def outside_text(data: bytes | str) -> str | None:
    """The first line of text outside the PEM blocks of ``data`` (which :func:`load_all` skips), or None. A UTF-8
    byte-order mark at the start (a Windows editor's) is not text anyone wrote: it is skipped without a word."""
    raw = _as_bytes(data).removeprefix(b"\xef\xbb\xbf")
    if b"-----BEGIN " not in raw:
        return None
    pos = 0
    for block in _BLOCK.finditer(raw):
        between = raw[pos:block.start()].strip()
        if between:
            return between.splitlines()[0].decode("utf-8", "replace").strip()
        pos = block.end()
    tail = raw[pos:].strip()
    return tail.splitlines()[0].decode("utf-8", "replace").strip() if tail else None


def _check_names(item: Loaded) -> None:
    """Refuse a certificate or CSR whose subject or issuer cryptography cannot parse: a value that is not a string
    (OpenSSL 3 cannot read it either, and an Expressway shows it undecoded: appendix A's SSH failures), or a
    T61String with bytes outside ASCII (which OpenSSL prints). Rule ``name-value-not-string``."""
    if item.kind not in ("certificate", "csr"):
        return
    try:
        item.obj.subject  # noqa: B018 - parsed lazily: this reads it
        if item.kind == "certificate":
            item.obj.issuer  # noqa: B018
    except ValueError:
        from labkit.x509.text import name_line

        raise InputError(
            "A name attribute holds a value labkit's X.509 library (cryptography) cannot read: either a value that "
            "is not a string, which OpenSSL 3 refuses too and an Expressway shows undecoded, or a T61String with "
            "bytes outside ASCII (OpenSSL prints that one); request the certificate again without the attribute, "
            "or with UTF8String values (openssl.cnf: string_mask = utf8only)",
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
        "Give PEM text or bytes (or a file to read)", rule="input-type", value=type(data).__name__
    )


# -- PEM -------------------------------------------------------------------------------------------------------------

def _load_pem(raw: bytes, password: bytes | None) -> list[Loaded]:
    items: list[Loaded] = []
    pos = 0
    for begin in _BEGIN.finditer(raw):
        if begin.start() < pos:
            continue
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
        if label not in _PARAMETER_LABELS:
            items.extend(_decode_block(label, block.group(0), block.group(2), password))
        pos = block.end()
    return items


#: Blocks of key parameters that ``openssl ecparam -genkey`` (and ``dhparam``) write beside a key: OpenSSL skips them
#: when it reads the key, certificate or CSR of the file, and so does labkit.
_PARAMETER_LABELS = ("EC PARAMETERS", "DH PARAMETERS")


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
    if kind == "pkcs7":  # a .p7b chain, as AD CS hands them out: one entry per certificate
        return _pkcs7(der, "PEM", label)
    try:
        if label == "RSA PUBLIC KEY":
            return [Loaded(kind, serialization.load_pem_public_key(block), "PEM", label)]
        return [Loaded(kind, _DER_PARSERS[kind](der), "PEM", label)]
    except ValueError as exc:
        raise InputError(
            f"The PEM block labelled '{label}' does not hold a valid {_NOUNS[kind]}: {plain_problem(exc)}",
            rule="pem-content",
            value=label,
        ) from None


# cryptography warns each time the serial number of such a certificate is read (not only when it is loaded): labkit
# reads it as OpenSSL does and reports it itself (doctor's rule ``serial-number``, RFC 5280 4.1.2.2), so this one
# warning is silenced for the process, by its message; every other warning stays as it is.
warnings.filterwarnings("ignore", message="Parsed a serial number which wasn't positive",
                        category=CryptographyDeprecationWarning)

_NOUNS = {"certificate": "certificate", "csr": "CSR", "crl": "CRL", "public-key": "public key"}

def _certificate(der: bytes) -> x509.Certificate:
    """``x509.load_der_x509_certificate`` without cryptography's deprecation warning for a serial number that is zero
    or negative: such a certificate is read (as OpenSSL reads it) and ``doctor`` reports it (rule ``serial-number``,
    RFC 5280 4.1.2.2); no library warning reaches a user."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*serial number.*", category=CryptographyDeprecationWarning)
        return x509.load_der_x509_certificate(der)


_DER_PARSERS = {
    "certificate": _certificate,
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
        if password is not None and ("decrypt" in str(exc).lower() or "password" in str(exc).lower()
                                     or _encrypted(loader, data)):
            # A wrong passphrase decrypts to noise; its padding passes by chance about once in 125 tries, and then
            # the noise fails to parse: still the passphrase, not a damaged key (a damaged one is said too)
            raise PasswordError(
                "Wrong passphrase for the encrypted private key (or the encrypted key is damaged)",
                rule="key-passphrase", value="(hidden)"
            ) from None
        raise InputError(
            f"Not a valid private key: {plain_problem(exc)}", rule="key-content", value="private key",
            chapter=guide.APPX_D
        ) from None


def _encrypted(loader, data: bytes) -> bool:
    """Whether ``data`` is an encrypted private key (loading it without a password asks for one)."""
    try:
        loader(data, password=None)
    except TypeError:
        return True
    except ValueError:
        return False
    return False


# -- DER, PKCS#7 and PKCS#12 -------------------------------------------------------------------------------------------

def _container(raw: bytes) -> str | None:
    """"PKCS#7" (a ContentInfo of signedData) or "PKCS#12" (a PFX: version 3, then a ContentInfo), else None. Only
    the first bytes are looked at, so a file cut short is still recognised (and then refused as what it is)."""
    def body(data: bytes) -> bytes:
        if len(data) < 2 or data[0] != 0x30:
            return b""
        return data[2 + (data[1] & 0x7F if data[1] & 0x80 else 0):]

    content = body(raw)
    if content.startswith(_PKCS7_SIGNED_DATA):
        return "PKCS#7"
    if content.startswith(b"\x02\x01\x03") and body(content[3:]).startswith((_PKCS7_DATA, _PKCS7_SIGNED_DATA)):
        return "PKCS#12"
    return None


def _pkcs7(der: bytes, encoding: str, label: str | None) -> list[Loaded]:
    """The certificates and CRLs of a PKCS#7 SignedData (RFC 2315 section 9.1), in the file's order."""
    items: list[Loaded] = []
    try:
        content_type, wrapped = children(der)[:2]
        if content_type != _PKCS7_SIGNED_DATA:
            raise DerError("not signedData")
        signed = children(wrapped)[0]
        for part in children(signed):
            if part[0] in (0xA0, 0xA1):  # [0] IMPLICIT certificates, [1] IMPLICIT crls
                kind = "certificate" if part[0] == 0xA0 else "crl"
                for entry in children(part):
                    if entry[0] == 0x30:  # other choices (attribute certificates ...) are not X.509
                        items.append(Loaded(kind, _DER_PARSERS[kind](entry), encoding, label, "PKCS#7"))
    except (DerError, ValueError, IndexError) as exc:
        raise InputError(
            f"A PKCS#7 file that cannot be read: {plain_problem(exc)}", rule="pkcs7-content",
            value=label or f"DER, {len(der)} bytes", chapter=guide.APPX_C,
        ) from None
    if not items:
        raise InputError("The PKCS#7 file holds no certificate", rule="pkcs7-content",
                         value=label or f"DER, {len(der)} bytes", chapter=guide.APPX_C)
    return items


def _pkcs12(raw: bytes, password: bytes | None) -> list[Loaded]:
    """The certificate, the CA certificates and the key of a PKCS#12 file (RFC 7292)."""
    from cryptography.hazmat.primitives.serialization import pkcs12

    bundle = None
    for attempt in ([password] if password is not None else [None, b""]):
        try:
            bundle = pkcs12.load_pkcs12(raw, attempt)
            break
        except ValueError:
            continue
        except UnsupportedAlgorithm as exc:
            raise InputError(
                f"The PKCS#12 file is protected with an algorithm OpenSSL 3 only reads with its legacy provider "
                f"({exc}); re-export it with AES, or convert it with `openssl pkcs12 -legacy -in FILE -out "
                "FILE.pem`", rule="pkcs12-algorithm", value=f"PKCS#12, {len(raw)} bytes", chapter=guide.CH7,
            ) from None
    if bundle is None:
        if password is None:
            raise PasswordError("The PKCS#12 file is protected by a password, and none was given",
                                rule="pkcs12-password", value="no password", chapter=guide.CH7)
        raise PasswordError("Wrong password for the PKCS#12 file (or the file is damaged)",
                            rule="pkcs12-password", value="(hidden)", chapter=guide.CH7)

    def name(entry) -> str | None:
        return entry.friendly_name.decode("utf-8", "replace") if entry.friendly_name else None

    items = []
    if bundle.cert is not None:
        items.append(Loaded("certificate", bundle.cert.certificate, "DER", None, "PKCS#12", name(bundle.cert)))
    items += [Loaded("certificate", extra.certificate, "DER", None, "PKCS#12", name(extra))
              for extra in bundle.additional_certs]
    if bundle.key is not None:
        items.append(Loaded("private-key", bundle.key, "DER", None, "PKCS#12"))
    if not items:
        raise InputError("The PKCS#12 file holds neither a certificate nor a key", rule="pkcs12-content",
                         value=f"PKCS#12, {len(raw)} bytes", chapter=guide.CH7)
    return items


def _load_der(raw: bytes, password: bytes | None) -> list[Loaded]:
    if raw[:1] != b"\x30":
        text_like = all(32 <= b < 127 or b in (9, 10, 13) for b in raw[:200])
        hint = (
            "it is text without a '-----BEGIN' line"
            if text_like
            else "it does not start with an ASN.1 SEQUENCE (byte 0x30)"
        )
        raise InputError(
            f"Not a certificate, CSR, CRL or key in PEM or DER: {hint}", rule="pem-or-der",
            value=f"{'text' if text_like else 'binary data'}, {len(raw):,} bytes (not shown: it may be a secret)",
            chapter=guide.APPX_C
        )
    container = _container(raw)
    if container == "PKCS#7":
        return _pkcs7(raw, "DER", None)
    if container == "PKCS#12":
        return _pkcs12(raw, password)
    for kind, parser in _DER_PARSERS.items():
        try:
            return [Loaded(kind, parser(raw), "DER")]
        except ValueError:
            continue
    try:
        return [Loaded("private-key", serialization.load_der_private_key(raw, password=password), "DER")]
    except TypeError:
        if password is None:
            raise PasswordError(
                "The private key is encrypted: give its passphrase", rule="key-passphrase", value="no passphrase"
            ) from None
    except ValueError as exc:
        if password is not None and ("decrypt" in str(exc).lower()
                                     or _encrypted(serialization.load_der_private_key, raw)):
            raise PasswordError(
                "Wrong passphrase for the encrypted private key (or the encrypted key is damaged)",
                rule="key-passphrase", value="(hidden)"
            ) from None
    raise InputError(
        "DER data that is not a certificate, CSR, CRL, key, PKCS#7 or PKCS#12 file (truncated or corrupted?)",
        rule="der-content",
        value=f"DER, {len(raw):,} bytes (not shown: it may be a secret)",
        chapter=guide.APPX_C,
    )


def _check_kind(item: Loaded, expect: str | None) -> None:
    if expect is None or item.kind == expect:
        return
    if expect not in KINDS:
        raise InputError(f"Unknown type; choose one of {', '.join(KINDS)}", rule="kind-name", value=expect)
    hint = ""
    if expect == "certificate" and item.kind == "csr":
        hint = f": a CSR must be signed by a CA before it becomes a certificate ({guide.CH3})"
    raise WrongTypeError(
        f"Expected {KINDS[expect]} but found {item.description}{hint}",
        rule=f"expect-{expect}",
        value=item.label or item.container or "DER",
    )


# -- what a file holds, and in which order ---------------------------------------------------------------------------

def _cn(cert: x509.Certificate) -> str:
    """The common name, else the whole subject (as :func:`labkit.x509.decode.label` shows a name)."""
    values = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(values[0].value) if values else (cert.subject.rfc4514_string() or "(empty name)")


def chain_order(certs: list[x509.Certificate]) -> list[x509.Certificate]:
    """The certificates of a bundle in chain order: the end-entity certificate (the one that issued none of the
    others; a certificate that is no CA wins a tie) first, then its issuer, that one's issuer and so on, then any
    that are not on that chain, in the file's order. A PKCS#7 file, or a CA's download, may list them root first."""
    certs = list(certs)
    if len(certs) <= 1:
        return certs

    def issued_another(cert) -> bool:
        return any(other is not cert and other.issuer == cert.subject and other.issuer != other.subject
                   for other in certs)

    ends = [c for c in certs if not issued_another(c)] or certs
    leaf = next((c for c in ends if not _is_ca(c)), ends[0])
    ordered, current = [leaf], leaf
    while current.issuer != current.subject:
        parent = next((c for c in certs if c not in ordered and c.subject == current.issuer), None)
        if parent is None:
            break
        ordered.append(parent)
        current = parent
    return ordered + [c for c in certs if c not in ordered]


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def describe(items: list[Loaded]) -> str:
    """What a file holds, in one line: its form (PEM, DER, a PKCS#7 or PKCS#12 file) and its objects; for a
    PKCS#12 file, whether its certificate carries the public key of its private key."""
    if not items:
        return "nothing"
    first = items[0]
    container = first.container
    form = (f"a {container} file ({first.encoding})" if container
            else "a PEM file" if first.encoding == "PEM" else "a DER file")
    certs = [i.obj for i in items if i.kind == "certificate"]
    keys = [i.obj for i in items if i.kind == "private-key"]
    parts = []
    if container == "PKCS#12" and certs:
        own = next((c for c in certs if keys and c.public_key() == keys[0].public_key()), None)
        main = own or certs[0]
        match = ("its public key matches the private key" if own is not None
                 else "the file has no private key for it" if not keys
                 else "it does NOT carry the public key of the private key")
        parts.append(f"the certificate '{_cn(main)}' ({match})")
        others = [c for c in certs if c is not main]
        if others:
            parts.append(f"{len(others)} CA certificate{'s' if len(others) != 1 else ''} "
                         f"({', '.join(repr(_cn(c)) for c in others)})")
    elif certs:
        ordered = chain_order(certs)
        parts.append(f"{len(certs)} certificate{'s' if len(certs) != 1 else ''} "
                     f"({', '.join(repr(_cn(c)) for c in ordered)})")
    for kind in ("csr", "crl", "public-key"):
        count = sum(i.kind == kind for i in items)
        if count:
            noun = {"csr": "CSR", "crl": "CRL", "public-key": "public key"}[kind]
            parts.append(f"{count} {noun}{'s' if count != 1 else ''}")
    for key in keys:
        size = getattr(key, "key_size", None)
        algorithm = type(key).__name__.replace("PrivateKey", "").lstrip("_")
        parts.append(f"a private key ({algorithm}{f' {size} bits' if size else ''})")
    return f"{form} holding " + ", ".join(parts)


# -- typed shortcuts -------------------------------------------------------------------------------------------------

def load_certificate(data: bytes | str) -> x509.Certificate:
    return load(data, expect="certificate").obj


def load_certificates(data: bytes | str) -> list[x509.Certificate]:
    """Every certificate of a PEM bundle or PKCS#7 file (a chain or a trusted CA list); other objects are
    refused."""
    items = load_all(data)
    for item in items:
        _check_kind(item, "certificate")
    return [item.obj for item in items]


def load_trusted(path: str | Path, option: str = "--ca") -> list[Loaded]:
    """The certificates of a trusted CA list file (``handshake --ca``, ``probe --ca``): a PEM bundle (text around
    the blocks skipped), a PKCS#7 file in PEM or DER, or one DER certificate, read as OpenSSL reads them. Refused
    before any connection is made: a file with no certificate at all (InputError ``ca-file-certificate``, naming
    what it holds), and a file that mixes in a key or CSR (WrongTypeError ``expect-certificate``); a CRL (which
    ``-CAfile`` may carry) is left out."""
    items = load_all(read_file(path))
    certs = [item for item in items if item.kind == "certificate"]
    if not certs:
        raise InputError(f"{option} takes the trusted CA certificates (PEM, or a PKCS#7 file), but the file holds "
                         f"{describe(items).split(' holding ', 1)[-1]}", rule="ca-file-certificate",
                         value=str(path), chapter=guide.CH7_TRUSTED)
    for item in items:
        if item.kind != "crl":
            _check_kind(item, "certificate")
    return certs


def load_csr(data: bytes | str) -> x509.CertificateSigningRequest:
    return load(data, expect="csr").obj


def load_crl(data: bytes | str) -> x509.CertificateRevocationList:
    return load(data, expect="crl").obj


def load_private_key(data: bytes | str, password: bytes | str | None = None):
    return load(data, expect="private-key", password=password).obj
