"""CRL helpers (guide chapter 8): fetch a CRL as a node downloads it, build a big one, look serials up fast.

* :func:`fetch_crl` -- download a CRL over HTTP or HTTPS, PEM or DER, plain, zipped or gzipped;
* :func:`bulk_crl` -- a CRL revoking many serials, built in one go;
* :func:`is_revoked` -- whether a serial is on a CRL, through a set built once per CRL (``openssl crl -text`` lists
  the same entries).
"""

from __future__ import annotations

import datetime as _dt
import gzip
import io
import urllib.error
import zipfile

from cryptography import x509

from labkit import guide, lab
from labkit.errors import InputError
from labkit.httpd import open_url
from labkit.x509.loading import load

__all__ = ["is_revoked", "bulk_crl", "fetch_crl"]

_INDEXES: dict[int, tuple[x509.CertificateRevocationList, frozenset[int]]] = {}


def is_revoked(crl: x509.CertificateRevocationList, serial: int) -> bool:
    """Whether ``serial`` is on ``crl``, through a set of its serials built once per CRL object.

    cryptography's ``get_revoked_certificate_by_serial_number`` scans the list on every call; a node checking every
    SIP TLS connection against a 100,000-entry CRL wants a set (``benchmarks/crl_scale.py`` measures both).
    """
    cached = _INDEXES.get(id(crl))
    if cached is None or cached[0] is not crl:
        if len(_INDEXES) > 64:
            _INDEXES.clear()
        cached = (crl, frozenset(entry.serial_number for entry in crl))
        _INDEXES[id(crl)] = cached
    return serial in cached[1]


def bulk_crl(issuer: x509.Certificate, key, serials, *, at: _dt.datetime | None = None,
             days: int = 7) -> x509.CertificateRevocationList:
    """A CRL revoking many serials at once (the builder gets the whole list in one go: adding entries one by one
    copies the list every time, quadratic for 100,000 entries)."""
    from labkit.x509.certs import sign_builder

    moment = lab.now(at)
    revoked = [x509.RevokedCertificateBuilder().serial_number(s).revocation_date(moment).build() for s in serials]
    builder = x509.CertificateRevocationListBuilder(issuer_name=issuer.subject, last_update=moment,
                                                    next_update=moment + _dt.timedelta(days=days),
                                                    revoked_certificates=revoked)
    builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key()), False)
    return sign_builder(builder.add_extension(x509.CRLNumber(1), False), key)


def _parse_crl(data: bytes, source: str) -> x509.CertificateRevocationList:
    if data[:2] == b"PK":  # a zip bundle: the first CRL in it
        with zipfile.ZipFile(io.BytesIO(data)) as bundle:
            names = [n for n in bundle.namelist() if not n.endswith("/")]
            if not names:
                raise InputError("The zip file holds no CRL", rule="crl-zip", value=source, chapter=guide.CH8)
            data = bundle.read(names[0])
    elif data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return load(data, expect="crl").obj


def fetch_crl(url: str, *, timeout: float = 3.0, context=None) -> x509.CertificateRevocationList:
    """Download and decode a CRL (PEM or DER; zip or gzip bundles too). A URL on a lab host name
    (``http://crl.lab.example/issuing.crl``) goes to the lab's CRL server for that name
    (:func:`labkit.httpd.open_url`). Raises InputError ``crl-url``, ``crl-unreachable`` or what the CRL's decoding
    refuses."""
    if not url.lower().startswith(("http://", "https://")):
        raise InputError("CRL URLs are http:// or https://", rule="crl-url", value=url, chapter=guide.CH8)
    try:
        with open_url(url, timeout=timeout, context=context) as response:
            data = response.read()
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise InputError(f"Cannot download the CRL: {reason}", rule="crl-unreachable", value=url,
                         chapter=guide.CH8) from None
    return _parse_crl(data, url)
