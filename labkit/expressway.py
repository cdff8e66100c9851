"""The Expressway's Generate CSR page as a model: the form, the request it makes, and the peer that keeps the key.

Guide chapters 3 and 4, in labkit's words:

* :class:`CsrRequest` -- the fields of *Maintenance > Security > Server certificate > Generate CSR*, checked as the
  page checks them; every refusal names the field as the page labels it;
* :func:`build_csr` -- the request the Expressway makes from them: subject, subject alternative names, and always
  the extended key usages serverAuth and clientAuth (chapter 3 says the Expressway adds both by itself);
* :class:`ExpresswayNode` -- one peer: it makes the private key with the CSR, keeps it, and accepts only the
  certificate issued for that key (one CSR in progress at a time);
* :class:`Cluster` -- several peers, one CSR and one key each; it tells you which peer a certificate belongs to when
  it is uploaded to the wrong one (chapter 3, clustered systems);
* :func:`requirements_table` -- chapter 4's table: which subject alternative names each Unified Communications
  feature needs on the Expressway-C and the Expressway-E;
* :func:`openssl_req_config` -- the OpenSSL twin: a config file for ``openssl req -new -key KEY -config FILE`` that
  asks for the same subject, names and key usages;
* :func:`preview_csr` / :func:`generate_from_form` -- what the Generate CSR widget calls on each change or click.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from labkit import decode, lab
from labkit.errors import LabkitError, PolicyError
from labkit.loading import load
from labkit.names import fqdn_problem

__all__ = [
    "ROLES",
    "FIELD_LABELS",
    "LAB_SUBJECT",
    "CsrRequest",
    "build_csr",
    "ExpresswayNode",
    "Cluster",
    "requirements_table",
    "openssl_req_config",
    "CsrPreview",
    "preview_csr",
    "generate_from_form",
]

_CH2 = "guide chapter 2 (PKI Introduction)"
_CH2_AWARE = "guide chapter 2 (Certificate Use on the Expressway, Points to be Aware)"
_CH3 = "guide chapter 3 (Generating a CSR)"
_CH3_CLUSTER = "guide chapter 3 (Server Certificates and Clustered Systems)"
_CH4 = "guide chapter 4 (Server Certificate Requirements for Unified Communications)"
_APPX_A = "guide appendix A (Certificates with Key Length of 8192 Bits)"
_APPX_A_ZONES = "guide appendix A (SIP TLS Negotiation Failures on Neighbor and Traversal Zones)"

#: The two Expressway roles, as labkit spells them.
ROLES = {"expressway-c": "Expressway-C", "expressway-e": "Expressway-E"}

#: Each CsrRequest field and the label the Expressway shows for it (fields of other pages say which page).
FIELD_LABELS: dict[str, str] = {
    "role": "Expressway role",
    "fqdn": "FQDN of this peer (System host name and Domain)",
    "cluster_fqdn": "Cluster name (FQDN for provisioning)",
    "peers": "Peer FQDNs (Clustering page)",
    "common_name": "Common name",
    "custom_common_name": "Custom common name",
    "alternative_name": "Alternative name",
    "additional_names": "Additional alternative names (comma separated)",
    "ucm_registration_domains": "Unified CM registration domains",
    "ucm_domain_format": "Unified CM registration domains format",
    "xmpp_federation_domains": "XMPP federation domains",
    "chat_node_aliases": "IM and Presence chat node aliases (federated group chat)",
    "phone_security_profiles": "Unified CM phone security profile names",
    "key_length": "Key length (in bits)",
    "digest": "Digest algorithm",
    "country": "Country",
    "state": "State or province",
    "locality": "Locality (town name)",
    "organization": "Organization (company name)",
    "unit": "Organizational unit",
}

#: The subject the lab's notebooks type into the form (any values do: the page only insists they are filled in).
LAB_SUBJECT: dict[str, str] = {"country": "GB", "state": "England", "locality": "London",
                               "organization": "labkit", "unit": "Collaboration"}

COMMON_NAME_CHOICES = {"fqdn": "FQDN of Expressway", "cluster": "FQDN of Expressway cluster", "custom": "Custom"}
ALTERNATIVE_NAME_CHOICES = {"peers": "FQDNs of all peers in cluster", "cluster": "FQDN of Expressway cluster",
                            "none": "None"}
DOMAIN_FORMATS = {"dns": "DNS", "collab-edge": "CollabEdgeDNS"}
KEY_LENGTHS = (2048, 4096, 8192)
DIGESTS = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}

# Chapter 4: which role's page offers which Unified Communications field. The order is the order in which their
# names follow the other alternative names in the request.
_UC_FIELDS: dict[str, frozenset[str]] = {
    "ucm_registration_domains": frozenset({"expressway-e"}),
    "xmpp_federation_domains": frozenset({"expressway-e"}),
    "chat_node_aliases": frozenset({"expressway-c", "expressway-e"}),
    "phone_security_profiles": frozenset({"expressway-c"}),
}
_NAME_TUPLES = ("peers", "additional_names", *_UC_FIELDS)
_SUBJECT_FIELDS = {  # field -> (OID, OpenSSL short name, upper bound from RFC 5280's ASN.1 module)
    "country": (NameOID.COUNTRY_NAME, "C", 2),
    "state": (NameOID.STATE_OR_PROVINCE_NAME, "ST", 128),
    "locality": (NameOID.LOCALITY_NAME, "L", 128),
    "organization": (NameOID.ORGANIZATION_NAME, "O", 64),
    "unit": (NameOID.ORGANIZATIONAL_UNIT_NAME, "OU", 64),
}
_CN_MAX = 64  # ub-common-name


def _label(name: str) -> str:
    return FIELD_LABELS[name]


def _refuse(name: str, message: str, rule: str, value: object, chapter: str = _CH3) -> PolicyError:
    """A PolicyError whose message starts with the field's label on the page (an empty value is not repeated)."""
    empty = value is None or (isinstance(value, str) and not value.strip()) or (isinstance(value, tuple) and not value)
    shown = None if empty else value
    return PolicyError(f"{_label(name)}: {message}", rule=rule, value=shown, chapter=chapter)


