"""The Expressway's certificate store: the trusted CA list and the server certificate (guide chapters 6 and 7).

* :class:`TrustedCaList` -- *Maintenance > Security > Trusted CA certificate*: **Append** a PEM file of one or more
  CA certificates, list them, view one or all (decoded or PEM), **Delete** entries, **Reset** to the default;
* :class:`ServerCertificateSlot` -- *Maintenance > Security > Server certificate*: **Upload** a certificate (with its
  private key when the key was made outside the Expressway), view the one uploaded (chapter 6), restart;
* :class:`CertificateStore` -- both for one Expressway peer (an :class:`~labkit.expressway.ExpresswayNode`), and
  :meth:`CertificateStore.chain_check`, which asks whether the trusted CA list vouches for a certificate.

Other modules (TLS handshakes, later notebooks) take ``store.trusted.certificates`` as the trust anchors: the
certificates the Expressway actually uses, which is every entry of the list except a self-signed certificate that
another one with the same CN pushes aside (see below).

Append and Upload return their findings (:class:`Findings`, a list of :class:`~labkit.doctor.Finding`); a file
the page would not take at all is refused with a :class:`~labkit.errors.LabkitError` naming the rule. The rule ids:

==========================  ========  ==========================================================================
rule                        severity  fires when
==========================  ========  ==========================================================================
pem-only                    refused   the file is not PEM (DER, PKCS#12, anything without ``-----BEGIN``)
trusted-ca-content          refused   the trusted CA file holds a block that is neither a certificate nor a CRL
ca-no-basic-constraints     error     a CA certificate without basicConstraints, or with CA:FALSE (a
                                      self-signed CA:FALSE certificate: warning, it can still vouch for itself)
expired / not-yet-valid     error     a CA certificate outside its validity period at "now" (the lab clock)
trusted-duplicate-cn        warning   the list holds several CA certificates with this CN
self-signed-same-cn         warning   two self-signed certificates share a CN: only the newer one is used
trusted-already-present     info      this exact certificate is in the list already (kept once)
trusted-embedded-crl        info      a CRL in the trusted CA file, kept with the list (chapter 8)
server-certificate-single   refused   the certificate file holds more than one certificate
key-no-passphrase           refused   the private key is passphrase-protected
key-while-csr-pending       refused   a key was given while the peer has a CSR in progress
key-mismatch                refused   the certificate does not carry the public key of the key in use or given
key-required                refused   no key was given and the peer has none for this certificate
security-level              warning   RSA under 2048 bits, or signed with SHA-1 or MD5
cn-missing                  warning   the subject has no CN (an alarm is raised as well)
ca-not-recognised           warning   the trusted CA list does not vouch for the certificate
key-trailing-newline        warning   the key file does not end with a newline (MRA can fail: appendix A)
csr-san-dropped, ...        (varies)  with a CSR pending: what the CA changed (:mod:`labkit.csr_compare`:
                                      ``csr-san-dropped``, ``csr-san-added``, ``csr-eku-dropped``,
                                      ``csr-subject-rewritten``)
==========================  ========  ==========================================================================

What labkit had to decide where the guide is silent (each is documented where it is modelled):

* the default trusted CA list is empty, or the list given as ``default``; a real Expressway has shipped a
  temporary CA and a server certificate issued by it since X8.1, both meant to be replaced (chapter 7);
* two self-signed certificates with one CN: chapter 4 says the Expressway can trust only one of them, not which.
  labkit uses the one appended last and keeps the older one in the list, unused, until it is deleted: Append
  adds, it never removes (chapter 7 asks you to delete old certificates by hand);
* upload warnings do not stop an upload (the guide's sentence on this is cut off in our copy);
* the "security level" is modelled as RSA of at least 2048 bits and a SHA-256 (or better) signature;
* an uploaded certificate is *uploaded* at once (what chapter 6's page shows) but *active* only after
  :meth:`ServerCertificateSlot.restart` (a manual upload needs a restart: chapter 5).
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, rsa
from cryptography.x509 import verification
from cryptography.x509.oid import NameOID

from . import decode, lab
from .csr_compare import compare
from .doctor import Finding, doctor
from .errors import InputError, LabError, LabkitError, PasswordError, PolicyError
from .loading import KINDS, load, load_all, read_file

__all__ = ["Findings", "ChainCheck", "TrustedCaList", "ServerCertificateSlot", "CertificateStore"]

_CH2 = "guide chapter 2 (Certificate Use on the Expressway, Points to be Aware)"
_CH4 = "guide chapter 4 (Cisco Unified Communications Manager Certificates)"
_CH6 = "guide chapter 6 (View currently uploaded certificate)"
_CH7 = "guide chapter 7 (Loading Certificates and Keys Onto Expressway)"
_CH7_PEM = "guide chapter 7 (Loading Certificates and Keys Onto Expressway) and appendix C (Convert DER to PEM)"
_CH8 = "guide chapter 8 (Manage Certificate Revocation Lists)"
_APPX_A = "guide appendix A (Troubleshooting: MRA failures)"

_BEGIN = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----")
_TRUSTED_LABELS = {"CERTIFICATE", "X509 CERTIFICATE", "X509 CRL"}
_KEY_LABELS = {"PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"}
_MIN_RSA = 2048


# -- findings ----------------------------------------------------------------------------------------------------

class Findings(list):
    """The findings of one Append or Upload: a list of :class:`~labkit.doctor.Finding`, printed one per line."""

    def rules(self) -> list[str]:
        return [f.rule for f in self]

    def text(self) -> str:
        if not self:
            return "no warnings"
        return "\n".join(f"{f.severity.upper():<8} {f.rule:<24} {f.message} [{f.chapter}]" for f in self)

    def __str__(self) -> str:
        return self.text()

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(self.text())


@dataclass(frozen=True)
class ChainCheck:
    """Whether the trusted CA list vouches for a certificate, why, and the path (the certificate first)."""

    ok: bool
    reason: str
    path: tuple[x509.Certificate, ...] = ()

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return f"{'TRUSTED' if self.ok else 'NOT TRUSTED'}: {self.reason}"

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))


# -- reading files the way the pages do ---------------------------------------------------------------------------

def _file_bytes(data, what: str) -> bytes:
    """The bytes of a file given as PEM text, bytes or a Path; anything that is not PEM is refused."""
    if isinstance(data, Path):
        raw = read_file(data)
    elif isinstance(data, str):
        raw = data.encode("utf-8")
    elif isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
    else:
        raise InputError(f"Give the {what} as PEM text, bytes or a Path", rule="input-type",
                         value=type(data).__name__, chapter=_CH7)
    if not raw.strip():
        raise InputError(f"The {what} is empty", rule="input-not-empty", value=what, chapter=_CH7)
    if b"-----BEGIN " not in raw:
        raise _not_pem(raw, what)
    return raw


def _not_pem(raw: bytes, what: str) -> InputError:
    try:
        kind = load(raw).kind
    except LabkitError:
        kind = None
    if kind is not None:
        tool = "pkey" if kind == "private-key" else {"csr": "req", "crl": "crl"}.get(kind, "x509")
        hint = (f"it is {KINDS[kind]} in DER (binary) form; convert it: "
                f"`openssl {tool} -inform DER -in FILE.cer -out FILE.pem`")
        value = f"DER, {len(raw)} bytes"
    elif raw[:1] == b"\x30":
        hint = ("binary data that is not one certificate or key (a PKCS#12 .p12/.pfx bundle? "
                "`openssl pkcs12 -in FILE.p12 -nokeys -out cert.pem` extracts the certificates)")
        value = f"binary, {len(raw)} bytes"
    else:
        hint = "there is no '-----BEGIN' line"
        value = raw
    return InputError(f"The {what} must be PEM, the only format the Expressway takes: {hint}", rule="pem-only",
                      value=value, chapter=_CH7_PEM)


def _labels(raw: bytes) -> list[str]:
    return [m.group(1).decode() for m in _BEGIN.finditer(raw)]


def _as_certificate(cert) -> x509.Certificate:
    """A certificate given as an object, PEM text, PEM or DER bytes, or a Path."""
    if isinstance(cert, x509.Certificate):
        return cert
    return load(read_file(cert) if isinstance(cert, Path) else cert, expect="certificate").obj


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _cn(cert: x509.Certificate) -> str | None:
    values = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else None


_label = decode.label


def _self_signed(cert: x509.Certificate) -> bool:
    return cert.subject == cert.issuer


def _short_fingerprint(cert: x509.Certificate) -> str:
    return decode.fingerprint(cert)[:23] + "..."


def _basic_constraints(cert: x509.Certificate) -> x509.BasicConstraints | None:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return None


def _constraints_text(cert: x509.Certificate) -> str:
    constraints = _basic_constraints(cert)
    if constraints is None:
        return "missing"
    return "CA:TRUE" if constraints.ca else "CA:FALSE"


# -- the trusted CA list ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Entry:
    certificate: x509.Certificate
    order: int  # when it was appended: the higher, the later

    @property
    def cn(self) -> str | None:
        return _cn(self.certificate)


def _require_ca(policy, cert, constraints) -> None:
    """The Expressway's CA check (chapter 2): basicConstraints must be present (cryptography: required) with CA:TRUE."""
    if not constraints.ca:
        raise ValueError("basicConstraints is CA:FALSE on a certificate used as a CA")


