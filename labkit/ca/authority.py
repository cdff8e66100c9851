"""A certificate authority in a directory that both labkit and ``openssl ca`` operate (guide appendices B-F)."""

from __future__ import annotations

import datetime as _dt
import glob
import os
import shutil
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
    unique_subject,
    write_index,
    write_number,
)
from labkit.ca.policy import POLICIES, apply_policy, profile
from labkit.errors import InputError, LabError, PolicyError
from labkit.x509.certs import CertSpec, Issued, check_days, issue, sign_builder, validity_end
from labkit.x509.der import plain_problem
from labkit.x509.files import (
    check_output,
    clear_abandoned,
    owned_folder,
    release_folder,
    write_atomic,
    write_new,
    write_private,
)
from labkit.x509.loading import load, load_certificate, load_file
from labkit.x509.reasons import REASONS

__all__ = ["CertificateAuthority", "init_ca", "open_ca", "read_database", "self_signed"]

@dataclass
class CertificateAuthority:
    """An OpenSSL-layout CA directory. Make one with :func:`init_ca`, open one with :func:`open_ca`."""

    config: _config.CAConfig
    passphrase: bytes | None = field(default=None, repr=False)
    _cached_key: object = field(default=None, repr=False, compare=False)
    _cached_cert: x509.Certificate | None = field(default=None, repr=False, compare=False)
    _last_issued: int | None = field(default=None, repr=False, compare=False)
    _seen: tuple | None = field(default=None, repr=False, compare=False)  # index.txt's stat when labkit last read it
    _valid_subjects: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._lock = DirectoryLock(self.config.folder)

    @property
    def unique_subject(self) -> bool:
        """Whether a second valid certificate with one subject is refused, as ``openssl ca`` decides it:
        ``index.txt.attr``, else the configuration's ``unique_subject``, else yes."""
        return unique_subject(self.config.database, self.config.unique_subject)

    def _read(self) -> list[IndexEntry]:
        """``index.txt``, refused (with the line and the repair) where ``openssl ca`` could not read it."""
        self._lock.check_present()
        return read_index(self.config.database, unique_subject=self.unique_subject)

    @property
    def folder(self) -> Path:
        return self.config.folder

    @property
    def certificate(self) -> x509.Certificate:
        self._lock.check_present()
        return load_certificate(self.config.certificate.read_bytes())

    @property
    def name(self) -> str:
        values = self.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(values[0].value) if values else self.certificate.subject.rfc4514_string()

    def private_key(self):
        """The CA's private key (``private/ca.key.pem``, decrypted with the passphrase the CA was opened with),
        loaded once per opened CA. For lab tools that sign as this CA, as ``openssl ca`` does with ``-keyfile``."""
        self._lock.check_present()
        if self._cached_key is None:
            self._cached_key = load_file(self.config.private_key, expect="private-key", password=self.passphrase).obj
        return self._cached_key

    def check_not_own_file(self, path: str | Path | None, option: str = "-o") -> None:
        """Refuse (InputError ``output-is-ca-file``) an output ``path`` that is one of this CA's own files: its
        configuration, key, certificate, database (and its ``.attr``/``.old``), serial, CRL number, CRL, or anything
        already in its folder (an issued certificate's copy in newcerts). ``openssl ca -out`` would overwrite them;
        labkit never does. A new file in the folder (``certs/new.pem``) is allowed. None passes."""
        if path is None or str(path) == "-":
            return
        target = Path(os.path.realpath(path))
        c = self.config
        named = [c.path, c.database, c.serial, c.crlnumber, c.certificate, c.private_key, c.crl, c.new_certs_dir]
        own = {Path(os.path.realpath(p)) for p in named if p is not None}
        own |= {Path(os.path.realpath(f"{p}{suffix}")) for p in (c.database, c.serial, c.crlnumber) if p is not None
                for suffix in (".attr", ".old", ".attr.old")}
        folder = Path(os.path.realpath(self.folder))
        if target in own or (target.exists() and folder in target.parents):
            raise InputError(f"{option} is one of the CA's own files, which the output would replace; write it "
                             "somewhere else", rule="output-is-ca-file", value=str(path), chapter=guide.APPX_B)

    def _ca_certificate(self) -> x509.Certificate:
        if self._cached_cert is None:
            self._cached_cert = self.certificate
        return self._cached_cert

    # -- issuing ------------------------------------------------------------------------------------------------

    def sign(self, csr: x509.CertificateSigningRequest, profile_name: str = "server", *, days: int | None = None,
             at: _dt.datetime | None = None) -> x509.Certificate:
        """Check ``csr``, apply the policy and the profile, issue, and record it (``openssl ca -batch -in``).

        ``days`` (default: the configuration's ``default_days``) is a whole number above 0 that ends before 9999
        (rules ``validity-days``, ``validity-positive``, ``validity-end``); 0 is refused, never replaced by the
        default. A CSR with a broken signature, SHA-1, a short RSA key or an unknown critical extension is refused
        (``csr-signature``, ``csr-digest``, ``rsa-key-size``, ``csr-critical-extension``). Nothing changes in the
        folder unless the certificate is issued: the files it writes are checked first (``output-writable``)."""
        return self.sign_many([csr], profile_name, days=days, at=at)[0]

    def sign_many(self, csrs: list[x509.CertificateSigningRequest], profile_name: str = "server", *,
                  days: int | None = None, at: _dt.datetime | None = None) -> list[x509.Certificate]:
        """Issue one certificate per CSR under one lock (``openssl ca -batch -infiles a.csr b.csr ...``).

        Every CSR is checked before anything is issued; the serial file is advanced before any certificate is
        written, so it never falls behind an issued serial, and the database lines are appended in one write.
        """
        self._lock.check_present()
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
        end = validity_end(start, self.config.default_days if days is None else days)
        with self._lock.held():
            self._refresh()  # index.txt as it is now: openssl ca may have written it since
            lines = [oneline(subject) for subject in subjects]
            if self.unique_subject:
                self._check_unique(lines)
            first = max(read_number(self.config.serial), self._last_issued + 1)
            serials = range(first, first + len(csrs))
            paths = [self.config.new_certs_dir / f"{serial_hex(serial)}.pem" for serial in serials]
            taken = [path for path in paths if path.exists()]
            for path in (self.config.serial, self.config.database, *paths):
                check_output(path)  # before the serial is used up: a folder labkit cannot write changes nothing
            write_number(self.config.serial, first + len(csrs))  # first: the serial file never falls behind
            if taken:
                raise LabError(f"{taken[0].name} already exists: another process (openssl ca, which takes no lock) "
                               "issued that serial at the same time. Nothing was issued, and the serial file was "
                               "moved past it; take turns, and run `labkit ca check` on the folder",
                               rule="ca-serial-unique", value=taken[0].name, chapter=guide.APPX_B)
            certs, entries = [], []
            for serial, path, csr, subject, line in zip(serials, paths, csrs, subjects, lines, strict=True):
                cert = sign_builder(self._builder(csr, subject, prof, serial, start, end, ca_cert), key)
                # A new file, never an overwrite, written whole or not at all; if the process dies before the
                # database line, the serial is used up, not recorded.
                try:
                    write_new(path, cert.public_bytes(serialization.Encoding.PEM))
                except FileExistsError:
                    raise LabError(f"{path.name} appeared while labkit issued it: another process (openssl ca, "
                                   "which takes no lock) issued that serial at the same time. Run `labkit ca check` "
                                   "on the folder; take turns with openssl ca", rule="ca-serial-unique",
                                   value=path.name, chapter=guide.APPX_B) from None
                certs.append(cert)
                entries.append(IndexEntry("V", end, serial, line))
            expected = self._seen[0] + sum(len(e.line().encode("utf-8", "surrogateescape")) + 1 for e in entries)
            append_index(self.config.database, entries)
            self._after_append(entries, expected)
        return certs

    def _refresh(self) -> None:
        """Read ``index.txt`` again when it changed since labkit last saw it (``openssl ca`` wrote it): the highest
        serial and the valid subjects come from the file as it is, and a damaged file is refused here, before
        anything is issued."""
        stamp = _stamp(self.config.database)
        if self._seen is not None and stamp == self._seen and self._last_issued is not None:
            return
        entries = self._read()
        self._last_issued = max((e.serial for e in entries), default=-1)
        self._valid_subjects = {e.subject: e.serial for e in entries if e.status == "V"}
        self._seen = stamp

    def _check_unique(self, lines: list[str]) -> None:
        """OpenSSL's unique_subject rule: no second valid certificate with a subject (in the database or the batch)."""
        seen = dict(self._valid_subjects)
        for line in lines:
            if line in seen:
                old = f"serial {serial_hex(seen[line])}" if seen[line] >= 0 else "another request of this batch"
                raise PolicyError(
                    f"There is already a certificate for {line} ({old}), and unique_subject is on (index.txt.attr, "
                    "or its absence: OpenSSL's default is yes), so openssl ca refuses it too (its database would "
                    "hold the subject twice: TXT_DB error number 2). Either revoke the old certificate first "
                    f"(`labkit ca revoke {self.folder} --serial {serial_hex(seen[line]) if seen[line] >= 0 else 'N'}`, "
                    "openssl ca -revoke), or allow renewals with the same subject: `unique_subject = no` in "
                    "index.txt.attr", rule="unique-subject", value=line, chapter=guide.APPX_B)
            seen[line] = -1

    def _after_append(self, entries: list[IndexEntry], expected_size: int) -> None:
        """Check, after the append, that index.txt holds each new serial once: when its size is not what labkit's
        lines made it, someone else wrote it meanwhile, and the file is read to see what happened."""
        stamp = _stamp(self.config.database)
        self._last_issued = max(self._last_issued, *(e.serial for e in entries))
        for entry in entries:
            self._valid_subjects[entry.subject] = entry.serial
        if stamp[0] == expected_size:
            self._seen = stamp
            return
        self._seen = None
        counts: dict[int, int] = {}
        text = self.config.database.read_bytes().decode("utf-8", "surrogateescape")
        for line in text.splitlines():
            fields = line.split("\t")
            if len(fields) == 6:
                try:
                    serial = int(fields[3], 16)
                except ValueError:
                    continue
                counts[serial] = counts.get(serial, 0) + 1
        wrong = [e for e in entries if counts.get(e.serial, 0) != 1]
        if wrong:
            entry = wrong[0]
            state = "twice" if counts.get(entry.serial, 0) > 1 else "no longer"
            raise LabError(f"Issued serial {entry.serial_hex} (newcerts/{entry.serial_hex}.pem), but index.txt now "
                           f"holds it {state}: another process (openssl ca, which takes no lock) wrote the database "
                           "at the same time. Run `labkit ca check` on the folder; take turns with openssl ca",
                           rule="ca-serial-unique", value=entry.serial_hex, chapter=guide.APPX_B)

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
        self._lock.check_present()
        if reason not in REASONS:
            raise PolicyError(f"Unknown revocation reason; RFC 5280 reasons: {', '.join(REASONS)}",
                              rule="revocation-reason", value=reason, chapter=guide.CH8)
        serial = self._serial(serial_or_cert)
        if serial == self.certificate.serial_number and self.certificate.issuer == self.certificate.subject:
            raise PolicyError("A root CA cannot revoke its own certificate: remove it from the trust stores instead",
                              rule="revoke-not-self", value=serial_hex(serial), chapter=guide.CH8)
        with self._lock.held():
            entries = self._read()
            index = self._find(entries, serial)
            if entries[index].status == "R":
                raise PolicyError("Already revoked", rule="revoke-once", value=serial_hex(serial),
                                  chapter=guide.CH8)
            entries[index] = entries[index].revoke(lab.now(at), reason)
            write_index(self.config.database, entries)
            return entries[index]

    def update_db(self, *, at: _dt.datetime | None = None) -> list[IndexEntry]:
        """Mark valid entries whose expiry has passed as ``E`` (``openssl ca -updatedb``); returns those."""
        self._lock.check_present()
        moment = lab.now(at)
        with self._lock.held():
            entries = self._read()
            changed = [e for e in entries if e.status == "V" and e.expiry <= moment]
            updated = [IndexEntry("E", e.expiry, e.serial, e.subject, filename=e.filename) if e in changed else e
                       for e in entries]
            if changed:
                write_index(self.config.database, updated)
        return [IndexEntry("E", e.expiry, e.serial, e.subject, filename=e.filename) for e in changed]

    def crl(self, *, at: _dt.datetime | None = None, days: int | None = None,
            hours: int | None = None) -> x509.CertificateRevocationList:
        """A signed CRL of every revoked entry (``openssl ca -gencrl``); the CRL number advances and the CRL is
        written to the configured ``crl`` path (PEM).

        nextUpdate is ``hours`` or ``days`` (default: ``default_crl_days``) after lastUpdate, and always after it: 0,
        negative or non-integer spans are refused (PolicyError ``crl-next-update``; RFC 5280 5.1.2.5), never replaced
        by the default, as is a nextUpdate past 9999 (``validity-end``). The CRL path and the crlnumber file are
        checked before the number is used up (``output-writable``, ``output-is-regular-file``)."""
        self._lock.check_present()
        moment = lab.now(at)
        next_update = _next_update(moment, days if days is not None else (None if hours is not None else
                                                                           self.config.default_crl_days), hours)
        ca_cert, key = self._ca_certificate(), self.private_key()
        self.config.crl.parent.mkdir(parents=True, exist_ok=True)
        with self._lock.held():
            check_output(self.config.crl)
            if self.config.crlnumber is not None:
                check_output(self.config.crlnumber)
            revoked = []
            for entry in self._read():
                if entry.status != "R":
                    continue
                item = x509.RevokedCertificateBuilder().serial_number(entry.serial).revocation_date(entry.revoked_at)
                if entry.reason and entry.reason != "unspecified":
                    item = item.add_extension(x509.CRLReason(REASONS[entry.reason]), False)
                revoked.append(item.build())
            # The whole list at once: add_revoked_certificate copies the list on every call (slow for big CRLs).
            builder = x509.CertificateRevocationListBuilder(issuer_name=ca_cert.subject, last_update=moment,
                                                            next_update=next_update, revoked_certificates=revoked)
            builder = builder.add_extension(_authority_key_id(ca_cert), False)
            if self.config.crlnumber is not None:
                number = read_number(self.config.crlnumber) if self.config.crlnumber.exists() else 1
                builder = builder.add_extension(x509.CRLNumber(number), False)
            crl = sign_builder(builder, key)
            if not crl.next_update_utc > crl.last_update_utc:  # never publish a CRL that is stale when made
                raise PolicyError("The CRL's nextUpdate is not after its lastUpdate", rule="crl-next-update",
                                  value=f"{crl.last_update_utc:%Y-%m-%d %H:%M} .. {crl.next_update_utc:%Y-%m-%d %H:%M}",
                                  chapter=guide.RFC5280_NEXT_UPDATE)
            if self.config.crlnumber is not None:  # used up before the CRL is written: a number is never reused
                write_number(self.config.crlnumber, number + 1)
            write_atomic(self.config.crl, crl.public_bytes(serialization.Encoding.PEM), fsync=False)
        return crl

    # -- reading ------------------------------------------------------------------------------------------------

    def entries(self) -> list[IndexEntry]:
        """The database (``openssl ca`` would refuse a damaged one: so does this, naming the line and the repair)."""
        return self._read()

    def status(self, serial: int | str) -> IndexEntry:
        """The database entry of ``serial`` (``openssl ca -status SERIAL``)."""
        entries = self.entries()
        return entries[self._find(entries, self._serial(serial))]

    def issued(self, serial: int | str) -> x509.Certificate:
        self._lock.check_present()
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
        self._lock.check_present()
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
        try:
            count = f"{len(self.entries())} certificates"
        except InputError as exc:  # a damaged index.txt: say so, a repr must not raise
            count = f"index.txt refused: {exc.rule}"
        return f"CertificateAuthority({self.name!r}, {count})"


