"""Revocation services (guide chapter 8): OCSP requests, responses and their checks, and the HTTP servers that
publish a lab CA's CRL and answer OCSP for it.

    from labkit.revocation import OcspServer, CrlServer, query
    with OcspServer(issuing) as responder:
        query(responder.url, leaf, issuing.certificate).status      # "good"
        issuing.revoke(leaf, "keyCompromise")
        query(responder.url, leaf, issuing.certificate).status      # "revoked", at once

Protocol objects (:mod:`.ocsp`) are kept apart from the HTTP transport (:mod:`.servers`), as certomancer does.
"""

from labkit.revocation.ocsp import (
           OcspStatus,
           check_responder,
           crl_urls,
           ocsp_url,
           query,
           request,
           respond,
           verify_response,
)
from labkit.revocation.servers import CrlServer, OcspServer, down_url, free_port

__all__ = ["OcspStatus", "request", "respond", "verify_response", "query", "check_responder", "ocsp_url", "crl_urls",
           "CrlServer", "OcspServer", "free_port", "down_url"]
