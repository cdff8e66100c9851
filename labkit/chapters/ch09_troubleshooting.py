"""Notebook 09, troubleshooting (guide appendix A): the labs below, exercises 09.1-09.3.

Guide appendix A, reproduced: each problem made to happen with real components, then fixed.

* :class:`Zone` -- a SIP TLS zone between the Expressway-C (TLS client) and the Expressway-E (TLS server) as an
  administrator configures it: the peer address, TLS verify mode, mutual TLS, the two certificates.
  :meth:`Zone.handshake` runs a real OpenSSL handshake (:func:`labkit.tls.connection`, or over TCP on 127.0.0.1);
  :func:`verdict` says who refused, with which verify code and alert;
* :func:`reissue` -- the fix for a wrong certificate: the same key, the names and purposes it should have had;
* :func:`key_sizes` -- what 2048-, 4096- and 8192-bit keys cost: signature and handshake message sizes, and (with
  ``repeat``) signing and handshake times; :func:`key_size_figure` plots them;
* :func:`check_key_file` / :func:`fix_key_file` -- a private key file without its final newline, and what it does
  once a service joins it to a certificate (:func:`combine`, :func:`serve_from_file`);
* :func:`certificate_with_subject` -- an Expressway certificate whose subject carries extra attributes (the
  unsupported OIDs behind appendix A's SSH failures, or the EV jurisdiction OIDs that are allowed).
* section 6, the chain as a live server sends it: :class:`~labkit.tls.chain_server.ChainServer` (the real
  ``openssl s_server`` serving a chain exactly as given) and :func:`~labkit.expressway.probe.probe` (``labkit
  probe``), re-exported here with :func:`~labkit.x509.openssl.labkit_command`.

The TLS certificates come from :func:`labkit.chapters.ch02_tls_handshake.lab_pki` and run to 2049, because OpenSSL
checks validity
against the machine's real clock.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import re
import ssl
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from labkit import guide, lab
from labkit.chapters.ch02_tls_handshake import lab_pki, run_scenario
from labkit.errors import InputError, LabkitError
from labkit.exercises import check, exercise
from labkit.expressway.doctor import Finding, doctor
from labkit.expressway.probe import probe
from labkit.expressway.store import CertificateStore
from labkit.expressway.upload import Findings
from labkit.tls.chain_server import ChainServer
from labkit.tls.connection import Endpoint, Handshake, Outcome, explain_verify_code, handshake, handshake_tcp
from labkit.x509 import decode
from labkit.x509.certs import CertSpec, Issued, issue, sign_builder
from labkit.x509.decode import label
from labkit.x509.files import write_atomic, write_private
from labkit.x509.loading import load_all, load_certificate, load_private_key, read_file
from labkit.x509.names import fqdn_problem
from labkit.x509.openssl import labkit_command, openssl

__all__ = ["Zone", "verdict", "reissue", "key_sizes", "key_size_figure", "check_key_file", "fix_key_file", "combine",
           "serve_from_file", "certificate_with_subject", "CertificateStore", "CertSpec", "ChainServer", "check",
           "decode", "doctor", "issue", "lab_pki", "labkit_command", "load_all", "openssl", "probe", "run_scenario",
           "write_atomic", "write_private"]

UTC = _dt.timezone.utc
_START = lab.DEFAULT_INSTANT  # as in notebook 02: certificates last until lab.LONG_END (OpenSSL checks real time)

# -- zones ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _ZoneClient(Endpoint):
    """The Expressway-C's end: with TLS verify mode off it checks neither the E's CA nor its name."""

    verify: bool = True

    def context(self, server_side: bool, folder: Path) -> ssl.SSLContext:
        ctx = super().context(server_side, folder)
        if not self.verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx


@dataclass(frozen=True)
class Zone:
    """A SIP TLS zone from the Expressway-C to the Expressway-E.

    ``peer_address``: what the C connects to and, with ``tls_verify``, must find in the E's subject alternative
    names (an FQDN, or an IP address that only an IP SAN would match); ``tls_verify``: the C checks the E's
    certificate (a trusted CA, the peer address in the SANs); ``mutual``: the E asks for the C's certificate and
    checks it (CA, and the clientAuth purpose), as on a traversal zone; ``server`` / ``client``: the certificates
    (with keys) the E and the C present, by default the TLS lab's good ones. Both sides trust the lab root, and
    each sends the issuing CA after its certificate when that CA issued it.
    """

    peer_address: str = "expe.lab.example"
    tls_verify: bool = True
    mutual: bool = True
    server: Issued | None = field(default=None, repr=False)
    client: Issued | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.peer_address, str) or not self.peer_address.strip():
            raise InputError("A zone needs a peer address (an FQDN)", rule="zone-peer-address",
                             value=self.peer_address, chapter=guide.APPX_A_ZONES)
        pki = lab_pki()
        for side, default in (("server", pki.expe), ("client", pki.expc)):
            value = getattr(self, side) or default
            if not isinstance(value, Issued) or value.key is None:
                raise InputError(f"The {side} side needs a certificate with its private key (an Issued)",
                                 rule="zone-certificate-and-key", value=type(value).__name__,
                                 chapter=guide.APPX_A_ZONES)
            object.__setattr__(self, side, value)

    def __repr__(self) -> str:
        def cn(issued: Issued) -> str:
            return f"{label(issued.certificate.subject)} #{issued.certificate.serial_number:X}"

        return (f"Zone(peer_address={self.peer_address!r}, tls_verify={self.tls_verify}, mutual={self.mutual}, "
                f"server={cn(self.server)}, client={cn(self.client)})")

    def endpoints(self) -> tuple[Endpoint, Endpoint]:
        """The C (client) and the E (server) as :class:`labkit.tls.Endpoint` objects."""
        pki = lab_pki()
        client = _ZoneClient(chain=_chain(self.client), key=self.client.key, trusted=(pki.root.certificate,),
                             server_name=self.peer_address.strip(), verify=self.tls_verify)
        server = Endpoint(chain=_chain(self.server), key=self.server.key, trusted=(pki.root.certificate,),
                          require_client_certificate=self.mutual)
        return client, server

    def handshake(self, *, tcp: bool = False) -> Handshake:
        """A real handshake: in memory (traced), or with ``tcp=True`` over a TCP connection on 127.0.0.1."""
        client, server = self.endpoints()
        return handshake_tcp(client, server) if tcp else handshake(client, server)


def _chain(issued: Issued) -> tuple[x509.Certificate, ...]:
    issuing = lab_pki().issuing.certificate
    cert = issued.certificate
    return (cert, issuing) if cert.issuer == issuing.subject and cert != issuing else (cert,)


def verdict(trace: Handshake, *, short: bool = False) -> str:
    """One line: the zone is up, or who refused, with OpenSSL's verify code, its meaning and the alert sent
    (``short``: only who refused and the code, for tables)."""
    outcome = trace.outcome
    if outcome.ok:
        return f"zone up ({trace.version})"
    if short:
        why = f"code {outcome.verify_code}" if outcome.verify_code is not None else (outcome.alert or "no code")
        return f"{outcome.failed_side} refuses ({why})"
    who = {"client": "the Expressway-C (client)", "server": "the Expressway-E (server)"}.get(outcome.failed_side,
                                                                                             "a side")
    if outcome.verify_code is not None:
        meaning = explain_verify_code(outcome.verify_code)
        what = f"verify code {outcome.verify_code} ({outcome.reason}): {meaning}"
    else:
        what = outcome.reason or outcome.detail
    alert = f"; alert {outcome.alert}" if outcome.alert else ""
    if outcome.verify_code is None and outcome.alert_explanation:  # only the alert reached this side
        alert += f" ({outcome.alert_explanation})"
    return f"refused by {who}: {what}{alert}"


def reissue(issued: Issued, *, sans=(), server_auth: bool = True, client_auth: bool = True,
            issuer: Issued | None = None, serial: int | None = None) -> Issued:
    """The fix for a wrong certificate: the same key and CN, issued again by the TLS lab's issuing CA (or
    ``issuer``) with the subject alternative names ``sans`` (the CN is always one) and the purposes asked for.
    Valid from the lab instant to 2049; the serial comes from the lab counter unless given.

    Keeping the key is the lab's shortcut (the fixture key stands in for the node): on a real Expressway,
    *Generate CSR* makes a new, non-exportable private key each time (chapter 3); a key survives only when the CSR is
    made outside the Expressway from a key you hold (appendix B).

    OpenSSL: a new CSR from the same key (``openssl req -new -key KEY -addext "subjectAltName=DNS:..."``), signed
    with the 'client and server' profile (``openssl ca -extensions client_server_ext``).
    """
    if not isinstance(issued, Issued) or issued.key is None:
        raise InputError("Reissue a certificate whose private key you hold (an Issued with its key)",
                         rule="reissue-needs-key", value=type(issued).__name__, chapter=guide.APPX_A_ZONES)
    cns = issued.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not cns:
        raise InputError("The certificate has no common name to keep", rule="cn-present",
                         value=issued.certificate.subject.rfc4514_string(), chapter=guide.APPX_A_ZONES)
    spec = CertSpec(str(cns[0].value), sans=tuple(sans) if not isinstance(sans, str) else (sans,),
                    days=lab.LONG, server_auth=server_auth, client_auth=client_auth)
    return issue(spec, issued.key, issuer or lab_pki().issuing, at=_START, serial=serial)


# -- key sizes --------------------------------------------------------------------------------------------------

_SIZES = ((2048, "expe-1"), (4096, "rsa-4096"), (8192, "rsa-8192"))


@cache
def _sized_server(bits: int) -> Issued:
    name = dict(_SIZES)[bits]
    spec = CertSpec("expe.lab.example", days=lab.LONG)
    return issue(spec, lab.fixture_key(name), lab_pki().issuing, at=_START, serial=0x3100 + bits // 2048)


def key_sizes(repeat: int = 0):
    """One row per RSA key size (2048, 4096, 8192 bits) of the Expressway-E's key, on a working traversal zone.

    Always (the same on every run): the signature length, the sizes of the E's Certificate and CertificateVerify
    messages in a real TLS 1.3 handshake, and doctor's key finding. With ``repeat`` > 0, also the median time of
    ``repeat`` RSA-SHA256 signatures and of ``repeat`` full handshakes (both sides in this process, contexts set up
    each time), which vary from run to run and machine to machine.
    """
    import pandas as pd

    if not isinstance(repeat, int) or repeat < 0:
        raise InputError("repeat is a whole number of measurements (0: sizes only)", rule="repeat-count",
                         value=repeat, chapter=guide.APPX_A_8192)
    rows = []
    for bits, _ in _SIZES:
        server = _sized_server(bits)
        zone = Zone(server=server)
        trace = zone.handshake()
        row = {"key": f"RSA-{bits}", "signature (bytes)": len(_sign(server.key)),
               "Certificate (bytes)": trace.message("Certificate", "S->C").size,
               "CertificateVerify (bytes)": trace.message("CertificateVerify", "S->C").size,
               "doctor": ", ".join(f.rule for f in doctor(server.certificate).findings) or "no findings"}
        if repeat:
            row["sign (ms)"] = _median_ms(lambda k=server.key: _sign(k), repeat)
            row["handshake (ms)"] = _median_ms(zone.handshake, repeat)
        rows.append(row)
    return pd.DataFrame(rows)


def _sign(key) -> bytes:
    return key.sign(b"INVITE sip:expc.lab.example SIP/2.0", padding.PKCS1v15(), hashes.SHA256())


def _median_ms(action, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 2)


def key_size_figure(table):
    """Signing time and handshake time against key size (a table from ``key_sizes(repeat=N)``)."""
    import matplotlib.pyplot as plt

    if "handshake (ms)" not in table:
        raise InputError("The table has no timings: make it with key_sizes(repeat=N)", rule="key-size-timings",
                         value=list(table.columns), chapter=guide.APPX_A_8192)
    bits = [int(k.removeprefix("RSA-")) for k in table["key"]]
    fig, ax = plt.subplots(figsize=(7, 3.4))
    for column, colour in (("sign (ms)", "#1f4e79"), ("handshake (ms)", "#a4262c")):
        ax.plot(bits, table[column], marker="o", color=colour, label=column.replace(" (ms)", ""))
        for x, y in zip(bits, table[column], strict=True):
            ax.annotate(f"{y:.1f}", (x, y), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8,
                        color=colour)
    ax.set_xticks(bits, [f"RSA-{b}" for b in bits])
    ax.margins(x=0.08, y=0.18)
    ax.set(ylabel="milliseconds (median, this machine)", title="What a bigger RSA key costs the Expressway-E")
    ax.legend(fontsize=8)
    fig.tight_layout()
    plt.close(fig)
    return fig


# -- the key file without a trailing newline --------------------------------------------------------------------

_GLUED = re.compile(rb"(-----END [A-Z0-9 ]+-----)(?=-----BEGIN )")
_KEY_LABEL = re.compile(rb"-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----")


def _raw(source) -> bytes:
    if isinstance(source, Path):
        return read_file(source)
    if isinstance(source, str):
        return source.encode("utf-8")
    if isinstance(source, bytes | bytearray):
        return bytes(source)
    raise InputError("Give the file as a Path, PEM text or bytes", rule="input-type", value=type(source).__name__,
                     chapter=guide.APPX_A_MRA)


def check_key_file(source) -> Findings:
    """Findings for a PEM file that holds a private key (a Path, text or bytes): ``key-trailing-newline`` when it
    does not end with a newline (the rule the server certificate page warns with), ``pem-glued-blocks`` where an
    END line runs straight into the next BEGIN, which is what such a key becomes once a certificate is appended to
    it; OpenSSL then reads neither."""
    raw = _raw(source)
    findings = Findings()
    if _KEY_LABEL.search(raw) and not raw.endswith(b"\n"):
        findings.append(Finding("key-trailing-newline", "warning", "the key file does not end with a newline: a "
                                "certificate appended to it lands on the key's END line, and MRA can fail with "
                                "certificate errors; add the newline", guide.APPX_A_MRA))
    for match in _GLUED.finditer(raw):
        line = raw[match.start():raw.find(b"\n", match.end()) if b"\n" in raw[match.end():] else len(raw)]
        findings.append(Finding("pem-glued-blocks", "error", f"'{line.decode(errors='replace')}': one PEM block "
                                "ends and the next begins on the same line, and OpenSSL reads neither; the first "
                                "file lacked its final newline", guide.APPX_A_MRA))
    return findings


def fix_key_file(path: str | Path) -> bool:
    """Add the missing newline(s) to a PEM key file in place: after the last line, and between glued blocks.

    Written atomically with mode 0600 (a private key's); True if the file changed, False if it was fine.
    """
    path = Path(path)
    raw = read_file(path)
    if not _KEY_LABEL.search(raw):
        raise InputError("This file holds no PEM private key", rule="expect-private-key", value=str(path),
                         chapter=guide.APPX_A_MRA)
    fixed = _GLUED.sub(rb"\1\n", raw)
    if not fixed.endswith(b"\n"):
        fixed += b"\n"
    if fixed == raw:
        return False
    write_private(path, fixed)
    return True


def combine(key_file: str | Path, certificate_file: str | Path, out: str | Path) -> Path:
    """The key file followed by the certificate file, byte for byte, as ``cat KEY CERT > OUT`` makes it (mode
    0600: it holds the key). Services that read their key and certificate from one file are given such a file."""
    data = read_file(Path(key_file)) + read_file(Path(certificate_file))
    return write_private(Path(out), data)


@dataclass(frozen=True)
class _FileServer(Endpoint):
    pem_file: str = ""

    def context(self, server_side: bool, folder: Path) -> ssl.SSLContext:
        ctx = super().context(server_side, folder)
        ctx.load_cert_chain(self.pem_file)  # OpenSSL's own PEM reader
        return ctx


def serve_from_file(pem_file: str | Path) -> Handshake:
    """A TLS service on 127.0.0.1 that loads its key and certificate from one PEM file (with OpenSSL's reader),
    and a client (a Jabber client on MRA, trusting the lab's root and issuing CA) that connects to it over TCP.

    A file OpenSSL cannot read stops the service before any client arrives: the outcome says so.
    """
    pki = lab_pki()
    path = Path(pem_file)
    read_file(path)  # missing or empty files are refused with labkit's rule
    client = Endpoint(trusted=(pki.root.certificate, pki.issuing.certificate), server_name="expe.lab.example")
    server = _FileServer(pem_file=str(path))
    try:
        return handshake_tcp(client, server)
    except ssl.SSLError as exc:
        said = re.sub(r"\s*\(_ssl\.c:\d+\)", "", str(exc))
        reason = f"the service could not load {path.name} (OpenSSL: {said}), so it never started"
        return Handshake((), (), Outcome(False, "server", None, reason, None, str(exc)), None, None)


# -- subject attributes -----------------------------------------------------------------------------------------

def certificate_with_subject(*extra: tuple[str, str | None], key: str = "expe-1",
                             serial: int | None = None) -> x509.Certificate:
    """An Expressway-E certificate (serverAuth and clientAuth, issued by the TLS lab's issuing CA) whose subject
    is C=GB, O=labkit, then the ``extra`` attributes (dotted OID, value), then CN=expe.lab.example.

    A value of None encodes the attribute's own OID as its value (an ASN.1 OBJECT IDENTIFIER rather than a
    string), which is how the certificate in appendix A's example carried it.
    """
    pki = lab_pki()
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "GB"),
                  x509.NameAttribute(NameOID.ORGANIZATION_NAME, "labkit")]
    patches = []
    for dotted, value in extra:
        try:
            oid = x509.ObjectIdentifier(str(dotted))
        except ValueError:
            raise InputError("Not a dotted object identifier", rule="oid-dotted", value=dotted,
                             chapter=guide.APPX_A_OID) from None
        if value is None:
            content = _oid_content(oid.dotted_string)
            placeholder = f"labkit-oid-{len(patches)}".ljust(len(content), "~")
            if len(placeholder) != len(content):
                raise InputError("That OID is too short to carry as a value", rule="oid-value", value=dotted,
                                 chapter=guide.APPX_A_OID)
            patches.append((b"\x0c" + bytes([len(content)]) + placeholder.encode(),
                            b"\x06" + bytes([len(content)]) + content))
            value = placeholder
        attributes.append(x509.NameAttribute(oid, str(value)))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, "expe.lab.example"))
    subject_key = lab.fixture_key(key)
    issuing = pki.issuing
    builder = (x509.CertificateBuilder().subject_name(x509.Name(attributes))
               .issuer_name(issuing.certificate.subject).public_key(subject_key.public_key())
               .serial_number(lab.next_serial() if serial is None else serial)
               .not_valid_before(_START).not_valid_after(lab.LONG_END)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                     ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
               .add_extension(x509.SubjectAlternativeName([x509.DNSName("expe.lab.example")]), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   issuing.certificate.public_key()), critical=False))
    cert = sign_builder(builder, issuing.key)
    if not patches:
        return cert
    der = cert.public_bytes(serialization.Encoding.DER)
    for old, new in patches:  # same length: swap the UTF8String for the OBJECT IDENTIFIER, then sign again
        der = der.replace(old, new)
    tbs = x509.load_der_x509_certificate(der).tbs_certificate_bytes
    signature = issuing.key.sign(tbs, padding.PKCS1v15(), hashes.SHA256())
    return x509.load_der_x509_certificate(der[: -len(signature)] + signature)


def _oid_content(dotted: str) -> bytes:
    """The DER content octets of an OBJECT IDENTIFIER."""
    arcs = [int(a) for a in dotted.split(".")]
    out = bytearray()
    for number in [40 * arcs[0] + arcs[1], *arcs[2:]]:
        chunk = [number & 0x7F]
        number >>= 7
        while number:
            chunk.append(0x80 | (number & 0x7F))
            number >>= 7
        out += bytes(reversed(chunk))
    if len(out) > 0x7F:
        raise InputError("OID too long", rule="oid-value", value=dotted, chapter=guide.APPX_A_OID)
    return bytes(out)


def mystery_zone() -> Zone:
    """Exercise 09.1: a traversal zone that does not come up (it has more than one thing wrong)."""
    pki = lab_pki()
    return Zone(peer_address="192.0.2.20", client=pki.expc_server_only)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip())
    except ValueError:
        return False
    return True


@exercise("09.1", "Bring the traversal zone up", guide.APPX_A_ZONES)
def _zone_up(answer) -> tuple[bool, str]:
    if not isinstance(answer, Zone):
        return False, "pass the Zone you fixed (dataclasses.replace(mystery, ...) makes a changed copy)"
    if not answer.tls_verify or not answer.mutual:
        return False, ("switching TLS verify mode off (or mutual TLS) brings any zone up, an impostor's too: keep "
                       "tls_verify=True and mutual=True and fix the cause")
    mystery = mystery_zone()
    # The lab's fixture keys stand in for the two nodes, so a different key means another node's certificate. (On a
    # real Expressway, Generate CSR makes a new key each time; reissue(...) keeps the fixture key as a shortcut.)
    if answer.server.key.public_key() != mystery.server.key.public_key():
        return False, ("the Expressway-E presents a different key: in this lab its fixture key stands in for that "
                       "node, so another key means another node's certificate. Fix its certificate with reissue(...)")
    if answer.client.key.public_key() != mystery.client.key.public_key():
        return False, ("the Expressway-C presents a different key: in this lab its fixture key stands in for that "
                       "node, so another key means another node's certificate. Fix its certificate with reissue(...)")
    address = answer.peer_address.strip()
    if _is_ip(address):
        return False, (f"the peer address {address} is an IP address: a certificate with that IP address as a SAN "
                       "would match it, but appendix A recommends the E's FQDN as the peer address, and this "
                       "exercise follows that advice")
    problem = fqdn_problem(address)
    if problem:
        return False, f"the peer address is not an FQDN: {problem}"
    trace = answer.handshake()
    if not trace.ok:
        return False, f"still down: {verdict(trace)}"
    return True, (f"the zone is up with TLS verify on both ways: the C finds {address} in the E's certificate, and "
                  "the E accepts the C's certificate as a TLS client")


def broken_key_file(folder: str | Path) -> tuple[Path, Path]:
    """Exercise 09.2: the Expressway-E's private key file, which lost its final newline (mode 0600), and its
    certificate, written to ``folder`` as ``expe.key.pem`` and ``expe.pem``. Returns both paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    expe = lab_pki().expe
    key_file = write_private(folder / "expe.key.pem", expe.key_pem().rstrip(b"\n"))
    cert_file = write_atomic(folder / "expe.pem", expe.cert_pem())
    return key_file, cert_file


@exercise("09.2", "Repair the private key file", guide.APPX_A_MRA)
def _key_repaired(answer, *, certificate) -> tuple[bool, str]:
    if not isinstance(answer, str | Path) or not Path(answer).is_file():
        return False, "pass the path of the key file you repaired"
    path = Path(answer)
    cert = load_certificate(Path(certificate).read_bytes()) if isinstance(certificate, str | Path) else certificate
    if not isinstance(cert, x509.Certificate):
        return False, "give the certificate (its path or the object) as certificate=..."
    if path.stat().st_mode & 0o077:
        return False, f"{path.name} is readable by others (mode {path.stat().st_mode & 0o777:o}): a key file is 0600"
    findings = check_key_file(path)
    if findings:
        return False, f"check_key_file still finds {', '.join(findings.rules())}: {findings[0].message}"
    try:
        key = load_private_key(path.read_bytes())
    except LabkitError as error:
        return False, f"the file is no longer a readable private key: {error.message}"
    if key.public_key() != cert.public_key():
        return False, "this is not the key of the certificate: repair the file, do not replace the key"
    with tempfile.TemporaryDirectory(prefix="labkit-09-2-") as tmp:
        cert_file = write_atomic(Path(tmp) / "cert.pem", cert.public_bytes(serialization.Encoding.PEM))
        trace = serve_from_file(combine(path, cert_file, Path(tmp) / "combined.pem"))
    if not trace.ok:
        return False, f"joined to its certificate, OpenSSL still cannot use it: {verdict(trace)}"
    return True, ("it ends with a newline, still 0600 and the certificate's key; joined to the certificate, "
                  "OpenSSL reads both and a TLS client connects")


def mystery_subject_certificate() -> x509.Certificate:
    """Exercise 09.3: an Expressway-E certificate from an EV-style request whose subject has one attribute too
    many for the Expressway."""
    return certificate_with_subject(("2.5.4.8", "Greater London"), ("2.5.4.7", "London"),
                                    ("1.3.6.1.4.1.311.60.2.1.3", "GB"),
                                    ("1.3.6.1.4.1.311.60.2.1.2", "Greater London"),
                                    ("1.3.6.1.4.1.32473.1.7", "Edge services"), serial=0x3200)


@exercise("09.3", "Find the subject attribute the Expressway does not support", guide.APPX_A_OID)
def _unsupported_oid(answer) -> tuple[bool, str]:
    given = answer.dotted_string if isinstance(answer, x509.ObjectIdentifier) else str(answer).strip()
    cert = mystery_subject_certificate()
    in_subject = [attribute.oid.dotted_string for attribute in cert.subject]
    flagged = [f for f in doctor(cert).findings if f.rule == "unsupported-subject-oid"]
    if any(f": {given} " in f.message for f in flagged):  # "... does not support: 1.2.3.4 = value"
        return True, (f"doctor agrees: {given} is not supported; re-request the certificate without it (the "
                      "EV jurisdiction OIDs may stay)")
    if given in in_subject:
        return False, (f"{given} is in the subject, but doctor has no finding for it: OpenSSL names it and prints "
                       "its value (as it does the EV jurisdiction attributes). Look for the one it prints as a bare "
                       "number")
    return False, ("give the dotted OID (like 1.2.3.4) of an attribute in the Subject line of "
                   "openssl x509 -text -noout -in mystery.pem")