def _one_of(value: object, choices) -> bool:
    return isinstance(value, str) and value in choices


def _check_role(role: str) -> str:
    if not _one_of(role, ROLES):
        raise _refuse("role", "choose expressway-c (the Expressway-C, inside) or expressway-e (the Expressway-E, "
                      "at the edge)", "role", role, _CH4)
    return role


def _clean_fqdn(value: str) -> str:
    value = value.strip() if isinstance(value, str) else value
    return value[:-1] if isinstance(value, str) and value.endswith(".") and len(value) > 1 else value


def _fqdn(name: str, value: str, *, extra: str = "") -> str:
    """``value`` without spaces and the root's trailing dot, or a PolicyError naming the form field."""
    value = _clean_fqdn(value)
    problem = fqdn_problem(value)
    if problem:
        raise _refuse(name, f"{value!r} is not an FQDN{extra}: {problem}", "fqdn", value, _CH4)
    return value


def _as_tuple(value) -> tuple:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _unique(names: Iterable[str]) -> list[str]:
    """Names in order, each once (DNS names compare without regard to case)."""
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(name.lower(), name)
    return list(seen.values())


@dataclass(frozen=True)
class CsrRequest:
    """What a trainee types into the Expressway's Generate CSR page, checked field by field.

    ``role`` is ``"expressway-c"`` or ``"expressway-e"``; ``fqdn`` is this peer's FQDN; ``cluster_fqdn`` and
    ``peers`` come from the clustering page (leave them empty on a standalone Expressway).

    ``common_name``: ``"fqdn"`` (this Expressway), ``"cluster"`` (the cluster FQDN) or ``"custom"``
    (``custom_common_name``). ``alternative_name``: ``"peers"`` (every peer's FQDN), ``"cluster"`` (the cluster
    FQDN) or ``"none"``; ``additional_names`` are FQDNs or IP addresses.

    The Unified Communications fields follow chapter 4 and the role: Unified CM registration domains
    (``ucm_domain_format`` ``"dns"``, or ``"collab-edge"`` which puts ``collab-edge.`` in front of each domain) and
    XMPP federation domains only on the Expressway-E; Unified CM phone security profile names only on the
    Expressway-C (they must be FQDNs since X12.6); IM and Presence chat node aliases on both.

    ``key_length`` is 2048, 4096 or 8192 bits (8192 is accepted, with a warning from :meth:`guidance`);
    ``digest`` is ``"sha256"`` (the page's default), ``"sha384"`` or ``"sha512"``: SHA-1 left the page in X8.10.

    ``country``, ``state``, ``locality``, ``organization`` and ``unit`` are all required, because the page will
    not make a CSR without them. A CA may still leave them out of the certificate: Let's Encrypt, for one, issues
    certificates whose subject carries none of them (chapter 3); the page asks regardless.

    Lists may be given as lists or tuples; a single string counts as one entry. Text is stripped of surrounding
    spaces, FQDNs of the root's trailing dot, IP addresses are written in their short form, and the country code
    is upper-cased.
    """

    role: str
    fqdn: str
    cluster_fqdn: str | None = None
    peers: tuple[str, ...] = ()
    common_name: str = "fqdn"
    custom_common_name: str = ""
    alternative_name: str = "none"
    additional_names: tuple[str, ...] = ()
    ucm_registration_domains: tuple[str, ...] = ()
    ucm_domain_format: str = "dns"
    xmpp_federation_domains: tuple[str, ...] = ()
    chat_node_aliases: tuple[str, ...] = ()
    phone_security_profiles: tuple[str, ...] = ()
    key_length: int = 2048
    digest: str = "sha256"
    country: str = ""
    state: str = ""
    locality: str = ""
    organization: str = ""
    unit: str = ""

    def __post_init__(self) -> None:
        def put(name: str, value) -> None:
            object.__setattr__(self, name, value)

        for name in _NAME_TUPLES:
            put(name, tuple(item.strip() if isinstance(item, str) else item for item in _as_tuple(getattr(self, name))))
        _check_role(self.role)
        if not isinstance(self.fqdn, str) or not self.fqdn.strip():
            raise _refuse("fqdn", "this field is required (the Expressway's own FQDN)", "field-required", self.fqdn,
                          _CH2)
        put("fqdn", _fqdn("fqdn", self.fqdn))
        cluster = self.cluster_fqdn.strip() if isinstance(self.cluster_fqdn, str) else self.cluster_fqdn
        put("cluster_fqdn", _fqdn("cluster_fqdn", cluster) if cluster else None)
        self._check_peers(put)
        self._check_common_name(put)
        self._check_alternative_name()
        self._check_names(put)
        self._check_key_and_digest(put)
        self._check_subject(put)

    # -- checks, in the page's order ----------------------------------------------------------------------------

    def _check_peers(self, put) -> None:
        peers = tuple(_fqdn("peers", peer) for peer in self.peers)
        doubles = [peer for peer in peers if [p.lower() for p in peers].count(peer.lower()) > 1]
        if doubles:
            raise _refuse("peers", "each peer is listed once", "duplicate-peer", doubles[0], _CH3_CLUSTER)
        if peers and self.fqdn.lower() not in {peer.lower() for peer in peers}:
            raise _refuse("fqdn", f"this peer must be one of the cluster's peers ({', '.join(peers)})",
                          "peer-listed", self.fqdn, _CH3_CLUSTER)
        put("peers", peers)

    def _check_common_name(self, put) -> None:
        if not _one_of(self.common_name, COMMON_NAME_CHOICES):
            raise _refuse("common_name", "choose fqdn (FQDN of Expressway), cluster (FQDN of Expressway cluster) "
                          "or custom", "cn-source", self.common_name)
        if self.common_name == "cluster" and not self.cluster_fqdn:
            raise _refuse("common_name", "'FQDN of Expressway cluster' needs the Cluster name (FQDN for "
                          "provisioning); this Expressway has none", "cn-source", self.common_name, _CH2)
        custom = self.custom_common_name.strip() if isinstance(self.custom_common_name, str) else ""
        if self.common_name == "custom":
            if not custom:
                raise _refuse("custom_common_name", "this field is required when Common name is Custom",
                              "field-required", self.custom_common_name)
            put("custom_common_name", _fqdn("custom_common_name", custom))
        elif custom:
            raise _refuse("custom_common_name", f"only used when Common name is Custom (it is {self.common_name})",
                          "cn-source", custom)
        else:
            put("custom_common_name", "")
        cn = self.cn
        if len(cn) > _CN_MAX:
            raise _refuse("common_name", f"{cn!r} is {len(cn)} characters, but a common name holds at most "
                          f"{_CN_MAX}; choose a shorter Custom common name (the long FQDN can still be an "
                          "alternative name)", "cn-length", cn)

    def _check_alternative_name(self) -> None:
        choice = self.alternative_name
        if not _one_of(choice, ALTERNATIVE_NAME_CHOICES):
            raise _refuse("alternative_name", "choose peers (FQDNs of all peers in cluster), cluster (FQDN of "
                          "Expressway cluster) or none", "san-source", choice)
        if choice == "peers" and not self.peers:
            raise _refuse("alternative_name", "'FQDNs of all peers in cluster' needs the Peer FQDNs; this "
                          "Expressway is not clustered", "san-source", choice, _CH3_CLUSTER)
        if choice == "cluster" and not self.cluster_fqdn:
            raise _refuse("alternative_name", "'FQDN of Expressway cluster' needs the Cluster name (FQDN for "
                          "provisioning); this Expressway has none", "san-source", choice, _CH3_CLUSTER)

    def _check_names(self, put) -> None:
        extra = []
        for value in self.additional_names:
            try:
                if not isinstance(value, str):  # ip_address() would read a number as an address
                    raise ValueError(value)
                extra.append(str(ipaddress.ip_address(value)))
            except ValueError:
                problem = fqdn_problem(_clean_fqdn(value))
                if problem and isinstance(value, str) and (re.fullmatch(r"[0-9.]+", value) or ":" in value):
                    problem = "it looks like an IP address but is not a valid one"
                if problem:
                    raise _refuse("additional_names", f"each entry is an FQDN or an IP address, but {value!r}: "
                                  f"{problem}", "fqdn-or-ip", value, _CH4) from None
                extra.append(_clean_fqdn(value))
        put("additional_names", tuple(extra))
        if not _one_of(self.ucm_domain_format, DOMAIN_FORMATS):
            raise _refuse("ucm_domain_format", "choose dns (DNS) or collab-edge (CollabEdgeDNS)", "domain-format",
                          self.ucm_domain_format, _CH4)
        for name, roles in _UC_FIELDS.items():
            values = getattr(self, name)
            if values and self.role not in roles:
                only = " and ".join(ROLES[r] for r in sorted(roles))
                raise _refuse(name, f"not on the {ROLES[self.role]}'s page; this field is for the {only} only "
                              "(chapter 4's table)", "field-not-for-role", ", ".join(values), _CH4)
            extra_text = " (required since X12.6: a bare profile name or host name is refused)" \
                if name == "phone_security_profiles" else ""
            put(name, tuple(_fqdn(name, value, extra=extra_text) for value in values))

    def _check_key_and_digest(self, put) -> None:
        if not isinstance(self.key_length, int) or isinstance(self.key_length, bool):
            raise _refuse("key_length", f"a whole number of bits (2048, 4096 or 8192), not {self.key_length!r}",
                          "key-length", self.key_length)
        if self.key_length not in KEY_LENGTHS:
            raise _refuse("key_length", "choose 2048, 4096 or 8192 bits", "key-length", self.key_length)
        digest = self.digest.lower().replace("-", "") if isinstance(self.digest, str) else self.digest
        if digest == "sha1":
            raise _refuse("digest", "SHA-1 cannot be chosen since X8.10; keep the default SHA-256 (or SHA-384, "
                          "SHA-512)", "digest", self.digest)
        if not _one_of(digest, DIGESTS):
            raise _refuse("digest", "choose SHA-256 (the default), SHA-384 or SHA-512", "digest", self.digest)
        put("digest", digest)

    def _check_subject(self, put) -> None:
        for name, (_, _, limit) in _SUBJECT_FIELDS.items():
            value = getattr(self, name)
            value = value.strip() if isinstance(value, str) else ""
            if not value:
                raise _refuse(name, "this field is required: the page will not generate a CSR without it (even for a "
                              "CA that leaves it out of the certificate)", "field-required", getattr(self, name))
            if not value.isprintable():
                raise _refuse(name, "control characters (new lines, tabs) cannot go into a subject", "printable",
                              value)
            if name == "country":
                if not re.fullmatch(r"[A-Za-z]{2}", value):
                    raise _refuse(name, "the two-letter ISO 3166 code (GB, US, NO ...)", "country-code", value)
                value = value.upper()
            elif len(value) > limit:
                raise _refuse(name, f"at most {limit} characters in a certificate subject ({len(value)} given)",
                              "field-length", value)
            put(name, value)

    # -- what the request says ----------------------------------------------------------------------------------

    @property
    def cn(self) -> str:
        """The common name the form's choice gives."""
        return {"fqdn": self.fqdn, "cluster": self.cluster_fqdn or "", "custom": self.custom_common_name}[
            self.common_name]

    @property
    def clustered(self) -> bool:
        return bool(self.cluster_fqdn)

    def subject(self) -> x509.Name:
        """``C, ST, L, O, OU, CN``: the subject of the request, in the order OpenSSL and the Expressway write it."""
        attributes = [x509.NameAttribute(oid, getattr(self, name)) for name, (oid, _, _) in _SUBJECT_FIELDS.items()]
        return x509.Name([*attributes, x509.NameAttribute(NameOID.COMMON_NAME, self.cn)])

    def subject_text(self) -> str:
        """The subject as ``openssl req -text`` prints it: ``C = GB, ST = England, ..., CN = expc.lab.example``."""
        return ", ".join([*(f"{short} = {getattr(self, name)}" for name, (_, short, _) in _SUBJECT_FIELDS.items()),
                          f"CN = {self.cn}"])

    def uc_names(self) -> list[str]:
        """The Unified Communications names, in the form's order, registration domains formatted."""
        prefix = "collab-edge." if self.ucm_domain_format == "collab-edge" else ""
        return [*(prefix + domain for domain in self.ucm_registration_domains), *self.xmpp_federation_domains,
                *self.chat_node_aliases, *self.phone_security_profiles]

    def dns_names(self) -> list[str]:
        """The subject alternative names, in order, each once (IP addresses included as text).

        1. the common name (clients check alternative names, not the common name, so it is repeated here);
        2. the Alternative name choice: every peer's FQDN, or the cluster FQDN, or nothing;
        3. on a clustered peer, its own FQDN and the cluster FQDN whatever the choice: chapter 2 wants both in
           the certificate of each peer;
        4. the additional alternative names;
        5. the Unified Communications names: registration domains, XMPP federation domains, chat node aliases,
           phone security profile names.
        """
        chosen = {"peers": list(self.peers), "cluster": [self.cluster_fqdn], "none": []}[self.alternative_name]
        cluster = [self.fqdn, self.cluster_fqdn] if self.clustered else []
        return _unique([self.cn, *chosen, *cluster, *self.additional_names, *self.uc_names()])

    def general_names(self) -> list[x509.GeneralName]:
        out: list[x509.GeneralName] = []
        for name in self.dns_names():
            try:
                out.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                out.append(x509.DNSName(name))
        return out

    def alternative_names_text(self) -> str:
        """What the page shows under "Alternative name as it will appear": ``DNS:a, DNS:b, IP Address:...``."""
        return ", ".join(f"IP Address:{n.value}" if isinstance(n, x509.IPAddress) else f"DNS:{n.value}"
                         for n in self.general_names())

    def guidance(self) -> list[str]:
        """Advice that does not block the request: what the guide warns about for these values."""
        notes = []
        if self.key_length == 8192:
            notes.append("Key length 8192: SIP TLS zones may fail to become active with an 8192-bit key; use 4096 "
                         f"bits ({_APPX_A}).")
        if self.clustered and self.common_name == "fqdn":
            notes.append(f"This peer is in cluster {self.cluster_fqdn}: chapter 2 puts the cluster FQDN in the "
                         "common name of each peer's certificate (Common name: FQDN of Expressway cluster).")
        if self.clustered and self.alternative_name == "none":
            notes.append(f"Alternative name is None, but a clustered peer's certificate must name the peer and the "
                         f"cluster, so {self.fqdn} and {self.cluster_fqdn} were added ({_CH2}).")
        if len(self.peers) > 1 and not self.clustered:
            notes.append("Several peers but no Cluster name: the cluster FQDN is needed in the Expressway-C "
                         f"certificate for business-to-business calls, Jabber Guest and MRA ({_CH4}).")
        if self.ucm_domain_format == "collab-edge":
            doubled = [d for d in self.ucm_registration_domains if d.lower().startswith("collab-edge.")]
            if doubled:
                notes.append(f"CollabEdgeDNS adds 'collab-edge.' itself: {doubled[0]} becomes "
                             f"collab-edge.{doubled[0]}. Type the domain without the prefix.")
        if self.chat_node_aliases:
            other = "Expressway-E" if self.role == "expressway-c" else "Expressway-C"
            notes.append(f"Chat node aliases: the {other} certificate needs the same list ({_CH4}).")
        if any(isinstance(n, x509.IPAddress) for n in self.general_names()):
            notes.append(f"An IP address is among the names: zones should point at FQDNs, not IP addresses, when "
                         f"certificates carry peer or cluster FQDNs ({_APPX_A_ZONES}).")
        if len(self.dns_names()) > 1:
            notes.append(f"{len(self.dns_names())} alternative names: ask the CA for a multi-domain (multi-SAN) "
                         f"certificate, not a single-name one ({_CH3}).")
        return notes