_CA_POLICY = verification.ExtensionPolicy.permit_all().require_present(
    x509.BasicConstraints, verification.Criticality.AGNOSTIC, _require_ca)


class TrustedCaList:
    """The trusted CA list of one Expressway (*Maintenance > Security > Trusted CA certificate*).

    ``default`` is the list :meth:`reset` goes back to, and the one a new list starts with (labkit's default is
    empty, so every trust decision in the lab comes from a certificate someone appended). Entries are numbered
    from 0 in the order they were appended; :meth:`view`, :meth:`pem` and :meth:`delete` take that number, a
    certificate object, or its SHA-256 (or SHA-1) fingerprint: whole, or its first four bytes or more.
    """

    def __init__(self, default: Iterable[x509.Certificate] = ()):
        self._default = tuple(_as_certificate(cert) for cert in default)
        self._entries: list[_Entry] = []
        self._crls: list[x509.CertificateRevocationList] = []
        self._appended = 0
        self.reset()

    # -- what is in the list --------------------------------------------------------------------------------------

    @property
    def entries(self) -> tuple[x509.Certificate, ...]:
        """Every certificate in the list, in list order (what *Show all* shows)."""
        return tuple(entry.certificate for entry in self._entries)

    @property
    def certificates(self) -> tuple[x509.Certificate, ...]:
        """The trust anchors the Expressway uses: every entry except a self-signed certificate that a newer
        self-signed certificate with the same CN pushes aside (chapter 4)."""
        return tuple(entry.certificate for entry in self._entries if self._in_use(entry) is None)

    @property
    def crls(self) -> tuple[x509.CertificateRevocationList, ...]:
        """CRLs that came in the trusted CA file (chapter 8: the LDAP login uses only these)."""
        return tuple(self._crls)

    def __len__(self) -> int:
        return len(self._entries)

    def _in_use(self, entry: _Entry) -> _Entry | None:
        """None if ``entry`` is used; else the newer self-signed entry with the same CN that is used instead."""
        if entry.cn is None or not _self_signed(entry.certificate):
            return None
        rivals = [e for e in self._entries if _self_signed(e.certificate) and e.cn is not None
                  and e.cn.casefold() == entry.cn.casefold()]
        newest = max(rivals, key=lambda e: e.order)
        return None if newest is entry else newest

    # -- the page's buttons ---------------------------------------------------------------------------------------

    def append(self, data) -> Findings:
        """**Append CA certificate**: add every certificate of a PEM file (text, bytes or a Path; a certificate
        object is taken as its PEM). CRLs in the file are kept too (chapter 8). Anything else is refused, and then
        nothing is appended. Returns the findings about the new entries."""
        if isinstance(data, x509.Certificate):
            data = _pem(data)
        raw = _file_bytes(data, "trusted CA certificate file")
        others = [label for label in _labels(raw) if label not in _TRUSTED_LABELS]
        if others:
            raise InputError(f"A trusted CA file holds CA certificates (and CRLs), but this one has a "
                             f"'{others[0]}' block: take it out", rule="trusted-ca-content", value=others[0],
                             chapter=_CH7)
        items = load_all(raw)  # all parsed before anything is appended
        findings = Findings()
        for item in items:
            if item.kind == "crl":
                self._crls.append(item.obj)
                findings.append(Finding("trusted-embedded-crl", "info", f"a CRL issued by "
                                        f"'{_label(item.obj.issuer)}' came with the file and is kept with the list",
                                        _CH8))
                continue
            findings += self._add(item.obj)
        return findings

    def _add(self, cert: x509.Certificate) -> list[Finding]:
        name = _label(cert.subject)
        if any(entry.certificate == cert for entry in self._entries):
            return [Finding("trusted-already-present", "info", f"'{name}' ({_short_fingerprint(cert)}) is in the "
                            "list already; the list keeps one copy", _CH7)]
        findings = self._ca_findings(cert)
        cn = _cn(cert)
        same = [e for e in self._entries if cn is not None and e.cn is not None and e.cn.casefold() == cn.casefold()]
        self._appended += 1
        self._entries.append(_Entry(cert, self._appended))
        rivals = [e for e in same if _self_signed(e.certificate)]
        if rivals and _self_signed(cert):
            pushed = ", ".join(f"#{self._entries.index(e)} ({_short_fingerprint(e.certificate)})" for e in rivals)
            findings.append(Finding(
                "self-signed-same-cn", "warning", f"'{cn}': another self-signed certificate in the list has this "
                f"CN, and the Expressway trusts only one self-signed certificate per CN. labkit keeps the one "
                f"appended last, this one ({_short_fingerprint(cert)}); {pushed} stays in the list but is no "
                "longer trusted, so connections that rely on it fail (with Unified CM: secure SIP or HTTPS). Give "
                "the two certificates different CNs, or better, have both signed by a CA and trust the CA", _CH4))
        if len(same) > len(rivals) or (rivals and not _self_signed(cert)):
            findings.append(Finding(
                "trusted-duplicate-cn", "warning", f"{len(same) + 1} CA certificates in the list now have the CN "
                f"'{cn}': not recommended on an Expressway-C or -E, where endpoints that sign in through an "
                "external identity provider may then fail. If this certificate replaces an older one of the same "
                "CA, delete the old one: Append never removes anything", _CH7))
        return findings

    @staticmethod
    def _ca_findings(cert: x509.Certificate) -> list[Finding]:
        findings = [f for f in doctor(cert, role="ca").findings if f.rule in ("expired", "not-yet-valid")]
        constraints = _basic_constraints(cert)
        if constraints is not None and constraints.ca:
            return findings
        if constraints is not None and _self_signed(cert):
            return [Finding("ca-no-basic-constraints", "warning", "basicConstraints is CA:FALSE: this self-signed "
                            "certificate can be trusted as itself (a server's own certificate), but it cannot "
                            "vouch for any other certificate", _CH2), *findings]
        state = "missing" if constraints is None else "CA:FALSE"
        return [Finding("ca-no-basic-constraints", "error", f"basicConstraints is {state}: the Expressway's check "
                        "of CA certificates needs the extension, with CA:TRUE, so nothing this certificate signed "
                        "will be trusted through it", _CH2), *findings]

    def list(self):
        """The list as a table, one row per entry (numbered from 0): subject and issuer (their CN), expiry,
        SHA-256 fingerprint (first 8 bytes), self-signed, basicConstraints, and whether the entry is in use."""
        import pandas as pd  # imported here: the command line starts faster without it

        rows = []
        for entry in self._entries:
            cert = entry.certificate
            rival = self._in_use(entry)
            rows.append({
                "subject": _label(cert.subject), "issuer": _label(cert.issuer),
                "expires": f"{cert.not_valid_after_utc:%Y-%m-%d %H:%M}",
                "SHA-256 fingerprint": decode.fingerprint(cert)[:23] + "...",
                "self-signed": _self_signed(cert), "basicConstraints": _constraints_text(cert),
                "in use": "yes" if rival is None else f"no: #{self._entries.index(rival)} has the same CN"})
        columns = ["subject", "issuer", "expires", "SHA-256 fingerprint", "self-signed", "basicConstraints", "in use"]
        return pd.DataFrame(rows, columns=columns).rename_axis("#")

    def view(self, which=None) -> str:
        """**View (decoded)** one entry, or with no argument **Show all (decoded)**: OpenSSL's ``-text`` view."""
        return "".join(decode.text(cert) for cert in self._select(which))

    def pem(self, which=None) -> str:
        """One entry as PEM, or with no argument **Show all (PEM file)**: the list as one PEM file."""
        return "".join(_pem(cert) for cert in self._select(which))

    def delete(self, *which) -> tuple[x509.Certificate, ...]:
        """Tick entries and press **Delete**: remove them (numbers refer to the list before the deletion).
        Returns the removed certificates."""
        if not which:
            raise InputError("Say which entries to delete (a number, a fingerprint or a certificate)",
                             rule="trusted-entry", value="nothing", chapter=_CH7)
        chosen = {self._index(item) for item in which}
        removed = tuple(self._entries[i].certificate for i in sorted(chosen))
        self._entries = [entry for i, entry in enumerate(self._entries) if i not in chosen]
        return removed

    def reset(self) -> None:
        """**Reset to default CA certificate**: back to the default list (labkit: empty unless ``default`` was
        given); embedded CRLs go too."""
        self._entries, self._crls, self._appended = [], [], 0
        for cert in self._default:
            self._add(cert)

    # -- choosing entries -----------------------------------------------------------------------------------------

    def _select(self, which) -> list[x509.Certificate]:
        if which is None:
            return list(self.entries)
        return [self._entries[self._index(which)].certificate]

    def _index(self, which) -> int:
        if isinstance(which, bool):
            raise InputError("Give an entry number, not True/False", rule="trusted-entry", value=which, chapter=_CH7)
        if isinstance(which, int):
            if 0 <= which < len(self._entries):
                return which
            raise InputError(f"No entry with this number: the list has {len(self._entries)} (numbered from 0)",
                             rule="trusted-entry", value=which, chapter=_CH7)
        if isinstance(which, x509.Certificate):
            for i, entry in enumerate(self._entries):
                if entry.certificate == which:
                    return i
            raise InputError("This certificate is not in the trusted CA list", rule="trusted-entry",
                             value=_label(which.subject), chapter=_CH7)
        if isinstance(which, str):
            return self._by_fingerprint(which)
        raise InputError("Give an entry number, a fingerprint or a certificate", rule="trusted-entry",
                         value=type(which).__name__, chapter=_CH7)

    def _by_fingerprint(self, text: str) -> int:
        given = re.sub(r"[^0-9A-F]", "", text.upper().replace("SHA256", "").replace("SHA1", "").split("=")[-1])
        if text.strip().isdigit() and len(text.strip()) < 8:
            return self._index(int(text))
        if len(given) < 8:
            raise InputError("A fingerprint needs at least its first 4 bytes (8 hex digits)", rule="trusted-entry",
                             value=text, chapter=_CH7)
        hits = [i for i, entry in enumerate(self._entries)
                if any(decode.fingerprint(entry.certificate, algo).replace(":", "").startswith(given)
                       for algo in ("sha256", "sha1"))]
        if len(hits) == 1:
            return hits[0]
        problem = "no entry has" if not hits else f"{len(hits)} entries have"
        raise InputError(f"{problem} this fingerprint; give more of it", rule="trusted-entry", value=text,
                         chapter=_CH7)

    # -- does the list vouch for a certificate? -------------------------------------------------------------------

    def chain_check(self, cert, *, intermediates: Iterable[x509.Certificate] = (),
                    at: _dt.datetime | str | None = None) -> ChainCheck:
        """Build and verify the path from ``cert`` (an object, PEM, DER or a Path) to a root in the list, at ``at`` (the
        lab clock by default). The Expressway needs the full chain in the list (chapter 7): the self-signed roots
        in use are the anchors, the other entries (and ``intermediates``) may fill the path. Every CA on the
        path needs basicConstraints with CA:TRUE (chapter 2). Names and key usages are not checked here (that is
        TLS's job), nor revocation (chapter 8). Signatures with SHA-1 are refused by the verifier."""
        cert = _as_certificate(cert)
        moment = lab.now(at)
        for entry in self._entries:
            rival = self._in_use(entry)
            if entry.certificate == cert and rival is not None:
                return ChainCheck(False, f"'{_label(cert.subject)}' is in the list, but #{self._entries.index(rival)}"
                                  " is a newer self-signed certificate with the same CN, and only that one is used")
        anchors = self.certificates
        roots = [c for c in anchors if _self_signed(c)]
        inner = [c for c in anchors if not _self_signed(c)] + list(intermediates)
        if not roots:
            what = "is empty" if not anchors else "holds no root (self-signed) certificate"
            return ChainCheck(False, f"the trusted CA list {what}: the Expressway needs the full chain up to a root")
        verifier = (verification.PolicyBuilder().store(verification.Store(roots)).time(moment)
                    .extension_policies(ca_policy=_CA_POLICY, ee_policy=verification.ExtensionPolicy.permit_all())
                    .build_client_verifier())
        try:
            path = tuple(verifier.verify(cert, inner).chain)
        except verification.VerificationError as exc:
            return ChainCheck(False, self._explain(cert, str(exc), moment, roots + inner))
        names = " <- ".join(f"'{_label(c.subject)}'" for c in reversed(path))
        return ChainCheck(True, f"{names}: the path ends at a root in the trusted CA list", path)

    @staticmethod
    def _explain(cert: x509.Certificate, detail: str, moment: _dt.datetime,
                 known: list[x509.Certificate]) -> str:
        if "basicConstraints" in detail or "2.5.29.19" in detail:
            return ("a CA certificate on the path lacks basicConstraints with CA:TRUE, and the Expressway's CA check "
                    "needs it (chapter 2)")
        if "not valid at validation time" in detail:
            who = re.search(r"subject=<Name\(([^)]*)\)>", detail)
            return (f"a certificate on the path{' (' + who.group(1) + ')' if who else ''} is outside its validity "
                    f"period at {moment:%Y-%m-%d %H:%M} UTC")
        if "Forbidden signature algorithm" in detail or "forbidden" in detail.lower():
            return "a signature on the path uses an algorithm the verifier refuses (SHA-1 or older)"
        if "signature does not match" in detail:
            return ("a CA certificate with the issuer's name is in the list, but its key did not sign this "
                    "certificate: it is another CA with the same name")
        current, seen = cert, 0
        while seen < 10:
            if _self_signed(current):
                return f"'{_label(current.subject)}' is self-signed and is not in the trusted CA list"
            parents = [c for c in known if c.subject == current.issuer and c != current]
            if not parents:
                return (f"'{_label(current.issuer)}', which issued '{_label(current.subject)}', is not in the "
                        "trusted CA list: append it, and every CA above it up to the root (chapter 7 asks for the "
                        "full chain)")
            current, seen = parents[0], seen + 1
        return re.sub(r" \(encountered processing <Certificate.*$", "", detail)

    def __repr__(self) -> str:
        unused = len(self._entries) - len(self.certificates)
        extra = f", {unused} not in use" if unused else ""
        crls = f", {len(self._crls)} CRL{'s' if len(self._crls) != 1 else ''}" if self._crls else ""
        return f"TrustedCaList({len(self._entries)} certificate{'s' if len(self._entries) != 1 else ''}{extra}{crls})"


