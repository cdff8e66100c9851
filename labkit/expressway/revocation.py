"""The Expressway's revocation checking (guide chapter 8): its CRL store and the SIP TLS settings, on real handshakes.

* :class:`CrlStore` -- the node's CRLs: automatic updates from a list of URLs at a daily time, and one manually
  uploaded PEM file (each upload replaces the previous one). Which CRLs a service uses (:data:`SERVICES`): SIP TLS
  uses the automatic and the manual ones; other services let automatic CRLs override manual ones; external policy
  servers use the manual ones only; the LDAP login uses only the CRLs that came in the trusted CA file. An expired
  CRL makes every certificate of its CA count as revoked, and :meth:`CrlStore.table` and :meth:`CrlStore.expired`
  show which CRLs have expired;
* :class:`RevocationSettings` -- *Configuration > SIP*, *Certificate revocation checking*: checking on or off,
  use OCSP, use CRLs, allow CRL downloads from the certificates' distribution points, and the fallback when no
  source can tell (treat as revoked, or treat as not revoked, the default);
* :func:`decide` -- the decision for one peer certificate, with every step explained. With CRLs in use, checking
  covers every CA on the path (chapter 8), so a path whose root CRL the node lacks is *unknown* and the fallback
  decides, as ``openssl verify -crl_check_all`` fails with "unable to get certificate CRL";
* :func:`sip_tls_handshake` -- a real handshake in which the verifying side applies the settings: CRLs are loaded into
  its TLS context, so OpenSSL itself refuses a revoked certificate or an expired CRL; an OCSP answer (queried before
  the connection is accepted) and the fallback are applied by labkit, which then refuses the connection;
* :func:`outbound_connections` -- where a node must be able to connect to check a certificate: the OCSP responder
  and the CRL distribution points it names (chapter 8: the Expressway-E needs outbound access to the responder,
  usually on port 80 or 443).

What labkit assumes where the guide is silent: OCSP is asked about the peer's own certificate only (the CAs above
it are checked with CRLs); a manually uploaded PEM file may hold several CRLs, all kept until the next upload.
"""

from __future__ import annotations

import datetime as _dt
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from cryptography import x509

from labkit import guide, lab
from labkit.errors import InputError, LabkitError
from labkit.revocation.crl import fetch_crl, is_revoked
from labkit.tls.connection import Endpoint, Handshake, Outcome, handshake, handshake_tcp
from labkit.x509.loading import load_all

__all__ = ["RevocationSettings", "CrlStore", "Decision", "decide", "sip_tls_handshake", "FALLBACKS", "FALLBACK_LABELS",
           "SERVICES", "outbound_connections"]

FALLBACKS = ("revoked", "not-revoked")
#: The fallback as *Configuration > SIP* labels it; either the label or the key may be given.
FALLBACK_LABELS = {"revoked": "Treat as revoked", "not-revoked": "Treat as not revoked"}

#: Which CRLs each kind of service uses (chapter 8's limitations and usage guidelines).
SERVICES: dict[str, str] = {
    "sip-tls": "manual and automatic CRLs, both",
    "other": "automatic CRLs; a manual CRL only for a CA without an automatic one",
    "policy-server": "manual CRLs only (external policy servers)",
    "ldap": "only the CRLs in the trusted CA certificate file (no downloads, no CRL management settings)",
}


@dataclass(frozen=True)
class RevocationSettings:
    checking: bool = True
    use_ocsp: bool = True
    use_crls: bool = True
    allow_cdp_downloads: bool = True
    fallback: str = "not-revoked"

    def __post_init__(self) -> None:
        if isinstance(self.fallback, str):  # the page's label means the same: "Treat as not revoked"
            given = " ".join(self.fallback.split()).lower()
            key = next((k for k, label in FALLBACK_LABELS.items() if given in (k, label.lower())), self.fallback)
            object.__setattr__(self, "fallback", key)
        if self.fallback not in FALLBACKS:
            raise InputError("Fallback behavior is 'revoked' (treat as revoked) or 'not-revoked' (treat as not "
                             "revoked)", rule="fallback", value=self.fallback, chapter=guide.CH8)


