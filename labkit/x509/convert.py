"""PEM <-> DER conversion (guide appendix C: the Expressway needs PEM), and taking bundles apart.

:func:`convert` re-encodes what a file holds; :func:`convert_file` also splits a bundle the way the Expressway's pages
want it (chapter 7): the server certificate alone (``out``), its CA certificates for the trusted CA list
(``chain_out``, issuing CA first) and, only when asked, the private key (``key_out``, unencrypted PEM, mode 0600: the
Expressway takes no key with a passphrase). A PKCS#7 (``.p7b``) or PKCS#12 (``.pfx``) file becomes PEM this way; the
certificates always come out in chain order (the end-entity certificate first), whatever order the file had.

The OpenSSL commands that do the same: ``openssl x509 -in cert.cer -inform DER -out cert.pem -outform PEM`` (and
``req``, ``crl``, ``pkey`` for CSRs, CRLs and keys); ``openssl pkcs7 -print_certs -in chain.p7b [-inform DER]``;
``openssl pkcs12 -in expe.pfx -clcerts -nokeys`` (certificate), ``-cacerts -nokeys`` (chain), ``-nocerts -noenc``
(key). labkit's PEM is byte-identical to OpenSSL's (without the ``subject=``/``Bag Attributes`` lines).
"""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from labkit import guide
from labkit.errors import InputError
from labkit.x509.files import check_distinct, check_key_out, write_atomic, write_private
from labkit.x509.loading import Loaded, chain_order, describe, load_all, read_file

__all__ = ["FORMATS", "convert", "convert_file", "ordered", "pem_command"]

FORMATS = ("pem", "der")


def ordered(items: list[Loaded]) -> list[Loaded]:
    """The objects of a file with its certificates in chain order (the end-entity certificate first) and the other
    objects after them in the file's order. A plain PEM file keeps its own order."""
    if not any(item.container for item in items):
        return list(items)
    certs = [item for item in items if item.kind == "certificate"]
    by_cert = {id(item.obj): item for item in certs}
    chain = [by_cert[id(cert)] for cert in chain_order([item.obj for item in certs])]
    return chain + [item for item in items if item.kind != "certificate"]


def pem_command(items: list[Loaded], path: str, out: str, *, password_file: str | None = None,
                part: str = "all", passin: bool = True) -> list[str] | None:
    """The ``openssl`` command (a list of arguments, ``openssl`` first) that writes the certificates of the file at
    ``path`` (which labkit read as ``items``) to ``out`` as PEM, for the OpenSSL commands that read PEM certificates
    only (``openssl verify`` and its ``-CAfile``/``-untrusted``, ``s_client -CAfile``); None when OpenSSL reads the
    file as it is (PEM certificates, text around the blocks allowed).

    A PKCS#7 file: ``openssl pkcs7 -print_certs [-inform DER]``; a DER certificate: ``openssl x509 -inform DER``; a
    PKCS#12 file: ``openssl pkcs12 -nokeys`` (``part="certificate"``: ``-clcerts``, only the certificate of the
    file's key; ``part="chain"``: ``-cacerts``), its password from ``password_file`` (``-passin file:``; the empty
    password when the file opened without one; ``passin=False``: no ``-passin``, so openssl asks for it). The
    certificates come out in the file's order."""
    first = items[0]
    if first.container == "PKCS#7":
        return ["openssl", "pkcs7", "-print_certs", *(["-inform", "DER"] if first.encoding == "DER" else []),
                "-in", path, "-out", out]
    if first.container == "PKCS#12":
        has_key = any(item.kind == "private-key" for item in items)
        which = {"certificate": ["-clcerts"] if has_key else [], "chain": ["-cacerts"]}.get(part, [])
        secret = f"file:{password_file}" if password_file else "pass:"
        return ["openssl", "pkcs12", "-in", path, *which, "-nokeys", *(["-passin", secret] if passin else []),
                "-out", out]
    if first.encoding == "DER":
        tool = {"csr": "req", "crl": "crl", "private-key": "pkey", "public-key": "pkey"}.get(first.kind, "x509")
        return ["openssl", tool, "-inform", "DER", "-in", path, "-out", out]
    return None


def convert(data: bytes | str, to: str, *, password: bytes | str | None = None) -> bytes:
    """``data`` (a certificate, CSR, CRL or key, PEM or DER; a PEM bundle; a PKCS#7 or PKCS#12 file) re-encoded as
    ``to`` ("pem" or "der").

    A bundle converts to PEM (each object re-encoded; a PKCS#7 or PKCS#12 file's certificates in chain order); DER
    holds one object, so a bundle cannot become DER. The private key of a PKCS#12 file is left out (ask for it with
    :func:`convert_file`'s ``key_out``). Encrypted private keys are refused: decrypt them first (``openssl pkey -in
    key.pem -out plain.pem``).
    """
    target = _target(to)
    items = [item for item in ordered(load_all(data, password=password))
             if not (item.kind == "private-key" and item.container == "PKCS#12")]
    if target == "der" and len(items) > 1:
        raise InputError(
            f"DER holds a single object but the input has {len(items)}; split the bundle into one file each",
            rule="der-single-object",
            value=f"{len(items)} objects",
            chapter=guide.APPX_C,
        )
    return b"".join(_encode(item, target) for item in items)


