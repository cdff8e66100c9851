"""Notebook 08 (guide chapter 5: ACME on the Expressway-E): its scenarios and exercises 08.1 and 08.2.

* :func:`rotating_provider` -- a lab stand-in for a public ACME CA whose intermediates rotate (Let's Encrypt issues
  from several intermediates in turn since 2024; the guide's R3 is retired): one root, two intermediates, each
  signing the Expressway-E's CSR, serverAuth-only if asked (Let's Encrypt's default profile since 2026-02-11);
* :func:`lifetimes_table` -- the two-thirds renewal rule at 90, 64 and 45 days.

The checkers work the answer out from what they are given (the chain is verified against the provider's roots at
real time, the schedule recomputed), so no answer is written down here. Reference solutions:
``notebooks/solutions/08-acme-solutions.ipynb``.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from labkit import guide, lab
from labkit.acme.challenge import ChallengeHost, ClusterFront
from labkit.acme.client import AcmeAccount, is_revoked, order_certificate, revoke, san_names
from labkit.acme.pebble import PEBBLE_MISSING, Pebble, pebble_available, shared_pebble
from labkit.acme.renewal import (
    LETS_ENCRYPT_LIFETIMES,
    RenewalEvent,
    deployment_margin,
    lets_encrypt_lifetime,
    renewal_schedule,
    renewal_timeline,
)
from labkit.ca import CertificateAuthority
from labkit.chapters.lab_ca import init_ca
from labkit.exercises import check, exercise
from labkit.expressway.acme_page import AcmePage, deploy
from labkit.expressway.csr import LAB_SUBJECT, CsrRequest
from labkit.expressway.doctor import doctor
from labkit.expressway.node import Cluster, ExpresswayNode
from labkit.expressway.store import CertificateStore
from labkit.expressway.trusted_list import TrustedCaList
from labkit.revocation.servers import free_port
from labkit.x509.verify import verify_chain

__all__ = ["AcmeAccount", "AcmePage", "CertificateStore", "ChallengeHost", "check", "Cluster", "ClusterFront",
           "CsrRequest", "deploy", "doctor", "ExpresswayNode", "free_port", "is_revoked", "LAB_SUBJECT",
           "lets_encrypt_lifetime", "lifetimes_table", "order_certificate", "Pebble", "pebble_available",
           "PEBBLE_MISSING", "renewal_schedule", "renewal_timeline", "revoke", "rotating_provider", "san_names",
           "shared_pebble", "TrustedCaList", "verify_chain"]


@dataclass(frozen=True)
class RotatingProvider:
    """A public CA as the lab models it: a root and several intermediates, each of which may sign the next
    certificate (Let's Encrypt rotates among R10-R14 and E5-E9 since 2024: its announcement of 2024-03-19)."""

    root: CertificateAuthority
    intermediates: tuple[CertificateAuthority, ...]

    def issue(self, csr: x509.CertificateSigningRequest, *, intermediate: int = 0, client_auth: bool = True,
              days: int = 90) -> x509.Certificate:
        """The certificate for ``csr`` from intermediate number ``intermediate``; ``client_auth=False`` leaves
        clientAuth out, as Let's Encrypt's default profile does since 2026-02-11 (its announcement of 2025-05-14)."""
        return self.intermediates[intermediate].sign(csr, "client-server" if client_auth else "server", days=days)

    def sign(self, csr: x509.CertificateSigningRequest, *, intermediate: int = 0, client_auth: bool = True,
             days: int = 90) -> str:
        """What the provider returns: the full chain (the certificate of :meth:`issue`, then its intermediate)."""
        cert = self.issue(csr, intermediate=intermediate, client_auth=client_auth, days=days)
        return (cert.public_bytes(serialization.Encoding.PEM) + self.intermediates[intermediate].certificate
                .public_bytes(serialization.Encoding.PEM)).decode()

    def roots(self) -> str:
        """The root alone, as PEM (what the guide appends first)."""
        return self.root.certificate.public_bytes(serialization.Encoding.PEM).decode()


def rotating_provider(folder: str | Path) -> RotatingProvider:
    """The lab's rotating provider in ``folder``: ``labkit ACME Root X1`` and two intermediates, ``R10`` and
    ``R11`` (fixture keys, lab clock, so every run prints the same certificates; "ocsp-signer" is only a key name)."""
    folder = Path(folder)
    root = init_ca(folder / "root", "labkit ACME Root X1", key=lab.fixture_key("root-ca"), days=3650)
    intermediates = tuple(init_ca(folder / name.lower(), f"labkit ACME {name}", key=lab.fixture_key(key),
                                  parent=root, days=1095)
                          for name, key in (("R10", "issuing-ca"), ("R11", "ocsp-signer")))
    return RotatingProvider(root, intermediates)


def lifetimes_table(days_of_week=("Monday",), time_of_day: str = "02:00", *, at=None):
    """For each lifetime of Let's Encrypt's default profile (90, 64, 45 days): from when it applies, the day renewal
    starts (two-thirds), the days then left, and, with deployment on ``days_of_week`` at ``time_of_day`` over a
    year, the shortest time a renewed certificate is in service before its predecessor expires. A DataFrame."""
    import pandas as pd

    rows = []
    for start, days in LETS_ENCRYPT_LIFETIMES:
        events = renewal_schedule(at, lifetime_days=days, days_of_week=days_of_week, time_of_day=time_of_day,
                                  horizon_days=365)
        worst = deployment_margin(events)
        rows.append({"from": f"{start:%Y-%m-%d}", "lifetime (days)": days, "renewal starts on day": days * 2 / 3,
                     "days left then": days / 3,
                     "least margin at deployment (days)": round(worst[0].total_seconds() / 86400, 1)
                     if worst else None})
    return pd.DataFrame(rows).round(1)


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
    worst = deployment_margin(events)
    if worst is None:
        return False, "the schedule deploys no renewed certificate: make horizon_days longer"
    if worst[0] < _dt.timedelta(days=margin_days):
        return False, (f"certificate {worst[1]} goes into service only {worst[0].days} days before its predecessor "
                       f"expires: deploy on more days")
    chosen = getattr(answer, "days_of_week", None)  # what renewal_schedule was asked for, Monday first
    days = list(chosen) if chosen else [f"{when:%A}" for when in sorted(deployed.values(), key=lambda w: w.weekday())]
    said = "deploying on" if chosen else "deployments fell on"
    return True, (f"every renewed certificate is in service at least {margin_days} days before the old one "
                  f"expires ({said} {', '.join(day[:3] for day in dict.fromkeys(days))})")
