"""Notebook 10, the capstone: the deployment's names and helpers below, exercises 10.1-10.8.

The capstone of notebook 10: one deployment built from nothing, step by step (most chapters of the guide).

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
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from labkit import guide, lab
from labkit.ca import PROFILES, CertificateAuthority
from labkit.chapters.ch07_crl_checks import LONG
from labkit.chapters.lab_ca import init_ca
from labkit.errors import InputError, LabkitError
from labkit.exercises import check, exercise
from labkit.expressway.csr import LAB_SUBJECT, CsrRequest
from labkit.expressway.doctor import doctor
from labkit.expressway.node import Cluster, ExpresswayNode
from labkit.expressway.requirements import requirements_table
from labkit.expressway.revocation import CrlStore, Decision, RevocationSettings, sip_tls_handshake
from labkit.expressway.store import CertificateStore
from labkit.expressway.trusted_list import TrustedCaList
from labkit.tls.connection import Endpoint, Handshake, handshake_tcp
from labkit.x509.files import write_atomic
from labkit.x509.names import fqdn_problem
from labkit.x509.openssl import Run, openssl
from labkit.x509.verify import signed_by

__all__ = ["LONG", "Site", "SITE", "describe", "openssl_verify", "CertificateStore", "check", "Cluster", "CrlStore",
           "CsrRequest", "Endpoint", "ExpresswayNode", "handshake_tcp", "init_ca", "LAB_SUBJECT", "PROFILES",
           "requirements_table", "RevocationSettings", "sip_tls_handshake"]

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
                                 chapter=guide.CH4)
        missing = [n for n in self.nodes if n not in dict(self.keys)]
        if missing:
            raise InputError("Every node needs a fixture key", rule="site-keys", value=", ".join(missing),
                             chapter=guide.CH4)

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
        """What :func:`labkit.expressway.doctor.doctor` must be told about ``node``'s configuration (role and names)."""
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
             "clustered Expressway-C (MRA, Jabber Guest, XMPP federation): the E's UC traversal zone checks it"),
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
    :func:`labkit.expressway.revocation.sip_tls_handshake`); ``None`` says that nothing has run yet."""
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


_REVOKED = 23  # OpenSSL's X509_V_ERR_CERT_REVOKED


def _date(moment) -> str:
    return f"{moment:%Y-%m-%d}"


def _real_time_problem(cert: x509.Certificate, what: str) -> str | None:
    """Why OpenSSL, which checks dates against the machine's clock, would refuse ``cert`` now (None: it would not)."""
    now = lab.now_real()
    if now < cert.not_valid_before_utc:
        return (f"{what} is not valid yet by the machine's clock (from {_date(cert.not_valid_before_utc)}); "
                "OpenSSL checks dates at the real time")
    if now > cert.not_valid_after_utc:
        return (f"{what} expired on {_date(cert.not_valid_after_utc)} by the machine's clock: OpenSSL checks dates "
                "at the real time, not the lab clock, so give days=LONG (until 2049)")
    return None


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _usages(cert: x509.Certificate) -> set:
    try:
        return set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        return set()


def _pick(mapping, name: str):
    """``mapping[name]`` with FQDNs compared without regard to case (None if absent)."""
    for key, value in mapping.items():
        if isinstance(key, str) and key.lower().rstrip(".") == name.lower():
            return value
    return None


def _nodes(cluster, expe, site: Site) -> tuple[dict[str, ExpresswayNode] | None, str]:
    """Every node of the site by FQDN, or None and what is missing (step 2)."""
    if cluster is None or expe is None:
        return None, "cluster or expe is still None: do step 2 first"
    if not isinstance(cluster, Cluster) or not isinstance(expe, ExpresswayNode):
        return None, "cluster and expe are not yet the Cluster and the ExpresswayNode of step 2: do step 2 first"
    nodes = {node.name.lower(): node for node in cluster.nodes}
    nodes[expe.name.lower()] = expe
    missing = [name for name in site.nodes if name.lower() not in nodes]
    if missing:
        return None, f"step 2 first: the site has nodes the model lacks ({', '.join(missing)})"
    return {name: nodes[name.lower()] for name in site.nodes}, ""


def _no_ca(ca) -> str:
    """The hint when a check is given no issuing CA: the cell passes ``ca=issuing``, which step 1 makes."""
    if ca is None:
        return "issuing is still None: do step 1 first (it makes the issuing CA)"
    return f"ca=issuing is the issuing CA that step 1's init_ca returns, not a {type(ca).__name__}"


