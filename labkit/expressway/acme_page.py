"""The Expressway-E's ACME page (guide chapter 5, *Maintenance > Security > ACME certificate*).

:class:`AcmePage` is one node's page: provider and account, *Sign CSR with ACME provider* (the certificate is
staged), *Deploy pending certificate* (:func:`deploy`: in service at once, no restart, the provider's CAs appended
to the trusted CA list) and automated mode. It drives :mod:`labkit.acme` for the node.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from labkit import guide, lab
from labkit.acme.client import AcmeAccount, _certificates, order_certificate, san_names
from labkit.acme.pebble import Pebble
from labkit.acme.renewal import _weekday_name, renewal_schedule
from labkit.errors import LabError, PolicyError
from labkit.expressway.node import ExpresswayNode
from labkit.expressway.store import CertificateStore

__all__ = ["Deployment", "deploy", "AcmePage"]


@dataclass(frozen=True)
class Deployment:
    """What :func:`deploy` did: the certificate now in service, the CA certificates appended, the findings of the
    trusted CA list, and that no restart was needed."""

    certificate: x509.Certificate
    appended: tuple[x509.Certificate, ...]
    findings: tuple
    restart_required: bool = False

    def __str__(self) -> str:
        return (f"deployed: {self.certificate.subject.rfc4514_string()}; CA certificates appended: "
                f"{len(self.appended)}; restart required: {self.restart_required}")


def deploy(store: CertificateStore, fullchain_pem, roots_pem) -> Deployment:
    """*Deploy pending certificate*: append the provider's root and intermediate to the trusted CA list, install
    the certificate on the node (it carries the key of the node's pending CSR), and take it into service at once:
    an ACME deployment reloads without a restart, existing TLS connections stay up (chapter 5)."""
    node = store.node
    if node is None:
        raise LabError("deploy needs the CertificateStore of an Expressway-E node", rule="acme-deploy-node",
                       value=store, chapter=guide.CH5)
    leaf, *_ = _certificates(fullchain_pem)
    cas = _certificates(roots_pem) + [c for c in _certificates(fullchain_pem)[1:]]
    unique: list[x509.Certificate] = []
    for cert in cas:
        if cert not in unique:
            unique.append(cert)
    node.install_certificate(leaf)  # refuses a certificate for another key
    findings = store.trusted.append("".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in unique))
    # ServerCertificateSlot models a manual upload (restart needed); an ACME deployment is live at once, which
    # the slot shows after restart(): the process reload of chapter 5.
    store.server.restart()
    return Deployment(leaf, tuple(unique), tuple(findings))


class AcmePage:
    """*Maintenance > Security > ACME certificate* of one Expressway-E: provider, account, *Sign CSR with ACME
    provider* (the certificate is staged), *Deploy pending certificate*, and the automated-mode scheduler.

    ``store`` is the node's :class:`~labkit.expressway.store.CertificateStore` (made for ``node`` if not given).
    """

    def __init__(self, node: ExpresswayNode, store: CertificateStore | None = None):
        if node.role != "expressway-e":
            raise PolicyError("ACME is available on the Expressway-E only (X12.5 and later)",
                              rule="acme-expressway-e-only", value=node.name, chapter=guide.CH5)
        self.node = node
        self.store = store if store is not None else CertificateStore(node)
        self.provider: Pebble | None = None
        self.account: AcmeAccount | None = None
        self.pending: str | None = None
        self.schedule: tuple[tuple[str, ...], str] | None = None

    def register(self, provider: Pebble, email: str, accept_terms: bool) -> str:
        """Choose the provider and register the account (terms must be accepted)."""
        self.account = AcmeAccount.register(provider, email, accept_terms)
        self.provider = provider
        return f"Account registered with the ACME provider for {self.account.email}"

    def sign(self, *, serve: bool = True) -> str:
        """*Sign CSR with ACME provider*: the certificate is staged, not yet in service."""
        if self.account is None:
            raise PolicyError("Register an ACME account first (provider, admin email, accept terms)",
                              rule="acme-account", value=self.node.name, chapter=guide.CH5)
        self.pending = order_certificate(self.account, self.node, serve=serve)
        return (f"A signed certificate is staged for {self.node.name}: "
                f"{', '.join(san_names(self.pending))}; deploy it to take it into service")

    def deploy(self) -> str:
        """*Deploy pending certificate*: in service at once, no restart."""
        if self.pending is None or self.provider is None:
            raise PolicyError("There is no pending ACME certificate: sign the CSR with the ACME provider first",
                              rule="acme-nothing-pending", value=self.node.name, chapter=guide.CH5)
        result = deploy(self.store, self.pending, self.provider.roots())
        self.pending = None
        return (f"Deployed on {self.node.name} without a restart; {len(result.appended)} CA certificates appended "
                "to the trusted CA list")

    def automate(self, days: Iterable[str], time_of_day: str) -> str:
        """Turn on automated mode: renewals at two-thirds of the lifetime, deployment on ``days`` at
        ``time_of_day``."""
        days = tuple(days)
        renewal_schedule(lab.now(), days_of_week=days, time_of_day=time_of_day, horizon_days=1)  # validates
        self.schedule = (tuple(_weekday_name(d) for d in days), time_of_day)
        return f"Automated mode on: deployment on {', '.join(self.schedule[0])} at {time_of_day}"

    def status(self) -> str:
        cert = self.node.certificate
        return "\n".join([
            f"Expressway-E: {self.node.name}",
            f"ACME account: {'registered' if self.account else 'none'}",
            f"CSR pending: {self.node.pending_csr is not None}",
            f"ACME certificate staged: {self.pending is not None}",
            f"certificate in service: {', '.join(san_names(cert)) if cert is not None else 'none'}",
            f"automated mode: {'on' if self.schedule else 'off'}",
        ])

    def __repr__(self) -> str:
        return f"AcmePage({self.node.name}, account {'registered' if self.account else 'none'})"
