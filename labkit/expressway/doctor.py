"""``doctor``: will this certificate (or CSR) work on an Expressway, and if not, why?

Each check is a small function that returns findings; a finding names its rule id, its severity (``error``,
``warning`` or ``info``), what is wrong in a trainee's words, the guide chapter that explains the topic and the
``source`` the rule rests on: the guide, a later admin guide or Cisco document, an RFC section, or
``labkit's advice`` where the rule is the kit's own. The rule ids are a contract (the command line's ``--json``
output carries them):

==========================  ========  ==================  ==========================================================
rule                        severity  source              fires when
==========================  ========  ==================  ==========================================================
cn-not-fqdn                 error     guide ch. 2         the CN is missing or not an FQDN (or, with ``fqdn=``, not
                                                          this Expressway's)
fqdn-not-in-san             warning   labkit, RFC 6125    the CN's FQDN is not also a DNS SAN (the guide lets a
                                                          standalone Expressway leave SANs blank)
wildcard                    error     guide ch. 2         ``*`` in the CN or a DNS SAN
eku-no-server-auth          error     guide ch. 3         an EKU extension without serverAuth
eku-no-client-auth          error     admin guide X14     an EKU extension without clientAuth (X14.0; a warning on an
                                                          X15.4 Expressway-E, which has the serverAuth-only switch;
                                                          not reported for X15.5)
client-certificate-store    info      Cisco 225693        (X15.5) a serverAuth-only server certificate: mutual TLS
                                                          needs the separate client certificate
eku-absent                  warning   guide ch. 3         no EKU extension at all
key-too-small               error     guide ch. 3         RSA under 2048 bits
key-8192                    warning   guide app. A        RSA 8192: SIP TLS zones may fail to become active; use 4096
key-not-rsa                 warning   guide ch. 2         not an RSA key
weak-signature              error     guide ch. 7         the CA signed it with SHA-1 or MD5 (a CSR: signed so); not
                                                          a root's own signature with role ``ca``
request-signature           error     RFC 2986 3          a CSR whose signature does not verify (altered after
                                                          signing, or signed with another key): a CA refuses it
serial-number               error     RFC 5280 4.1.2.2    a certificate's serial number is zero, negative or longer
                                                          than 20 octets
critical-extension-unknown  error     RFC 5280 4.2        an extension marked critical that labkit (cryptography)
                                                          does not know: clients that do not know it must refuse
punycode-label              error     RFC 5890 2.3.2.1    a DNS name (CN or SAN) with an ``xn--`` label that is no
                                                          valid A-label (its Punycode does not decode)
expired / not-yet-valid     error     guide ch. 2         outside the validity period at "now"
expires-soon                warning   labkit              expires within 30 days
expires-after-2050          warning   guide ch. 2         expires in 2050 or later
validity-time-encoding      warning   RFC 5280 4.1.2.5    a date before 2050 encoded as GeneralizedTime
unsupported-subject-oid     error     guide app. A        a subject attribute OpenSSL cannot name, or whose value is
                                                          not a string (prints as a number or as #hex)
unsupported-issuer-oid      error     guide app. A        the same in the issuer's name
self-signed                 warning   guide app. B        issuer and subject are the same (not for Unified
                                                          Communications)
cluster-cn                  warning   guide ch. 2         with ``cluster_fqdn``: the CN is not the cluster FQDN (the
                                                          X14 edition; older editions put the peer's FQDN there)
cluster-san-peer            error     guide ch. 2         with ``peer_fqdn``: this peer's FQDN is not a DNS SAN
cluster-san-cluster         error     guide ch. 2         with ``cluster_fqdn``: the cluster FQDN is not a DNS SAN
uc-registration-domain      error     guide ch. 4         (E) a registration domain D is a DNS SAN neither as D nor
                                                          as collab-edge.D
uc-xmpp-domain              error     guide ch. 4         (E) an XMPP federation domain is not a DNS SAN
xmpp-address-san            warning   guide ch. 4         (E) an XMPPAddress otherName SAN is used instead of DNS
uc-chat-alias               error     guide ch. 4         (C, E) a chat node alias is not a DNS SAN
uc-phone-profile            error     guide ch. 4         (C) a phone security profile name is not a DNS SAN
uc-phone-profile-not-fqdn   error     guide ch. 4         (C) a phone security profile name is not an FQDN
uc-not-for-role             info      guide ch. 4         a UC name was given for a role that does not carry it
ca-no-basic-constraints     error     guide ch. 2         (role ca) basicConstraints missing, or CA:FALSE
der-file                    info      guide ch. 7, app. C the file was DER (a certificate, a PKCS#7 or a PKCS#12 file):
                                                          the Expressway's pages take PEM only; the finding names the
                                                          file's form and the openssl command that converts it
pem-only                    info      guide ch. 7, app. C a PEM PKCS#7 file: the server certificate upload wants PEM
                                                          certificates (labkit's assumption, as the upload model's)
pem-extra-text              info      guide ch. 7         text outside the PEM blocks was skipped, as OpenSSL skips it
csr-key-mismatch            error     RFC 2986            with ``csr``: the certificate is for another key than the
                                                          CSR's
csr-san-dropped             error     guide ch. 4         with ``csr``: a SAN the CSR asked for is missing
csr-san-added               info      labkit              with ``csr``: a SAN the CSR did not ask for was added
csr-eku-dropped             error     admin guide X14     with ``csr``: a purpose the CSR asked for is missing
                                                          (clientAuth, typically)
csr-subject-rewritten       warning   labkit              with ``csr``: the CA changed the CN (info: only other
                                                          subject attributes)
==========================  ========  ==================  ==========================================================

Role ``ca`` applies only the key, signature, serial number, critical extension, punycode, validity, subject- and
issuer-OID and basicConstraints rules.
``version`` is the Expressway software release (:mod:`labkit.expressway.versions`; X14.0, the guide's, by default).
The ``csr-*`` rules (``--csr``: what the CA changed) come from :mod:`labkit.expressway.csr_compare`.

Given a file (PEM, DER, a bundle, PKCS#7 or PKCS#12 with ``password=``; as bytes, text or a ``pathlib.Path``, which
is read as :meth:`ServerCertificateSlot.upload <labkit.expressway.server_certificate.ServerCertificateSlot.upload>`
reads one), doctor examines its end-entity certificate
(the one that issued none of the others; :func:`labkit.x509.loading.chain_order`) and names the other objects in
:attr:`Report.others`; a certificate whose subject holds a value that is not a string (which OpenSSL 3 refuses to
read) is still examined, from its DER.
"""