def _trusted(value) -> TrustedCaList | None:
    trusted = value.trusted if isinstance(value, CertificateStore) else value
    return trusted if isinstance(trusted, TrustedCaList) else None


def _node_of(cert, nodes: dict[str, ExpresswayNode]) -> str | None:
    return next((name for name, node in nodes.items() if node.certificate is not None and node.certificate == cert),
                None)


@exercise("10.1", "A root CA and an issuing CA under it", guide.APPX_B)
def _cas(root, issuing) -> tuple[bool, str]:
    if root is None:
        return False, "create the root CA first: step 1 names the call and the keywords it needs"
    if not isinstance(root, CertificateAuthority):
        return False, "root is the CertificateAuthority that labkit.ca.init_ca(...) returns"
    top = root.certificate
    if top.issuer != top.subject or not signed_by(top, top):
        return False, f"'{root.name}' is not self-signed: a root CA signs its own certificate (init_ca with no parent)"
    if not _is_ca(top):
        return False, "the root's certificate lacks basicConstraints CA:TRUE"
    if issuing is None:
        return False, "now the issuing CA, signed by the root (step 1): what tells init_ca who signs it?"
    if not isinstance(issuing, CertificateAuthority):
        return False, "issuing is the CertificateAuthority that init_ca(..., parent=root) returns"
    below = issuing.certificate
    if below == top:
        return False, "root and issuing are the same CA: make a second one under the root"
    if below.issuer == below.subject:
        return False, f"'{issuing.name}' signed itself: it is a second root; create it with parent=root"
    if not signed_by(below, top):
        return False, f"'{issuing.name}' was not signed by '{root.name}': create it with parent=root"
    if not _is_ca(below):
        return False, "the issuing CA's certificate lacks basicConstraints CA:TRUE"
    for cert, what in ((top, "the root CA"), (below, "the issuing CA")):
        problem = _real_time_problem(cert, what)
        if problem:
            return False, problem
    return True, (f"'{root.name}' signed itself and '{issuing.name}'; both directories are in OpenSSL's format and "
                  f"valid until {_date(below.not_valid_after_utc)}")


@exercise("10.2", "An Expressway-C cluster of two peers and an Expressway-E", guide.CH3_CLUSTER)
def _model(cluster, expe, *, site: Site = SITE) -> tuple[bool, str]:
    if cluster is None:
        return False, "model the Expressway-C cluster first: step 2 names the class, the site table the names"
    if not isinstance(cluster, Cluster):
        return False, "cluster is a labkit.expressway.Cluster"
    if cluster.role != "expressway-c":
        return False, ("the clustered peers inside the network are the Expressway-C (they talk to Unified CM); "
                       "role='expressway-c'")
    if cluster.cluster_fqdn.lower() != site.cluster_fqdn.lower():
        return False, f"the cluster's name is {site.cluster_fqdn}, not {cluster.cluster_fqdn}"
    if sorted(p.lower() for p in cluster.peers) != sorted(p.lower() for p in site.peers):
        return False, f"the cluster's peers are {', '.join(site.peers)} (you gave {', '.join(cluster.peers)})"
    if expe is None:
        return False, "now the Expressway-E: a standalone node (step 2), named as the site table says"
    if not isinstance(expe, ExpresswayNode):
        return False, "expe is a labkit.expressway.ExpresswayNode"
    if expe.role != "expressway-e":
        return False, "the node in the DMZ, facing the internet, is the Expressway-E: role='expressway-e'"
    if expe.name.lower() != site.expe_fqdn.lower():
        return False, f"the Expressway-E's FQDN is {site.expe_fqdn}, not {expe.name}"
    count = len(cluster.peers) + 1
    return True, (f"{len(cluster.peers)} Expressway-C peers in cluster {cluster.cluster_fqdn} and the Expressway-E "
                  f"{expe.name}: {count} nodes, so {count} keys and {count} CSRs")