@dataclass
class CrlStore:
    """The node's CRLs: automatic (from ``urls``, refreshed daily at ``update_time``) and one manual upload."""

    urls: list[str] = field(default_factory=list)
    update_time: _dt.time = _dt.time(1, 0)
    automatic: dict[bytes, x509.CertificateRevocationList] = field(default_factory=dict)
    manual: dict[bytes, x509.CertificateRevocationList] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    def update(self, *, timeout: float = 3.0) -> list[str]:
        """Download every URL now (what the daily update does); returns one line per URL."""
        lines = []
        for url in self.urls:
            try:
                crl = fetch_crl(url, timeout=timeout)
            except LabkitError as exc:
                lines.append(f"{url}: failed ({exc.message})")
                continue
            self.automatic[crl.issuer.public_bytes()] = crl
            stale = " (EXPIRED already)" if _expired(crl, lab.now()) else ""
            lines.append(f"{url}: {len(crl)} revoked, next update {crl.next_update_utc:%Y-%m-%d %H:%M}{stale}")
        self.log += lines
        return lines

    def expired(self, *, at: _dt.datetime | None = None) -> list[x509.CertificateRevocationList]:
        """The CRLs in the store whose nextUpdate has passed at ``at`` (the lab clock by default): every certificate
        of their CAs counts as revoked until a fresh CRL arrives (chapter 8)."""
        moment = lab.now(at)
        return [crl for crl in (*self.manual.values(), *self.automatic.values()) if _expired(crl, moment)]

    def table(self, *, at: _dt.datetime | None = None):
        """The store as a table, one row per CRL: where it came from, its issuer, entries, last and next update,
        and its state at ``at`` (``current``, or ``EXPIRED``: its CA's certificates count as revoked)."""
        import pandas as pd

        from labkit.x509.decode import label

        moment = lab.now(at)
        rows = []
        for source, crls in (("manual", self.manual), ("automatic", self.automatic)):
            for crl in crls.values():
                nxt = crl.next_update_utc
                rows.append({"source": source, "issuer": label(crl.issuer), "revoked": len(crl),
                             "last update": f"{crl.last_update_utc:%Y-%m-%d %H:%M}",
                             "next update": f"{nxt:%Y-%m-%d %H:%M}" if nxt else "-",
                             "state": ("EXPIRED: every certificate of this CA counts as revoked"
                                       if _expired(crl, moment) else "current")})
        return pd.DataFrame(rows, columns=["source", "issuer", "revoked", "last update", "next update", "state"])

    def next_update(self, at: _dt.datetime | None = None) -> _dt.datetime:
        """When the daily automatic update runs next, after ``at`` (the lab clock by default)."""
        moment = lab.now(at)
        today = _dt.datetime.combine(moment.date(), self.update_time, tzinfo=moment.tzinfo)
        return today if today > moment else today + _dt.timedelta(days=1)

    def upload(self, pem: str | bytes) -> x509.CertificateRevocationList:
        """A manual upload: PEM only; it replaces the previously uploaded CRL file. A file with several CRLs (one
        per CA, say the issuing CA's and the root's) keeps them all (labkit's assumption); returns the first."""
        text = pem.encode() if isinstance(pem, str) else bytes(pem)
        if b"-----BEGIN X509 CRL-----" not in text:
            raise InputError("Manual CRL upload takes a PEM file (-----BEGIN X509 CRL-----); convert DER first with "
                             "openssl crl -inform DER -in FILE -out FILE.pem", rule="crl-upload-pem", value=text[:40],
                             chapter=guide.CH8)
        items = load_all(text)
        others = [item.description for item in items if item.kind != "crl"]
        if others:
            raise InputError("A CRL file holds CRLs only", rule="crl-upload-pem", value=others[0], chapter=guide.CH8)
        self.manual = {item.obj.issuer.public_bytes(): item.obj for item in items}
        return items[0].obj

    def crls(self, *, sip_tls: bool = True, service: str | None = None,
             embedded: Iterable[x509.CertificateRevocationList] = ()) -> list[x509.CertificateRevocationList]:
        """The CRLs in force for a service (a key of :data:`SERVICES`; ``sip_tls=False`` is ``"other"``): SIP TLS
        uses manual and automatic ones; other services let automatic ones win; external policy servers use the
        manual ones only; the LDAP login uses only ``embedded``, the CRLs that came in the trusted CA file
        (``store.trusted.crls``)."""
        service = service or ("sip-tls" if sip_tls else "other")
        if service not in SERVICES:
            raise InputError(f"The services are {', '.join(SERVICES)}", rule="crl-service", value=service,
                             chapter=guide.CH8_LIMITS)
        if service == "sip-tls":
            return list(self.manual.values()) + list(self.automatic.values())
        if service == "policy-server":
            return list(self.manual.values())
        if service == "ldap":
            return list(embedded)
        merged = dict(self.manual)
        merged.update(self.automatic)
        return list(merged.values())

    def status(self, cert: x509.Certificate, *, at: _dt.datetime | None = None, sip_tls: bool = True,
               extra: tuple[x509.CertificateRevocationList, ...] = ()) -> tuple[str, str]:
        """("good" | "revoked" | "unknown", why) for ``cert`` from the CRLs of its issuer."""
        moment = lab.now(at)
        mine = [c for c in (*self.crls(sip_tls=sip_tls), *extra) if c.issuer == cert.issuer]
        if not mine:
            return "unknown", "no CRL from this certificate's CA"
        for crl in mine:
            if crl.next_update_utc is not None and crl.next_update_utc < moment:
                return "revoked", (f"the CA's CRL expired on {crl.next_update_utc:%Y-%m-%d %H:%M}: every "
                                   "certificate of that CA counts as revoked until a fresh CRL arrives")
            if is_revoked(crl, cert.serial_number):
                entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
                return "revoked", f"serial {cert.serial_number:X} is on the CA's CRL since " \
                                  f"{entry.revocation_date_utc:%Y-%m-%d %H:%M}"
        return "good", "not on the CA's current CRL"


