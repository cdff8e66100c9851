"""A certificate authority in a directory that both labkit and ``openssl ca`` operate (guide appendices B-F)."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from labkit import guide, lab
from labkit.ca import config as _config
from labkit.ca.database import (
    DirectoryLock,
    IndexEntry,
    append_index,
    locked,
    oneline,
    read_index,
    read_number,
    serial_hex,
    write_index,
    write_number,
)
from labkit.ca.policy import POLICIES, apply_policy, profile
from labkit.errors import InputError, PolicyError
from labkit.x509.certs import CertSpec, Issued, issue, sign_builder
from labkit.x509.files import write_atomic, write_private
from labkit.x509.loading import load, load_certificate, load_file
from labkit.x509.reasons import REASONS

__all__ = ["CertificateAuthority", "init_ca", "open_ca", "self_signed"]

@dataclass
class CertificateAuthority:
    """An OpenSSL-layout CA directory. Make one with :func:`init_ca`, open one with :func:`open_ca`."""

    config: _config.CAConfig
    passphrase: bytes | None = field(default=None, repr=False)
    _cached_key: object = field(default=None, repr=False, compare=False)
    _cached_cert: x509.Certificate | None = field(default=None, repr=False, compare=False)
    _last_issued: int | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._lock = DirectoryLock(self.config.folder)

    @property
    def folder(self) -> Path:
        return self.config.folder

    @property
    def certificate(self) -> x509.Certificate:
        return load_certificate(self.config.certificate.read_bytes())

    @property
    def name(self) -> str:
        values = self.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(values[0].value) if values else self.certificate.subject.rfc4514_string()

    def private_key(self):
        """The CA's private key (``private/ca.key.pem``, decrypted with the passphrase the CA was opened with),
        loaded once per opened CA. For lab tools that sign as this CA, as ``openssl ca`` does with ``-keyfile``."""
        if self._cached_key is None:
            self._cached_key = load_file(self.config.private_key, expect="private-key", password=self.passphrase).obj
        return self._cached_key

    def _ca_certificate(self) -> x509.Certificate:
        if self._cached_cert is None:
            self._cached_cert = self.certificate
        return self._cached_cert

    # -- issuing ------------------------------------------------------------------------------------------------

    def sign(self, csr: x509.CertificateSigningRequest, profile_name: str = "server", *, days: int | None = None,
             at: _dt.datetime | None = None) -> x509.Certificate:
        """Check ``csr``, apply the policy and the profile, issue, and record it (``openssl ca -batch -in``)."""
        return self.sign_many([csr], profile_name, days=days, at=at)[0]

    def sign_many(self, csrs: list[x509.CertificateSigningRequest], profile_name: str = "server", *,
                  days: int | None = None, at: _dt.datetime | None = None) -> list[x509.Certificate]:
        """Issue one certificate per CSR under one lock (``openssl ca -batch -infiles a.csr b.csr ...``).

        Every CSR is checked before anything is issued; the serial file is advanced before any certificate is
        written, so it never falls behind an issued serial, and the database lines are appended in one write.
        """
        prof = profile(profile_name)
        for csr in csrs:
            _check_request(csr)
        ca_cert, key = self._ca_certificate(), self.private_key()
        if prof.ca:
            limit = ca_cert.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length
            if limit == 0:
                raise PolicyError(f"{self.name} has path length 0: it may sign end-entity certificates only, and "
                                  "anything a CA under it signed would fail verification (path length exceeded)",
                                  rule="path-length", value=self.name, chapter=guide.APPX_B)
        subjects = [apply_policy(self.config.policy, csr.subject, ca_cert.subject) for csr in csrs]
        start = lab.now(at)
        end = start + _dt.timedelta(days=days or self.config.default_days)
        with self._lock.held():
            first = max(read_number(self.config.serial), self._after_last_issued())
            write_number(self.config.serial, first + len(csrs))  # first: the serial file never falls behind
            certs, entries = [], []
            for serial, csr, subject in zip(range(first, first + len(csrs)), csrs, subjects, strict=True):
                cert = sign_builder(self._builder(csr, subject, prof, serial, start, end, ca_cert), key)
                # A new file; if the process dies mid-write, the serial is used up and never recorded.
                (self.config.new_certs_dir / f"{serial_hex(serial)}.pem").write_bytes(
                    cert.public_bytes(serialization.Encoding.PEM))
                certs.append(cert)
                entries.append(IndexEntry("V", end, serial, oneline(subject)))
            append_index(self.config.database, entries)
            self._last_issued = first + len(csrs) - 1
        return certs

    def _after_last_issued(self) -> int:
        """One past the highest serial in the database: read once per opened CA, then tracked in memory."""
        if self._last_issued is None:
            self._last_issued = max((e.serial for e in read_index(self.config.database)), default=-1)
        return self._last_issued + 1

    def sign_pasted(self, data: bytes | str, profile_name: str = "server", *, days: int | None = None,
                    at: _dt.datetime | None = None) -> x509.Certificate:
        """:meth:`sign` a CSR given as PEM text or DER bytes (a pasted or uploaded file, as AD CS's ``certreq``
        takes ``certcsr.der``)."""
        return self.sign(load(data, expect="csr").obj, profile_name, days=days, at=at)

    def _builder(self, csr, subject, prof, serial, start, end, ca_cert) -> x509.CertificateBuilder:
        """The certificate OpenSSL would build: the profile's extensions in openssl.cnf order, then (as
        ``copy_extensions = copy``) every request extension the profile did not set, in the request's order."""
        public = csr.public_key()
        extensions: list[tuple[x509.ExtensionType, bool]] = [
            (x509.BasicConstraints(ca=prof.ca, path_length=prof.path_length), True),
            (prof.key_usage(isinstance(public, rsa.RSAPublicKey)), True)]
        if prof.extended_usages:
            extensions.append((x509.ExtendedKeyUsage(list(prof.extended_usages)), False))
        extensions += [(x509.SubjectKeyIdentifier.from_public_key(public), False),
                       (_authority_key_id(ca_cert), False)]
        if prof.ocsp_nocheck:
            extensions.append((x509.OCSPNoCheck(), False))
        else:
            if self.config.crl_url:
                point = x509.DistributionPoint([x509.UniformResourceIdentifier(self.config.crl_url)], None, None,
                                               None)
                extensions.append((x509.CRLDistributionPoints([point]), False))
            if self.config.ocsp_url:
                extensions.append((x509.AuthorityInformationAccess([x509.AccessDescription(
                    x509.AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(self.config.ocsp_url))]),
                    False))
        taken = {value.oid for value, _ in extensions}
        extensions += [(ext.value, ext.critical) for ext in csr.extensions if ext.oid not in taken]
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_cert.subject).public_key(public)
                   .serial_number(serial).not_valid_before(start).not_valid_after(end))
        for value, critical in extensions:
            builder = builder.add_extension(value, critical)
        return builder

    # -- revocation ---------------------------------------------------------------------------------------------

    def revoke(self, serial_or_cert: int | str | x509.Certificate, reason: str = "unspecified", *,
               at: _dt.datetime | None = None) -> IndexEntry:
        """Mark a certificate revoked (an ``R`` line, like ``openssl ca -revoke -crl_reason``)."""
        if reason not in REASONS:
            raise PolicyError(f"Unknown revocation reason; RFC 5280 reasons: {', '.join(REASONS)}",
                              rule="revocation-reason", value=reason, chapter=guide.CH8)
        serial = self._serial(serial_or_cert)
        if serial == self.certificate.serial_number and self.certificate.issuer == self.certificate.subject:
            raise PolicyError("A root CA cannot revoke its own certificate: remove it from the trust stores instead",
                              rule="revoke-not-self", value=serial_hex(serial), chapter=guide.CH8)
        with self._lock.held():
            entries = read_index(self.config.database)
            index = self._find(entries, serial)
            if entries[index].status == "R":
                raise PolicyError("Already revoked", rule="revoke-once", value=serial_hex(serial),
                                  chapter=guide.CH8)
            entries[index] = entries[index].revoke(lab.now(at), reason)
            write_index(self.config.database, entries)
            return entries[index]

    def update_db(self, *, at: _dt.datetime | None = None) -> list[IndexEntry]:
        """Mark valid entries whose expiry has passed as ``E`` (``openssl ca -updatedb``); returns those."""
        moment = lab.now(at)
        with self._lock.held():
            entries = read_index(self.config.database)
            changed = [e for e in entries if e.status == "V" and e.expiry <= moment]
            updated = [IndexEntry("E", e.expiry, e.serial, e.subject, filename=e.filename) if e in changed else e
                       for e in entries]
            if changed:
                write_index(self.config.database, updated)
        return [IndexEntry("E", e.expiry, e.serial, e.subject, filename=e.filename) for e in changed]

    def crl(self, *, at: _dt.datetime | None = None, days: int | None = None,
            hours: int | None = None) -> x509.CertificateRevocationList:
        """A signed CRL of every revoked entry (``openssl ca -gencrl``); the CRL number advances and the CRL is
        written to the configured ``crl`` path (PEM)."""
        moment = lab.now(at)
        span = _dt.timedelta(hours=hours) if hours else _dt.timedelta(days=days or self.config.default_crl_days)
        ca_cert, key = self._ca_certificate(), self.private_key()
        with self._lock.held():
            revoked = []
            for entry in read_index(self.config.database):
                if entry.status != "R":
                    continue
                item = x509.RevokedCertificateBuilder().serial_number(entry.serial).revocation_date(entry.revoked_at)
                if entry.reason and entry.reason != "unspecified":
                    item = item.add_extension(x509.CRLReason(REASONS[entry.reason]), False)
                revoked.append(item.build())
            # The whole list at once: add_revoked_certificate copies the list on every call (slow for big CRLs).
            builder = x509.CertificateRevocationListBuilder(issuer_name=ca_cert.subject, last_update=moment,
                                                            next_update=moment + span, revoked_certificates=revoked)
            builder = builder.add_extension(_authority_key_id(ca_cert), False)
            if self.config.crlnumber is not None:
                number = read_number(self.config.crlnumber) if self.config.crlnumber.exists() else 1
                builder = builder.add_extension(x509.CRLNumber(number), False)
                write_number(self.config.crlnumber, number + 1)
            crl = sign_builder(builder, key)
            self.config.crl.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.config.crl, crl.public_bytes(serialization.Encoding.PEM), fsync=False)
        return crl

    # -- reading ------------------------------------------------------------------------------------------------

    def entries(self) -> list[IndexEntry]:
        return read_index(self.config.database)

    def status(self, serial: int | str) -> IndexEntry:
        """The database entry of ``serial`` (``openssl ca -status SERIAL``)."""
        entries = self.entries()
        return entries[self._find(entries, self._serial(serial))]

    def issued(self, serial: int | str) -> x509.Certificate:
        return load_certificate((self.config.new_certs_dir / f"{serial_hex(self._serial(serial))}.pem").read_bytes())

    def table(self):
        """The database as a pandas DataFrame (one row per ``index.txt`` line; times in UTC)."""
        import pandas as pd

        def when(moment):
            return f"{moment:%Y-%m-%d %H:%M}" if moment else ""

        return pd.DataFrame(
            [{"status": e.status_word, "serial": e.serial_hex, "expires": when(e.expiry),
              "revoked": when(e.revoked_at), "reason": e.reason or ("unspecified" if e.revoked_at else ""),
              "subject": e.subject} for e in self.entries()],
            columns=["status", "serial", "expires", "revoked", "reason", "subject"])

    def chain_pem(self) -> bytes:
        """This CA's certificate followed by its issuers' (``certs/chain.pem`` when written by labkit)."""
        chain = self.folder / "certs" / "chain.pem"
        return chain.read_bytes() if chain.exists() else self.certificate.public_bytes(serialization.Encoding.PEM)

    def copy_to(self, dest: str | Path) -> CertificateAuthority:
        """A copy of this CA directory, for a what-if or for ``openssl ca`` to sign into side by side.

        Lab only: the copy continues the same serial numbers, so two certificates with one serial would exist.
        """
        import shutil

        with self._lock.held():
            shutil.copytree(self.folder, dest, ignore=shutil.ignore_patterns(".labkit.lock"))
        return open_ca(dest, passphrase=self.passphrase)

    def _serial(self, value: int | str | x509.Certificate) -> int:
        if isinstance(value, x509.Certificate):
            if value.issuer != self.certificate.subject:
                raise PolicyError("This certificate was issued by another CA", rule="revoke-own-certificates",
                                  value=value.issuer.rfc4514_string(), chapter=guide.CH8)
            return value.serial_number
        if isinstance(value, int):
            return value
        try:
            return int(str(value).strip().removeprefix("0x").replace(":", ""), 16)
        except ValueError:
            raise InputError("A serial number is hexadecimal, as in index.txt (for example 1000)",
                             rule="serial-hex", value=value, chapter=guide.APPX_B) from None

    @staticmethod
    def _find(entries: list[IndexEntry], serial: int) -> int:
        for i, entry in enumerate(entries):
            if entry.serial == serial:
                return i
        raise InputError("No certificate with this serial in index.txt", rule="serial-in-database",
                         value=serial_hex(serial), chapter=guide.APPX_B)

    def __repr__(self) -> str:
        return f"CertificateAuthority({self.name!r}, {len(self.entries())} certificates)"