@exercise("10.3", "Requests with every name Unified Communications needs", guide.CH4)
def _requests(csrs, *, cluster, expe, site: Site = SITE) -> tuple[bool, str]:
    nodes, missing = _nodes(cluster, expe, site)
    if nodes is None:
        return False, missing
    if not isinstance(csrs, Mapping) or not csrs:
        return False, ("make one CSR on each node: csrs[peer] = cluster.node(peer).generate_csr(request, key=...), "
                       "csrs[expe.name] = expe.generate_csr(...)")
    counts = {}
    for name, node in nodes.items():
        csr = _pick(csrs, name)
        if csr is None:
            return False, f"no CSR for {name} yet (csrs[{name!r}] = ...)"
        if not isinstance(csr, x509.CertificateSigningRequest):
            return False, f"csrs[{name!r}] is a {type(csr).__name__}, not the CSR generate_csr returns"
        if not node.key_matches(csr):
            return False, (f"{name}'s CSR was not made on {name}: node.generate_csr(request, key=lab.fixture_key("
                           f"{site.key_name(name)!r})) keeps the key on the node, where the certificate will need it")
        report = doctor(csr, **site.expectations(name))
        if report.errors:
            first = report.errors[0]
            return False, (f"doctor finds {len(report.errors)} error(s) in {name}'s CSR, first {first.rule}: "
                           f"{first.message} (fix the request, then discard_csr() on the node and generate again)")
        edition = next((f for f in report.findings if f.rule == "cluster-cn"), None)
        if edition is not None:  # a warning for doctor; the capstone holds to the X14 edition the kit follows
            return False, (f"doctor warns (cluster-cn) about {name}'s CSR: {edition.message}. The capstone follows "
                           "the X14 guide: Common name: FQDN of Expressway cluster on every peer")
        sans = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        counts[name] = len(sans.get_values_for_type(x509.DNSName))
    return True, ("doctor finds no error in any request: " + ", ".join(f"{name} asks for {count} names"
                                                                     for name, count in counts.items()))


@exercise("10.4", "Certificates for mutual TLS, installed on their nodes", guide.APPX_E)
def _certificates(certificates, *, ca, cluster, expe, site: Site = SITE) -> tuple[bool, str]:
    if not isinstance(ca, CertificateAuthority):
        return False, _no_ca(ca)
    nodes, missing = _nodes(cluster, expe, site)
    if nodes is None:
        return False, missing
    if not isinstance(certificates, Mapping) or not certificates:
        return False, ("sign each node's pending CSR with the issuing CA (issuing.sign(csr, profile, days=LONG)) "
                       "and install it on that node")
    issuer = ca.certificate
    serials = []
    for name, node in nodes.items():
        cert = _pick(certificates, name)
        if cert is None:
            return False, f"no certificate for {name} yet (certificates[{name!r}] = ...)"
        if not isinstance(cert, x509.Certificate):
            return False, f"certificates[{name!r}] is a {type(cert).__name__}, not a certificate"
        if not signed_by(cert, issuer):
            return False, f"{name}'s certificate was not signed by '{ca.name}': servers get theirs from the issuing CA"
        if not {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH} <= _usages(cert):
            return False, (f"{name}'s certificate lacks serverAuth or clientAuth. The CA's profile decides the "
                           "purposes, whatever the CSR asked for; on a traversal zone each end is a TLS server and a "
                           "TLS client (mutual TLS): which profile gives both?")
        if not node.key_matches(cert):
            return False, f"the certificate in certificates[{name!r}] carries another node's key: sign {name}'s CSR"
        report = doctor(cert, **site.expectations(name))
        if report.errors:
            first = report.errors[0]
            return False, f"doctor finds an error in {name}'s certificate, {first.rule}: {first.message}"
        problem = _real_time_problem(cert, f"{name}'s certificate")
        if problem:
            return False, problem
        if node.certificate != cert:
            return False, (f"{name}'s certificate is signed but not installed: cluster.install(peer, cert) on a C "
                           "peer, expe.install_certificate(cert) on the E")
        serials.append(f"{cert.serial_number:X}")
    return True, (f"serials {', '.join(serials)} from '{ca.name}', each with serverAuth and clientAuth, "
                  f"installed on the node whose key it carries, valid until {_date(cert.not_valid_after_utc)}")


@exercise("10.5", "Trusted CA lists that vouch for the peer across the zone", guide.CH7_TRUSTED)
def _trust(stores, *, cluster, expe, site: Site = SITE) -> tuple[bool, str]:
    nodes, missing = _nodes(cluster, expe, site)
    if nodes is None:
        return False, missing
    unsigned = [name for name, node in nodes.items() if node.certificate is None]
    if unsigned:
        return False, f"step 4 first: {', '.join(unsigned)} has no installed certificate"
    if not isinstance(stores, Mapping) or not stores:
        return False, ("give each node a CertificateStore(node) and append the CA certificates it needs to "
                       "store.trusted: stores[name] = ...")
    lists = {}
    for name in nodes:
        trusted = _trusted(_pick(stores, name))
        if trusted is None:
            return False, f"no CertificateStore for {name} yet (stores[{name!r}] = CertificateStore(node))"
        lists[name] = trusted
    e_name = site.expe_fqdn
    for peer in site.peers:
        pairs = ((e_name, peer), (peer, e_name))  # (whose list, whose certificate)
        for holder, owner in pairs:
            verdict = lists[holder].chain_check(nodes[owner].certificate)
            if not verdict:
                return False, f"{holder}'s trusted CA list does not vouch for {owner}'s certificate: {verdict.reason}"
    sizes = sorted({len(trusted.certificates) for trusted in lists.values()})
    return True, (f"each list ({' or '.join(map(str, sizes))} CA certificates) verifies the certificate of the node "
                  "across the zone up to its root, with the issuing CA in the list (chapter 7's full chain)")


