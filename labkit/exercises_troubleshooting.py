"""Exercises of notebook 09 (guide appendix A: troubleshooting).

Importing this module registers ``09.1``-``09.3`` with :func:`labkit.exercises.check`. Each checker works the answer
out from real objects: 09.1 runs the zone's handshake, 09.2 loads the key file (and has OpenSSL read it joined to
its certificate), 09.3 asks ``doctor``. :func:`mystery_zone`, :func:`broken_key_file` and
:func:`mystery_subject_certificate` set them up. Reference solutions:
``notebooks/solutions/09-troubleshooting-solutions.ipynb``.
"""

from __future__ import annotations

import ipaddress
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from labkit.doctor import doctor
from labkit.errors import LabkitError
from labkit.exercises import _exercise
from labkit.files import write_atomic, write_private
from labkit.loading import load_certificate, load_private_key
from labkit.names import fqdn_problem
from labkit.tls_lab import lab_pki
from labkit.troubleshooting import Zone, certificate_with_subject, check_key_file, combine, serve_from_file, verdict

__all__ = ["mystery_zone", "broken_key_file", "mystery_subject_certificate"]

_TLS = "guide appendix A (Troubleshooting: SIP TLS negotiation failures on neighbor and traversal zones)"
_MRA = "guide appendix A (Troubleshooting: MRA failures)"
_OID = "guide appendix A (Troubleshooting: SSH failures and unknown OIDs)"


# -- 09.1 -------------------------------------------------------------------------------------------------------

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


@_exercise("09.1", "Bring the traversal zone up", _TLS)
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


# -- 09.2 -------------------------------------------------------------------------------------------------------

def broken_key_file(folder: str | Path) -> tuple[Path, Path]:
    """Exercise 09.2: the Expressway-E's private key file, which lost its final newline (mode 0600), and its
    certificate, written to ``folder`` as ``expe.key.pem`` and ``expe.pem``. Returns both paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    expe = lab_pki().expe
    key_file = write_private(folder / "expe.key.pem", expe.key_pem().rstrip(b"\n"))
    cert_file = write_atomic(folder / "expe.pem", expe.cert_pem())
    return key_file, cert_file


@_exercise("09.2", "Repair the private key file", _MRA)
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


# -- 09.3 -------------------------------------------------------------------------------------------------------

def mystery_subject_certificate() -> x509.Certificate:
    """Exercise 09.3: an Expressway-E certificate from an EV-style request whose subject has one attribute too
    many for the Expressway."""
    return certificate_with_subject(("2.5.4.8", "Greater London"), ("2.5.4.7", "London"),
                                    ("1.3.6.1.4.1.311.60.2.1.3", "GB"),
                                    ("1.3.6.1.4.1.311.60.2.1.2", "Greater London"),
                                    ("1.3.6.1.4.1.32473.1.7", "Edge services"), serial=0x3200)


@_exercise("09.3", "Find the subject attribute the Expressway does not support", _OID)
def _unsupported_oid(answer) -> tuple[bool, str]:
    given = answer.dotted_string if isinstance(answer, x509.ObjectIdentifier) else str(answer).strip()
    cert = mystery_subject_certificate()
    in_subject = [attribute.oid.dotted_string for attribute in cert.subject]
    flagged = [f for f in doctor(cert).findings if f.rule == "unsupported-subject-oid"]
    if any(f": {given} " in f.message for f in flagged):  # "... does not support: 1.2.3.4 = value"
        return True, (f"doctor agrees: {given} is not supported; re-request the certificate without it (the "
                      "EV jurisdiction OIDs may stay)")
    if given in in_subject:
        return False, (f"{given} is in the subject, but doctor has no finding for it: it is on the Expressway's "
                       "allow-list (C, ST, L, O, OU, CN, emailAddress, DC and the three EV jurisdiction OIDs). "
                       "Look for the attribute that is not")
    return False, ("give the dotted OID (like 1.2.3.4) of an attribute in the Subject line of "
                   "openssl x509 -text -noout -in mystery.pem")
