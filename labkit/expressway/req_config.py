"""The OpenSSL twin of the Generate CSR page: a config file for ``openssl req`` that asks for the same CSR.

``openssl req -new -key KEY -config FILE -out REQ.csr`` with :func:`openssl_req_config`'s file gives the same
bytes as :func:`labkit.expressway.csr.build_csr` for the same key (guide chapter 3, appendix B).
"""

from __future__ import annotations

import re

from cryptography import x509

from labkit.expressway.csr import _SUBJECT_FIELDS, CsrRequest
from labkit.expressway.roles import ROLES

__all__ = ["openssl_req_config"]

_CONF_SPECIAL = re.compile(r"""([\\$#"'])""")


def _conf_value(value: str) -> str:
    """A value as OpenSSL's config parser reads it back unchanged (backslash before its special characters)."""
    return _CONF_SPECIAL.sub(r"\\\1", value)


def openssl_req_config(request: CsrRequest) -> str:
    """A config file with which ``openssl req -new -key KEY -config FILE -out REQ.csr`` asks for what
    :func:`build_csr` does: the same subject, alternative names, extended key usages and digest.

    For the same RSA key both give the same bytes (OpenSSL also writes the country as a PrintableString and the
    other fields as UTF8String, and the extensions in the order listed). ``-newkey rsa:BITS -nodes -keyout KEY``
    instead of ``-key KEY`` also makes the key, as appendix B does.
    """
    if not isinstance(request, CsrRequest):
        raise TypeError(f"openssl_req_config needs a CsrRequest, not {type(request).__name__}")
    dn = [(short, getattr(request, name)) for name, (_, short, _) in _SUBJECT_FIELDS.items()] + [("CN", request.cn)]
    sans = ", ".join(f"IP:{n.value}" if isinstance(n, x509.IPAddress) else f"DNS:{n.value}"
                     for n in request.general_names())
    lines = [
        f"# Generate CSR for {request.fqdn} ({ROLES[request.role]}), written by labkit.",
        "# openssl req -new -key KEY -config THIS_FILE -out REQ.csr",
        "",
        "[ req ]",
        "prompt             = no",
        "utf8               = yes",
        "string_mask        = utf8only",
        f"default_bits       = {request.key_length}",
        f"default_md         = {request.digest}",
        "distinguished_name = req_dn",
        "req_extensions     = req_ext",
        "",
        "[ req_dn ]",
        *(f"{short:<2} = {_conf_value(value)}" for short, value in dn),
        "",
        "[ req_ext ]",
        f"subjectAltName   = {sans}",
        "extendedKeyUsage = serverAuth, clientAuth",
        "",
    ]
    return "\n".join(lines)