def convert_file(src: str | Path, to: str, out: str | Path | None = None, *, chain_out: str | Path | None = None,
                 key_out: str | Path | None = None, password: bytes | str | None = None) -> bytes:
    """Convert the file ``src`` and return what goes to ``out`` (written atomically when given).

    Without ``chain_out`` or ``key_out`` that is :func:`convert`'s result (a file with a private key in it is
    written with mode 0600). With ``chain_out``, ``out`` gets the end-entity certificate alone (what the Expressway's
    server certificate page takes) and ``chain_out`` the other certificates (its CA chain, for the trusted CA list).
    With ``key_out``, the private key is written there, unencrypted PKCS#8 (``-----BEGIN PRIVATE KEY-----`` in PEM),
    mode 0600, and nowhere else. Nothing is written unless everything could be read and encoded.
    """
    target = _target(to)
    check_distinct([out, chain_out, key_out], [src])  # before anything is read or written
    check_key_out(key_out)
    raw = read_file(src)
    if chain_out is None and key_out is None:
        result = convert(raw, target, password=password)
        if out is not None:
            has_key = any(item.kind == "private-key" and item.container != "PKCS#12"
                          for item in load_all(raw, password=password))
            (write_private if has_key else write_atomic)(out, result)
        return result
    items = ordered(load_all(raw, password=password))
    keys = [item for item in items if item.kind == "private-key"]
    rest = [item for item in items if item.kind != "private-key"]
    certs = [item for item in rest if item.kind == "certificate"]
    writes: list[tuple[Path, bytes, bool]] = []
    if key_out is not None:
        if len(keys) != 1:
            raise InputError(f"--key-out needs a file with one private key; this one has {len(keys)}",
                             rule="key-out-one-key", value=str(src), chapter=guide.CH7)
        writes.append((Path(key_out), _encode(keys[0], target, pkcs8=True), True))
    main = rest
    if chain_out is not None:
        if not certs:
            raise InputError("--chain-out needs a file with certificates", rule="chain-out-certificates",
                             value=str(src), chapter=guide.CH7)
        if all(_is_ca(item.obj) for item in certs):
            raise InputError(f"--chain-out splits a server certificate from its CA chain, but the file holds only CA "
                             f"certificates ({describe(certs)}): write them all as the chain with `-o "
                             "chain.pem` alone, for the trusted CA list", rule="chain-out-server-certificate",
                             value=str(src), chapter=guide.CH7_TRUSTED)
        # split at the end-entity certificate, whatever the file's order (a PEM bundle root first, as some CAs
        # send it, too): the server certificate first, then its chain in issuing order
        by_cert = {id(item.obj): item for item in certs}
        certs = [by_cert[id(cert)] for cert in chain_order([item.obj for item in certs])]
        main = [certs[0]]
        writes.append((Path(chain_out), _join(certs[1:], target, "chain"), False))
    result = _join(main, target, "output")
    if out is not None:
        writes.insert(0, (Path(out), result, False))
    for path, data, private in writes:
        (write_private if private else write_atomic)(path, data)
    return result


def _is_ca(cert) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _join(items: list[Loaded], target: str, what: str) -> bytes:
    if target == "der" and len(items) > 1:
        raise InputError(f"DER holds a single object but the {what} would have {len(items)}; convert to PEM",
                         rule="der-single-object", value=f"{len(items)} objects", chapter=guide.APPX_C)
    return b"".join(_encode(item, target) for item in items)


def _target(to: str) -> str:
    target = str(to).lower()
    if target not in FORMATS:
        raise InputError("Convert to 'pem' or 'der'", rule="convert-format", value=to, chapter=guide.APPX_C)
    return target


def _encode(item: Loaded, target: str, *, pkcs8: bool = False) -> bytes:
    encoding = serialization.Encoding.PEM if target == "pem" else serialization.Encoding.DER
    if item.kind == "private-key":
        traditional = item.label in ("RSA PRIVATE KEY", "EC PRIVATE KEY") and not pkcs8
        if item.label == "ENCRYPTED PRIVATE KEY" and not pkcs8:
            raise InputError(
                "Refusing to write an encrypted private key out unencrypted by accident; to write it decrypted, ask "
                "for it with --key-out FILE (PKCS#8, mode 0600) and the password (--password-file)",
                rule="key-stays-encrypted",
                value=item.label,
                chapter=guide.APPX_C,
            )
        fmt = serialization.PrivateFormat.TraditionalOpenSSL if traditional else serialization.PrivateFormat.PKCS8
        return item.obj.private_bytes(encoding, fmt, serialization.NoEncryption())
    if item.kind == "public-key":
        return item.obj.public_bytes(encoding, serialization.PublicFormat.SubjectPublicKeyInfo)
    return item.obj.public_bytes(encoding)