def _stamp(path: Path) -> tuple[int, int, int]:
    """(size, modification time, inode) of a file: whether someone else wrote it since (zeros when absent)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return (0, 0, 0)
    return (info.st_size, info.st_mtime_ns, info.st_ino)


def _next_update(moment: _dt.datetime, days: int | None, hours: int | None) -> _dt.datetime:
    """lastUpdate plus ``days`` or ``hours`` (one of them), each a whole number above 0 (PolicyError
    ``crl-next-update``), ending before 9999 (``validity-end``)."""
    count, unit = (hours, "hours") if hours is not None else (days, "days")
    if isinstance(count, bool) or not isinstance(count, int) or count <= 0:
        raise PolicyError(f"A CRL's nextUpdate must come after its lastUpdate: give a whole number of {unit} above 0",
                          rule="crl-next-update", value=repr(count), chapter=guide.RFC5280_NEXT_UPDATE)
    if unit == "days":
        return validity_end(moment, count, "A CRL")
    validity_end(moment, -(-count // 24), "A CRL")  # the same bound, in whole days
    return moment + _dt.timedelta(hours=count)


def _authority_key_id(ca_cert: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    try:
        ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key())


def _check_request(csr: x509.CertificateSigningRequest) -> None:
    """Refuse what a careful CA refuses: a broken signature, SHA-1, an RSA key under 2048 bits, extensions that
    cannot be read, and an extension marked critical that the CA does not know (RFC 5280 4.2: a client that does
    not know a critical extension must reject the certificate)."""
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
    try:
        extensions = list(csr.extensions)
    except ValueError as exc:  # a duplicate or undecodable extension
        raise InputError(f"The CSR's extensions cannot be read: {plain_problem(exc)}", rule="csr-extensions",
                         value=csr.subject.rfc4514_string(), chapter=guide.CH3) from None
    for ext in extensions:
        if ext.critical and isinstance(ext.value, x509.UnrecognizedExtension):
            raise PolicyError(f"The CSR asks for an extension marked critical that the CA does not know "
                              f"({ext.oid.dotted_string}): copied into the certificate, it would make every "
                              "client that does not know it either refuse the certificate. It is not copied: make "
                              "the request without it", rule="csr-critical-extension", value=ext.oid.dotted_string,
                              chapter=guide.RFC5280_CRITICAL)


def open_ca(folder: str | Path, *, passphrase: bytes | str | None = None, config: str | Path | None = None,
            cwd: str | Path | None = None) -> CertificateAuthority:
    """Open the CA in ``folder`` (made by labkit or by OpenSSL commands, like the guide's ``demoCA``).

    ``config`` is the configuration ``openssl ca -config`` uses, when it is not in the folder (see
    :mod:`labkit.ca.config` for how it is found otherwise and how its relative paths resolve, from ``cwd``: by
    default the current directory, as OpenSSL reads them).
    """
    folder = Path(folder).resolve()
    if config is None:
        _heal_dir(folder)
    pwd = passphrase.encode() if isinstance(passphrase, str) else passphrase
    return CertificateAuthority(_config.read(folder, Path(config) if config is not None else None,
                                             cwd=Path(cwd) if cwd is not None else None), pwd)


def read_database(folder: str | Path, *, config: str | Path | None = None,
                  cwd: str | Path | None = None) -> list[IndexEntry]:
    """The database of the CA in ``folder``: through its configuration when there is one, else ``index.txt`` alone
    (a folder without a configuration can still be listed: ``openssl ca`` needs the configuration, the list does
    not). Damage is refused as :func:`~labkit.ca.database.read_index` refuses it."""
    folder = Path(folder).resolve()
    if config is None and (folder / "index.txt").is_file():
        try:
            _config.find_config(folder)
        except InputError as exc:
            if exc.rule != "ca-layout":
                raise
            database = folder / "index.txt"
            return read_index(database, unique_subject=unique_subject(database))
    return open_ca(folder, config=config, cwd=cwd).entries()


def _heal_dir(folder: Path) -> None:
    """A labkit CA moved to another folder: point ``dir`` in its openssl.cnf at where it is now (quoted: see
    :func:`labkit.ca.config.quote`)."""
    path = folder / "openssl.cnf"
    if not path.is_file():
        return
    text = path.read_text(errors="replace")
    if "written by labkit" not in text:
        return
    try:
        _config.parse_sections(text, name=path.name)
    except InputError:
        return  # a configuration OpenSSL cannot load is refused as it is (open_ca reads it next), not rewritten
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith("dir ") and "=" in line:
            written = _config.parse_sections(line, name=path.name)["default"].get("dir")
            if written != str(folder):
                lines[i] = f"dir                    = {_config.quote(str(folder), 'The CA folder')}\n"
                write_atomic(path, "".join(lines))
            return


def init_ca(folder: str | Path, common_name: str, *, key, parent: CertificateAuthority | None = None,
            days: int = 3650, at: _dt.datetime | None = None, crl_url: str | None = None,
            ocsp_url: str | None = None, policy: str = "policy_anything", passphrase: bytes | str | None = None,
            first_serial: int = 0x1000, organization: str = "labkit", country: str = "GB",
            crl_days: int = 7, config: str | Path | None = None) -> CertificateAuthority:
    """Create a CA directory: a self-signed root, or with ``parent`` an issuing CA signed by it (path length 0).

    ``key`` is the CA's private key (a fixture key in notebooks, a fresh one on the command line); it is written to
    ``private/ca.key.pem`` with mode 0600, encrypted when ``passphrase`` is given. The configuration goes to
    ``folder/openssl.cnf``, or to ``config`` (outside the folder, then always named: ``--config``).

    All or nothing: every value is checked first (names, days, URLs, the passphrase, the folder), then the CA is
    built in a hidden folder beside ``folder`` and renamed into place, so a failure leaves nothing behind (a retry
    works) and no reader ever sees half a CA. Modes are set whatever the umask: folders 0755, ``private/`` 0700, the
    key 0600, every other file 0644. ``folder`` must not exist or be empty (rule ``ca-folder-empty``). Refusals:
    ``cn-present``, ``cn-length``, ``name-characters``, ``country-code`` (:mod:`labkit.x509.names`),
    ``validity-positive``, ``validity-end`` (``days``, ``crl_days``), ``crl-url``, ``ocsp-url``
    (:func:`labkit.ca.config.check_url`), ``config-value`` (a folder path openssl.cnf cannot carry),
    ``passphrase-empty``, ``policy-name``, ``ca-own-key``, ``rsa-key-size``.
    """
    folder = Path(folder).resolve()
    config_path = Path(config).resolve() if config is not None else folder / "openssl.cnf"
    if config_path.exists() or (folder / "openssl.cnf").exists() or (folder / "index.txt").exists():
        raise InputError("A CA already exists in this folder; choose an empty one", rule="ca-folder-empty",
                         value=str(folder), chapter=guide.APPX_B)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        what = "is not empty" if folder.is_dir() else "is a file, not a folder"
        raise InputError(f"The CA's folder {what}: a CA is made in a new or empty folder", rule="ca-folder-empty",
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
    spec = CertSpec(common_name, organization=organization, country=country, ca=True, days=days)
    validity_end(lab.now(at), days, "The CA certificate")
    check_days(crl_days, "A CRL")
    if crl_url is not None:
        _config.check_url(crl_url, option="The CRL URL (--crl-url)", schemes=("http", "https"), rule="crl-url",
                          chapter=guide.CH8)
    if ocsp_url is not None:
        _config.check_url(ocsp_url, option="The OCSP URL (--ocsp-url)", schemes=("http",), rule="ocsp-url",
                          chapter=guide.CH8_OCSP)
    pwd = passphrase.encode() if isinstance(passphrase, str) else passphrase
    check_passphrase(pwd)

    def text(where: Path) -> str:
        return _config.render(where, common_name, policy=policy, days=365, crl_days=crl_days, crl_url=crl_url,
                              ocsp_url=ocsp_url)

    final_text = text(folder)  # refuses what openssl.cnf cannot carry (config-value) before anything is made
    if config is not None:
        check_output(config_path)
    made_parents = _make_parents(folder.parent)
    clear_abandoned(folder.parent, f".{glob.escape(folder.name)}.*.labkit-init")  # left by a killed `ca init`
    try:
        build = owned_folder(folder.parent, f".{folder.name}.", ".labkit-init")
    except OSError as exc:
        _remove_parents(made_parents)
        raise InputError(f"Cannot create the CA's folder: {exc.strerror}", rule="output-writable", value=str(folder),
                         chapter=guide.APPX_B) from None
    config_written = False
    try:
        cert, chain = _build_ca(build, text(build), key, pwd, first_serial, spec, parent, days, at)
        if config is None:
            write_atomic(build / "openssl.cnf", final_text)
        else:
            (build / "openssl.cnf").unlink()
            write_atomic(config_path, final_text)
            config_written = True
        build.chmod(0o755)
        release_folder(build)
        os.rename(build, folder)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        if config_written:
            config_path.unlink(missing_ok=True)
        _remove_parents(made_parents)
        raise
    return CertificateAuthority(_config.read(folder, config_path if config is not None else None), pwd)


def check_passphrase(passphrase: bytes | None) -> bytes | None:
    """``passphrase`` unless it is empty: an empty passphrase would leave the CA key unprotected without a word
    (PolicyError ``passphrase-empty``). None means no passphrase."""
    if passphrase is not None and not passphrase:
        raise PolicyError("The passphrase is empty: the CA key would be stored unencrypted. Give a passphrase, or "
                          "none at all for an unencrypted lab key", rule="passphrase-empty", value="(empty)",
                          chapter=guide.APPX_B)
    return passphrase


def _build_ca(build: Path, config_text: str, key, pwd: bytes | None, first_serial: int, spec: CertSpec,
              parent: CertificateAuthority | None, days: int, at) -> tuple[x509.Certificate, bytes]:
    """Everything of a new CA in the folder ``build`` (its configuration reading paths from ``build``). The
    parent signs last: a failure before it leaves the parent untouched."""
    for sub in ("certs", "crl", "newcerts", "private"):
        (build / sub).mkdir()
        (build / sub).chmod(0o700 if sub == "private" else 0o755)
    write_atomic(build / "openssl.cnf", config_text, fsync=False)
    write_atomic(build / "index.txt", "", fsync=False)
    write_atomic(build / "index.txt.attr", "unique_subject = no\n", fsync=False)
    write_number(build / "serial", first_serial)
    write_number(build / "crlnumber", 0x1000)
    encryption = serialization.BestAvailableEncryption(pwd) if pwd else serialization.NoEncryption()
    write_private(build / "private" / "ca.key.pem",
                  key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption))
    ca = CertificateAuthority(_config.read(build), pwd)
    if parent is None:
        cert = _self_signed_root(ca, spec, key, at)
        chain = cert.public_bytes(serialization.Encoding.PEM)
    else:
        csr = sign_builder(x509.CertificateSigningRequestBuilder().subject_name(spec.subject()), key)
        cert = parent.sign(csr, "ca", days=days, at=at)
        chain = cert.public_bytes(serialization.Encoding.PEM) + parent.chain_pem()
    write_atomic(build / "certs" / "ca.cert.pem", cert.public_bytes(serialization.Encoding.PEM))
    write_atomic(build / "certs" / "chain.pem", chain)
    ca._lock.close()
    return cert, chain


def _make_parents(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents (mode 0755); returns those made, deepest last."""
    missing = []
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            break
        missing.append(candidate)
    made = []
    for candidate in reversed(missing):
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            _remove_parents(made)
            raise InputError(f"Cannot create the folder: {exc.strerror}", rule="output-writable",
                             value=str(candidate), chapter=guide.APPX_B) from None
        candidate.chmod(0o755)
        made.append(candidate)
    return made


def _remove_parents(made: list[Path]) -> None:
    for candidate in reversed(made):
        try:
            candidate.rmdir()
        except OSError:
            break


def _self_signed_root(ca: CertificateAuthority, spec: CertSpec, key, at) -> x509.Certificate:
    """The root signs itself and records it in its own database, as ``openssl ca -selfsign`` does."""
    with locked(ca.folder):
        serial = read_number(ca.config.serial)
        write_number(ca.config.serial, serial + 1)
        cert = issue(spec, key, at=at, serial=serial).certificate
        write_new(ca.config.new_certs_dir / f"{serial_hex(serial)}.pem", cert.public_bytes(serialization.Encoding.PEM))
        write_index(ca.config.database, [IndexEntry("V", cert.not_valid_after_utc, serial, oneline(cert.subject))])
    return cert


def self_signed(key, common_name: str, *, sans: tuple[str, ...] = (), days: int = 365,
                at: _dt.datetime | None = None) -> Issued:
    """A self-signed server certificate (guide appendix B): fine for a lab or a test box, but Unified
    Communications (MRA, Unified CM, IM and Presence) will not accept it; use a CA-signed certificate there."""
    return issue(CertSpec(common_name, sans=sans, days=days), key, at=at)


def lifetime_notes(cert: x509.Certificate, issuer: x509.Certificate) -> list[str]:
    """What ``openssl ca`` issues without a word, but the reader of a newly issued ``cert`` should know (one sentence
    each, empty when there is nothing): it outlives ``issuer`` (from the issuer's notAfter on, no path to it
    validates: :data:`guide.RFC5280_PATH_VALIDITY`), or it ends in 2050 or later (:data:`guide.RFC5280_TIME`; doctor's
    ``expires-after-2050``, :data:`guide.CH2_AWARE`)."""
    notes = []
    end, issuer_end = cert.not_valid_after_utc, issuer.not_valid_after_utc
    if end > issuer_end:
        notes.append(f"Note: it outlives its issuer, which expires {issuer_end:%Y-%m-%d}: from then on no chain to it "
                     f"validates ({guide.RFC5280_PATH_VALIDITY}); issue it for at most "
                     f"{(issuer_end - cert.not_valid_before_utc).days} days")
    if end.year >= 2050:
        notes.append(f"Note: it ends in {end.year}; dates from 2050 on are encoded differently and can cause "
                     f"operational issues ({guide.CH2_AWARE}; {guide.RFC5280_TIME}); doctor warns: expires-after-2050")
    return notes
