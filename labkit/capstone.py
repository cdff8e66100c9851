"""The capstone of notebook 10: one deployment built from nothing, step by step (most chapters of the guide).

A root CA and an issuing CA (appendix B), an Expressway-C cluster of two peers and an Expressway-E (chapters 2-3),
requests with every name Unified Communications needs (chapter 4), certificates from the "client and server"
profile (appendix E), trusted CA lists (chapter 7), a mutual-TLS traversal zone over TCP, and a revocation that
takes it down (chapter 8). The trainee makes every object with the modules of the earlier notebooks; this module
adds only what ties them together:

* :class:`Site` / :data:`SITE` -- the deployment's configuration: the names the Expressways are set up with, which
  the certificates must carry (the checks of ``exercises_capstone`` read their expectations from it);
* :func:`describe` -- one line for a handshake (or "none yet"), so a trainee's cell prints something either way;
* :func:`openssl_verify` -- the OpenSSL twin: ``openssl verify`` (with ``-crl_check``) on the lab's certificates.

OpenSSL checks validity against the machine's clock, not the lab clock, so the capstone's CAs and certificates
last :data:`LONG` days from the lab instant (until 2049), as in notebooks 02 and 07.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from labkit.crl_checks import Decision
from labkit.crl_lab import LONG
from labkit.errors import InputError
from labkit.files import write_atomic
from labkit.names import fqdn_problem
from labkit.openssl import Run, openssl
from labkit.tls import Handshake

__all__ = ["LONG", "Site", "SITE", "describe", "openssl_verify"]

_CH4 = "guide chapter 4 (Server Certificate Requirements for Unified Communications)"
_CH8 = "guide chapter 8 (Configure Revocation Checking for SIP TLS Connections)"

@dataclass(frozen=True)
class Site:
    """The names the deployment's Expressways are configured with (what their certificates must carry).

    ``keys`` names the fixture key each node makes its CSR with (the lab's stand-in for the key an Expressway
    generates), so every run prints the same requests and certificates.
    """

    cluster_fqdn: str = "expc.lab.example"
    peers: tuple[str, ...] = ("expc1.lab.example", "expc2.lab.example")
    expe_fqdn: str = "expe.lab.example"
    ucm_domains: tuple[str, ...] = ("lab.example",)
    xmpp_domains: tuple[str, ...] = ("im.lab.example",)
    chat_aliases: tuple[str, ...] = ("chat.lab.example",)
    phone_profiles: tuple[str, ...] = ("jabbersecure.lab.example",)
    keys: tuple[tuple[str, str], ...] = (("expc1.lab.example", "expc-1"), ("expc2.lab.example", "expc-2"),
                                         ("expe.lab.example", "expe-1"))

    def __post_init__(self) -> None:
        for name in (self.cluster_fqdn, *self.peers, self.expe_fqdn, *self.ucm_domains, *self.xmpp_domains,
                     *self.chat_aliases, *self.phone_profiles):
            problem = fqdn_problem(name)
            if problem:
                raise InputError(f"Every name of the site is an FQDN: {problem}", rule="site-fqdn", value=name,
                                 chapter=_CH4)
        missing = [n for n in self.nodes if n not in dict(self.keys)]
        if missing:
            raise InputError("Every node needs a fixture key", rule="site-keys", value=", ".join(missing),
                             chapter=_CH4)

    @property
    def nodes(self) -> tuple[str, ...]:
        """Every node's FQDN: the Expressway-C peers, then the Expressway-E."""
        return (*self.peers, self.expe_fqdn)

    def role(self, node: str) -> str:
        return "expressway-e" if node.lower() == self.expe_fqdn.lower() else "expressway-c"

    def key_name(self, node: str) -> str:
        """The fixture key ``node`` makes its CSR with (``lab.fixture_key(SITE.key_name(...))``)."""
        return dict(self.keys)[node]

    def expectations(self, node: str) -> dict:
        """What :func:`labkit.doctor.doctor` must be told about ``node``'s configuration (role and names)."""
        if self.role(node) == "expressway-e":
            return {"role": "expressway-e", "fqdn": self.expe_fqdn, "ucm_domains": self.ucm_domains,
                    "xmpp_domains": self.xmpp_domains, "chat_aliases": self.chat_aliases}
        return {"role": "expressway-c", "cluster_fqdn": self.cluster_fqdn, "peer_fqdn": node,
                "phone_profiles": self.phone_profiles, "chat_aliases": self.chat_aliases}

    def table(self):
        """The configuration as a table: each setting, the ``SITE`` attribute that holds it, its value and what uses
        it (not where it goes: chapter 4's table, :func:`labkit.expressway.requirements_table`, says that)."""
        import pandas as pd

        rows = [
            ("Expressway-C cluster name", "cluster_fqdn", self.cluster_fqdn,
             "clustered Expressway-C (B2B calls, Jabber Guest, MRA)"),
            ("Expressway-C peers", "peers", ", ".join(self.peers), "the cluster's members, one CSR and one key each"),
            ("Expressway-E FQDN", "expe_fqdn", self.expe_fqdn, "the traversal zone's peer address on the Expressway-C"),
            ("Unified CM registration domains", "ucm_domains", ", ".join(self.ucm_domains),
             "MRA service discovery (_collab-edge)"),
            ("XMPP federation domains", "xmpp_domains", ", ".join(self.xmpp_domains), "XMPP federation"),
            ("IM and Presence chat node aliases", "chat_aliases", ", ".join(self.chat_aliases),
             "federated group chat over TLS"),
            ("Unified CM phone security profile names", "phone_profiles", ", ".join(self.phone_profiles),
             "TLS phones registering through MRA"),
        ]
        keys = ", ".join(f"{node}: {key}" for node, key in self.keys)
        rows.append(("fixture keys (lab only)", "key_name(fqdn)", keys,
                     "each node's private key, the same on every run"))
        rows = [(setting, f"SITE.{attribute}", value, use) for setting, attribute, value, use in rows]
        return pd.DataFrame(rows, columns=["setting", "in Python", "value", "used for"]).set_index("setting")