def _endpoint_problem(endpoint, role: str, nodes: dict[str, ExpresswayNode], lists: dict, site: Site) -> str | None:
    label = "client (the Expressway-C peer)" if role == "client" else "server (the Expressway-E)"
    if not endpoint.chain or endpoint.key is None:
        return f"the {label} has no certificate and key: chain=(node.certificate, issuing.certificate), key=..."
    owner = _node_of(endpoint.chain[0], nodes)
    wanted = site.peers if role == "client" else (site.expe_fqdn,)
    if owner is None or owner not in wanted:
        which = "one of the Expressway-C peers" if role == "client" else "the Expressway-E"
        return f"the {label}'s chain must start with the certificate installed on {which}"
    if endpoint.key.public_key() != endpoint.chain[0].public_key():
        return (f"the {label}'s key does not belong to its certificate: key=lab.fixture_key("
                f"{site.key_name(owner)!r}), the key {owner} made its CSR with")
    trusted = lists.get(owner)
    if trusted is None:
        return f"step 5 first: {owner} has no CertificateStore in stores"
    if not endpoint.trusted:
        return f"the {label} trusts nothing: trusted=stores[{owner!r}].trusted.certificates"
    if not set(endpoint.trusted) <= set(trusted.certificates):
        return (f"the {label} trusts certificates that are not in {owner}'s trusted CA list: a node trusts its "
                f"list, trusted=stores[{owner!r}].trusted.certificates")
    return None


@exercise("10.6", "The traversal zone comes up (mutual TLS over TCP)", guide.APPX_A_ZONES)
def _zone(client, server, *, stores, cluster, expe, site: Site = SITE) -> tuple[bool, str]:
    nodes, missing = _nodes(cluster, expe, site)
    if nodes is None:
        return False, missing
    if not isinstance(stores, Mapping) or not stores:
        return False, "stores is still empty: do step 5 first (a CertificateStore for each node)"
    if client is None or server is None:
        return False, ("describe the two ends: client = Endpoint(...) for an Expressway-C peer, server = "
                       "Endpoint(...) for the Expressway-E (labkit.tls.Endpoint)")
    if not isinstance(client, Endpoint) or not isinstance(server, Endpoint):
        return False, "client and server are labkit.tls.Endpoint objects"
    lists = {name: _trusted(_pick(stores, name)) for name in nodes}
    for endpoint, role in ((client, "client"), (server, "server")):
        problem = _endpoint_problem(endpoint, role, nodes, lists, site)
        if problem:
            return False, problem
    if not server.require_client_certificate:
        return False, ("a traversal zone is mutual TLS: the Expressway-E demands the Expressway-C's certificate "
                       "(require_client_certificate=True)")
    if not client.server_name:
        return False, (f"the Expressway-C checks the name it dialled, the zone's peer address: "
                       f"server_name={site.expe_fqdn!r}")
    try:
        trace = handshake_tcp(client, server)
    except (LabkitError, ssl.SSLError, OSError) as exc:
        return False, f"the handshake could not start: {exc}"
    if not trace.ok:
        return False, f"the handshake failed: {trace.outcome.explanation}"
    peer = _node_of(client.chain[0], nodes)
    return True, (f"{trace.version} over TCP on 127.0.0.1: {peer} and {site.expe_fqdn} each verified the other's "
                  "certificate against their trusted CA list, and the zone is up")