# -- the server certificate ---------------------------------------------------------------------------------------

class ServerCertificateSlot:
    """The server certificate page (*Maintenance > Security > Server certificate*) of one Expressway.

    :meth:`upload` is *Upload server certificate data*; :attr:`current_certificate` is chapter 6's "currently
    uploaded certificate", :meth:`view` and :meth:`pem` its *Show (decoded)* and *Show (PEM file)*. The private key
    stays inside: no attribute, method or ``repr`` returns it (with a node, the key of a CSR made on the
    Expressway stays in the node).
    """

    __slots__ = ("_trusted", "_node", "_certificate", "_key", "_active", "_restart", "_alarms", "_last")

    def __init__(self, trusted: TrustedCaList, node=None):
        self._trusted = trusted
        self._node = node
        self._certificate: x509.Certificate | None = None
        self._key = None  # only for a key uploaded with a certificate; never returned
        self._active = node.certificate if node is not None else None
        self._restart = False
        self._alarms: tuple[str, ...] = ()
        self._last = Findings()

    @property
    def node(self):
        return self._node

    @property
    def current_certificate(self) -> x509.Certificate | None:
        """The certificate uploaded last (the node's installed one until something is uploaded here)."""
        if self._certificate is not None:
            return self._certificate
        return self._node.certificate if self._node is not None else None

    @property
    def active_certificate(self) -> x509.Certificate | None:
        """The certificate in service: an upload takes effect at the next :meth:`restart`."""
        return self._active

    @property
    def restart_required(self) -> bool:
        """True after a manual upload until :meth:`restart` (chapter 5: non-ACME uploads need a restart)."""
        return self._restart

    @property
    def alarms(self) -> tuple[str, ...]:
        """Alarms the current certificate raises (a missing CN raises one: chapter 7)."""
        return self._alarms

    @property
    def last_warnings(self) -> Findings:
        """The findings of the last successful upload."""
        return self._last

    def upload(self, certificate, key=None, *, node=None) -> Findings:
        """*Upload server certificate data*: the certificate file and, if the key was made outside the
        Expressway, the private key file (each PEM text, bytes or a Path).

        With a CSR pending on the node (``node``, or the store's), no key may be given: the certificate must carry
        the pending CSR's key and :meth:`~labkit.expressway.ExpresswayNode.install_certificate` installs it.
        Without a key file, the certificate must match the key already in use. Refusals raise a LabkitError; the
        page's warnings come back as :class:`Findings` (they do not stop the upload).
        """
        node = node if node is not None else self._node
        cert = self._read_certificate(certificate)
        pending = node is not None and node.pending_csr is not None
        if pending and key is not None:
            raise PolicyError(f"{node.name} has a CSR in progress, so the key for this certificate is the one "
                              "generated with it: upload the certificate alone, or Discard CSR first if the key "
                              "was made elsewhere", rule="key-while-csr-pending", value=node.name, chapter=_CH7)
        findings = Findings()
        new_key = None
        if key is not None:
            raw = _file_bytes(key, "private key file")
            new_key = _unencrypted_key(raw)
            if not raw.endswith(b"\n"):
                findings.append(Finding("key-trailing-newline", "warning", "the key file does not end with a "
                                        "newline: MRA can fail with certificate errors; add one after the "
                                        "-----END line", _APPX_A))
        if pending:
            asked = node.pending_csr
            node.install_certificate(cert)  # refuses a certificate for another key
            self._key = None  # the key is the node's
            findings += compare(cert, asked)  # what the CA changed (SANs, purposes, subject)
        elif new_key is not None:
            if new_key.public_key() != cert.public_key():
                raise PolicyError("The private key file does not belong to this certificate: the certificate "
                                  "carries another public key", rule="key-mismatch", value=_label(cert.subject),
                                  chapter=_CH7)
            self._key = new_key
        else:
            self._check_key_in_place(cert, node)
        self._certificate = cert
        findings += self._warnings(cert)
        self._alarms = (("Server certificate has no CN: MRA, Jabber Guest and the CMS Web Proxy need one",)
                        if _cn(cert) is None else ())
        self._restart = True
        self._last = findings
        return findings

    @staticmethod
    def _read_certificate(certificate) -> x509.Certificate:
        raw = _file_bytes(certificate, "server certificate file")
        labels = _labels(raw)
        if any("PRIVATE KEY" in label for label in labels):
            raise InputError("The certificate file holds a private key as well: give the certificate alone, and "
                             "the key as the private key file", rule="server-certificate-single",
                             value=", ".join(labels), chapter=_CH7)
        certificates = [label for label in labels if label in ("CERTIFICATE", "X509 CERTIFICATE")]
        if len(certificates) > 1:
            raise InputError(f"The certificate file holds {len(certificates)} certificates: upload the server "
                             "certificate alone and append its CA chain to the trusted CA list",
                             rule="server-certificate-single", value=f"{len(certificates)} certificates",
                             chapter=_CH7)
        return load(raw, expect="certificate").obj

    def _check_key_in_place(self, cert: x509.Certificate, node) -> None:
        if self._key is not None:
            matches = self._key.public_key() == cert.public_key()
        elif node is not None and node.certificate is not None:
            matches = node.key_matches(cert)
        else:
            raise PolicyError("There is no private key for this certificate here: upload the key file with it, "
                              "or generate a CSR on the Expressway and upload the certificate issued for it",
                              rule="key-required", value=_label(cert.subject), chapter=_CH7)
        if not matches:
            raise PolicyError("This certificate does not carry the public key of the private key in use: upload "
                              "its own key file with it", rule="key-mismatch", value=_label(cert.subject),
                              chapter=_CH7)

    def _warnings(self, cert: x509.Certificate) -> list[Finding]:
        findings = []
        weak = []
        public = cert.public_key()
        if isinstance(public, rsa.RSAPublicKey | dsa.DSAPublicKey) and public.key_size < _MIN_RSA:
            weak.append(f"a {public.key_size}-bit key (at least {_MIN_RSA})")
        algorithm = cert.signature_hash_algorithm
        if isinstance(algorithm, hashes.SHA1 | hashes.MD5):
            weak.append(f"a {'SHA-1' if isinstance(algorithm, hashes.SHA1) else 'MD5'} signature (use SHA-256 or "
                        "better)")
        if weak:
            findings.append(Finding("security-level", "warning", "the security level is not acceptable: "
                                    + " and ".join(weak), _CH7))
        if _cn(cert) is None:
            findings.append(Finding("cn-missing", "warning", "the subject has no CN, and an alarm follows: MRA, "
                                    "Jabber Guest and the CMS Web Proxy depend on the CN", _CH7))
        verdict = self._trusted.chain_check(cert)
        if not verdict:
            findings.append(Finding("ca-not-recognised", "warning", f"the CA is not recognised: {verdict.reason}",
                                    _CH7))
        return findings

    def restart(self) -> str:
        """Restart the Expressway: the uploaded certificate becomes the active one."""
        cert = self.current_certificate
        self._active, self._restart = cert, False
        if cert is None:
            return "Restarted: no server certificate is installed"
        return f"Restarted: the Expressway now presents '{_label(cert.subject)}' (serial {cert.serial_number:X})"

    def _current(self) -> x509.Certificate:
        cert = self.current_certificate
        if cert is None:
            raise LabError("No server certificate has been uploaded yet", rule="server-certificate-present",
                           value="none", chapter=_CH6)
        return cert

    def view(self) -> str:
        """*Show (decoded)*: the current certificate as ``openssl x509 -text -noout`` prints it."""
        return decode.text(self._current())

    def pem(self) -> str:
        """*Show (PEM file)*: the current certificate as PEM."""
        return _pem(self._current())

    def __repr__(self) -> str:
        cert = self.current_certificate
        where = f"{self._node.name}: " if self._node is not None else ""
        what = f"'{_label(cert.subject)}' serial {cert.serial_number:X}" if cert is not None else "no certificate"
        return f"ServerCertificateSlot({where}{what}{', restart required' if self._restart else ''})"