from __future__ import annotations

import datetime as _dt
import html
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from labkit import guide, lab
from labkit.errors import InputError, WrongTypeError
from labkit.expressway.findings import Finding, Verdict, html_table, severity_html
from labkit.expressway.roles import ROLES
from labkit.expressway.versions import DEFAULT_VERSION, check_version, separate_client_store, server_eku_switch
from labkit.x509.names import fqdn_problem, is_fqdn, punycode_problem
from labkit.x509.text import is_named_oid, name_entries, name_line, oid_short_name, validity_encodings

__all__ = ["ROLES", "Finding", "Report", "Expectations", "doctor", "extra_text_findings", "split_options"]


_XMPP_ADDRESS = x509.ObjectIdentifier("1.3.6.1.5.5.7.8.5")


@dataclass(frozen=True)
class Expectations:
    """What the certificate is for: the role, the names the Expressway's configuration will look for, and the
    Expressway's software version."""

    role: str = "expressway"
    fqdn: str | None = None
    cluster_fqdn: str | None = None
    peer_fqdn: str | None = None
    ucm_domains: tuple[str, ...] = ()
    xmpp_domains: tuple[str, ...] = ()
    chat_aliases: tuple[str, ...] = ()
    phone_profiles: tuple[str, ...] = ()
    version: str = DEFAULT_VERSION

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise InputError(f"Unknown role; choose one of {', '.join(ROLES)}", rule="doctor-role", value=self.role,
                             chapter=guide.CH4)
        check_version(self.version)
        for name in ("ucm_domains", "xmpp_domains", "chat_aliases", "phone_profiles"):
            value = getattr(self, name)
            object.__setattr__(self, name, (value,) if isinstance(value, str) else tuple(value or ()))
        for name, label in _EXPECTED_NAMES.items():  # a name typed wrong is refused, not looked for in the certificate
            value = getattr(self, name)
            for item in (value,) if isinstance(value, str) or value is None else value:
                problem = None if item is None else fqdn_problem(item)
                if problem:
                    raise InputError(f"{label} must be an FQDN: {problem}", rule="doctor-expected-name", value=item,
                                     chapter=guide.CH4)


#: The names doctor is told to look for that must be FQDNs, as the command line and Python name them (a phone
#: security profile may be a bare name: that is what rule ``uc-phone-profile-not-fqdn`` reports).
_EXPECTED_NAMES = {"fqdn": "This Expressway's FQDN (--fqdn, fqdn=)",
                   "cluster_fqdn": "The cluster FQDN (--cluster-fqdn, cluster_fqdn=)",
                   "peer_fqdn": "This peer's FQDN (--peer-fqdn, peer_fqdn=)",
                   "ucm_domains": "A Unified CM registration domain (--ucm-domain, ucm_domains=)",
                   "xmpp_domains": "An XMPP federation domain (--xmpp-domain, xmpp_domains=)",
                   "chat_aliases": "An IM and Presence chat node alias (--chat-alias, chat_aliases=)"}