def build_csr(request: CsrRequest, key) -> x509.CertificateSigningRequest:
    """The CSR the Expressway makes for ``request``, signed with ``key`` (RSA, PKCS#1 v1.5, the chosen digest).

    It always carries extended key usage serverAuth and clientAuth: the Expressway puts both into every request,
    because it is a TLS client as well as a server (chapter 3). RSA PKCS#1 v1.5 signatures are deterministic, so
    a fixture key gives the same bytes on every run.
    OpenSSL: ``openssl req -new -key KEY -config FILE`` with ``FILE`` from :func:`openssl_req_config`.
    """
    if not isinstance(request, CsrRequest):
        raise TypeError(f"build_csr needs a CsrRequest, not {type(request).__name__}")
    if not isinstance(key, rsa.RSAPrivateKey):
        raise PolicyError("The Expressway makes RSA keys, and the guide recommends RSA certificates: give an RSA "
                          "private key", rule="key-type", value=type(key).__name__, chapter=_CH2_AWARE)
    if key.key_size != request.key_length:
        raise _refuse("key_length", f"the form says {request.key_length} bits but the key has {key.key_size}",
                      "key-length", key.key_size)
    builder = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(request.subject())
        .add_extension(x509.SubjectAlternativeName(request.general_names()), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                       critical=False)
    )
    return builder.sign(key, DIGESTS[request.digest]())


