"""``labkit ca check``: is this CA folder one that ``openssl ca`` can operate, and if not, what to do (appendix B).

:func:`check_ca` reads the folder as ``openssl ca`` will: the configuration (found as :mod:`labkit.ca.config` finds
it, its relative paths resolved as OpenSSL resolves them), the database (every line OpenSSL would refuse, with its
number; :func:`labkit.ca.database.parse_index`), ``serial`` and ``crlnumber``, the CA certificate and whether the
private key is its key, and ``newcerts/`` (a certificate there whose serial the database does not hold, or holds for
another subject, is the trace of ``openssl ca`` and labkit writing at the same time: OpenSSL takes no lock).

With ``repair=True`` it repairs only what loses nothing, after copying every file it changes into a backup folder
(``.labkit-backup-<UTC time>/`` in the CA folder):

* empty lines in ``index.txt`` are deleted, and a missing newline after its last line is added;
* a ``serial`` file that is missing, or behind the highest serial in the database, is set to one past it (OpenSSL
  would otherwise issue a serial twice);
* a ``crlnumber`` file that the configuration names but that does not exist (``openssl ca -gencrl`` fails then) is
  created, one past the number of the last CRL when there is one;
* a missing ``newcerts`` folder is created.

Everything else (a duplicate serial, two valid certificates with one subject under ``unique_subject``, a bad field,
a key that is not the certificate's) is reported with what to do, and left alone.
"""

from __future__ import annotations

import datetime as _dt
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509

from labkit import lab
from labkit.ca import config as _config
from labkit.ca.database import (
    IndexProblem,
    locked,
    parse_index,
    read_number,
    serial_hex,
    unique_subject,
    write_number,
)
from labkit.errors import LabkitError
from labkit.x509.files import write_atomic
from labkit.x509.loading import load_all, read_file

__all__ = ["CheckItem", "CaCheck", "check_ca"]

SEVERITIES = ("error", "warning", "repaired", "info", "ok")


@dataclass(frozen=True)
class CheckItem:
    """One finding of :func:`check_ca`: its severity (``error``, ``warning``, ``repaired``, ``info``, ``ok``), what
    it is about (``configuration``, ``database``, ``serial``, ``crlnumber``, ``certificate``, ``key``,
    ``newcerts``), the message and what repairs it."""

    severity: str
    topic: str
    message: str
    repair: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"severity": self.severity, "topic": self.topic, "message": self.message, "repair": self.repair}