_COLUMNS = ["rule", "severity", "message", "chapter", "source"]


@dataclass(frozen=True)
class Report(Verdict):
    """Every finding of one check, in rule order; true when there is no error. ``others`` names what else the file
    held (the chain of a bundle, a key) when doctor was given a file with more than the one object it examined."""

    subject: str
    findings: tuple[Finding, ...] = field(default_factory=tuple)
    others: tuple[str, ...] = ()

    def as_json(self) -> dict:
        data = {"findings": [f.as_dict() for f in self.findings]}
        if self.others:
            data.update(examined=self.subject, others=list(self.others))
        return data

    def table(self):
        import pandas as pd

        return pd.DataFrame([f.as_dict() for f in self.findings], columns=_COLUMNS)

    def text(self) -> str:
        lines = [f"examined {self.subject}; also in the file: {', '.join(self.others)}"] if self.others else []
        lines += [f"{f.severity.upper():<8} {f.rule:<26} {f.message} [{f.reference()}]" for f in self.findings]
        counts = {s: sum(f.severity == s for f in self.findings) for s in ("error", "warning", "info")}
        summary = ", ".join(f"{n} {s}{'s' if n != 1 and s != 'info' else ''}" for s, n in counts.items())
        lines.append(f"{self.subject}: {summary}" if self.findings else f"{self.subject}: no findings")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(self.text())

    def _repr_html_(self) -> str:
        rows = [(severity_html(f.severity), f"<code>{html.escape(f.rule)}</code>", html.escape(f.message),
                 html.escape(f.chapter), html.escape(f.source)) for f in self.findings]
        verdict = "no errors" if self.ok else f"{len(self.errors)} error(s)"
        return (f"<p><b>{html.escape(self.subject)}</b>: {verdict}</p>"
                + html_table(("severity", "rule", "finding", "guide", "source"), rows))


class _Subject:
    """What every check needs, read once from a certificate or a CSR."""

    def __init__(self, obj, read: tuple[bytes, list] | None = None):
        self.obj = obj
        self.read = read  # the file's bytes and its objects (labkit.x509.loading.Loaded) when doctor read a file
        self.is_cert = isinstance(obj, x509.Certificate)
        # Read from the DER: cryptography refuses a subject whose value is not a string (appendix A's example).
        self.attributes = name_entries(obj)
        self.issuer_attributes = name_entries(obj, "issuer") if self.is_cert else []
        self.label = name_line(obj) or "(empty subject)"  # as openssl prints it: C first, EV OIDs by name
        try:
            cns = obj.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
            self.cn = str(cns[0].value) if cns else None
            self.self_issued = self.is_cert and obj.issuer == obj.subject
        except ValueError:  # a name value that is not a string: read the DER's entries instead
            self.cn = next((value for dotted, value in self.attributes if dotted == NameOID.COMMON_NAME.dotted_string),
                           None)
            self.self_issued = self.is_cert and self.issuer_attributes == self.attributes
        self.extensions = obj.extensions
        sans = self._ext(x509.SubjectAlternativeName)
        self.dns = [n.lower() for n in sans.get_values_for_type(x509.DNSName)] if sans else []
        self.has_sans = sans is not None
        self.other_names = [n.type_id for n in sans if isinstance(n, x509.OtherName)] if sans else []
        self.eku = self._ext(x509.ExtendedKeyUsage)

    def _ext(self, cls):
        try:
            return self.extensions.get_extension_for_class(cls).value
        except x509.ExtensionNotFound:
            return None

    def has_dns(self, name: str) -> bool:
        return name.lower().rstrip(".") in self.dns