def _expired(crl: x509.CertificateRevocationList, moment: _dt.datetime) -> bool:
    return crl.next_update_utc is not None and crl.next_update_utc < moment


@dataclass(frozen=True)
class Decision:
    """What :func:`decide` concluded: ``accept``, the ``status`` (good, revoked, unknown), the ``source`` that
    decided (ocsp, crl, fallback, off), the ``steps`` in words, the CRLs OpenSSL is given, and ``crl_check``:
    ``"chain"`` when CRLs vouched for every certificate on the path (OpenSSL then checks them all, as
    ``-crl_check_all``), else ``"leaf"``."""

    accept: bool
    status: str  # good | revoked | unknown
    source: str  # "ocsp", "crl", "fallback", "off"
    steps: tuple[str, ...]
    crls: tuple[x509.CertificateRevocationList, ...] = ()  # the CRLs OpenSSL is given
    crl_check: str = "leaf"

    @property
    def explanation(self) -> str:
        return "; ".join(self.steps)


def _label(cert: x509.Certificate) -> str:
    from labkit.x509.decode import label

    return label(cert.subject)


def _crl_status(cert: x509.Certificate, settings: RevocationSettings, store: CrlStore, steps: list[str], *,
                at: _dt.datetime | None, timeout: float, who: str) -> tuple[str, list[x509.CertificateRevocationList]]:
    """One certificate's status from the CRLs of its issuer (downloaded from its distribution points when allowed)."""
    from labkit.revocation.ocsp import crl_urls

    extra: list[x509.CertificateRevocationList] = []
    status, why = store.status(cert, at=at)
    if status == "unknown" and settings.allow_cdp_downloads:
        for url in crl_urls(cert):
            try:
                extra.append(fetch_crl(url, timeout=timeout))
                steps.append(f"CRL downloaded from the distribution point {url}")
                break
            except LabkitError as exc:
                steps.append(f"CRL distribution point {url}: {exc.message}")
        status, why = store.status(cert, at=at, extra=tuple(extra))
    steps.append(f"CRL ({who}): {why}")
    return status, [c for c in (*store.crls(), *extra) if c.issuer == cert.issuer]


def decide(cert: x509.Certificate, issuer: x509.Certificate, settings: RevocationSettings, store: CrlStore, *,
           at: _dt.datetime | None = None, timeout: float = 2.0,
           chain: Iterable[x509.Certificate] = ()) -> Decision:
    """Apply the SIP TLS revocation settings to one peer certificate, as the Expressway does before accepting it.

    The peer's certificate is asked about with OCSP (when used and named), then with CRLs. With CRLs in use, every
    CA certificate on the path that is not a self-signed root (``issuer``, then ``chain``, the CAs above it) is
    checked against its issuer's CRL too (chapter 8). A revoked certificate anywhere refuses; a status no source can
    tell anywhere leaves the decision to the fallback; otherwise the certificate is accepted.
    """
    if not settings.checking:
        return Decision(True, "good", "off", ("certificate revocation checking is off: nothing is checked",))
    from labkit.revocation.ocsp import ocsp_url, query

    steps: list[str] = []
    status, source = "unknown", "fallback"
    if settings.use_ocsp:
        url = ocsp_url(cert)
        if url is None:
            steps.append("OCSP: the certificate names no OCSP responder")
        else:
            try:
                answer = query(url, cert, issuer, at=at, timeout=timeout)
                steps.append(f"OCSP {url}: {answer.status}")
                if answer.status in ("good", "revoked"):
                    status, source = answer.status, "ocsp"
            except LabkitError as exc:
                steps.append(f"OCSP {url}: no answer ({exc.message})")
    if status == "revoked":
        return Decision(False, "revoked", "ocsp", tuple(steps))
    crls: list[x509.CertificateRevocationList] = []
    levels: list[str] = []  # the statuses of the CAs on the path (checked with CRLs only)
    if settings.use_crls:
        if status == "unknown":
            status, mine = _crl_status(cert, settings, store, steps, at=at, timeout=timeout, who="this certificate")
            crls += mine
            source = "crl" if status in ("good", "revoked") else source
        cas = [ca for ca in (issuer, *chain) if ca.subject != ca.issuer]  # a self-signed root is the trust anchor
        for ca in cas:
            ca_status, mine = _crl_status(ca, settings, store, steps, at=at, timeout=timeout,
                                          who=f"CA '{_label(ca)}', every CA in the chain")
            levels.append(ca_status)
            crls += [c for c in mine if c not in crls]
    if status == "revoked" or "revoked" in levels:
        return Decision(False, "revoked", "crl", tuple(steps), tuple(crls))
    if status == "good" and "unknown" not in levels:
        everything_by_crl = source == "crl" and settings.use_crls
        return Decision(True, "good", source, tuple(steps), tuple(crls) if everything_by_crl else (),
                        "chain" if everything_by_crl else "leaf")
    accept = settings.fallback == "not-revoked"
    steps.append(f"no source could tell for every certificate on the path: fallback '{settings.fallback}' "
                 f"{'accepts' if accept else 'refuses'}")
    return Decision(accept, "unknown", "fallback", tuple(steps))


