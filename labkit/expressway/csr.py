"""The Expressway's Generate CSR page as a model (guide chapters 3 and 4, in labkit's words).

* :class:`CsrRequest` -- the fields of *Maintenance > Security > Server certificate > Generate CSR*, checked as the
  page checks them; every refusal names the field as the page labels it (:data:`FIELD_LABELS`);
* :func:`build_csr` -- the request the Expressway makes from them: subject, subject alternative names, and always
  the extended key usages serverAuth and clientAuth (chapter 3 says the Expressway adds both by itself).

The peer that keeps the key is :mod:`labkit.expressway.node`; the OpenSSL twin is
:mod:`labkit.expressway.req_config`; what the widget calls is :mod:`labkit.expressway.csr_page`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from labkit import guide
from labkit.errors import PolicyError, WrongTypeError
from labkit.expressway.roles import NODE_ROLES, ROLES
from labkit.expressway.versions import DEFAULT_VERSION, VERSIONS
from labkit.x509.names import fqdn_problem

__all__ = ["FIELD_LABELS", "LAB_SUBJECT", "COMMON_NAME_CHOICES", "ALTERNATIVE_NAME_CHOICES", "DOMAIN_FORMATS",
           "KEY_LENGTHS", "DIGESTS", "CsrRequest", "build_csr"]

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
    "version": "Expressway software version",
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


def _refuse(name: str, message: str, rule: str, value: object, chapter: str = guide.CH3) -> PolicyError:
    """A PolicyError whose message starts with the field's label on the page (an empty value is not repeated); its
    ``field`` attribute is the field's name, so a form can show the refusal beside that field."""
    empty = value is None or (isinstance(value, str) and not value.strip()) or (isinstance(value, tuple) and not value)
    shown = None if empty else value
    error = PolicyError(f"{_label(name)}: {message}", rule=rule, value=shown, chapter=chapter)
    error.field = name
    return error


def _one_of(value: object, choices) -> bool:
    return isinstance(value, str) and value in choices


def _choice(value: object, choices: dict[str, str]) -> object:
    """The key of ``choices`` that ``value`` names, by key or by the label the page (and the widget) shows, in any
    case: ``"CollabEdgeDNS"`` is ``"collab-edge"``, ``"Expressway-E"`` is ``"expressway-e"``. Anything else is
    returned as given, for the field's check to refuse."""
    if not isinstance(value, str):
        return value
    wanted = value.strip().lower()
    return next((key for key, label in choices.items() if wanted in (key.lower(), label.lower())), value)


def _check_role(role: str) -> str:
    if not _one_of(role, NODE_ROLES):
        raise _refuse("role", "choose expressway-c (the Expressway-C, inside) or expressway-e (the Expressway-E, "
                      "at the edge)", "role", role, guide.CH4)
    return role


def _clean_fqdn(value: str) -> str:
    value = value.strip() if isinstance(value, str) else value
    return value[:-1] if isinstance(value, str) and value.endswith(".") and len(value) > 1 else value


def _fqdn(name: str, value: str, *, extra: str = "") -> str:
    """``value`` without spaces and the root's trailing dot, or a PolicyError naming the form field."""
    value = _clean_fqdn(value)
    problem = fqdn_problem(value)
    if problem:
        raise _refuse(name, f"{value!r} is not an FQDN{extra}: {problem}", "fqdn", value, guide.CH4)
    return value