def doctor(obj, *, role: str = "expressway", fqdn: str | None = None, cluster_fqdn: str | None = None,
           peer_fqdn: str | None = None, ucm_domains=(), xmpp_domains=(), chat_aliases=(), phone_profiles=(),
           at: _dt.datetime | str | None = None, version: str = DEFAULT_VERSION, password: bytes | str | None = None,
           csr=None) -> Report:
    """Check a certificate or CSR (an object, or a file's PEM text or bytes) against the guide for ``role``.

    A file with several objects (a chain, PKCS#7, PKCS#12 opened with ``password``) has its end-entity certificate
    examined and the others named in :attr:`Report.others`. ``at`` is "now" (the lab clock unless given; the command
    line uses real time unless ``--at``); ``version`` is the Expressway software release (``X14.0``, ``X15.4`` or
    ``X15.5``), which decides the clientAuth rule. ``csr``: the request the certificate was issued for; what the CA
    changed is added (:func:`labkit.expressway.csr_compare.compare`, rules ``csr-*``). A name whose value is not a
    string is reported (``unsupported-subject-oid``), not refused. Raises :class:`~labkit.errors.InputError` for
    unreadable input (the rules of :mod:`labkit.x509.loading`), a file without a certificate or CSR
    (``doctor-input``; :class:`~labkit.errors.WrongTypeError` for an object that is neither, such as None, 42 or a
    list), an unknown role (``doctor-role``) or version (``expressway-version``), or a name to look for that is
    not an FQDN (``doctor-expected-name``, chapter 4's rule: ``fqdn`` ... ``chat_aliases``; one name may be given as
    text).
    """
    others: tuple[str, ...] = ()
    read = None
    if isinstance(obj, Path):
        from labkit.x509.loading import read_file

        obj = read_file(obj)
    if isinstance(obj, bytes | bytearray | str):
        obj, others, read = _examined(obj, password)
    elif not isinstance(obj, x509.Certificate | x509.CertificateSigningRequest):
        raise WrongTypeError(f"doctor checks a certificate or a CSR (an object, or PEM/DER text or bytes), not "
                             f"{type(obj).__name__}", rule="doctor-input", value=repr(obj)[:60],
                             chapter=guide.CH2_AWARE)
    expect = Expectations(role, fqdn, cluster_fqdn, peer_fqdn, ucm_domains, xmpp_domains, chat_aliases, phone_profiles,
                          version)  # one name given as text is that name, not its letters
    subject = _Subject(obj, read)
    moment = lab.now(at)
    checks = [_key, _signature, _request_signature, _serial_number, _critical_extensions, _validity, _name_oids,
              _punycode]
    checks += [_ca] if role == "ca" else [_common_name, _wildcard, _eku, _self_signed, _cluster, _uc_names]
    checks += [_file_format]
    findings = [finding for check in checks for finding in check(subject, expect, moment)]
    if csr is not None:
        from labkit.expressway.csr_compare import compare

        findings += compare(obj, csr)
    return Report(("certificate " if subject.is_cert else "CSR ") + subject.label, tuple(findings), others)


def _examined(data, password) -> tuple[object, tuple[str, ...], tuple[bytes, list]]:
    """The object doctor examines in a file, how the other objects of the file are named, and the file as read (its
    bytes and its objects)."""
    from labkit.x509.loading import chain_order, load_all

    items = load_all(data, password=password, check_names=False)
    certs = [item.obj for item in items if item.kind == "certificate"]
    if certs:
        ordered = chain_order(certs)
        chosen, rest = ordered[0], ordered[1:]
    else:
        csrs = [item.obj for item in items if item.kind == "csr"]
        if not csrs:
            raise InputError("doctor checks a certificate or a CSR", rule="doctor-input",
                             value=items[0].description, chapter=guide.CH2_AWARE)
        chosen, rest = csrs[0], csrs[1:]
    others = [f"{'certificate' if isinstance(o, x509.Certificate) else 'CSR'} {name_line(o)}" for o in rest]
    others += [item.description for item in items if item.kind not in ("certificate", "csr")]
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return chosen, tuple(others), (raw, items)


# -- the checks (each yields findings) --------------------------------------------------------------------------

def _key(s: _Subject, _e, _at) -> Iterator[Finding]:
    key = s.obj.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        yield Finding("key-not-rsa", "warning", f"the key is {type(key).__name__.removesuffix('PublicKey')}, not RSA: "
                      "the Expressway is tested with RSA keys and other types may not work everywhere", guide.CH2_AWARE)
    elif key.key_size < 2048:
        yield Finding("key-too-small", "error", f"RSA-{key.key_size} is too short; use 2048 or 4096 bits", guide.CH3)
    elif key.key_size >= 8192:
        # A warning, as on the Generate CSR form: appendix A says such zones *may* fail, and advises 4096 bits.
        yield Finding("key-8192", "warning", f"RSA-{key.key_size}: appendix A reports that SIP TLS zones may fail to "
                      "become active with 8192-bit keys and advises 4096 bits", guide.APPX_A_8192)


