"""Notebook 03, Expressway certificates (guide chapter 2): the specimens below, exercises 03.1-03.3.

Specimen certificates: a good one, and one for each point of guide chapter 2 that can go wrong.

Each :class:`Specimen` is a real certificate issued by the lab's issuing CA (fixture keys, lab clock) that breaks
exactly one rule, with the doctor flags that describe the Expressway it is meant for and the rule ``doctor`` should
fire. Notebooks show them as a table of good and bad cases; tests check that each fires its rule.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from labkit import guide, lab
from labkit.exercises import check, exercise
from labkit.expressway.doctor import doctor
from labkit.x509 import certs, decode
from labkit.x509.certs import CertSpec, Issued, issue
from labkit.x509.openssl import labkit_command
from labkit.x509.pki import lab_chain

__all__ = ["Specimen", "specimens", "certs", "check", "decode", "doctor", "labkit_command", "older_edition_peer"]


@dataclass(frozen=True)
class Specimen:
    name: str
    point: str  # what the guide asks, in a few words
    certificate: x509.Certificate
    expected_rule: str | None  # None: a good certificate
    flags: dict = field(default_factory=dict)  # doctor keyword arguments


def _build(issuer: Issued, subject: x509.Name, key, *, sans=("expe.lab.example",), usages=("server", "client"),
           days: int = 365, start_offset: int = 0, sha1: bool = False, ca: bool | None = False,
           serial: int, at: _dt.datetime) -> x509.Certificate:
    start = at + _dt.timedelta(days=start_offset)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer.certificate.subject)
               .public_key(key.public_key()).serial_number(serial).not_valid_before(start)
               .not_valid_after(start + _dt.timedelta(days=days)))
    if ca is not None:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    oids = {"server": ExtendedKeyUsageOID.SERVER_AUTH, "client": ExtendedKeyUsageOID.CLIENT_AUTH}
    if usages:
        builder = builder.add_extension(x509.ExtendedKeyUsage([oids[u] for u in usages]), critical=False)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in sans]), critical=False)
    builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
        issuer.certificate.public_key()), critical=False)
    cert = builder.sign(issuer.key, hashes.SHA256())
    return _resigned_with_sha1(cert, issuer.key) if sha1 else cert


_SHA256_RSA = bytes.fromhex("2a864886f70d01010b")  # 1.2.840.113549.1.1.11 sha256WithRSAEncryption
_SHA1_RSA = bytes.fromhex("2a864886f70d010105")  # 1.2.840.113549.1.1.5 sha1WithRSAEncryption


def _resigned_with_sha1(cert: x509.Certificate, issuer_key) -> x509.Certificate:
    """The same certificate signed with SHA-1, as old CAs did (cryptography no longer signs with SHA-1).

    Both signature algorithm identifiers have the same length, and so does the signature, so the DER can be
    patched in place: swap the identifiers, sign the new TBS part, put the new signature at the end.
    """
    der = cert.public_bytes(serialization.Encoding.DER).replace(_SHA256_RSA, _SHA1_RSA)
    tbs = x509.load_der_x509_certificate(der).tbs_certificate_bytes
    signature = issuer_key.sign(tbs, padding.PKCS1v15(), hashes.SHA1())
    return x509.load_der_x509_certificate(der[: -len(signature)] + signature)


def _name(cn: str | None = "expe.lab.example", *extra: x509.NameAttribute) -> x509.Name:
    parts = [x509.NameAttribute(NameOID.COUNTRY_NAME, "GB"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "labkit")]
    parts += list(extra)
    if cn is not None:
        parts.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(parts)


def specimens(at: _dt.datetime | str | None = None) -> list[Specimen]:
    """The gallery, in the order chapter 2 raises its points, issued at ``at`` (the lab clock by default). The
    specimens' serials run from 0x2000; the lab's chain behind them takes the next three serials of the lab counter."""
    moment = lab.now(at)
    chain = lab_chain(at=moment)
    issuer = chain.intermediate
    key = lab.fixture_key("expe-1")
    serials = iter(range(0x2000, 0x2100))

    def build(*args, **kwargs):
        return _build(issuer, *args, serial=next(serials), at=moment, **kwargs)

    cluster = {"cluster_fqdn": "expe.lab.example", "peer_fqdn": "expe1.lab.example"}
    # An attribute type no OpenSSL has a name for (RFC 5612's documentation enterprise number): it shows as a bare
    # number, appendix A's symptom. Standard attributes OpenSSL names (title, EV's businessCategory or serialNumber)
    # are not a problem.
    unnamed = x509.NameAttribute(x509.ObjectIdentifier("1.3.6.1.4.1.32473.1.7"), "Edge")
    return [
        Specimen("good", "CN is the FQDN, also a SAN; serverAuth + clientAuth; RSA-2048; SHA-256",
                 build(_name(), key), None),
        Specimen("good-cluster-peer", "clustered: CN = cluster FQDN; SANs = this peer and the cluster",
                 build(_name(), key, sans=("expe.lab.example", "expe1.lab.example")), None, cluster),
        Specimen("cluster-peer-missing", "clustered: this peer's FQDN must be a SAN",
                 build(_name(), key), "cluster-san-peer", cluster),
        Specimen("host-name-cn", "the CN must be an FQDN, not a host name",
                 build(_name("expe"), key), "cn-not-fqdn"),
        Specimen("wildcard", "wildcard certificates are not supported",
                 build(_name(), key, sans=("expe.lab.example", "*.lab.example")), "wildcard"),
        Specimen("web-server-template", "mutual TLS needs clientAuth too (AD CS Web Server gives serverAuth only)",
                 build(_name(), key, usages=("server",)), "eku-no-client-auth"),
        Specimen("unsupported-oid", "no subject attribute that OpenSSL (and so the Expressway) cannot name",
                 build(_name("expe.lab.example", unnamed), key), "unsupported-subject-oid"),
        Specimen("after-2050", "expiry dates from 2050 on can cause operational issues",
                 build(_name(), key, days=9200), "expires-after-2050"),
        Specimen("ca-without-basic-constraints", "a CA certificate must carry basicConstraints",
                 build(_name("labkit Legacy CA"), lab.fixture_key("rogue-ca"), sans=(), usages=(), ca=None),
                 "ca-no-basic-constraints", {"role": "ca"}),
        Specimen("ec-key", "RSA keys are recommended; other types are not tested",
                 build(_name(), lab.fixture_key("ec-p256")), "key-not-rsa"),
        Specimen("expired", "do not let the server certificate expire",
                 build(_name(), key, days=30, start_offset=-60), "expired"),
        Specimen("sha1", "a CA's SHA-1 signature: the upload warns (security level), TLS peers refuse it",
                 build(_name(), key, sha1=True), "weak-signature"),
        Specimen("rsa-8192", "8192-bit keys may stop SIP TLS zones from becoming active (appendix A)",
                 build(_name(), lab.fixture_key("rsa-8192")), "key-8192"),
        Specimen("self-signed", "self-signed certificates do not work for Unified Communications",
                 issue(CertSpec("expe.lab.example", organization="labkit"), key, serial=next(serials),
                       at=moment).certificate,
                 "self-signed"),
    ]


def older_edition_peer(at: _dt.datetime | str | None = None) -> x509.Certificate:
    """A cluster peer's certificate made the way the older (VCS X8) editions of the guide describe: CN = the peer's
    own FQDN (``expe1.lab.example``), SANs = the peer and the cluster (``expe.lab.example``). The X14 edition puts
    the cluster FQDN in the CN; doctor warns (``cluster-cn``) and finds no error."""
    moment = lab.now(at)
    issuer = lab_chain(at=moment).intermediate
    return _build(issuer, _name("expe1.lab.example"), lab.fixture_key("expe-1"),
                  sans=("expe1.lab.example", "expe.lab.example"), serial=0x2100, at=moment)


def mystery_certificate() -> x509.Certificate:
    """A certificate with one problem an Expressway would not accept (exercise 03.1)."""
    from labkit.chapters.ch03_expressway_certificates import specimens

    return next(s.certificate for s in specimens() if s.name == "web-server-template")


@exercise("03.1", "Name the broken rule", guide.CH2_POINTS)
def _broken_rule(answer) -> tuple[bool, str]:
    from labkit.expressway.doctor import doctor

    errors = [f.rule for f in doctor(mystery_certificate()).errors]
    if str(answer).strip() in errors:
        return True, f"doctor agrees: {answer} is why the Expressway would refuse it on a mutual-TLS zone"
    return False, "run doctor(mystery) and give the rule id of its error (a short name such as 'cn-not-fqdn')"


@exercise("03.2", "Subject alternative names of a cluster peer", guide.CH2_USE)
def _peer_sans(answer, *, cluster_fqdn: str, peer_fqdn: str) -> tuple[bool, str]:
    from labkit.x509.names import is_fqdn

    names = [str(n).strip().lower() for n in answer] if isinstance(answer, list | tuple) else []
    if not names or not all(is_fqdn(n) for n in names):
        return False, "give a list of FQDNs (no wildcards, no host names)"
    missing = [what for name, what in ((peer_fqdn, "this peer's own FQDN"),
                                       (cluster_fqdn, "the name clients use for the whole cluster"))
               if name.lower() not in names]
    if missing:
        return False, f"a name the peer is reached by is missing: {' and '.join(missing)}"
    return True, "this peer's own FQDN and the cluster FQDN: traffic for either name reaches it"


@exercise("03.3", "Common name of a cluster peer", guide.CH2_USE)
def _peer_cn(answer, *, cluster_fqdn: str, peer_fqdn: str) -> tuple[bool, str]:
    given = str(answer).strip().lower().rstrip(".")
    if given == cluster_fqdn.lower():
        return True, "every peer of the cluster carries the cluster FQDN as its CN"
    if given == peer_fqdn.lower():
        return False, ("that is right for a standalone Expressway, and it is what the older editions of the guide put "
                       "in a peer's CN (doctor only warns about it); the X14 guide gives every peer the same CN")
    return False, "the CN of a clustered peer is one of the two names in 03.2"
