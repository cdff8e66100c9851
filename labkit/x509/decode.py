"""Read a certificate, CSR or CRL the way ``openssl x509|req|crl -text -noout`` prints it (guide appendix D).

* :func:`text` -- the same lines, field names and order as OpenSSL, so a trainee can compare them side by side;
* :func:`table` -- the same content as a pandas DataFrame (one row per field or extension);
* :func:`fingerprint` -- SHA-1 / SHA-256 fingerprints in OpenSSL's ``AB:CD:...`` format;
* :func:`status` -- valid, expired or not yet valid at an instant (the lab clock unless told); for a CRL, current or
  expired (its nextUpdate has passed); :func:`validity` says it for every certificate and CRL of a file.
"""

from __future__ import annotations

import datetime as _dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from labkit import guide, lab
from labkit.errors import InputError
from labkit.x509.loading import Loaded, load_all
from labkit.x509.text import certificate_text, crl_text, csr_text

__all__ = ["text", "table", "fingerprint", "fingerprint_line", "status", "validity", "label"]

_HASHES = {"sha1": hashes.SHA1, "sha256": hashes.SHA256}


def _items(source) -> list[Loaded]:
    if isinstance(source, Loaded):
        return [source]
    if isinstance(source, list) and all(isinstance(item, Loaded) for item in source):
        return source
    if isinstance(source, bytes | bytearray | str):
        return load_all(source)
    kinds = {x509.Certificate: "certificate", x509.CertificateSigningRequest: "csr",
             x509.CertificateRevocationList: "crl"}
    for cls, kind in kinds.items():
        if isinstance(source, cls):
            return [Loaded(kind, source, "object")]
    if isinstance(source, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        return [Loaded("private-key", source, "object")]
    if isinstance(source, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        return [Loaded("public-key", source, "object")]
    raise InputError("Give a certificate, CSR, CRL or key (object, PEM text or DER bytes)",
                     rule="decode-input", value=type(source).__name__)


def text(source) -> str:
    """OpenSSL's ``-text -noout`` view of every object in ``source`` (a bundle gives one after the other)."""
    return "".join(_text(item) for item in _items(source))


def _text(item: Loaded) -> str:
    if item.kind == "certificate":
        return certificate_text(item.obj)
    if item.kind == "csr":
        return csr_text(item.obj)
    if item.kind == "crl":
        return crl_text(item.obj)
    key = item.obj
    public = key.public_key() if item.kind == "private-key" else key
    kind = "RSA" if isinstance(public, rsa.RSAPublicKey) else type(public).__name__.replace("PublicKey", "")
    size = getattr(public, "key_size", "?")
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    what = "private key (its secret values are not shown)" if item.kind == "private-key" else "public key"
    return f"{kind} {what}: ({size} bit)\nPublic part:\n{pem.decode()}"


def label(name: x509.Name) -> str:
    """How a name is shown in short: its common name, else the whole name (RFC 4514), else "(empty name)"."""
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else (name.rfc4514_string() or "(empty name)")


def fingerprint(cert: x509.Certificate, algorithm: str = "sha256") -> str:
    """``AB:CD:...``: the hash of the certificate's DER bytes, as ``openssl x509 -fingerprint`` prints it."""
    algo = algorithm.lower().replace("-", "")
    if algo not in _HASHES:
        raise InputError("Fingerprints are SHA-1 or SHA-256", rule="fingerprint-algorithm", value=algorithm)
    return cert.fingerprint(_HASHES[algo]()).hex(":").upper()


def fingerprint_line(cert: x509.Certificate, algorithm: str = "sha256") -> str:
    """The line ``openssl x509 -noout -fingerprint -sha256`` prints: ``sha256 Fingerprint=AB:...``."""
    algo = algorithm.lower().replace("-", "")
    return f"{algo} Fingerprint={fingerprint(cert, algo)}"


def status(cert: x509.Certificate | x509.CertificateRevocationList, at: _dt.datetime | str | None = None) -> str:
    """Whether ``cert`` is valid at ``at`` (the lab clock by default), in words.

    For a CRL: current until its nextUpdate, then expired. OpenSSL refuses an expired CRL (verify error 12, "CRL has
    expired") and the Expressway counts every certificate of that CA as revoked (guide chapter 8, manual updates).
    """
    moment = lab.now(at)
    if isinstance(cert, x509.CertificateRevocationList):
        return _crl_status(cert, moment)
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    if moment < start:
        return f"not yet valid (starts in {_span(start - moment)})"
    if moment > end:
        return f"expired ({_span(moment - end)} ago)"
    return f"valid ({_span(end - moment)} left)"


def validity(source, at: _dt.datetime | str | None = None) -> list[str]:
    """One line per certificate and CRL of ``source`` (what :func:`text` reads): its name and :func:`status` at
    ``at`` (the lab clock by default), e.g. ``certificate 'expe.lab.example': valid (365 days left)``. CSRs and keys
    have no validity and give no line."""
    lines = []
    for item in _items(source):
        if item.kind == "certificate":
            lines.append(f"certificate '{label(item.obj.subject)}': {status(item.obj, at)}")
        elif item.kind == "crl":
            lines.append(f"CRL of '{label(item.obj.issuer)}': {status(item.obj, at)}")
    return lines


def _crl_status(crl: x509.CertificateRevocationList, moment: _dt.datetime) -> str:
    start, end = crl.last_update_utc, crl.next_update_utc
    if moment < start:
        return f"not yet valid (its last update is {_span(start - moment)} ahead: check the clocks)"
    if end is None:
        return "current (no next update given)"
    if moment > end:
        return (f"EXPIRED: its next update passed {_span(moment - end)} ago; OpenSSL refuses it (verify error 12) "
                f"and the Expressway counts every certificate of {label(crl.issuer)!r} as revoked ({guide.CH8})")
    return f"current (next update in {_span(end - moment)})"


def _span(delta: _dt.timedelta) -> str:
    if delta.days >= 1:
        return f"{delta.days} day{'s' if delta.days != 1 else ''}"
    hours = delta.seconds // 3600
    return f"{hours} hour{'s' if hours != 1 else ''}" if hours else f"{delta.seconds // 60} min"


def table(source, *, at: _dt.datetime | str | None = None):
    """The decoded fields as a two-column DataFrame (``field``, ``value``), in OpenSSL's order.

    Extension rows come from the same text :func:`text` prints, so the table and the text never disagree.
    For a certificate the last rows give its fingerprints and its status at ``at``; for a CRL, whether it is current
    or expired at ``at``.
    """
    import pandas as pd  # imported here: the command line starts faster without it

    rows: list[tuple[str, str]] = []
    for item in _items(source):
        rows.extend(_rows(item, at))
    return pd.DataFrame(rows, columns=["field", "value"])


def _rows(item: Loaded, at) -> list[tuple[str, str]]:
    obj = item.obj
    if item.kind not in ("certificate", "csr", "crl"):
        return [("Key", _text(item).splitlines()[0])]
    lines = _text(item).splitlines()
    rows: list[tuple[str, str]] = []
    if item.kind == "certificate":
        rows += [("Version", f"{obj.version.value + 1}"),
                 ("Serial Number", f"{obj.serial_number} (0x{obj.serial_number:X})"),
                 ("Signature Algorithm", _field(lines, "Signature Algorithm:")),
                 ("Issuer", _field(lines, "Issuer:")),
                 ("Not Before", _field(lines, "Not Before:")), ("Not After", _field(lines, "Not After :")),
                 ("Subject", _field(lines, "Subject:"))]
    elif item.kind == "csr":
        rows += [("Subject", _field(lines, "Subject:")),
                 ("Signature Algorithm", _field(lines, "Signature Algorithm:"))]
    else:
        rows += [("Issuer", _field(lines, "Issuer:")), ("Last Update", _field(lines, "Last Update:")),
                 ("Next Update", _field(lines, "Next Update:")),
                 ("Revoked Certificates", str(len(obj)))]
    if item.kind != "crl":
        rows += [("Public Key Algorithm", _field(lines, "Public Key Algorithm:")),
                 ("Public Key Size", _field(lines, "Public-Key:").strip("()"))]
    rows += _extension_rows(lines)
    if item.kind == "certificate":
        rows += [("SHA-1 Fingerprint", fingerprint(obj, "sha1")), ("SHA-256 Fingerprint", fingerprint(obj))]
    if item.kind in ("certificate", "crl"):
        rows.append((f"Status at {lab.now(at):%Y-%m-%d %H:%M} UTC", status(obj, at)))
    return rows


def _field(lines: list[str], label: str) -> str:
    for line in lines:
        stripped = line.strip()
        if stripped.startswith(label):
            return stripped[len(label):].strip()
    return ""


def _extension_rows(lines: list[str]) -> list[tuple[str, str]]:
    """Extension name/value pairs from the text: headers are indented 12 spaces, values 16 (8/12 in CRLs)."""
    rows: list[tuple[str, str]] = []
    inside, header_indent = False, 0
    for line in lines:
        stripped = line.strip()
        if stripped in ("X509v3 extensions:", "Requested Extensions:", "CRL extensions:"):
            inside, header_indent = True, len(line) - len(line.lstrip()) + 4
            continue
        if not inside:
            continue
        indent = len(line) - len(line.lstrip())
        if indent < header_indent or stripped.startswith(("Signature Algorithm", "Revoked Certificates")):
            inside = False
        elif indent == header_indent:
            name, _, flag = stripped.partition(":")
            rows.append((name + (" (critical)" if flag.strip() == "critical" else ""), ""))
        elif rows:
            name, value = rows[-1]
            rows[-1] = (name, f"{value}\n{stripped}".strip())
    return rows