def _signature(s: _Subject, e: Expectations, _at) -> Iterator[Finding]:
    algorithm = s.obj.signature_hash_algorithm
    if not isinstance(algorithm, hashes.SHA1 | hashes.MD5):
        return
    name = algorithm.name.upper().replace("SHA1", "SHA-1")
    if e.role == "ca" and s.self_issued:
        # A root is a trust anchor: path validation takes its name and key as inputs and never checks its own
        # signature (RFC 5280 6.1.1; OpenSSL does not either unless asked to), so a SHA-1 self-signature is harmless.
        return
    if not s.is_cert:
        yield Finding("weak-signature", "error", f"the CSR is signed with {name}: the Expressway's Generate CSR page "
                      "has not offered SHA-1 since X8.10; make the request with SHA-256", guide.CH3)
        return
    yield Finding("weak-signature", "error", f"the CA signed this certificate with {name}, which is broken: that was "
                  "the CA's choice, not the CSR's digest (the X8.10 change concerns the Generate CSR page); the "
                  "Expressway's upload warns that the security level is not acceptable, and OpenSSL 3 refuses such a "
                  "chain in TLS (security level 1 and up: verify error 68): ask the CA to sign with SHA-256", guide.CH7,
                  guide.ref("chapter 7", "Loading Certificates and Keys Onto Expressway: upload warnings"))


def _request_signature(s: _Subject, _e, _at) -> Iterator[Finding]:
    if s.is_cert:
        return
    try:
        valid = s.obj.is_signature_valid
    except (ValueError, UnsupportedAlgorithm):
        valid = False
    if not valid:
        yield Finding("request-signature", "error", "the CSR's signature does not verify: the request was changed "
                      "after it was signed, or signed with another key than the one it carries, so it proves nothing "
                      "about who holds the key; a CA refuses it (labkit ca sign: csr-signature). Generate it again",
                      guide.CH3, guide.RFC2986_SIGNATURE)


def _serial_number(s: _Subject, _e, _at) -> Iterator[Finding]:
    if not s.is_cert:
        return
    serial = s.obj.serial_number
    if serial <= 0:
        yield Finding("serial-number", "error", f"the serial number is {'zero' if serial == 0 else 'negative'} "
                      f"({serial}): a serial is a positive integer; strict clients refuse the certificate (and "
                      "future versions of Python's cryptography will not read it). Ask the CA to issue it again",
                      guide.APPX_B, guide.RFC5280_SERIAL)
        return
    octets = serial.bit_length() // 8 + 1  # DER: a positive INTEGER needs a leading 0 bit
    if octets > 20:
        yield Finding("serial-number", "error", f"the serial number is {octets} octets long: a serial has at most 20 "
                      "octets, and clients may refuse a longer one. Ask the CA to issue it again", guide.APPX_B,
                      guide.RFC5280_SERIAL)


def _critical_extensions(s: _Subject, _e, _at) -> Iterator[Finding]:
    for ext in s.extensions:
        if ext.critical and isinstance(ext.value, x509.UnrecognizedExtension):
            what = "the certificate" if s.is_cert else "the CSR (a CA that copies it makes the certificate)"
            yield Finding("critical-extension-unknown", "error", f"{what} has an extension marked critical that "
                          f"labkit does not know ({ext.oid.dotted_string}): a client that does not know a critical "
                          "extension must refuse the certificate, so TLS peers will", guide.CH2_AWARE,
                          guide.RFC5280_CRITICAL)


def _punycode(s: _Subject, _e, _at) -> Iterator[Finding]:
    names = dict.fromkeys(([s.cn] if s.cn else []) + s.dns)
    for name in names:
        for label in name.rstrip(".").split("."):
            problem = punycode_problem(label)
            if problem:
                yield Finding("punycode-label", "error", f"the name '{name}': {problem}; clients that show or compare "
                              "names in Unicode refuse it or show garbage. Use the A-label of the real name (labkit's "
                              "names module computes it with the idna package)", guide.CH2_AWARE,
                              guide.RFC5890_A_LABEL)
                break


def _validity(s: _Subject, _e, at: _dt.datetime) -> Iterator[Finding]:
    if not s.is_cert:
        return
    start, end = s.obj.not_valid_before_utc, s.obj.not_valid_after_utc
    if at < start:
        yield Finding("not-yet-valid", "error", f"not valid until {start:%Y-%m-%d %H:%M} UTC (now is "
                      f"{at:%Y-%m-%d %H:%M}): check the clocks of the CA and the Expressway", guide.CH2_AWARE)
    elif at > end:
        yield Finding("expired", "error", f"expired on {end:%Y-%m-%d %H:%M} UTC: other systems will refuse it",
                      guide.CH2_AWARE)
    elif end - at <= _dt.timedelta(days=30):
        yield Finding("expires-soon", "warning", f"expires in {(end - at).days} days ({end:%Y-%m-%d}): renew it "
                      "before it lapses (the 30-day threshold is labkit's)", guide.CH2_AWARE, guide.LABKIT_ADVICE)
    if end.year >= 2050:
        yield Finding("expires-after-2050", "warning", f"expires in {end.year}: dates from 2050 on are encoded "
                      "differently and can cause operational issues", guide.CH2_AWARE)
    early = [f"{label} ({moment:%Y-%m-%d})" for label, moment, encoding in
             zip(("notBefore", "notAfter"), (start, end), validity_encodings(s.obj), strict=True)
             if moment.year < 2050 and encoding == "GeneralizedTime"]
    if early:
        yield Finding("validity-time-encoding", "warning", f"{' and '.join(early)} encoded as GeneralizedTime: dates "
                      "before 2050 must be UTCTime, so a strict parser may refuse the certificate (OpenSSL reads "
                      "it); the CA's software wrote it so", guide.CH2_AWARE, guide.RFC5280_TIME)


