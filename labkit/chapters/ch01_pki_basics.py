"""Notebook 01, PKI basics (guide chapter 2): key pairs, signatures, certificates, chains and trust stores.

:func:`mystery_signature` sets up exercise 01.1; exercises 01.1-01.4 check which message was signed, whose key
signed a certificate, the three stages of certificate generation, and a fingerprint read with OpenSSL.
"""

from __future__ import annotations

import re

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from labkit import guide, lab
from labkit.chapters import plots
from labkit.exercises import check, exercise
from labkit.x509 import certs, decode, pki
from labkit.x509.decode import fingerprint
from labkit.x509.openssl import attime, openssl

__all__ = ["mystery_signature", "attime", "certs", "check", "decode", "openssl", "pki", "plots"]

_CANDIDATES = (
    "Restart the Expressway-E at 22:00",
    "Append the new root CA to the trusted CA list",
    "Discard the pending CSR on peer 2",
)


def mystery_signature() -> tuple[tuple[str, ...], bytes, object]:
    """Three messages, a signature over one of them and the public key that checks it (exercise 01.1)."""
    return _CANDIDATES, pki.sign(lab.fixture_key("ucm"), _CANDIDATES[2]), lab.fixture_key("ucm").public_key()


@exercise("01.1", "Which message was signed?", guide.CH2)
def _which_message(answer: str) -> tuple[bool, str]:
    _, signature, public = mystery_signature()
    if pki.verify(public, str(answer), signature):
        return True, "the signature verifies over exactly this message and no other"
    return False, "the signature does not verify over that message: check each candidate with Unified CM's public key"


@exercise("01.2", "Whose key signed the server certificate?", guide.CH2)
def _issuer_of(answer, *, server: x509.Certificate) -> tuple[bool, str]:
    if not isinstance(answer, x509.Certificate):
        return False, "pass a certificate object (one of chain.<...>.certificate)"
    if answer == server:
        return False, "that is the server certificate itself; a CA signed it"
    if answer.subject != server.issuer:
        return False, "this certificate's Subject is not the server certificate's Issuer: read the Issuer line"
    try:
        server.verify_directly_issued_by(answer)
    except (ValueError, TypeError, InvalidSignature):
        return False, "the name matches the Issuer, but this certificate's key did not make the signature"
    return True, f"{answer.subject.rfc4514_string()} signed it: its public key verifies the server's signature"


@exercise("01.3", "Put the three stages in order", guide.CH2_OVERVIEW)
def _stages(answer) -> tuple[bool, str]:
    words = [str(a).lower() for a in answer] if isinstance(answer, list | tuple) else []
    patterns = (r"\bkeys?\b|key ?pair", r"request|csr", r"cert|sign|authori|issue")
    if len(words) == 3 and all(re.search(p, w) for p, w in zip(patterns, words, strict=True)):
        return True, "key first, then the request that carries the public key, then the CA's signed certificate"
    return False, "three steps: what must exist before a request can carry a public key? What does the CA return?"


@exercise("01.4", "Read a fingerprint with OpenSSL", guide.APPX_D)
def _fingerprint(answer: str, *, certificate: x509.Certificate) -> tuple[bool, str]:
    text = str(answer)
    found = re.findall(r"(?:[0-9A-Fa-f]{2}:){19,31}[0-9A-Fa-f]{2}|\b[0-9A-Fa-f]{40,64}\b", text)
    given = found[-1].replace(":", "").upper() if found else ""
    expected = fingerprint(certificate, "sha256").replace(":", "")
    if given == expected:
        return True, "fingerprints match: OpenSSL and labkit hash the same DER bytes"
    if len(given) == 40:
        return False, "that is a SHA-1 fingerprint (20 bytes); ask openssl for -sha256"
    return False, ("not this certificate's SHA-256 fingerprint: ask openssl x509 for the fingerprint of root.pem, with "
                   "SHA-256, and pass what it printed")
