"""Revocation reasons, written once: RFC 5280 section 5.3.1 (CRLReason), by the names OpenSSL gives them.

``openssl ca -revoke CERT -crl_reason NAME`` takes these names, ``index.txt`` stores them, CRL entries and OCSP
responses carry their codes. The CA, the OCSP responder and the ACME client all take their reasons from here.
"""

from __future__ import annotations

from cryptography import x509

__all__ = ["REASONS", "CODES", "ACME_REASONS"]

#: Every reason ``openssl ca -crl_reason`` accepts, with cryptography's flag.
REASONS: dict[str, x509.ReasonFlags] = {
    "unspecified": x509.ReasonFlags.unspecified,
    "keyCompromise": x509.ReasonFlags.key_compromise,
    "CACompromise": x509.ReasonFlags.ca_compromise,
    "affiliationChanged": x509.ReasonFlags.affiliation_changed,
    "superseded": x509.ReasonFlags.superseded,
    "cessationOfOperation": x509.ReasonFlags.cessation_of_operation,
    "certificateHold": x509.ReasonFlags.certificate_hold,
    "removeFromCRL": x509.ReasonFlags.remove_from_crl,
}

#: The CRLReason code of each reason (RFC 5280 5.3.1; code 7 is unused).
CODES: dict[str, int] = {"unspecified": 0, "keyCompromise": 1, "CACompromise": 2, "affiliationChanged": 3,
                         "superseded": 4, "cessationOfOperation": 5, "certificateHold": 6, "removeFromCRL": 8}

#: The reasons Let's Encrypt asks its subscribers to choose from (its "Revoking Certificates" page). ACME itself
#: (RFC 8555 7.6) carries any RFC 5280 reason and lets a server refuse some: this short list is the CA's choice, not
#: the protocol's. Chapter 5 names situations (compromise, factory reset, a new purpose, an account no longer
#: valid), not reason codes.
ACME_REASONS: tuple[str, ...] = ("unspecified", "keyCompromise", "superseded", "cessationOfOperation")
