"""The Expressway-E's ACME page (guide chapter 5, *Maintenance > Security > ACME certificate*).

:class:`AcmePage` is one node's page: provider and account, *Sign CSR with ACME provider* (the certificate is
staged), *Deploy pending certificate* (:func:`deploy`: in service at once, no restart, the provider's CAs appended
to the trusted CA list), automated mode, and the command line's ``xcommand Acmerevoke`` (:meth:`AcmePage.xcommand`).
It drives :mod:`labkit.acme` for the node.

What labkit assumes where the guide is silent: a deployment follows the server certificate page's clientAuth rule
(:mod:`labkit.expressway.versions`), so an X14 Expressway-E with Unified Communications on cannot deploy a
certificate without clientAuth, such as Let's Encrypt's default profile issues since 2026-02-11.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from labkit import guide, lab
from labkit.acme.client import AcmeAccount, _certificates, order_certificate, revoke, san_names
from labkit.acme.pebble import Pebble
from labkit.acme.renewal import _weekday_name, renewal_schedule
from labkit.errors import InputError, LabError, PolicyError
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
    store.server._client_auth_rule(leaf)  # the upload's clientAuth rule of this release (labkit's assumption)
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
        """Choose the provider and register the account (terms must be accepted). A provider that was stopped
        (``lab.reset_all()``) is started again first: a new Pebble, so what was signed before is gone."""
        if provider is not None and not provider.running:
            provider.start()
            self.pending = None
        self.account = AcmeAccount.register(provider, email, accept_terms)
        self.provider = provider
        return f"Account registered with the ACME provider for {self.account.email}"

    def sign(self, *, serve: bool = True) -> str:
        """*Sign CSR with ACME provider*: the certificate is staged, not yet in service."""
        if self.account is None:
            raise PolicyError("Register an ACME account first (provider, admin email, accept terms)",
                              rule="acme-account", value=self.node.name, chapter=guide.CH5)
        self.account.require_current()
        self.pending = order_certificate(self.account, self.node, serve=serve)
        return (f"A signed certificate is staged for {self.node.name}: "
                f"{', '.join(san_names(self.pending))}; deploy it to take it into service")

    def deploy(self) -> str:
        """*Deploy pending certificate*: in service at once, no restart."""
        if self.pending is None or self.provider is None:
            raise PolicyError("There is no pending ACME certificate: sign the CSR with the ACME provider first",
                              rule="acme-nothing-pending", value=self.node.name, chapter=guide.CH5)
        if self.account is not None and not self.account.current:
            self.pending = None  # signed by a provider that is gone: its CAs cannot be fetched to trust it
            self.account.require_current()
        result = deploy(self.store, self.pending, self.provider.roots())
        self.pending = None
        return (f"Deployed on {self.node.name} without a restart; {len(result.appended)} CA certificates appended "
                "to the trusted CA list")

    def automate(self, days: Iterable[str], time_of_day: str) -> str:
        """Turn on automated mode: renewals at two-thirds of the lifetime, deployment on ``days`` at
        ``time_of_day``. The renewals go through the account, and the first certificate is fetched as soon as the
        mode is on (chapter 5), so an account comes first: PolicyError ``acme-account`` without one."""
        if self.account is None:
            raise PolicyError("Register an ACME account first (provider, admin email, accept terms): automated mode "
                              "signs and renews through it", rule="acme-account", value=self.node.name,
                              chapter=guide.CH5)
        self.account.require_current()
        days = tuple(days)
        renewal_schedule(lab.now(), days_of_week=days, time_of_day=time_of_day, horizon_days=1)  # validates
        self.schedule = (tuple(_weekday_name(d) for d in days), time_of_day)
        return f"Automated mode on: deployment on {', '.join(self.schedule[0])} at {time_of_day}"

    def xcommand(self, line: str) -> str:
        """The Expressway-E's command line, for revocation (chapter 5): ``xcommand Acmerevoke "/path/cert.pem"`` (the
        default provider) or ``xcommand Acmerevoke CertPath:"/path/cert.pem" Provider:"name"``. Answers ``200 OK``.

        As the guide asks: never the certificate in service (``acme-revoke-in-use``), and only after a new CSR with
        all the same names was signed by the same provider, which proves the names are still this Expressway-E's;
        that certificate need not be deployed (``acme-revoke-proof``). No reason code is given: the provider
        records the ACME default, unspecified."""
        words = shlex.split(line.strip())
        if len(words) < 3 or [w.lower() for w in words[:2]] != ["xcommand", "acmerevoke"]:
            raise InputError('The command is xcommand Acmerevoke "/path/cert.pem" (or CertPath:"..." '
                             'Provider:"...")', rule="acme-xcommand", value=line, chapter=guide.CH5_REVOKE)
        fields = dict(re.match(r"(\w+):(.*)", w).groups() for w in words[2:] if re.match(r"\w+:", w))
        path = fields.get("CertPath", words[2] if ":" not in words[2].split("/")[0] else "")
        if self.account is None:
            raise PolicyError("No ACME account on this Expressway-E", rule="acme-account", value=self.node.name,
                              chapter=guide.CH5_REVOKE)
        try:
            cert = _certificates(Path(path).read_bytes())[0]
        except (OSError, IndexError):
            raise InputError("No certificate at that path on the Expressway-E: copy it there first (crt.sh has it "
                             "if you lost it)", rule="acme-revoke-path", value=path, chapter=guide.CH5_REVOKE) from None
        if self.node.certificate is not None and self.node.certificate == cert:
            raise PolicyError(f"This is the certificate {self.node.name} is using: deploy a new one before revoking "
                              "it", rule="acme-revoke-in-use", value=cert.subject.rfc4514_string(),
                              chapter=guide.CH5_REVOKE)
        names = {n.lower() for n in san_names(cert)}
        proof = [c for c in (self.pending, self.node.certificate) if c is not None and c != cert]
        if not any({n.lower() for n in san_names(p)} == names for p in proof):
            raise PolicyError("First get a new CSR with all the same names signed by the same provider (Sign CSR with "
                              "ACME provider; it need not be deployed): it proves the names are still yours",
                              rule="acme-revoke-proof", value=", ".join(sorted(names)), chapter=guide.CH5_REVOKE)
        revoke(self.account, cert, node=self.node)
        return "200 OK"

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