def _unencrypted_key(raw: bytes):
    """The private key of a PEM key file; a passphrase-protected key is refused (the Expressway cannot use it)."""
    labels = _labels(raw)
    if "ENCRYPTED PRIVATE KEY" in labels or b"Proc-Type: 4,ENCRYPTED" in raw:
        raise PasswordError("The private key is protected by a passphrase, and the Expressway cannot use such a "
                            "key: remove the passphrase first (`openssl pkey -in protected.key -out plain.key`)",
                            rule="key-no-passphrase", value="encrypted private key", chapter=_CH7)
    if not labels or any(label not in _KEY_LABELS for label in labels):
        raise InputError(f"The private key file must hold one private key, not {', '.join(labels)}",
                         rule="expect-private-key", value=", ".join(labels), chapter=_CH7)
    return load(raw, expect="private-key").obj


# -- both together ------------------------------------------------------------------------------------------------

class CertificateStore:
    """The certificates of one Expressway peer: ``store.trusted`` (the trusted CA list) and ``store.server`` (the
    server certificate). ``node`` is the :class:`~labkit.expressway.ExpresswayNode` whose pending CSR and key the
    server certificate page works with; ``trusted_default`` is the trusted CA list's default."""

    def __init__(self, node=None, *, trusted_default: Iterable[x509.Certificate] = ()):
        self.trusted = TrustedCaList(trusted_default)
        self.server = ServerCertificateSlot(self.trusted, node)

    @property
    def node(self):
        """The Expressway peer (an :class:`~labkit.expressway.ExpresswayNode`), or None."""
        return self.server.node

    def chain_check(self, cert, *, intermediates: Iterable[x509.Certificate] = (),
                    at: _dt.datetime | str | None = None) -> ChainCheck:
        """Whether this Expressway's trusted CA list vouches for ``cert`` (see :meth:`TrustedCaList.chain_check`)."""
        return self.trusted.chain_check(cert, intermediates=intermediates, at=at)

    def __repr__(self) -> str:
        name = self.node.name if self.node is not None else "an Expressway"
        return f"CertificateStore({name}: {self.trusted!r}, {self.server!r})"