def _name_oids(s: _Subject, _e, _at) -> Iterator[Finding]:
    # Appendix A's symptom is an attribute shown undecoded: a number where OpenSSL prints a name, or #hex where it
    # prints a value. Standard attributes that OpenSSL names (EV's businessCategory, serialNumber, street,
    # postalCode, the jurisdiction attributes, organizationIdentifier) decode normally and are not reported.
    names = [("subject", s.attributes)] + ([("issuer", s.issuer_attributes)] if not s.self_issued else [])
    for which, attributes in names:
        for dotted, value in attributes:
            unnamed, undecoded = not is_named_oid(dotted), value.startswith("#")
            if not (unnamed or undecoded):
                continue
            known = "" if unnamed else f" ({oid_short_name(dotted)})"
            what = ("OpenSSL has no name for it and prints the number" if unnamed else
                    "its value is not text, so it prints as hex")
            if unnamed and undecoded:
                what = "OpenSSL has no name for it, and its value is not text either"
            whose = "the subject" if which == "subject" else "the issuer (the CA that signed it)"
            yield Finding(f"unsupported-{which}-oid", "error", f"{whose} has an attribute the Expressway cannot "
                          f"decode: {dotted}{known} = {value}; {what}. Appendix A links such attributes to SSH "
                          "failures; request the certificate again without it", guide.APPX_A_OID,
                          guide.APPX_A_OID + "; " + guide.OPENSSL_OBJECTS)


def _common_name(s: _Subject, e: Expectations, _at) -> Iterator[Finding]:
    if s.cn is None:
        yield Finding("cn-not-fqdn", "error", "the subject has no common name (CN); the Expressway needs its FQDN "
                      "there", guide.CH2_AWARE)
        return
    problem = fqdn_problem(s.cn)
    if problem and "*" not in s.cn:
        yield Finding("cn-not-fqdn", "error", f"the CN '{s.cn}' is not an FQDN: {problem}", guide.CH2_AWARE)
        return
    if e.fqdn and not e.cluster_fqdn and s.cn.lower().rstrip(".") != e.fqdn.lower().rstrip("."):
        yield Finding("cn-not-fqdn", "error", f"the CN is '{s.cn}' but this Expressway's FQDN is '{e.fqdn}'",
                      guide.CH2_AWARE)
    if not problem and not s.has_dns(s.cn):
        if s.has_sans:
            why = ("the certificate has SANs, and a client that finds DNS names there does not look at the CN "
                   "at all")
        else:
            why = ("the guide lets a standalone Expressway leave the SANs blank, and the Expressway accepts that; "
                   "labkit advises the SAN all the same, because modern clients (browsers, cryptography's "
                   "verifier) read only the SANs")
        yield Finding("fqdn-not-in-san", "warning", f"the CN '{s.cn}' is not also a DNS subject alternative name: "
                      f"{why}", guide.CH2_USE, f"{guide.LABKIT_ADVICE}; {guide.RFC6125_SAN}")


def _wildcard(s: _Subject, _e, _at) -> Iterator[Finding]:
    names = ([s.cn] if s.cn else []) + s.dns
    starred = [n for n in names if "*" in n]
    if starred:
        yield Finding("wildcard", "error", f"wildcard name(s) {', '.join(dict.fromkeys(starred))}: the Expressway "
                      "does not support wildcard certificates; list every name as a SAN", guide.CH2_AWARE)