@dataclass(frozen=True)
class CaCheck:
    """What :func:`check_ca` found in one folder; true when nothing is an error."""

    folder: Path
    items: tuple[CheckItem, ...]
    config: Path | None = None
    base: Path | None = None
    backup: Path | None = None
    repaired: tuple[str, ...] = field(default_factory=tuple)

    @property
    def errors(self) -> list[CheckItem]:
        return [item for item in self.items if item.severity == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def __bool__(self) -> bool:
        return self.ok

    @property
    def openssl(self) -> str:
        """How ``openssl ca`` is run on this folder (the directory its paths are read from, and the config)."""
        if self.config is None:
            return "openssl ca needs a configuration (openssl.cnf) for this folder"
        return f"cd {self.base or self.folder} && openssl ca -config {self.config} ..."

    def as_json(self) -> dict:
        return {"folder": str(self.folder), "ok": self.ok, "config": str(self.config) if self.config else None,
                "openssl": self.openssl, "backup": str(self.backup) if self.backup else None,
                "items": [item.as_dict() for item in self.items]}

    def text(self) -> str:
        lines = [f"CA folder {self.folder}" + (f" (configuration {self.config})" if self.config else "")]
        for item in self.items:
            repair = f"; repair: {item.repair}" if item.repair else ""
            lines.append(f"{item.severity.upper():<9}{item.topic:<14}{item.message}{repair}")
        if self.backup is not None:
            lines.append(f"backup of the files changed: {self.backup}")
        errors = len(self.errors)
        lines.append(f"{errors} error{'s' if errors != 1 else ''}: " + (
            "openssl ca can operate this folder" if not errors else "openssl ca cannot operate this folder as it is")
            + f" ({self.openssl})")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()


def check_ca(folder: str | Path, *, config: str | Path | None = None, cwd: str | Path | None = None,
             repair: bool = False, passphrase: bytes | str | None = None,
             at: _dt.datetime | str | None = None) -> CaCheck:
    """Check the CA folder as ``openssl ca`` will read it (see the module docstring); ``repair=True`` repairs what
    is safe, after a backup, and checks again. ``passphrase`` opens an encrypted CA key (otherwise whether it matches
    the certificate is not checked); ``at`` is "now" for the certificate's validity (the lab clock by default).
    Never raises for a damaged folder: every problem is an item of the result."""
    folder = Path(folder).resolve()
    first = _check(folder, config, cwd, passphrase, at)
    if not repair:
        return first[0]
    report, fixes = first
    if not fixes:
        return report
    stamp = lab.now_real().strftime("%Y%m%dT%H%M%SZ")
    backup = folder / f".labkit-backup-{stamp}"
    done = []
    with locked(folder):
        backup.mkdir(exist_ok=True)
        for fix in fixes:
            if fix.path.exists() and fix.path.is_file():
                shutil.copy2(fix.path, backup / fix.path.name)
            fix.apply()
            done.append(fix.what)
    again, _ = _check(folder, config, cwd, passphrase, at)
    items = tuple(CheckItem("repaired", fix.topic, fix.what) for fix in fixes) + again.items
    return CaCheck(folder, items, again.config, again.base, backup, tuple(done))


@dataclass
class _Fix:
    topic: str
    what: str
    path: Path
    apply: object  # a callable


def _check(folder: Path, config, cwd, passphrase, at) -> tuple[CaCheck, list[_Fix]]:
    items: list[CheckItem] = []
    fixes: list[_Fix] = []
    try:
        settings = _config.read(folder, Path(config) if config is not None else None,
                                cwd=Path(cwd) if cwd is not None else None)
    except LabkitError as exc:
        items.append(CheckItem("error", "configuration", exc.message, "name the configuration with --config FILE, "
                               "or create one (appendix B copies openssl.cnf to openssl_local.cfg)"))
        database = folder / "index.txt"
        if database.is_file():
            _database(database, unique_subject(database), None, items, fixes)
        return CaCheck(folder, tuple(items)), fixes
    items.append(CheckItem("ok", "configuration", f"{settings.path} [{settings.section}], paths read from "
                           f"{settings.base}"))
    unique = unique_subject(settings.database, settings.unique_subject)
    where = ("index.txt.attr" if settings.database.with_name(settings.database.name + ".attr").is_file()
             else "the configuration" if settings.unique_subject else "OpenSSL's default, no index.txt.attr")
    items.append(CheckItem("info", "database", f"unique_subject is {'yes' if unique else 'no'} ({where})"))
    entries = _database(settings.database, unique, settings, items, fixes)
    _serial(settings, entries, items, fixes)
    _crlnumber(settings, items, fixes)
    _certificate_and_key(settings, passphrase, at, items)
    if entries is not None:
        _newcerts(settings, entries, items, fixes)
    return CaCheck(folder, tuple(items), settings.path, settings.base), fixes


def _database(path: Path, unique: bool, settings, items: list[CheckItem], fixes: list[_Fix]):
    if not path.is_file():
        items.append(CheckItem("error", "database", f"{path} does not exist: openssl ca cannot open it",
                               f"create it empty (touch {path.name}) only if nothing was issued yet"))
        return None
    text = path.read_bytes().decode("utf-8", "surrogateescape")
    entries, problems = parse_index(text, unique_subject=unique)
    for problem in problems:
        items.append(_problem_item(path, problem))
    safe = [p for p in problems if p.safe]
    if safe:
        def rewrite(text=text):  # every non-empty line, each ended by a newline
            kept = [line.removesuffix("\r") for line in text.split("\n") if line.strip()]
            write_atomic(path, "".join(line + "\n" for line in kept).encode("utf-8", "surrogateescape"),
                         fsync=False)
        fixes.append(_Fix("database", f"{path.name}: " + ", ".join(
            f"line {p.line}: {_REPAIRED[p.rule]}"
            for p in safe), path, rewrite))
    if not problems:
        counts = {status: sum(e.status == status for e in entries) for status in "VRE"}
        items.append(CheckItem("ok", "database", f"{path.name}: {len(entries)} entries ({counts['V']} valid, "
                               f"{counts['R']} revoked, {counts['E']} expired)"))
    return entries


_REPAIRED = {"index-empty-line": "deleted the empty line", "index-newline": "added the newline",
             "index-crlf": "deleted the carriage return"}


def _problem_item(path: Path, problem: IndexProblem) -> CheckItem:
    where = f"{path.name} line {problem.line}" if problem.line else path.name
    how = f"{problem.repair}" + (" (labkit ca check --repair does it)" if problem.safe else "")
    return CheckItem("error", "database", f"{where}: {problem.message}", how)


def _serial(settings, entries, items: list[CheckItem], fixes: list[_Fix]) -> None:
    path = settings.serial
    highest = max((e.serial for e in entries or ()), default=None)
    wanted = (highest + 1) if highest is not None else 1
    if not path.is_file():
        items.append(CheckItem("error", "serial", f"{path} does not exist: openssl ca cannot issue",
                               f"create it with the next serial {serial_hex(wanted)} (labkit ca check --repair "
                               "does it)"))
        fixes.append(_Fix("serial", f"{path.name}: created with {serial_hex(wanted)}", path,
                          lambda: write_number(path, wanted)))
        return
    try:
        number = read_number(path)
    except LabkitError:
        items.append(CheckItem("error", "serial", f"{path.name} does not hold a hex number",
                               "write the next serial in hex by hand (one past the highest in index.txt)"))
        return
    if highest is not None and number <= highest:
        items.append(CheckItem("error", "serial", f"{path.name} says {serial_hex(number)}, but index.txt already "
                               f"holds {serial_hex(highest)}: openssl ca would issue a serial twice",
                               f"set it to {serial_hex(wanted)} (labkit ca check --repair does it)"))
        fixes.append(_Fix("serial", f"{path.name}: {serial_hex(number)} -> {serial_hex(wanted)}", path,
                          lambda: write_number(path, wanted)))
        return
    items.append(CheckItem("ok", "serial", f"{path.name}: next serial {serial_hex(number)}"))


def _crlnumber(settings, items: list[CheckItem], fixes: list[_Fix]) -> None:
    path = settings.crlnumber
    if path is None:
        items.append(CheckItem("info", "crlnumber", "the configuration names no crlnumber: CRLs carry no number"))
        return
    if path.is_file():
        try:
            items.append(CheckItem("ok", "crlnumber", f"{path.name}: next CRL number {serial_hex(read_number(path))}"))
        except LabkitError:
            items.append(CheckItem("error", "crlnumber", f"{path.name} does not hold a hex number",
                                   "write the next CRL number in hex by hand"))
        return
    number = 1
    try:
        crl = load_all(read_file(settings.crl))[0].obj
        number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number + 1
    except (LabkitError, x509.ExtensionNotFound, AttributeError, IndexError):
        pass
    items.append(CheckItem("error", "crlnumber", f"the configuration names {path}, which does not exist: openssl ca "
                           "-gencrl fails (error while loading CRL number)", f"create it with {serial_hex(number)} "
                           "(labkit ca check --repair does it)"))
    fixes.append(_Fix("crlnumber", f"{path.name}: created with {serial_hex(number)}", path,
                      lambda: write_number(path, number)))


def _certificate_and_key(settings, passphrase, at, items: list[CheckItem]) -> None:
    try:
        cert = load_all(read_file(settings.certificate))[0].obj
    except LabkitError as exc:
        items.append(CheckItem("error", "certificate", f"{settings.certificate}: {exc.message}",
                               "point certificate = in the configuration at the CA certificate"))
        return
    moment = lab.now(at)
    state = "valid" if cert.not_valid_before_utc <= moment <= cert.not_valid_after_utc else "NOT valid"
    items.append(CheckItem("ok" if state == "valid" else "warning", "certificate",
                           f"{settings.certificate.name}: {cert.subject.rfc4514_string()}, {state} at "
                           f"{moment:%Y-%m-%d %H:%M} UTC (until {cert.not_valid_after_utc:%Y-%m-%d})"))
    if not settings.private_key.is_file():
        items.append(CheckItem("error", "key", f"{settings.private_key} does not exist: openssl ca cannot sign",
                               "point private_key = in the configuration at the CA key"))
        return
    try:
        key = load_all(read_file(settings.private_key), password=passphrase)[0].obj
    except LabkitError as exc:
        severity = "info" if exc.rule == "key-passphrase" and passphrase is None else "error"
        items.append(CheckItem(severity, "key", f"{settings.private_key.name}: {exc.message} (the match with the "
                               "certificate was not checked)", "give --passphrase-file FILE to check it"
                               if severity == "info" else "check the passphrase"))
        return
    if key.public_key() != cert.public_key():
        items.append(CheckItem("error", "key", f"{settings.private_key.name} is not the key of "
                               f"{settings.certificate.name}: openssl ca would sign with a key that does not match "
                               "(the signatures would not verify)", "point private_key = at the certificate's key"))
    else:
        items.append(CheckItem("ok", "key", f"{settings.private_key.name} is the key of {settings.certificate.name}"))


def _newcerts(settings, entries, items: list[CheckItem], fixes: list[_Fix]) -> None:
    from labkit.ca.database import oneline

    folder = settings.new_certs_dir
    if not folder.is_dir():
        items.append(CheckItem("error", "newcerts", f"{folder} does not exist: openssl ca cannot write what it "
                               "issues", "create the folder (labkit ca check --repair does it)"))
        fixes.append(_Fix("newcerts", f"created {folder.name}/", folder, lambda: folder.mkdir(parents=True)))
        return
    by_serial = {e.serial: e for e in entries}
    lost, clashes = [], []
    for path in sorted(folder.glob("*.pem")):
        try:
            serial = int(path.stem, 16)
        except ValueError:
            continue
        entry = by_serial.get(serial)
        if entry is None:
            lost.append(path.name)
            continue
        try:
            cert = load_all(read_file(path))[0].obj
        except LabkitError:
            continue
        if cert.serial_number != serial or oneline(cert.subject) != entry.subject:
            clashes.append(f"{path.name} ({oneline(cert.subject)}; index.txt says {entry.subject})")
    if lost:
        items.append(CheckItem("error", "newcerts", f"{len(lost)} issued certificate(s) missing from index.txt "
                               f"({', '.join(lost[:5])}{' ...' if len(lost) > 5 else ''}): a process rewrote the "
                               "database while another issued (openssl ca takes no lock), or an issuing process was "
                               "killed after writing the certificate and before its database line (the serial is "
                               "used up; the certificate was never handed out)",
                               "revoke those certificates, or add their lines back by hand (not automatic); take "
                               "turns with openssl ca"))
    if clashes:
        items.append(CheckItem("error", "newcerts", f"serial issued twice: {'; '.join(clashes[:3])}",
                               "revoke both certificates and issue again (not automatic); take turns with openssl ca"))
    if not lost and not clashes:
        items.append(CheckItem("ok", "newcerts", f"{folder.name}/: every certificate is in the database"))
