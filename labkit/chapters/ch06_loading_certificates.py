"""Notebook 06 (guide chapters 6 and 7: the trusted CA list and the server certificate): :func:`upload_by_release`
and exercises 06.1-06.3.

Importing this module registers ``06.1``-``06.3`` with :func:`labkit.exercises.check`. Each checker works the
answer out from the store it is given (a chain is verified, the uploaded certificate compared), so no answer is
written down here. :func:`delivery` sets up exercise 06.3. Reference solutions:
``notebooks/solutions/06-loading-certificates-solutions.ipynb``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from labkit import guide, lab
from labkit.chapters.ch03_expressway_certificates import specimens
from labkit.chapters.lab_ca import init_ca
from labkit.errors import LabkitError
from labkit.exercises import check, exercise
from labkit.expressway.csr import LAB_SUBJECT, CsrRequest
from labkit.expressway.node import ExpresswayNode
from labkit.expressway.store import CertificateStore
from labkit.expressway.trusted_list import TrustedCaList
from labkit.x509 import certs
from labkit.x509.certs import CertSpec, issue
from labkit.x509.files import write_atomic, write_private
from labkit.x509.loading import load_certificate
from labkit.x509.openssl import attime, openssl

__all__ = ["Delivery", "delivery", "attime", "CertificateStore", "certs", "check", "CsrRequest", "ExpresswayNode",
           "init_ca", "LAB_SUBJECT", "openssl", "specimens", "upload_by_release"]


def upload_by_release(certificate, key, chain):
    """Upload ``certificate`` with its ``key`` (PEM text, bytes or Paths) to a fresh Expressway-E with Unified
    Communications on, whose trusted CA list holds ``chain``, on each release the kit models (X15.4 with its
    EnableServerEkuUpload switch off and on): what the server certificate page does. A DataFrame, one row each."""
    import pandas as pd

    rows = []
    for version, switch in (("X14.0", False), ("X15.4", False), ("X15.4", True), ("X15.5", False)):
        node = ExpresswayNode("expe.lab.example", "expressway-e", version=version, unified_communications=True)
        store = CertificateStore(node, server_eku_upload=switch)
        store.trusted.append(chain)
        try:
            found = store.server.upload(certificate, key)
            result = "; ".join(f"{f.severity}: {f.rule}" for f in found) or "uploaded, no finding"
        except LabkitError as exc:
            result = f"refused: {exc.rule}"
        rows.append({"release": version, "EnableServerEkuUpload": ("on" if switch else "off") if version == "X15.4"
                     else "-", "upload": result})
    return pd.DataFrame(rows)

def _trusted(answer) -> TrustedCaList | None:
    trusted = answer.trusted if isinstance(answer, CertificateStore) else answer
    return trusted if isinstance(trusted, TrustedCaList) else None


def _name(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string()


@exercise("06.1", "Trust exactly the chain the server certificate needs", guide.CH7)
def _full_chain(answer, *, certificate: x509.Certificate) -> tuple[bool, str]:
    trusted = _trusted(answer)
    if trusted is None:
        return False, "pass the CertificateStore (or its .trusted list) you appended to"
    verdict = trusted.chain_check(certificate)
    if not verdict:
        return False, f"the list does not vouch for it yet: {verdict.reason}"
    extra = [_name(c) for c in trusted.entries if c not in verdict.path]
    if extra:
        return False, f"it verifies, but the list also holds what this chain does not need: {'; '.join(extra)}"
    return True, "every CA from the issuer up to the root, and nothing else: the full chain chapter 7 asks for"


@exercise("06.2", "Trust both of Unified CM's certificates", guide.CH4_UCM)
def _both_trusted(answer, *, callmanager: x509.Certificate, tomcat: x509.Certificate) -> tuple[bool, str]:
    trusted = _trusted(answer)
    if trusted is None:
        return False, "pass the CertificateStore (or its .trusted list) you worked on"
    if not isinstance(callmanager, x509.Certificate) or not isinstance(tomcat, x509.Certificate):
        return False, "pass the two certificates Unified CM presents: callmanager=... and tomcat=..."
    if callmanager.public_key() == tomcat.public_key():
        return False, "CallManager and tomcat are two certificates with two different keys"
    failing = [f"{label}: {verdict.reason}" for label, verdict in
               (("CallManager", trusted.chain_check(callmanager)), ("tomcat", trusted.chain_check(tomcat)))
               if not verdict]
    if failing:
        return False, "; ".join(failing)
    return True, "both verify: secure SIP (CallManager) and HTTPS (tomcat) between the Expressway-C and Unified CM work"


@dataclass(frozen=True)
class Delivery:
    """Exercise 06.3's starting point: an Expressway-E's store, and the files a colleague sent for it."""

    store: CertificateStore
    certificate_file: Path
    key_file: Path
    chain_file: Path
    passphrase: str

    def __str__(self) -> str:
        return (f"Expressway: {self.store.node!r}\n"
                f"certificate file: {self.certificate_file.name}\n"
                f"private key file: {self.key_file.name} (passphrase: {self.passphrase})\n"
                f"CA chain file:    {self.chain_file.name}")

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))


def delivery(folder: str | Path) -> Delivery:
    """Exercise 06.3: a fresh Expressway-E ``expe.lab.example`` on which someone left a CSR pending, and the files
    a colleague made outside the Expressway (as appendix B does): the certificate, its private key (passphrase
    ``labkit``, and the file lost its trailing newline on the way) and the CA chain, all written to ``folder``.

    Fixture keys and the lab clock: the same certificates on every run (the encrypted key file's bytes differ,
    because encryption salts them; nothing prints them).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    root = issue(CertSpec("labkit Root CA", ca=True, days=3650), lab.fixture_key("root-ca"))
    issuing = issue(CertSpec("labkit Issuing CA", ca=True, path_length=0, days=1825), lab.fixture_key("issuing-ca"),
                    root)
    server = issue(CertSpec("expe.lab.example", days=365), lab.fixture_key("expe-2"), issuing)
    node = ExpresswayNode("expe.lab.example", "expressway-e")
    node.generate_csr(CsrRequest(role="expressway-e", fqdn="expe.lab.example", **LAB_SUBJECT),
                      key=lab.fixture_key("expe-1"))
    passphrase = "labkit"
    key_pem = server.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.BestAvailableEncryption(passphrase.encode()))
    cert_file = write_atomic(folder / "expe.pem", server.cert_pem())
    key_file = write_private(folder / "expe.key.pem", key_pem.rstrip(b"\n"))
    chain_file = write_atomic(folder / "chain.pem", issuing.cert_pem() + root.cert_pem())
    return Delivery(CertificateStore(node), cert_file, key_file, chain_file, passphrase)


@exercise("06.3", "Install a certificate and key made outside the Expressway", guide.CH7)
def _installed(answer) -> tuple[bool, str]:
    if not isinstance(answer, Delivery):
        return False, "pass the Delivery that delivery(...) returned, after working on its store"
    expected = load_certificate(answer.certificate_file.read_bytes())
    server, node = answer.store.server, answer.store.node
    if server.current_certificate != expected:
        if node.pending_csr is not None:
            return False, ("the key of this certificate was made outside the Expressway, but the Expressway still "
                           "has a CSR pending, and it takes no key file while one is: discard the CSR first")
        return False, "upload the certificate file together with its private key file (without the passphrase)"
    if server.last_warnings:
        return False, (f"uploaded, but with warnings ({', '.join(server.last_warnings.rules())}): fix what they "
                       "say, then upload again")
    if server.restart_required or server.active_certificate != expected:
        return False, "uploaded without warnings; one step is left before the Expressway presents it"
    return True, "the certificate is active: its key matched, no passphrase, a trailing newline, a trusted chain"