# -- peers and clusters ------------------------------------------------------------------------------------------


class ExpresswayNode:
    """One Expressway peer: its name (FQDN) and role, its CSR in progress, its server certificate.

    The private key stays on the node, as on a real Expressway (chapter 3: it can be neither viewed nor
    downloaded): :meth:`generate_csr` makes or takes it, the node keeps it with the pending CSR and then with the
    installed certificate, and no attribute, method or ``repr`` gives it back. :meth:`key_matches` answers the one
    question the key is needed for: was this certificate issued for it?
    """

    __slots__ = ("_name", "_role", "_certificate", "_pending", "_pending_key", "_key", "_cluster")

    def __init__(self, name: str, role: str, *, _cluster: Cluster | None = None):
        self._name = _fqdn("fqdn", name)
        self._role = _check_role(role)
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

        Refused while another CSR is pending: the page keeps one key for one request (Discard CSR first).
        """
        if not isinstance(request, CsrRequest):
            raise TypeError(f"generate_csr needs a CsrRequest, not {type(request).__name__}")
        if request.role != self._role:
            raise _refuse("role", f"{self._name} is an {ROLES[self._role]}; this request is for an "
                          f"{ROLES[request.role]}", "role", request.role, _CH4)
        if request.fqdn.lower() != self._name.lower():
            raise _refuse("fqdn", f"a CSR is made on the peer it is for: this is {self._name}, the request is for "
                          f"{request.fqdn}", "csr-fqdn", request.fqdn, _CH3_CLUSTER)
        if self._cluster is not None:
            self._cluster._check_request(request)
        if self._pending is not None:
            raise PolicyError(f"{self._name} already has a CSR in progress, and the Expressway keeps one private "
                              "key for one request at a time: Discard CSR first", rule="one-pending-csr",
                              value=self._pending.subject.rfc4514_string(), chapter=_CH3)
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
                              value=cert.subject.rfc4514_string(), chapter=_CH3_CLUSTER)
        self._certificate, self._key = cert, self._pending_key
        self._pending = self._pending_key = None
        return cert

    def _nothing_pending(self, cert: x509.Certificate | None = None) -> PolicyError:
        hint = self._owner_hint(cert) if cert is not None else ""
        return PolicyError(f"{self._name} has no CSR in progress: generate a CSR on this peer first (the key is "
                           f"made with it){hint}", rule="no-pending-csr", value=self._name, chapter=_CH3)

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
        return f"ExpresswayNode({self._name!r}, {ROLES[self._role]}, {state}, {cert})"


class Cluster:
    """Expressway peers that share a cluster name: each peer makes its own CSR and key (chapter 3).

    ``Cluster("expc.lab.example", "expressway-c", ["expc1.lab.example", "expc2.lab.example"])``
    """

    def __init__(self, cluster_fqdn: str, role: str, peer_fqdns: Iterable[str]):
        self.cluster_fqdn = _fqdn("cluster_fqdn", cluster_fqdn)
        self.role = _check_role(role)
        peers = tuple(_fqdn("peers", peer) for peer in _as_tuple(peer_fqdns))
        if not peers:
            raise _refuse("peers", "a cluster has at least one peer", "field-required", peer_fqdns, _CH3_CLUSTER)
        if len({peer.lower() for peer in peers}) != len(peers):
            raise _refuse("peers", "each peer is listed once", "duplicate-peer", ", ".join(peers), _CH3_CLUSTER)
        self.nodes: tuple[ExpresswayNode, ...] = tuple(ExpresswayNode(p, role, _cluster=self) for p in peers)

    @property
    def peers(self) -> tuple[str, ...]:
        return tuple(node.name for node in self.nodes)

    def node(self, fqdn: str) -> ExpresswayNode:
        for node in self.nodes:
            if node.name.lower() == _clean_fqdn(fqdn).lower():
                return node
        raise _refuse("peers", f"{fqdn!r} is not a peer of {self.cluster_fqdn} (peers: {', '.join(self.peers)})",
                      "unknown-peer", fqdn, _CH3_CLUSTER)

    def request_for(self, peer: str, **form_fields) -> CsrRequest:
        """The CsrRequest for ``peer`` with the cluster's name and peers filled in.

        Unless told otherwise the common name is the cluster FQDN and the alternative names are all peers' FQDNs,
        as chapter 2 describes a clustered peer's certificate; every other field is a keyword of
        :class:`CsrRequest`.
        """
        fixed = {"role": self.role, "fqdn": self.node(peer).name, "cluster_fqdn": self.cluster_fqdn,
                 "peers": self.peers}
        clash = sorted(set(fixed) & set(form_fields))
        if clash:
            raise TypeError(f"request_for fills {', '.join(clash)} from the cluster; do not pass them")
        return CsrRequest(**{"common_name": "cluster", "alternative_name": "peers", **form_fields, **fixed})

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
                          request.cluster_fqdn, _CH2)
        if sorted(p.lower() for p in request.peers) != sorted(p.lower() for p in self.peers):
            raise _refuse("peers", f"the cluster's peers are {', '.join(self.peers)}; the request lists "
                          f"{', '.join(request.peers) or 'none'} (use Cluster.request_for)", "cluster-peers",
                          ", ".join(request.peers), _CH3_CLUSTER)

    def __repr__(self) -> str:
        return f"Cluster({self.cluster_fqdn!r}, {ROLES[self.role]}, peers: {', '.join(self.peers)})"


# -- chapter 4's table --------------------------------------------------------------------------------------------

FEATURES = ("Business to Business Calls", "XMPP Federation", "Jabber Guest", "Mobile and Remote Access")
_E_ONLY, _C_ONLY, _BOTH = "Expressway-E only", "Expressway-C only", "Required"
_REQUIREMENTS: dict[str, dict[str, str]] = {
    "Unified CM registration domains": {"Mobile and Remote Access": _E_ONLY},
    "XMPP federation domains": {"XMPP Federation": _E_ONLY},
    "IM and Presence chat node aliases (federated group chat)": {"XMPP Federation": _BOTH},
    "Unified CM phone security profile names": {"Mobile and Remote Access": _C_ONLY},
    "Expressway cluster name (clustered systems only)": {
        "Business to Business Calls": _C_ONLY, "Jabber Guest": _C_ONLY, "Mobile and Remote Access": _C_ONLY},
}


def requirements_table():
    """Chapter 4's table: which alternative names each Unified Communications feature needs, and on which role.

    Rows are the alternative-name elements of the Generate CSR page, columns the features; a cell says
    ``Expressway-E only``, ``Expressway-C only``, ``Required`` (on both) or is empty (not needed for that feature).
    """
    import pandas as pd  # imported here: the command line starts faster without it

    table = pd.DataFrame([[row.get(feature, "") for feature in FEATURES] for row in _REQUIREMENTS.values()],
                         index=pd.Index(list(_REQUIREMENTS), name="Subject alternative name element"),
                         columns=pd.Index(FEATURES, name="Feature"))
    return table


# -- the OpenSSL twin -----------------------------------------------------------------------------------------------

_CONF_SPECIAL = re.compile(r"""([\\$#"'])""")


def _conf_value(value: str) -> str:
    """A value as OpenSSL's config parser reads it back unchanged (backslash before its special characters)."""
    return _CONF_SPECIAL.sub(r"\\\1", value)


def openssl_req_config(request: CsrRequest) -> str:
    """A config file with which ``openssl req -new -key KEY -config FILE -out REQ.csr`` asks for what
    :func:`build_csr` does: the same subject, alternative names, extended key usages and digest.

    For the same RSA key both give the same bytes (OpenSSL also writes the country as a PrintableString and the
    other fields as UTF8String, and the extensions in the order listed). ``-newkey rsa:BITS -nodes -keyout KEY``
    instead of ``-key KEY`` also makes the key, as appendix B does.
    """
    if not isinstance(request, CsrRequest):
        raise TypeError(f"openssl_req_config needs a CsrRequest, not {type(request).__name__}")
    dn = [(short, getattr(request, name)) for name, (_, short, _) in _SUBJECT_FIELDS.items()] + [("CN", request.cn)]
    sans = ", ".join(f"IP:{n.value}" if isinstance(n, x509.IPAddress) else f"DNS:{n.value}"
                     for n in request.general_names())
    lines = [
        f"# Generate CSR for {request.fqdn} ({ROLES[request.role]}), written by labkit.",
        "# openssl req -new -key KEY -config THIS_FILE -out REQ.csr",
        "",
        "[ req ]",
        "prompt             = no",
        "utf8               = yes",
        "string_mask        = utf8only",
        f"default_bits       = {request.key_length}",
        f"default_md         = {request.digest}",
        "distinguished_name = req_dn",
        "req_extensions     = req_ext",
        "",
        "[ req_dn ]",
        *(f"{short:<2} = {_conf_value(value)}" for short, value in dn),
        "",
        "[ req_ext ]",
        f"subjectAltName   = {sans}",
        "extendedKeyUsage = serverAuth, clientAuth",
        "",
    ]
    return "\n".join(lines)


# -- what the widget calls -----------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CsrPreview:
    """The page's answer to the values typed so far: the CSR (or None), the error (or None), the guidance."""

    csr: x509.CertificateSigningRequest | None
    error: str | None
    guidance: list[str] = field(default_factory=list)
    request: CsrRequest | None = None
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def alternative_names(self) -> str:
        """The "Alternative name as it will appear" line of the page."""
        return self.request.alternative_names_text() if self.request is not None else ""

    @property
    def decoded(self) -> str:
        """The CSR as ``openssl req -text -noout`` shows it (the page's Show (decoded))."""
        return decode.text(self.csr) if self.csr is not None else ""

    @property
    def pem(self) -> str:
        """The CSR as PEM (the page's Show (PEM file))."""
        return self.csr.public_bytes(serialization.Encoding.PEM).decode() if self.csr is not None else ""

    def summary(self) -> str:
        """The error, or the subject and names, then the guidance, as lines of text."""
        if self.error is not None:
            return self.error
        lines = []
        if self.request is not None:
            lines += [f"Subject: {self.request.subject_text()}",
                      f"Alternative name as it will appear: {self.alternative_names}",
                      "Extended key usage (always): TLS Web Server Authentication, TLS Web Client Authentication"]
        if self.note:
            lines.append(self.note)
        lines += [f"Note: {item}" for item in self.guidance]
        return "\n".join(lines)


_FORM_FIELDS = frozenset(f.name for f in fields(CsrRequest))


def _request_from_form(values: Mapping[str, object]) -> CsrRequest:
    """The CsrRequest for the page's current values, read as the page reads them: comma-separated lists, the
    custom common name ignored unless Common name is Custom, a key length typed as text."""
    unknown = sorted(set(values) - _FORM_FIELDS)
    if unknown:
        raise TypeError(f"not fields of the Generate CSR form: {', '.join(unknown)}")
    form = dict(values)
    for name in _NAME_TUPLES:
        if isinstance(form.get(name), str):
            form[name] = tuple(item.strip() for item in form[name].split(",") if item.strip())
    if form.get("common_name", "fqdn") != "custom":
        form["custom_common_name"] = ""
    length = form.get("key_length")
    if isinstance(length, str) and length.strip().isdigit():
        form["key_length"] = int(length)
    for name in ("role", "fqdn"):
        form.setdefault(name, "")
    return CsrRequest(**form)


def preview_csr(form_values: Mapping[str, object], key=None) -> CsrPreview:
    """Check the page's current values and, with ``key``, build the CSR they would give.

    ``form_values`` maps :class:`CsrRequest` field names to what the page holds (lists may be comma-separated
    text). Without a key the preview still shows the subject, the alternative names and the guidance; the CSR
    itself is made when *Generate CSR* is pressed. A broken rule is returned as ``error``, never raised.
    """
    try:
        request = _request_from_form(form_values)
        csr = build_csr(request, key) if key is not None else None
    except LabkitError as exc:
        return CsrPreview(None, f"{type(exc).__name__}: {exc}")
    note = "" if key is not None else "No key yet: Generate CSR makes the key and the request on the Expressway."
    return CsrPreview(csr, None, request.guidance(), request, note)


def generate_from_form(node: ExpresswayNode, form_values: Mapping[str, object], key=None) -> CsrPreview:
    """Press *Generate CSR* on ``node``'s page: :meth:`ExpresswayNode.generate_csr` with the page's values; the
    new pending CSR, or the refusal as ``error``."""
    try:
        request = _request_from_form(form_values)
        csr = node.generate_csr(request, key)
    except LabkitError as exc:
        return CsrPreview(None, f"{type(exc).__name__}: {exc}")
    return CsrPreview(csr, None, request.guidance(), request, f"CSR generated on {node.name}: it is now pending; "
                      "download it for the CA, or Discard CSR to start again.")
