"""Exercises of notebook 08 (guide chapter 5: ACME on the Expressway-E).

Importing this module registers ``08.1`` and ``08.2`` with :func:`labkit.exercises.check`. The checkers work the
answer out from what they are given (the chain is verified against the provider's roots at real time, the schedule
recomputed), so no answer is written down here. Reference solutions:
``notebooks/solutions/08-acme-solutions.ipynb``.
"""

from __future__ import annotations

import datetime as _dt

from labkit import guide, lab
from labkit.acme.challenge import ChallengeHost
from labkit.acme.client import AcmeAccount, is_revoked, order_certificate, revoke, san_names
from labkit.acme.pebble import PEBBLE_MISSING, Pebble, pebble_available
from labkit.acme.renewal import RenewalEvent, renewal_schedule, renewal_timeline
from labkit.exercises import check, exercise
from labkit.expressway.acme_page import AcmePage, deploy
from labkit.expressway.csr import LAB_SUBJECT, CsrRequest
from labkit.expressway.node import ExpresswayNode
from labkit.expressway.store import CertificateStore
from labkit.revocation.servers import free_port
from labkit.x509.verify import verify_chain

__all__ = ["AcmeAccount", "AcmePage", "CertificateStore", "ChallengeHost", "check", "CsrRequest", "deploy",
           "ExpresswayNode", "free_port", "is_revoked", "LAB_SUBJECT",
           "order_certificate", "Pebble", "pebble_available", "PEBBLE_MISSING", "renewal_schedule", "renewal_timeline",
           "revoke", "san_names", "verify_chain"]

@exercise("08.1", "Deploy an ACME certificate that also covers the MRA name", guide.CH5)
def _deployed(answer, *, name: str) -> tuple[bool, str]:
    if not isinstance(answer, AcmePage):
        return False, "pass the AcmePage you worked on"
    cert = answer.node.certificate
    if cert is None:
        return False, "no certificate is in service yet: sign the CSR with the ACME provider, then deploy it"
    if answer.pending is not None:
        return False, "a signed certificate is still staged: deploy it"
    if name.lower() not in [n.lower() for n in san_names(cert)]:
        return False, f"the certificate in service does not name {name}: put it in the CSR's alternative names"
    verdict = answer.store.chain_check(cert, at=lab.now_real())
    if not verdict:
        return False, f"the trusted CA list does not vouch for it: {verdict.reason}"
    return True, f"{name} is in the certificate in service, and the provider's CAs are trusted"


@exercise("08.2", "A deployment schedule that never lets a certificate get close to expiry", guide.CH5)
def _schedule(answer, *, margin_days: int) -> tuple[bool, str]:
    events = list(answer) if isinstance(answer, list | tuple) else []
    if not events or not all(isinstance(e, RenewalEvent) for e in events):
        return False, "pass the list renewal_schedule(...) returned"
    deployed = {e.generation: e.when for e in events if e.kind == "deployed"}
    expires = {e.generation: e.when for e in events if e.kind == "expires"}
    worst: tuple[_dt.timedelta, int] | None = None
    for gen, when in deployed.items():
        if gen == 0 or gen - 1 not in expires:
            continue
        left = expires[gen - 1] - when
        if worst is None or left < worst[0]:
            worst = (left, gen)
    if worst is None:
        return False, "the schedule deploys no renewed certificate: make horizon_days longer"
    if worst[0] < _dt.timedelta(days=margin_days):
        return False, (f"certificate {worst[1]} goes into service only {worst[0].days} days before its predecessor "
                       f"expires: deploy on more days")
    days = sorted({when.strftime("%a") for when in deployed.values()})
    return True, (f"every renewed certificate is in service at least {margin_days} days before the old one "
                  f"expires (deploying on {', '.join(days)})")