def outbound_connections(*certs: x509.Certificate) -> list[tuple[str, str, int]]:
    """``(purpose, host, port)`` for every OCSP responder and CRL distribution point the certificates name: where a
    node that checks them must be allowed to connect out (chapter 8: the Expressway-E needs outbound access to the
    responder, normally port 80 or 443; CRL downloads are HTTP or HTTPS)."""
    from labkit.revocation.ocsp import crl_urls, ocsp_url

    found: list[tuple[str, str, int]] = []
    for cert in certs:
        urls = ([("OCSP responder", ocsp_url(cert))] if ocsp_url(cert) else []) + [
            ("CRL distribution point", url) for url in crl_urls(cert)]
        for purpose, url in urls:
            parts = urllib.parse.urlsplit(url)
            entry = (purpose, parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
            if entry not in found:
                found.append(entry)
    return found


def sip_tls_handshake(client: Endpoint, server: Endpoint, settings: RevocationSettings, store: CrlStore, *,
                      verifier: str = "server", at: _dt.datetime | None = None,
                      tcp: bool = False) -> tuple[Decision, Handshake]:
    """A real handshake where ``verifier`` ("server": the E checking the C on a mutual-TLS zone, or "client")
    applies the revocation settings to the peer's certificate; ``tcp=True`` runs it over a TCP connection on
    127.0.0.1 instead of memory. When CRLs decide, they are loaded into the verifier's OpenSSL context, so OpenSSL
    itself refuses a revoked certificate (verify code 23) or an expired CRL (12); an OCSP answer or a fallback that
    says no is applied right after the handshake, as labkit closes the connection."""
    if verifier not in ("server", "client"):
        raise InputError("verifier is 'server' or 'client'", rule="verifier", value=verifier, chapter=guide.CH8)
    peer = client if verifier == "server" else server
    if len(peer.chain) < 2:
        raise InputError("The peer must send its issuing CA certificate after its own", rule="peer-chain",
                         value=len(peer.chain), chapter=guide.CH8)
    checker = server if verifier == "server" else client
    decision = decide(peer.chain[0], peer.chain[1], settings, store, at=at, chain=_above(peer, checker))
    if decision.crls and decision.source == "crl":
        checker = replace(checker, crls=decision.crls, crl_check=decision.crl_check)
    run = handshake_tcp if tcp else handshake
    trace = run(client, checker) if verifier == "server" else run(checker, server)
    if trace.ok and not decision.accept:  # OCSP, a CA's CRL or the fallback refused: labkit closes the connection
        outcome = Outcome(False, verifier, None, f"refused by revocation checking: {decision.explanation}",
                          "certificate_revoked" if decision.status == "revoked" else "certificate_unknown")
        trace = replace(trace, outcome=outcome)
    return decision, trace


def _above(peer: Endpoint, checker: Endpoint) -> list[x509.Certificate]:
    """The CA certificates above the peer's issuing CA: the rest of what it sends, then, up to the root, the
    certificates the checker trusts."""
    path = list(peer.chain[2:])
    current = (path or list(peer.chain[1:2]))[-1]
    known = [*peer.chain[2:], *checker.trusted]
    while current.subject != current.issuer and len(path) < 8:
        parent = next((c for c in known if c.subject == current.issuer and c not in path), None)
        if parent is None:
            break
        path.append(parent)
        current = parent
    return path