@exercise("10.7", "A revocation takes the zone down", guide.CH8_SIP)
def _revoked(settings, crl_store, *, client, server, ca) -> tuple[bool, str]:
    if not isinstance(ca, CertificateAuthority):
        return False, _no_ca(ca)
    if client is None or server is None:
        return False, "client or server is still None: do step 6 first (the two ends of the working zone)"
    if not isinstance(client, Endpoint) or not isinstance(server, Endpoint) or not client.chain:
        return False, "client and server are not yet the Endpoints of step 6's working zone: do step 6 first"
    cert = client.chain[0]
    try:
        entry = ca.status(cert)
    except LabkitError:
        return False, f"the client's certificate was not issued by '{ca.name}'"
    if entry.status != "R":
        return False, (f"the Expressway-C's certificate (serial {entry.serial_hex}) is still valid in the CA "
                       "database: revoke it, issuing.revoke(cert, 'keyCompromise')")
    if not isinstance(crl_store, CrlStore):
        return False, "give the Expressway-E a CrlStore() and upload the CA's CRL to it (expe_crls.upload(pem))"
    crls = [crl for crl in crl_store.crls() if crl.issuer == ca.certificate.subject]
    if not crls:
        return False, f"the Expressway-E holds no CRL from '{ca.name}': upload the CRL's PEM to its CrlStore"
    if not any(crl.is_signature_valid(ca.certificate.public_key()) for crl in crls):
        return False, f"the CRL the Expressway-E holds was not signed by '{ca.name}'"
    if not any(crl.get_revoked_certificate_by_serial_number(cert.serial_number) for crl in crls):
        return False, ("the Expressway-E's CRL does not list the certificate: a CRL lists what was revoked when it "
                       "was published, so publish a new one after revoking (issuing.crl(days=LONG)) and upload it")
    if not isinstance(settings, RevocationSettings):
        return False, "turn revocation checking on: settings = RevocationSettings(...) (labkit.expressway.revocation)"
    if not settings.checking or not settings.use_crls:
        return False, "the Expressway-E must check CRLs: checking=True and use_crls=True"
    try:
        decision, trace = sip_tls_handshake(client, server, settings, crl_store, tcp=True)
    except (LabkitError, ssl.SSLError, OSError) as exc:
        return False, f"the handshake could not start: {exc}"
    if trace.ok:
        return False, f"the zone still comes up: {decision.explanation}"
    outcome = trace.outcome
    if outcome.verify_code != _REVOKED:
        return False, (f"the zone is down, but not because OpenSSL found the certificate on the CRL: "
                       f"{outcome.explanation}")
    return True, (f"the Expressway-E's OpenSSL refused serial {entry.serial_hex} with verify code 23 (certificate "
                  "revoked): the zone stays down until the peer has a new certificate")


@exercise("10.8", "Bring the zone back: a new key and certificate for the peer", guide.CH8_SIP)
def _recovered(client, *, server, settings, crl_store, ca, cluster) -> tuple[bool, str]:
    if not isinstance(ca, CertificateAuthority):
        return False, _no_ca(ca)
    if not isinstance(cluster, Cluster):
        return False, "cluster is still None: do step 2 first" if cluster is None else "cluster is step 2's Cluster"
    if server is None or crl_store is None or settings is None:
        return False, "server, expe_crls or settings is still None: do steps 6 and 7 first"
    if not isinstance(server, Endpoint) or not isinstance(crl_store, CrlStore) or \
            not isinstance(settings, RevocationSettings):
        return False, ("server, expe_crls and settings are step 6's server Endpoint, and step 7's CrlStore and "
                       "RevocationSettings: do steps 6 and 7 first")
    if not settings.checking or not settings.use_crls:
        return False, "keep CRL checking on: the point is a zone that is up while the E checks revocation"
    if not isinstance(client, Endpoint) or not client.chain or client.key is None:
        return False, ("make the peer a new key and CSR, have it signed and installed, then a new client "
                       "Endpoint with it")
    cert = client.chain[0]
    owner = next((node for node in cluster.nodes if node.certificate == cert), None)
    if owner is None:
        return False, "the client's certificate is not the one installed on an Expressway-C peer: install it first"
    revoked = [ca.issued(e.serial) for e in ca.entries() if e.status == "R"]
    if not revoked:
        return False, "step 7 first: nothing has been revoked yet"
    try:
        entry = ca.status(cert)
    except LabkitError:
        return False, f"the new certificate was not issued by '{ca.name}'"
    if entry.status == "R":
        return False, "this certificate is the revoked one: the peer needs a new certificate"
    if any(old.public_key() == cert.public_key() for old in revoked):
        return False, ("the new certificate carries a revoked certificate's key: after keyCompromise the old key "
                       "is known to others, so the peer makes a new one (lab.fixture_key('expc-3') stands in)")
    try:
        decision, trace = sip_tls_handshake(client, server, settings, crl_store, tcp=True)
    except (LabkitError, ssl.SSLError, OSError) as exc:
        return False, f"the handshake could not start: {exc}"
    if not trace.ok:
        return False, f"the zone is still down: {trace.outcome.explanation}"
    return True, (f"serial {entry.serial_hex} on {owner.name}, a new key, and the zone is up again while the "
                  f"Expressway-E checks the CRL ({decision.explanation})")