def _eku(s: _Subject, e: Expectations, _at) -> Iterator[Finding]:
    if s.eku is None:
        yield Finding("eku-absent", "warning", "no Extended Key Usage extension: the certificate is not limited to "
                      "TLS, and some peers expect serverAuth and clientAuth to be listed", guide.CH3)
        return
    if ExtendedKeyUsageOID.SERVER_AUTH not in s.eku:
        yield Finding("eku-no-server-auth", "error", "the Extended Key Usage lacks TLS Web Server Authentication: "
                      "the Expressway cannot present it as a server (HTTPS, SIP TLS)", guide.CH3)
    if ExtendedKeyUsageOID.CLIENT_AUTH in s.eku:
        return
    if separate_client_store(e.version):
        yield Finding("client-certificate-store", "info", f"serverAuth only: fine for the server certificate on "
                      f"{e.version}, which keeps a separate client certificate; load one with clientAuth into the "
                      "client certificate store for the zones where this Expressway is the TLS client",
                      guide.APPX_E, guide.CISCO_X15_5_EKU)
    elif server_eku_switch(e.version, e.role):
        yield Finding("eku-no-client-auth", "warning", "the Extended Key Usage lacks TLS Web Client Authentication: "
                      f"an {e.version} Expressway-E takes it only with xConfiguration XCP TLS Certificate CVS "
                      "EnableServerEkuUpload: On, and its outbound mutual-TLS links (B2B SIP, XMPP federation) still "
                      "need a clientAuth certificate", guide.APPX_E, guide.CISCO_X15_5_EKU)
    else:
        yield Finding("eku-no-client-auth", "error", "the Extended Key Usage lacks TLS Web Client Authentication: "
                      f"on {e.version} the server certificate is also the Expressway's TLS client certificate, "
                      "mutual-TLS zones need it, and the upload is refused while Unified Communications is on; ask "
                      "for the 'client and server' template (or use X15.5's separate client certificate)",
                      guide.APPX_E, guide.ADMIN_X14_UC_CERTS)


def _self_signed(s: _Subject, _e, _at) -> Iterator[Finding]:
    if s.self_issued:
        yield Finding("self-signed", "warning", "self-signed: every peer must trust this exact certificate, and "
                      "Unified Communications does not work with self-signed Expressway certificates", guide.CH2_AWARE,
                      guide.ref("appendix B", "Create Self-Signed Certificates Using OpenSSL"))


def _cluster(s: _Subject, e: Expectations, _at) -> Iterator[Finding]:
    if e.cluster_fqdn:
        if (s.cn or "").lower().rstrip(".") != e.cluster_fqdn.lower().rstrip("."):
            yield Finding("cluster-cn", "warning", f"the CN is '{s.cn}', not the cluster FQDN '{e.cluster_fqdn}': the "
                          "X14 guide puts the cluster FQDN in each peer's CN, while older editions put the peer's "
                          "own FQDN there. Names are matched on the SANs, so what matters is that both the peer and "
                          "the cluster are SANs (checked separately)", guide.CH2_USE,
                          f"{guide.CH2_USE}; {guide.VCS_GUIDE_CLUSTER}")
        if not s.has_dns(e.cluster_fqdn):
            yield Finding("cluster-san-cluster", "error", f"the cluster FQDN '{e.cluster_fqdn}' is not a DNS SAN",
                          guide.CH2_AWARE)
    if e.peer_fqdn and not s.has_dns(e.peer_fqdn):
        yield Finding("cluster-san-peer", "error", f"this peer's FQDN '{e.peer_fqdn}' is not a DNS SAN",
                      guide.CH2_AWARE)


def _uc_names(s: _Subject, e: Expectations, _at) -> Iterator[Finding]:
    on_e, on_c = e.role in ("expressway", "expressway-e"), e.role in ("expressway", "expressway-c")
    if on_e:
        for domain in e.ucm_domains:
            if not (s.has_dns(domain) or s.has_dns(f"collab-edge.{domain}")):
                yield Finding("uc-registration-domain", "error", f"the Unified CM registration domain '{domain}' is "
                              f"a DNS SAN neither as '{domain}' nor as 'collab-edge.{domain}' (needed for MRA "
                              "service discovery)", guide.CH4)
        for domain in e.xmpp_domains:
            if not s.has_dns(domain):
                yield Finding("uc-xmpp-domain", "error", f"the XMPP federation domain '{domain}' is not a DNS SAN",
                              guide.CH4)
        if _XMPP_ADDRESS in s.other_names:
            yield Finding("xmpp-address-san", "warning", "an XMPPAddress SAN is used: CAs may not support it and "
                          "the Expressway may drop it; use the DNS format for XMPP federation domains", guide.CH4)
    for alias in e.chat_aliases:
        if not s.has_dns(alias):
            yield Finding("uc-chat-alias", "error", f"the IM and Presence chat node alias '{alias}' is not a DNS SAN "
                          "(needed for federated group chat over TLS)", guide.CH4)
    if on_c:
        for name in e.phone_profiles:
            if not is_fqdn(name):
                yield Finding("uc-phone-profile-not-fqdn", "error", f"the phone security profile name '{name}' is "
                              f"not an FQDN ({fqdn_problem(name)}); since X12.6 the Expressway requires one", guide.CH4)
            elif not s.has_dns(name):
                yield Finding("uc-phone-profile", "error", f"the Unified CM phone security profile name '{name}' is "
                              "not a DNS SAN (TLS phones using it cannot register through MRA)", guide.CH4)
    unused = [("Unified CM registration domains", e.ucm_domains, on_e), ("XMPP federation domains",
              e.xmpp_domains, on_e), ("phone security profile names", e.phone_profiles, on_c)]
    for label, names, applies in unused:
        if names and not applies:
            yield Finding("uc-not-for-role", "info", f"{label} are not carried by an {e.role} certificate; they were "
                          "not checked", guide.CH4)