def _as_tuple(value, name: str = "names") -> tuple:
    """A form field that holds names: None, one name, or any iterable of names; anything else is a
    :class:`~labkit.errors.WrongTypeError` ``field-type`` naming the field."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, bytes | bytearray | dict) or not hasattr(value, "__iter__"):
        raise WrongTypeError(f"{_label(name)}: a list of names (or one name as text), not {type(value).__name__}",
                             rule="field-type", value=repr(value)[:60], chapter=guide.CH3)
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

    ``key_length`` is 2048, 4096 or 8192 bits (8192 is accepted, with doctor's ``key-8192`` warning from
    :meth:`guidance`). The model's default is 2048, the size of the lab's fixture keys; the widget's form starts at
    4096, the size appendices A and B advise.
    ``digest`` is ``"sha256"`` (the page's default), ``"sha384"`` or ``"sha512"``: SHA-1 left the page in X8.10.

    ``country``, ``state``, ``locality``, ``organization`` and ``unit`` are all required, because the page will
    not make a CSR without them. A CA may still leave them out of the certificate: Let's Encrypt, for one, issues
    certificates whose subject carries none of them (chapter 3); the page asks regardless.

    ``version`` is the Expressway's software release (``X14.0``, the guide's, ``X15.4`` or ``X15.5``: see
    :mod:`labkit.expressway.versions`); the request is the same on each, the guidance says what each does with a
    certificate that comes back without clientAuth.

    The choices (``role``, ``common_name``, ``alternative_name``, ``ucm_domain_format``) may also be given as the
    page shows them, in any case: ``"CollabEdgeDNS"``, ``"Expressway-E"``, ``"FQDN of Expressway cluster"``.
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
    version: str = DEFAULT_VERSION

    def __post_init__(self) -> None:
        def put(name: str, value) -> None:
            object.__setattr__(self, name, value)

        for name in _NAME_TUPLES:
            put(name, tuple(item.strip() if isinstance(item, str) else item
                            for item in _as_tuple(getattr(self, name), name)))
        for name, choices in (("role", NODE_ROLES), ("common_name", COMMON_NAME_CHOICES),
                              ("alternative_name", ALTERNATIVE_NAME_CHOICES), ("ucm_domain_format", DOMAIN_FORMATS)):
            put(name, _choice(getattr(self, name), choices))  # the page's labels mean the same as the keys
        _check_role(self.role)
        if not isinstance(self.fqdn, str) or not self.fqdn.strip():
            raise _refuse("fqdn", "this field is required (the Expressway's own FQDN)", "field-required", self.fqdn,
                          guide.CH2)
        put("fqdn", _fqdn("fqdn", self.fqdn))
        cluster = self.cluster_fqdn.strip() if isinstance(self.cluster_fqdn, str) else self.cluster_fqdn
        put("cluster_fqdn", _fqdn("cluster_fqdn", cluster) if cluster else None)
        self._check_peers(put)
        self._check_common_name(put)
        self._check_alternative_name()
        self._check_names(put)
        self._check_key_and_digest(put)
        self._check_subject(put)
        if not _one_of(self.version, VERSIONS):
            raise _refuse("version", f"choose one of {', '.join(VERSIONS)}", "expressway-version", self.version,
                          guide.CISCO_X15_5_EKU)

    # -- checks, in the page's order ----------------------------------------------------------------------------

    def _check_peers(self, put) -> None:
        peers = tuple(_fqdn("peers", peer) for peer in self.peers)
        doubles = [peer for peer in peers if [p.lower() for p in peers].count(peer.lower()) > 1]
        if doubles:
            raise _refuse("peers", "each peer is listed once", "duplicate-peer", doubles[0], guide.CH3_CLUSTER)
        if peers and self.fqdn.lower() not in {peer.lower() for peer in peers}:
            raise _refuse("fqdn", f"this peer must be one of the cluster's peers ({', '.join(peers)})",
                          "peer-listed", self.fqdn, guide.CH3_CLUSTER)
        put("peers", peers)

    def _check_common_name(self, put) -> None:
        if not _one_of(self.common_name, COMMON_NAME_CHOICES):
            raise _refuse("common_name", "choose fqdn (FQDN of Expressway), cluster (FQDN of Expressway cluster) "
                          "or custom", "cn-source", self.common_name)
        if self.common_name == "cluster" and not self.cluster_fqdn:
            raise _refuse("common_name", "'FQDN of Expressway cluster' needs the Cluster name (FQDN for "
                          "provisioning); this Expressway has none", "cn-source", self.common_name, guide.CH2)
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
                          "Expressway is not clustered", "san-source", choice, guide.CH3_CLUSTER)
        if choice == "cluster" and not self.cluster_fqdn:
            raise _refuse("alternative_name", "'FQDN of Expressway cluster' needs the Cluster name (FQDN for "
                          "provisioning); this Expressway has none", "san-source", choice, guide.CH3_CLUSTER)

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
                                  f"{problem}", "fqdn-or-ip", value, guide.CH4) from None
                extra.append(_clean_fqdn(value))
        put("additional_names", tuple(extra))
        if not _one_of(self.ucm_domain_format, DOMAIN_FORMATS):
            raise _refuse("ucm_domain_format", "choose dns (DNS) or collab-edge (CollabEdgeDNS)", "domain-format",
                          self.ucm_domain_format, guide.CH4)
        for name, roles in _UC_FIELDS.items():
            values = getattr(self, name)
            if values and self.role not in roles:
                only = " and ".join(ROLES[r] for r in sorted(roles))
                raise _refuse(name, f"not on the {ROLES[self.role]}'s page; this field is for the {only} only "
                              "(chapter 4's table)", "field-not-for-role", ", ".join(values), guide.CH4)
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
        if self.key_length == 8192:  # the same severity and words as doctor's key-8192 rule
            notes.append("Warning (key-8192): appendix A reports that SIP TLS zones may fail to become active with "
                         f"an 8192-bit key and advises 4096 bits ({guide.APPX_A_8192}).")
        if self.clustered and self.common_name == "fqdn":
            notes.append(f"This peer is in cluster {self.cluster_fqdn}: chapter 2 puts the cluster FQDN in the "
                         "common name of each peer's certificate (Common name: FQDN of Expressway cluster).")
        if self.clustered and self.alternative_name == "none":
            notes.append(f"Alternative name is None, but a clustered peer's certificate must name the peer and the "
                         f"cluster, so {self.fqdn} and {self.cluster_fqdn} were added ({guide.CH2}).")
        if len(self.peers) > 1 and not self.clustered:
            notes.append("Several peers but no Cluster name: the cluster FQDN is needed in the Expressway-C "
                         "certificate for MRA, Jabber Guest and XMPP federation, where the Expressway-E's traversal "
                         f"zone checks it as its TLS verify subject name ({guide.CH4_TABLE}).")
        if self.ucm_domain_format == "collab-edge":
            doubled = [d for d in self.ucm_registration_domains if d.lower().startswith("collab-edge.")]
            if doubled:
                notes.append(f"CollabEdgeDNS adds 'collab-edge.' itself: {doubled[0]} becomes "
                             f"collab-edge.{doubled[0]}. Type the domain without the prefix.")
        if self.chat_node_aliases:
            other = "Expressway-E" if self.role == "expressway-c" else "Expressway-C"
            notes.append(f"Chat node aliases: the {other} certificate needs the same list ({guide.CH4}).")
        if any(isinstance(n, x509.IPAddress) for n in self.general_names()):
            notes.append(f"An IP address is among the names: zones should point at FQDNs, not IP addresses, when "
                         f"certificates carry peer or cluster FQDNs ({guide.APPX_A_ZONES}).")
        if self.version == "X15.4" and self.role == "expressway-e":
            notes.append("X15.4: if the CA returns the certificate without clientAuth, this Expressway-E takes it only "
                         "with xConfiguration XCP TLS Certificate CVS EnableServerEkuUpload: On "
                         f"({guide.CISCO_X15_5_EKU}).")
        elif self.version == "X15.5":
            notes.append("X15.5: a certificate that comes back with serverAuth only is fine as the server "
                         "certificate; mutual TLS as a client uses the separate client certificate store "
                         f"({guide.CISCO_X15_5_EKU}).")
        if len(self.dns_names()) > 1:
            notes.append(f"{len(self.dns_names())} alternative names: ask the CA for a multi-domain (multi-SAN) "
                         f"certificate, not a single-name one ({guide.CH3}).")
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
                          "private key", rule="key-type", value=type(key).__name__, chapter=guide.CH2_AWARE)
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