def _authority_key_id(ca_cert: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    try:
        ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key())


def _check_request(csr: x509.CertificateSigningRequest) -> None:
    """Refuse what a careful CA refuses: a broken signature, SHA-1, an RSA key under 2048 bits."""
    algorithm = csr.signature_hash_algorithm
    if isinstance(algorithm, hashes.SHA1 | hashes.MD5):
        raise PolicyError("The CSR is signed with SHA-1; Expressway refuses SHA-1 since X8.10, make it with SHA-256",
                          rule="csr-digest", value=algorithm.name, chapter=guide.CH3)
    if not csr.is_signature_valid:
        raise PolicyError("The CSR's signature does not verify: it was altered, or not signed by the key it carries",
                          rule="csr-signature", value=csr.subject.rfc4514_string(), chapter=guide.CH3)
    public = csr.public_key()
    if isinstance(public, rsa.RSAPublicKey) and public.key_size < 2048:
        raise PolicyError("RSA keys under 2048 bits are refused; the Expressway form offers 2048, 4096 and 8192",
                          rule="rsa-key-size", value=f"{public.key_size} bits", chapter=guide.CH3)


def open_ca(folder: str | Path, *, passphrase: bytes | str | None = None) -> CertificateAuthority:
    """Open the CA in ``folder`` (made by labkit or by OpenSSL commands)."""
    folder = Path(folder).resolve()
    _heal_dir(folder)
    pwd = passphrase.encode() if isinstance(passphrase, str) else passphrase
    return CertificateAuthority(_config.read(folder), pwd)


