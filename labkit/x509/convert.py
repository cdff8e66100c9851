"""PEM <-> DER conversion (guide appendix C: the Expressway needs PEM).

The OpenSSL commands that do the same: ``openssl x509 -in cert.cer -inform DER -out cert.pem -outform PEM`` (and
``req``, ``crl``, ``pkey`` for CSRs, CRLs and keys). labkit's output is byte-identical to OpenSSL's.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization

from labkit import guide
from labkit.errors import InputError
from labkit.x509.files import write_atomic, write_private
from labkit.x509.loading import Loaded, load_all, read_file

__all__ = ["FORMATS", "convert", "convert_file"]

FORMATS = ("pem", "der")
def convert(data: bytes | str, to: str) -> bytes:
    """``data`` (one certificate, CSR, CRL or key, PEM or DER) re-encoded as ``to`` ("pem" or "der").

    A PEM bundle converts to PEM (each block re-encoded); DER holds one object, so a bundle cannot become DER.
    Encrypted private keys are refused: decrypt them first (``openssl pkey -in key.pem -out plain.pem``).
    """
    target = _target(to)
    items = load_all(data)
    if target == "der" and len(items) > 1:
        raise InputError(
            f"DER holds a single object but the input has {len(items)}; split the bundle into one file each",
            rule="der-single-object",
            value=f"{len(items)} PEM blocks",
            chapter=guide.APPX_C,
        )
    return b"".join(_encode(item, target) for item in items)


def convert_file(src: str | Path, to: str, out: str | Path | None = None) -> bytes:
    """Convert the file ``src``; write the result atomically to ``out`` when given (keys with mode 0600)."""
    raw = read_file(src)
    result = convert(raw, to)
    if out is not None:
        writer = write_private if any(i.kind == "private-key" for i in load_all(raw)) else write_atomic
        writer(out, result)
    return result


def _target(to: str) -> str:
    target = str(to).lower()
    if target not in FORMATS:
        raise InputError("Convert to 'pem' or 'der'", rule="convert-format", value=to, chapter=guide.APPX_C)
    return target


def _encode(item: Loaded, target: str) -> bytes:
    encoding = serialization.Encoding.PEM if target == "pem" else serialization.Encoding.DER
    if item.kind == "private-key":
        traditional = item.label in ("RSA PRIVATE KEY", "EC PRIVATE KEY")
        if item.label == "ENCRYPTED PRIVATE KEY":
            raise InputError(
                "Refusing to write an encrypted private key out unencrypted; decrypt it deliberately first",
                rule="key-stays-encrypted",
                value=item.label,
                chapter=guide.APPX_C,
            )
        fmt = serialization.PrivateFormat.TraditionalOpenSSL if traditional else serialization.PrivateFormat.PKCS8
        return item.obj.private_bytes(encoding, fmt, serialization.NoEncryption())
    if item.kind == "public-key":
        return item.obj.public_bytes(encoding, serialization.PublicFormat.SubjectPublicKeyInfo)
    return item.obj.public_bytes(encoding)