def _ca(s: _Subject, _e, _at) -> Iterator[Finding]:
    constraints = s._ext(x509.BasicConstraints)
    if constraints is None or not constraints.ca:
        state = "missing" if constraints is None else "CA:FALSE"
        yield Finding("ca-no-basic-constraints", "error", f"basicConstraints is {state}: the Expressway only "
                      "accepts CA certificates that carry basicConstraints with CA:TRUE", guide.CH2_AWARE)


def _file_format(s: _Subject, _e, _at) -> Iterator[Finding]:
    """What the Expressway's pages would make of the file's form: DER, a PKCS#7 or a PKCS#12 file (with the openssl
    command that gives PEM certificates), a PEM PKCS#7 file, text outside the PEM blocks."""
    if s.read is None:
        return
    from labkit.x509.convert import pem_command
    from labkit.x509.loading import describe

    raw, items = s.read
    first = items[0]
    command = shlex.join(pem_command(items, "FILE", "FILE.pem", part="certificate", passin=False) or [])
    if first.container == "PKCS#12":
        yield Finding("der-file", "info", f"this file is {describe(items)}: the Expressway's pages take PEM only, the "
                      f"certificate, its CA chain and the key each apart; the certificate: {command} (-cacerts "
                      "instead of -clcerts: the CA chain; openssl asks for the password), or `labkit convert FILE "
                      f"--to pem {split_options(items)} --key-out key.pem`", guide.CH7_PEM)
    elif first.container == "PKCS#7" and first.encoding == "DER":
        yield Finding("der-file", "info", f"this file is {describe(items)}: the Expressway's pages take PEM "
                      f"certificates only; convert it first: {command}, or `labkit convert FILE --to pem "
                      f"{split_options(items)}`", guide.CH7_PEM)
    elif first.container == "PKCS#7":
        yield Finding("pem-only", "info", pkcs7_advice(items, "file"), guide.CH7_PEM)
    elif first.encoding == "DER":
        what = "certificate" if s.is_cert else "CSR"
        yield Finding("der-file", "info", f"this file is a DER (binary) {what}: the Expressway's pages take PEM only; "
                      f"convert it first: {command}", guide.CH7_PEM)
    yield from extra_text_findings(raw, "file")


def pkcs7_advice(items: list, what: str) -> str:
    """Why a PEM PKCS#7 file (``items``: what it holds) is no upload for the Expressway, and how to convert it: the
    upload model's refusal (rule ``pem-only``) and doctor's note say it in these words."""
    from labkit.x509.loading import describe

    return (f"the {what} is {describe(items)}: the Expressway takes PEM certificates (-----BEGIN CERTIFICATE-----; "
            "that it refuses PKCS#7 is labkit's assumption); convert it: `labkit convert FILE.p7b --to pem "
            f"{split_options(items)}` (openssl pkcs7 -print_certs -in FILE.p7b -out chain.pem)")


def split_options(items: list) -> str:
    """The ``labkit convert`` options that take a bundle apart: the server certificate and its chain, or, when every
    certificate in it is a CA, the chain alone (``--chain-out`` refuses to call a CA the server certificate)."""
    certs = [item.obj for item in items if item.kind == "certificate"]
    if certs and all(_is_ca(cert) for cert in certs):
        return "-o chain.pem (CA certificates only: for the trusted CA list)"
    return "-o cert.pem --chain-out chain.pem"


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def extra_text_findings(raw: bytes, what: str) -> list[Finding]:
    """The ``pem-extra-text`` finding when the file has text outside its PEM blocks (skipped, as OpenSSL does)."""
    from labkit.x509.loading import outside_text

    extra = outside_text(raw)
    if extra is None:
        return []
    return [Finding("pem-extra-text", "info", f"the {what} has text outside its PEM blocks ('{extra[:40]}'), "
                    "such as the dump `openssl ca -out` writes unless -notext; it is skipped, as OpenSSL skips it "
                    "(labkit's assumption for the Expressway: appendix B uploads such a file). `labkit convert FILE "
                    "--to pem -o clean.pem` writes a clean copy", guide.CH7)]