SITE = Site()


def describe(result) -> str:
    """One line for a handshake (a :class:`~labkit.tls.Handshake`, or the ``(decision, trace)`` pair of
    :func:`labkit.crl_checks.sip_tls_handshake`); ``None`` says that nothing has run yet."""
    if result is None:
        return "no handshake yet"
    decision = None
    if isinstance(result, tuple) and len(result) == 2:
        decision, result = result
    if not isinstance(result, Handshake):
        return f"not a handshake: {type(result).__name__}"
    outcome = result.outcome
    if outcome.ok:
        line = f"{result.version}: OK - {outcome.explanation}"
    else:
        code = f", verify code {outcome.verify_code}" if outcome.verify_code is not None else ""
        line = f"FAILED ({outcome.failed_side}{code}) - {outcome.explanation}"
    if isinstance(decision, Decision):
        line += f"\nrevocation check on the Expressway-E: {decision.explanation}"
    return line


def openssl_verify(folder: str | Path, certificates: Mapping[str, x509.Certificate] | None, *, root, issuing,
                   crl: bool = False, purpose: str | None = "sslclient") -> Run | str:
    """``openssl verify`` on ``certificates`` (name -> certificate, each written to ``folder/NAME.pem``) against
    the root CA, with the issuing CA as the untrusted intermediate; ``crl=True`` adds ``-crl_check`` with the
    issuing CA's last published CRL (``issuing/crl/ca.crl.pem``, what ``issuing.crl()`` wrote).

    OpenSSL checks at the machine's real time, as the handshakes do. While an earlier step is missing (``None``
    or empty), returns a sentence saying so instead of running anything.
    """
    if root is None or issuing is None:
        return "nothing to verify yet: create the root and issuing CAs first (step 1)"
    if not certificates:
        return "nothing to verify yet: no certificates (step 4)"
    folder = Path(folder)
    names = []
    for name, cert in certificates.items():
        if not isinstance(cert, x509.Certificate):
            return f"nothing to verify yet: {name} has no certificate (step 4)"
        write_atomic(folder / f"{name}.pem", cert.public_bytes(serialization.Encoding.PEM), fsync=False)
        names.append(f"{name}.pem")
    args = []
    if crl:
        crl_path = Path(issuing.config.crl)
        if not crl_path.exists():
            return "no CRL published yet: issuing.crl(days=LONG) writes it"
        args += ["-crl_check", "-CRLfile", _relative(crl_path, folder)]
    if purpose:
        args += ["-purpose", purpose]
    root_pem, issuing_pem = _relative(root.config.certificate, folder), _relative(issuing.config.certificate, folder)
    return openssl("verify", *args, "-CAfile", root_pem, "-untrusted", issuing_pem, *names, cwd=folder)


def _relative(path: str | Path, folder: Path) -> str:
    """``path`` as seen from ``folder`` (so the command printed is the same on every machine)."""
    return os.path.relpath(Path(path).resolve(), folder.resolve())