def _heal_dir(folder: Path) -> None:
    """A labkit CA moved to another folder: point ``dir`` in its openssl.cnf at where it is now."""
    path = folder / "openssl.cnf"
    if not path.exists():
        return
    text = path.read_text()
    if "written by labkit" not in text:
        return
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith("dir ") and line.split("=", 1)[1].strip() != str(folder):
            lines[i] = f"dir                    = {folder}\n"
            write_atomic(path, "".join(lines))
            return


def init_ca(folder: str | Path, common_name: str, *, key, parent: CertificateAuthority | None = None,
            days: int = 3650, at: _dt.datetime | None = None, crl_url: str | None = None,
            ocsp_url: str | None = None, policy: str = "policy_anything", passphrase: bytes | str | None = None,
            first_serial: int = 0x1000, organization: str = "labkit", country: str = "GB",
            crl_days: int = 7) -> CertificateAuthority:
    """Create a CA directory: a self-signed root, or with ``parent`` an issuing CA signed by it (path length 0).

    ``key`` is the CA's private key (a fixture key in notebooks, a fresh one on the command line); it is written to
    ``private/ca.key.pem`` with mode 0600, encrypted when ``passphrase`` is given.
    """
    folder = Path(folder).resolve()
    if (folder / "openssl.cnf").exists() or (folder / "index.txt").exists():
        raise InputError("A CA already exists in this folder; choose an empty one", rule="ca-folder-empty",
                         value=str(folder), chapter=guide.APPX_B)
    if policy not in POLICIES:
        raise PolicyError(f"Unknown policy; choose {' or '.join(POLICIES)}", rule="policy-name", value=policy,
                          chapter=guide.APPX_B)
    if parent is not None and parent.certificate.public_key() == key.public_key():
        raise PolicyError("Two CAs must never share a key: give the issuing CA its own", rule="ca-own-key",
                          value=parent.name, chapter=guide.APPX_B)
    if isinstance(key, rsa.RSAPrivateKey) and key.key_size < 2048:
        raise PolicyError("A CA key needs at least 2048 bits", rule="rsa-key-size", value=key.key_size,
                          chapter=guide.APPX_B)
    for sub in ("certs", "crl", "newcerts", "private"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    (folder / "private").chmod(0o700)
    write_atomic(folder / "openssl.cnf", _config.render(folder, common_name, policy=policy, days=365,
                                                       crl_days=crl_days, crl_url=crl_url, ocsp_url=ocsp_url))
    write_atomic(folder / "index.txt", "")
    write_atomic(folder / "index.txt.attr", "unique_subject = no\n")
    write_number(folder / "serial", first_serial)
    write_number(folder / "crlnumber", 0x1000)
    pwd = passphrase.encode() if isinstance(passphrase, str) else passphrase
    encryption = serialization.BestAvailableEncryption(pwd) if pwd else serialization.NoEncryption()
    write_private(folder / "private" / "ca.key.pem",
                  key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption))
    ca = CertificateAuthority(_config.read(folder), pwd)
    spec = CertSpec(common_name, organization=organization, country=country, ca=True, days=days)
    if parent is None:
        cert = _self_signed_root(ca, spec, key, at)
        chain = cert.public_bytes(serialization.Encoding.PEM)
    else:
        csr = sign_builder(x509.CertificateSigningRequestBuilder().subject_name(spec.subject()), key)
        cert = parent.sign(csr, "ca", days=days, at=at)
        chain = cert.public_bytes(serialization.Encoding.PEM) + parent.chain_pem()
    write_atomic(folder / "certs" / "ca.cert.pem", cert.public_bytes(serialization.Encoding.PEM))
    write_atomic(folder / "certs" / "chain.pem", chain)
    return ca


def _self_signed_root(ca: CertificateAuthority, spec: CertSpec, key, at) -> x509.Certificate:
    """The root signs itself and records it in its own database, as ``openssl ca -selfsign`` does."""
    with locked(ca.folder):
        serial = read_number(ca.config.serial)
        write_number(ca.config.serial, serial + 1)
        cert = issue(spec, key, at=at, serial=serial).certificate
        write_atomic(ca.config.new_certs_dir / f"{serial_hex(serial)}.pem",
                     cert.public_bytes(serialization.Encoding.PEM))
        write_index(ca.config.database, [IndexEntry("V", cert.not_valid_after_utc, serial, oneline(cert.subject))])
    return cert


def self_signed(key, common_name: str, *, sans: tuple[str, ...] = (), days: int = 365,
                at: _dt.datetime | None = None) -> Issued:
    """A self-signed server certificate (guide appendix B): fine for a lab or a test box, but Unified
    Communications (MRA, Unified CM, IM and Presence) will not accept it; use a CA-signed certificate there."""
    return issue(CertSpec(common_name, sans=sans, days=days), key, at=at)
