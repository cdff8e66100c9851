"""The Expressway's trusted CA list (guide chapter 7, *Maintenance > Security > Trusted CA certificate*).

:class:`TrustedCaList` appends PEM files of CA certificates (and the CRLs they carry), lists, views, deletes and
resets them, and answers :meth:`TrustedCaList.chain_check` with :func:`labkit.x509.verify.verify_chain`'s
Expressway check. Two self-signed certificates with one CN: only the newer one is used (chapter 4). See
:mod:`labkit.expressway.store` for the rule table.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography import x509

from labkit import guide, lab
from labkit.errors import InputError
from labkit.expressway.doctor import Finding, doctor
from labkit.expressway.upload import (
    _TRUSTED_LABELS,
    Findings,
    _as_certificate,
    _basic_constraints,
    _cn,
    _constraints_text,
    _extra_text,
    _file_bytes,
    _label,
    _labels,
    _pem,
    _self_signed,
    _short_fingerprint,
)
from labkit.x509 import decode
from labkit.x509.loading import load_all
from labkit.x509.verify import ChainCheck, verify_chain

__all__ = ["TrustedCaList", "ChainCheck"]


@dataclass(frozen=True)
class _Entry:
    certificate: x509.Certificate
    order: int  # when it was appended: the higher, the later

    @property
    def cn(self) -> str | None:
        return _cn(self.certificate)


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

    def append(self, data, *, at: _dt.datetime | str | None = None) -> Findings:
        """**Append CA certificate**: add every certificate of a PEM file (text, bytes or a Path; a certificate
        object is taken as its PEM). CRLs in the file are kept too (chapter 8). Anything else is refused, and then
        nothing is appended. Returns the findings about the new entries; their validity is judged at ``at`` (the lab
        clock by default; a page given a certificate from a live system passes the machine's time)."""
        if isinstance(data, x509.Certificate):
            data = _pem(data)
        raw = _file_bytes(data, "trusted CA certificate file")
        others = [label for label in _labels(raw) if label not in _TRUSTED_LABELS]
        if others:
            raise InputError(f"A trusted CA file holds CA certificates (and CRLs), but this one has a "
                             f"'{others[0]}' block: take it out", rule="trusted-ca-content", value=others[0],
                             chapter=guide.CH7)
        items = load_all(raw)  # all parsed before anything is appended
        findings = Findings(_extra_text(raw, "trusted CA certificate file"))
        for item in items:
            if item.kind == "crl":
                self._crls.append(item.obj)
                findings.append(Finding("trusted-embedded-crl", "info", f"a CRL issued by "
                                        f"'{_label(item.obj.issuer)}' came with the file and is kept with the list",
                                        guide.CH8))
                continue
            findings += self._add(item.obj, at)
        return findings

    def _add(self, cert: x509.Certificate, at: _dt.datetime | str | None = None) -> list[Finding]:
        name = _label(cert.subject)
        if any(entry.certificate == cert for entry in self._entries):
            return [Finding("trusted-already-present", "info", f"'{name}' ({_short_fingerprint(cert)}) is in the "
                            "list already; the list keeps one copy", guide.CH7)]
        findings = self._ca_findings(cert, at)
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
                "the two certificates different CNs, or better, have both signed by a CA and trust the CA",
                guide.CH4_UCM))
        if len(same) > len(rivals) or (rivals and not _self_signed(cert)):
            findings.append(Finding(
                "trusted-duplicate-cn", "warning", f"{len(same) + 1} CA certificates in the list now have the CN "
                f"'{cn}': not recommended on an Expressway-C or -E, where endpoints that sign in through an "
                "external identity provider may then fail. If this certificate replaces an older one of the same "
                "CA, delete the old one: Append never removes anything", guide.CH7))
        return findings

    @staticmethod
    def _ca_findings(cert: x509.Certificate, at: _dt.datetime | str | None = None) -> list[Finding]:
        findings = [f for f in doctor(cert, role="ca", at=at).findings
                    if f.rule in ("expired", "not-yet-valid", "expires-after-2050", "validity-time-encoding")]
        constraints = _basic_constraints(cert)
        if constraints is not None and constraints.ca:
            return findings
        if constraints is not None and _self_signed(cert):
            return [Finding("ca-no-basic-constraints", "warning", "basicConstraints is CA:FALSE: this self-signed "
                            "certificate can be trusted as itself (a server's own certificate), but it cannot "
                            "vouch for any other certificate", guide.CH2_AWARE), *findings]
        state = "missing" if constraints is None else "CA:FALSE"
        return [Finding("ca-no-basic-constraints", "error", f"basicConstraints is {state}: the Expressway's check "
                        "of CA certificates needs the extension, with CA:TRUE, so nothing this certificate signed "
                        "will be trusted through it", guide.CH2_AWARE), *findings]

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
                             rule="trusted-entry", value="nothing", chapter=guide.CH7)
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
            raise InputError("Give an entry number, not True/False", rule="trusted-entry", value=which,
                             chapter=guide.CH7)
        if isinstance(which, int):
            if 0 <= which < len(self._entries):
                return which
            raise InputError(f"No entry with this number: the list has {len(self._entries)} (numbered from 0)",
                             rule="trusted-entry", value=which, chapter=guide.CH7)
        if isinstance(which, x509.Certificate):
            for i, entry in enumerate(self._entries):
                if entry.certificate == which:
                    return i
            raise InputError("This certificate is not in the trusted CA list", rule="trusted-entry",
                             value=_label(which.subject), chapter=guide.CH7)
        if isinstance(which, str):
            return self._by_fingerprint(which)
        raise InputError("Give an entry number, a fingerprint or a certificate", rule="trusted-entry",
                         value=type(which).__name__, chapter=guide.CH7)

    def _by_fingerprint(self, text: str) -> int:
        given = re.sub(r"[^0-9A-F]", "", text.upper().replace("SHA256", "").replace("SHA1", "").split("=")[-1])
        if text.strip().isdigit() and len(text.strip()) < 8:
            return self._index(int(text))
        if len(given) < 8:
            raise InputError("A fingerprint needs at least its first 4 bytes (8 hex digits)", rule="trusted-entry",
                             value=text, chapter=guide.CH7)
        hits = [i for i, entry in enumerate(self._entries)
                if any(decode.fingerprint(entry.certificate, algo).replace(":", "").startswith(given)
                       for algo in ("sha256", "sha1"))]
        if len(hits) == 1:
            return hits[0]
        problem = "no entry has" if not hits else f"{len(hits)} entries have"
        raise InputError(f"{problem} this fingerprint; give more of it", rule="trusted-entry", value=text,
                         chapter=guide.CH7)

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
        return verify_chain(cert, trusted=self.certificates, intermediates=intermediates, at=moment,
                            purpose="expressway")

    def __repr__(self) -> str:
        unused = len(self._entries) - len(self.certificates)
        extra = f", {unused} not in use" if unused else ""
        crls = f", {len(self._crls)} CRL{'s' if len(self._crls) != 1 else ''}" if self._crls else ""
        return f"TrustedCaList({len(self._entries)} certificate{'s' if len(self._entries) != 1 else ''}{extra}{crls})"
