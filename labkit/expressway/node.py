"""One Expressway peer and a cluster of peers (guide chapters 3 and 4).

* :class:`ExpresswayNode` -- makes the private key with the CSR, keeps it (never shown), and accepts only the
  certificate issued for that key (one CSR in progress at a time); it knows its software version and whether
  Unified Communications is on, and an Expressway-C that has discovered IM and Presence servers puts their chat node
  aliases into its CSR by itself (chapter 4);
* :class:`Cluster` -- several peers, one CSR and one key each; it says which peer a certificate belongs to when it
  is uploaded to the wrong one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from labkit import guide, lab
from labkit.errors import PolicyError
from labkit.expressway.csr import CsrRequest, _as_tuple, _check_role, _clean_fqdn, _fqdn, _refuse, build_csr
from labkit.expressway.roles import ROLES
from labkit.expressway.versions import DEFAULT_VERSION, check_version
from labkit.x509.loading import load

__all__ = ["ExpresswayNode", "Cluster"]


class ExpresswayNode:
    """One Expressway peer: its name (FQDN) and role, its CSR in progress, its server certificate.

    The private key stays on the node, as on a real Expressway (chapter 3: it can be neither viewed nor
    downloaded): :meth:`generate_csr` makes or takes it, the node keeps it with the pending CSR and then with the
    installed certificate, and no attribute, method or ``repr`` gives it back. :meth:`key_matches` answers the one
    question the key is needed for: was this certificate issued for it?

    ``version`` is the software release (``X14.0``, the guide's, ``X15.4`` or ``X15.5``), which decides what the
    server certificate page does with a certificate that lacks clientAuth; ``unified_communications`` says whether
    Unified Communications features are on (off by default, as on a new Expressway: *Configuration > Unified
    Communications*, mode Off).
    """

    __slots__ = ("_name", "_role", "_certificate", "_pending", "_pending_key", "_key", "_cluster", "_version",
                 "_uc", "_chat_aliases")

    def __init__(self, name: str, role: str, *, version: str = DEFAULT_VERSION, unified_communications: bool = False,
                 _cluster: Cluster | None = None):
        self._name = _fqdn("fqdn", name)
        self._role = _check_role(role)
        self._version = check_version(version)
        self._uc = bool(unified_communications)
        self._chat_aliases: tuple[str, ...] = ()
        self._certificate: x509.Certificate | None = None
        self._pending: x509.CertificateSigningRequest | None = None
        self._pending_key = None
        self._key = None
        self._cluster = _cluster

    @property
    def name(self) -> str:
        return self._name

    @property
    def role(self) -> str:
        return self._role

    @property
    def cluster(self) -> Cluster | None:
        return self._cluster

    @property
    def version(self) -> str:
        """The Expressway software release (``X14.0``, ``X15.4`` or ``X15.5``)."""
        return self._version

    @property
    def unified_communications(self) -> bool:
        """Whether Unified Communications features (MRA, Jabber Guest, XMPP federation) are on."""
        return self._uc

    @unified_communications.setter
    def unified_communications(self, on: bool) -> None:
        self._uc = bool(on)

    @property
    def chat_node_aliases(self) -> tuple[str, ...]:
        """The chat node aliases of the IM and Presence servers this Expressway-C has discovered."""
        return self._chat_aliases

    def discover_im_and_presence(self, chat_node_aliases: Iterable[str]) -> tuple[str, ...]:
        """*Configuration > Unified Communications > IM and Presence Service nodes*: discover the IM and Presence
        servers, which tell the Expressway-C their chat node aliases. From then on :meth:`generate_csr` puts them
        into every request by itself (chapter 4). Only an Expressway-C discovers IM and Presence; returns the
        aliases now known."""
        if self._role != "expressway-c":
            raise _refuse("chat_node_aliases", "IM and Presence servers are discovered on the Expressway-C; on the "
                          "Expressway-E, copy the same aliases into its Generate CSR page", "discovery-on-c",
                          self._name, guide.CH4_EXPRESSWAY)
        aliases = tuple(_fqdn("chat_node_aliases", alias) for alias in _as_tuple(chat_node_aliases))
        known = {alias.lower(): alias for alias in reversed((*self._chat_aliases, *aliases))}  # DNS: any case
        self._chat_aliases = tuple(dict.fromkeys(known[alias.lower()] for alias in (*self._chat_aliases, *aliases)))
        return self._chat_aliases

    @property
    def certificate(self) -> x509.Certificate | None:
        """The installed server certificate (None until one is installed)."""
        return self._certificate

    @property
    def pending_csr(self) -> x509.CertificateSigningRequest | None:
        """The CSR in progress (None when there is none)."""
        return self._pending

    def generate_csr(self, request: CsrRequest, key=None) -> x509.CertificateSigningRequest:
        """Press *Generate CSR*: make the key (a fresh ``request.key_length``-bit RSA key unless ``key`` is given;
        notebooks pass a fixture key so that every run prints the same CSR) and the request, and keep both.

        On an Expressway-C that has discovered IM and Presence servers, their chat node aliases join the request's
        alternative names if they are not there yet (chapter 4: the C adds them by itself).

        Refused while another CSR is pending: the page keeps one key for one request (Discard CSR first).
        """
        if not isinstance(request, CsrRequest):
            raise TypeError(f"generate_csr needs a CsrRequest, not {type(request).__name__}")
        if request.role != self._role:
            raise _refuse("role", f"{self._name} is an {ROLES[self._role]}; this request is for an "
                          f"{ROLES[request.role]}", "role", request.role, guide.CH4)
        if request.version != self._version:
            raise _refuse("version", f"{self._name} runs {self._version}; this request says {request.version}",
                          "expressway-version", request.version, guide.CISCO_X15_5_EKU)
        if request.fqdn.lower() != self._name.lower():
            raise _refuse("fqdn", f"a CSR is made on the peer it is for: this is {self._name}, the request is for "
                          f"{request.fqdn}", "csr-fqdn", request.fqdn, guide.CH3_CLUSTER)
        if self._cluster is not None:
            self._cluster._check_request(request)
        if self._pending is not None:
            raise PolicyError(f"{self._name} already has a CSR in progress, and the Expressway keeps one private "
                              "key for one request at a time: Discard CSR first", rule="one-pending-csr",
                              value=self._pending.subject.rfc4514_string(), chapter=guide.CH3)
        missing = [a for a in self._chat_aliases if a.lower() not in {c.lower() for c in request.chat_node_aliases}]
        if missing:
            request = replace(request, chat_node_aliases=(*request.chat_node_aliases, *missing))
        key = lab.new_key("rsa", request.key_length) if key is None else key
        csr = build_csr(request, key)
        self._pending, self._pending_key = csr, key
        return csr

    def discard_csr(self) -> bool:
        """Press *Discard CSR*: forget the pending request and its key. True if there was one."""
        had = self._pending is not None
        self._pending = self._pending_key = None
        return had

    def csr_pem(self) -> bytes:
        """The pending CSR as PEM, the file *Download* saves for the CA."""
        if self._pending is None:
            raise self._nothing_pending()
        return self._pending.public_bytes(serialization.Encoding.PEM)

    def key_matches(self, cert: x509.Certificate) -> bool:
        """Whether ``cert`` carries the public key of this peer's pending CSR or of its installed certificate."""
        public = cert.public_key()
        return any(key is not None and key.public_key() == public for key in (self._pending_key, self._key))

    def install_certificate(self, cert: x509.Certificate | bytes | str) -> x509.Certificate:
        """Upload the signed certificate (an object, PEM or DER). Refused unless it was issued for this peer's
        pending CSR; on a cluster the refusal says which peer the certificate belongs to."""
        cert = cert if isinstance(cert, x509.Certificate) else load(cert, expect="certificate").obj
        if self._pending is None:
            raise self._nothing_pending(cert)
        if self._pending_key.public_key() != cert.public_key():
            raise PolicyError(f"This certificate does not match the private key of {self._name}'s CSR, so this peer "
                              f"could not use it{self._owner_hint(cert)}", rule="key-mismatch",
                              value=cert.subject.rfc4514_string(), chapter=guide.CH3_CLUSTER)
        self._certificate, self._key = cert, self._pending_key
        self._pending = self._pending_key = None
        return cert

    def _nothing_pending(self, cert: x509.Certificate | None = None) -> PolicyError:
        hint = self._owner_hint(cert) if cert is not None else ""
        return PolicyError(f"{self._name} has no CSR in progress: generate a CSR on this peer first (the key is "
                           f"made with it){hint}", rule="no-pending-csr", value=self._name, chapter=guide.CH3)

    def _owner_hint(self, cert: x509.Certificate) -> str:
        owner = self._cluster.owner_of(cert) if self._cluster is not None else None
        if owner is None or owner is self:
            return ""
        return f": this certificate belongs to {owner.name}'s CSR; upload it there"

    def __repr__(self) -> str:
        state = "CSR pending" if self._pending is not None else "no CSR pending"
        cert = "no certificate"
        if self._certificate is not None:
            cert = f"certificate serial {self._certificate.serial_number:X}"
        version = f", {self._version}" if self._version != DEFAULT_VERSION else ""
        return f"ExpresswayNode({self._name!r}, {ROLES[self._role]}{version}, {state}, {cert})"


class Cluster:
    """Expressway peers that share a cluster name: each peer makes its own CSR and key (chapter 3).

    ``Cluster("expc.lab.example", "expressway-c", ["expc1.lab.example", "expc2.lab.example"])``
    """

    def __init__(self, cluster_fqdn: str, role: str, peer_fqdns: Iterable[str], *, version: str = DEFAULT_VERSION,
                 unified_communications: bool = False):
        self.cluster_fqdn = _fqdn("cluster_fqdn", cluster_fqdn)
        self.role = _check_role(role)
        self.version = check_version(version)
        peers = tuple(_fqdn("peers", peer) for peer in _as_tuple(peer_fqdns))
        if not peers:
            raise _refuse("peers", "a cluster has at least one peer", "field-required", peer_fqdns, guide.CH3_CLUSTER)
        if len({peer.lower() for peer in peers}) != len(peers):
            raise _refuse("peers", "each peer is listed once", "duplicate-peer", ", ".join(peers), guide.CH3_CLUSTER)
        self.nodes: tuple[ExpresswayNode, ...] = tuple(
            ExpresswayNode(p, role, version=version, unified_communications=unified_communications, _cluster=self)
            for p in peers)

    @property
    def peers(self) -> tuple[str, ...]:
        return tuple(node.name for node in self.nodes)

    def node(self, fqdn: str) -> ExpresswayNode:
        for node in self.nodes:
            if node.name.lower() == _clean_fqdn(fqdn).lower():
                return node
        raise _refuse("peers", f"{fqdn!r} is not a peer of {self.cluster_fqdn} (peers: {', '.join(self.peers)})",
                      "unknown-peer", fqdn, guide.CH3_CLUSTER)

    def request_for(self, peer: str, **form_fields) -> CsrRequest:
        """The CsrRequest for ``peer`` with the cluster's name and peers filled in.

        Unless told otherwise the common name is the cluster FQDN and the alternative names are all peers' FQDNs,
        as chapter 2 describes a clustered peer's certificate; every other field is a keyword of
        :class:`CsrRequest`.
        """
        fixed = {"role": self.role, "fqdn": self.node(peer).name, "cluster_fqdn": self.cluster_fqdn,
                 "peers": self.peers, "version": self.version}
        clash = sorted(set(fixed) & set(form_fields))
        if clash:
            raise TypeError(f"request_for fills {', '.join(clash)} from the cluster; do not pass them")
        return CsrRequest(**{"common_name": "cluster", "alternative_name": "peers", **form_fields, **fixed})

    def discover_im_and_presence(self, chat_node_aliases: Iterable[str]) -> tuple[str, ...]:
        """Discover the IM and Presence servers on every peer of this Expressway-C cluster (see
        :meth:`ExpresswayNode.discover_im_and_presence`)."""
        known: tuple[str, ...] = ()
        for node in self.nodes:
            known = node.discover_im_and_presence(chat_node_aliases)
        return known

    def owner_of(self, cert: x509.Certificate) -> ExpresswayNode | None:
        """The peer whose pending CSR (or installed certificate) has ``cert``'s key, if any."""
        return next((node for node in self.nodes if node.key_matches(cert)), None)

    def install(self, peer: str, cert: x509.Certificate | bytes | str) -> x509.Certificate:
        """Upload ``cert`` to ``peer``; a certificate for another peer's CSR is refused with that peer's name."""
        return self.node(peer).install_certificate(cert)

    def status(self):
        """One row per peer: CSR pending or not, the installed certificate's serial and common name."""
        import pandas as pd  # imported here: the command line starts faster without it

        rows = []
        for node in self.nodes:
            cert = node.certificate
            cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME) if cert is not None else []
            rows.append({"peer": node.name, "CSR pending": node.pending_csr is not None,
                         "certificate serial": f"{cert.serial_number:X}" if cert is not None else "",
                         "certificate CN": str(cn[0].value) if cn else ""})
        return pd.DataFrame(rows).set_index("peer")

    def _check_request(self, request: CsrRequest) -> None:
        if (request.cluster_fqdn or "").lower() != self.cluster_fqdn.lower():
            raise _refuse("cluster_fqdn", f"this peer belongs to cluster {self.cluster_fqdn}; the request says "
                          f"{request.cluster_fqdn or 'none'} (use Cluster.request_for)", "cluster-fqdn",
                          request.cluster_fqdn, guide.CH2)
        if sorted(p.lower() for p in request.peers) != sorted(p.lower() for p in self.peers):
            raise _refuse("peers", f"the cluster's peers are {', '.join(self.peers)}; the request lists "
                          f"{', '.join(request.peers) or 'none'} (use Cluster.request_for)", "cluster-peers",
                          ", ".join(request.peers), guide.CH3_CLUSTER)

    def __repr__(self) -> str:
        return f"Cluster({self.cluster_fqdn!r}, {ROLES[self.role]}, peers: {', '.join(self.peers)})"
