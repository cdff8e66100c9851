"""OpenSSL's CA database, exactly as ``openssl ca`` writes it, read as strictly as ``openssl ca`` reads it, and a lock
around every change.

``index.txt`` has one line per certificate, six TAB-separated fields: status (``V`` valid, ``R`` revoked, ``E``
expired), expiry time, revocation time with an optional ``,reason``, serial in upper-case hex, file name
(``unknown``) and the subject as ``/C=GB/O=Lab/CN=x``. ``serial`` and ``crlnumber`` hold the *next* number in hex.
Times are ``YYMMDDHHMMSSZ`` before 2050 and ``YYYYMMDDHHMMSSZ`` from 2050 on (RFC 5280's UTCTime rule).

What makes ``openssl ca`` refuse a database (OpenSSL 3.0, measured; :func:`parse_index` reports each with its line
number and its repair): a line that is not six fields (an empty line too: ``echo "" > index.txt`` makes one), a
revocation date on a line that is not ``R`` or none on an ``R`` line, a bad expiry time, a serial of odd length or
with a character that is not hex, a serial twice, and, when ``unique_subject`` is on, two ``V`` lines with one
subject (``TXT_DB error number 2``). A last line without its newline is silently ignored by OpenSSL, and a line
starting with ``#`` is a comment. ``unique_subject`` comes from ``index.txt.attr``, else from the configuration's CA
section, else it is on (:func:`unique_subject`).

OpenSSL itself has no locking; labkit takes an exclusive ``flock`` on the CA folder for every update and replaces
files atomically, so several labkit processes can issue into one directory. ``openssl ca`` running at the same time
ignores that lock: take turns.
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from cryptography import x509

from labkit import guide
from labkit.errors import InputError, LabError
from labkit.x509.files import write_atomic
from labkit.x509.reasons import REASONS
from labkit.x509.text import oid_short_name

__all__ = ["IndexEntry", "IndexProblem", "openssl_time", "parse_openssl_time", "serial_hex", "read_index",
           "parse_index", "unique_subject", "write_index", "append_index", "read_number", "write_number", "oneline",
           "locked", "DirectoryLock"]

UTC = _dt.timezone.utc



def openssl_time(moment: _dt.datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y%m%d%H%M%SZ" if moment.year >= 2050 else "%y%m%d%H%M%SZ")


def parse_openssl_time(text: str) -> _dt.datetime:
    fmt = "%Y%m%d%H%M%SZ" if len(text) == 15 else "%y%m%d%H%M%SZ"
    try:
        return _dt.datetime.strptime(text, fmt).replace(tzinfo=UTC)
    except ValueError:
        raise InputError("Not an OpenSSL database time (YYMMDDHHMMSSZ)", rule="index-time", value=text,
                         chapter=guide.APPX_B) from None


def serial_hex(serial: int) -> str:
    """Upper-case hex in whole bytes, as OpenSSL writes serials (``1000``, ``0A``)."""
    text = f"{serial:X}"
    return "0" + text if len(text) % 2 else text


def oneline(name: x509.Name) -> str:
    """The subject as OpenSSL's database writes it: ``/C=GB/O=Lab/CN=x`` (X509_NAME_oneline)."""
    parts = []
    for attribute in name:
        value = attribute.value if isinstance(attribute.value, str) else attribute.value.hex()
        escaped = "".join(ch if 32 <= ord(ch) < 127 else "".join(f"\\x{b:02X}" for b in ch.encode()) for ch in value)
        parts.append(f"/{oid_short_name(attribute.oid.dotted_string)}={escaped}")
    return "".join(parts)


@dataclass(frozen=True)
class IndexEntry:
    """One line of ``index.txt``."""

    status: str
    expiry: _dt.datetime
    serial: int
    subject: str
    revoked_at: _dt.datetime | None = None
    reason: str | None = None
    filename: str = "unknown"

    @property
    def serial_hex(self) -> str:
        return serial_hex(self.serial)

    def line(self) -> str:
        revoked = ""
        if self.revoked_at is not None:
            revoked = openssl_time(self.revoked_at) + (f",{self.reason}" if self.reason else "")
        return "\t".join((self.status, openssl_time(self.expiry), revoked, self.serial_hex, self.filename,
                          self.subject))

    @classmethod
    def parse(cls, line: str, number: int = 0) -> IndexEntry:
        fields = line.rstrip("\n").split("\t")
        if len(fields) != 6 or fields[0] not in ("V", "R", "E"):
            raise InputError(f"index.txt line {number} is not six TAB-separated fields starting V, R or E",
                             rule="index-line", value=line.strip(), chapter=guide.APPX_B)
        status, expiry, revoked, serial, filename, subject = fields
        when, _, reason = revoked.partition(",")
        try:
            serial_number = int(serial, 16)
        except ValueError:
            raise InputError(f"index.txt line {number}: the serial is not hex", rule="index-serial", value=serial,
                             chapter=guide.APPX_B) from None
        return cls(status, parse_openssl_time(expiry), serial_number, subject,
                   parse_openssl_time(when) if when else None, reason or None, filename)

    def revoke(self, at: _dt.datetime, reason: str | None) -> IndexEntry:
        return replace(self, status="R", revoked_at=at, reason=None if reason == "unspecified" else reason)

    @property
    def status_word(self) -> str:
        return {"V": "Valid", "R": "Revoked", "E": "Expired"}[self.status]


@dataclass(frozen=True)
class IndexProblem:
    """One thing in ``index.txt`` that ``openssl ca`` cannot live with: where (``line``, from 1; None for the whole
    file), what (``rule``, ``message``), how to repair it, and whether ``labkit ca check --repair`` may do that
    (``safe``: the repair loses nothing)."""

    line: int | None
    rule: str
    message: str
    repair: str
    safe: bool = False
    text: str = ""

    def error(self, path: Path) -> InputError:
        where = f"{path.name} line {self.line}" if self.line else path.name
        tool = f"; `labkit ca check {path.parent} --repair` does it, after a backup" if self.safe else ""
        return InputError(f"{where}: {self.message}; openssl ca cannot use this database as it is. Repair: "
                          f"{self.repair}{tool}", rule=self.rule, value=self.text or str(path), chapter=guide.APPX_B)


_HEX = set("0123456789abcdefABCDEF")
#: The reasons ``openssl ca`` accepts after a revocation time (``crl_reasons`` in apps/ca.c).
_REASON_NAMES = set(REASONS) | {"holdInstruction", "keyTime", "CAkeyTime"}


def _time_ok(text: str) -> bool:
    if len(text) not in (13, 15) or not text.endswith("Z") or not text[:-1].isdigit():
        return False
    try:
        parse_openssl_time(text)
        return True
    except InputError:
        return False


def parse_index(text: str, *, unique_subject: bool = False) -> tuple[list[IndexEntry], list[IndexProblem]]:
    """The entries of an ``index.txt`` and every problem ``openssl ca`` would have with it, in line order."""
    entries: list[IndexEntry] = []
    problems: list[IndexProblem] = []
    serials: dict[str, int] = {}
    subjects: dict[str, int] = {}
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    elif lines:
        problems.append(IndexProblem(len(lines), "index-newline", "the last line has no newline at its end, so "
                                     "openssl ca ignores that certificate", "add the newline (safe)", True,
                                     lines[-1]))
    for number, line in enumerate(lines, 1):
        if line.endswith("\r"):  # a Windows line end: OpenSSL keeps the CR in the subject, so unique_subject misses
            problems.append(IndexProblem(number, "index-crlf", "the line ends with a carriage return (a Windows line "
                                         "end, from an editor or a copy): OpenSSL keeps it as part of the subject, "
                                         "so a same-subject check never matches", "delete the carriage return "
                                         "(safe)", True, repr(line[-20:])))
            line = line[:-1]
        if line.startswith("#"):
            continue
        if not line.strip():
            problems.append(IndexProblem(number, "index-empty-line", "an empty line (as `echo \"\" > index.txt` "
                                         "makes); OpenSSL needs six fields on every line", "delete the line (safe; "
                                         "`touch index.txt` makes an empty database)", True, repr(line)))
            continue
        fields = line.split("\t")
        if len(fields) != 6 or fields[0] not in ("V", "R", "E"):
            problems.append(IndexProblem(number, "index-line", "not six TAB-separated fields starting V, R or E",
                                         "correct the line by hand, or remove the certificate's line if it was "
                                         "never issued (not automatic)", False, line))
            continue
        status, expiry, revoked, serial, _, subject = fields
        problem = _field_problem(status, expiry, revoked, serial)
        if problem is not None:
            rule, message = problem
            problems.append(IndexProblem(number, rule, message, "correct the field by hand (not automatic: labkit "
                                         "cannot know the right value)", False, line))
            continue
        key = serial.upper().lstrip("0") or "0"
        if key in serials:
            problems.append(IndexProblem(number, "index-duplicate-serial", f"serial {serial} is on line "
                                         f"{serials[key]} too; two processes issued it at once (openssl ca takes no "
                                         "lock), or a line was copied", "keep the line of the certificate in "
                                         f"newcerts/{serial}.pem and revoke the other certificate (not automatic)",
                                         False, line))
            continue
        serials[key] = number
        if unique_subject and status == "V":
            if subject in subjects:
                problems.append(IndexProblem(number, "index-duplicate-subject", f"line {subjects[subject]} is a "
                                             f"valid certificate with the same subject {subject}, and unique_subject "
                                             "is on (TXT_DB error number 2)", "revoke one of them, or set "
                                             "unique_subject = no in index.txt.attr (not automatic)", False, line))
                continue
            subjects[subject] = number
        entries.append(IndexEntry.parse(line, number))
    return entries, problems


def _field_problem(status: str, expiry: str, revoked: str, serial: str) -> tuple[str, str] | None:
    if not _time_ok(expiry):
        return "index-time", f"the expiry time {expiry!r} is not YYMMDDHHMMSSZ (or YYYYMMDDHHMMSSZ from 2050)"
    when, _, reason = revoked.partition(",")
    reason = reason.split(",")[0]  # certificateHold,OID and keyTime,TIME carry a second value
    if status == "R" and not _time_ok(when):
        return "index-revocation", "an R (revoked) line needs a revocation time"
    if status != "R" and revoked:
        return "index-revocation", f"a {status} line has a revocation time (not revoked yet, but has a revocation date)"
    if reason and reason not in _REASON_NAMES:
        return "index-revocation", f"the revocation reason {reason!r} is not one OpenSSL knows"
    if len(serial) < 2 or len(serial) % 2 or any(ch not in _HEX for ch in serial):
        return "index-serial", f"the serial {serial!r} is not an even number of hex digits"
    return None


def unique_subject(database: Path, configured: str | None = None) -> bool:
    """Whether ``openssl ca`` refuses a second valid certificate with one subject: ``unique_subject`` from
    ``index.txt.attr`` (the database's ``.attr`` file), else ``configured`` (the CA section's value), else yes."""
    attr = database.with_name(database.name + ".attr")
    value = None
    if attr.is_file():
        for line in attr.read_text(errors="replace").splitlines():
            key, sep, rest = line.split("#", 1)[0].partition("=")
            if sep and key.strip() == "unique_subject":
                value = rest.strip()
    if value is None:
        value = configured
    if not value:
        return True
    return value[0] not in "nNfF0"


def read_index(path: Path, *, unique_subject: bool = False) -> list[IndexEntry]:
    """The entries of ``index.txt`` (none when it does not exist); a database ``openssl ca`` could not use is
    refused with the first problem's line number and repair (:class:`IndexProblem`)."""
    if not path.exists():
        return []
    entries, problems = parse_index(path.read_bytes().decode("utf-8", "surrogateescape"), unique_subject=unique_subject)
    if problems:
        raise problems[0].error(path)
    return entries


def write_index(path: Path, entries: list[IndexEntry]) -> None:
    write_atomic(path, "".join(entry.line() + "\n" for entry in entries).encode("utf-8", "surrogateescape"),
                 fsync=False)


def append_index(path: Path, entries: list[IndexEntry]) -> None:
    """Add lines with a single ``write`` (a process killed around it leaves the old file or all the new lines)."""
    created = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        if created:
            os.fchmod(fd, 0o644)  # whatever the umask
        os.write(fd, "".join(entry.line() + "\n" for entry in entries).encode("utf-8", "surrogateescape"))
    finally:
        os.close(fd)


def read_number(path: Path) -> int:
    """The hex number in a ``serial`` or ``crlnumber`` file: hex digits only (no sign), at most 20 octets (RFC 5280
    4.1.2.2 and 5.2.3). Raises InputError ``ca-layout`` (missing) or ``serial-file`` (anything else, named by the
    file: its bytes are not quoted)."""
    try:
        text = path.read_bytes().decode("ascii").strip()
    except FileNotFoundError:
        raise InputError("The CA directory has no such file", rule="ca-layout", value=str(path),
                         chapter=guide.APPX_B) from None
    except UnicodeDecodeError:
        text = "?"
    except IsADirectoryError:
        raise InputError("A folder where the CA keeps a number in a file", rule="serial-file", value=str(path),
                         chapter=guide.APPX_B) from None
    if not text or any(ch not in _HEX for ch in text):
        raise InputError(f"{path.name} does not hold a hex number (as `openssl ca` writes it: 1000, 0A ...); "
                         "`labkit ca check` shows the serials in use", rule="serial-file", value=str(path),
                         chapter=guide.APPX_B)
    number = int(text, 16)
    if number.bit_length() > 159:
        raise InputError(f"{path.name} holds a number longer than 20 octets, more than a serial or CRL number may "
                         "have (RFC 5280 4.1.2.2)", rule="serial-file", value=str(path), chapter=guide.APPX_B)
    return number


def write_number(path: Path, number: int) -> None:
    """Replace a ``serial`` or ``crlnumber`` file through ``NAME.new`` and a rename, as OpenSSL does; callers hold
    the lock, so the fixed temporary name is safe (and much cheaper than a random one)."""
    tmp = path.with_name(path.name + ".new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.fchmod(fd, 0o644)  # whatever the umask
        os.write(fd, (serial_hex(number) + "\n").encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)


class DirectoryLock:
    """The CA directory's exclusive lock (``flock`` on the folder itself), re-entrant within one process.

    Locking the folder, not a file in it, means the lock leaves nothing on disk: a refused command changes nothing,
    not even by creating a lock file. The folder stays open between updates (opening it costs more than locking it),
    so each update is one ``flock`` and one unlock.
    """

    def __init__(self, folder: Path, timeout: float = 30.0):
        self.folder, self.timeout = folder, timeout
        self._fd: int | None = None
        self._depth = 0

    @contextmanager
    def held(self):
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        if self._fd is None:
            try:
                self._fd = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY)
            except OSError as exc:
                raise InputError(f"Cannot open the CA folder: {exc.strerror}", rule="ca-layout",
                                 value=str(self.folder), chapter=guide.APPX_B) from None
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LabError("Another process holds the CA directory's lock", rule="ca-lock",
                                   value=str(self.folder), chapter=guide.APPX_B) from None
                time.sleep(0.002)
        try:
            self.check_present()
        except LabError:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            self.close()
            raise
        self._depth = 1
        try:
            yield
        finally:
            self._depth = 0
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def check_present(self) -> None:
        """The CA folder is still there (and, once it was opened, still the same folder); else LabError
        ``ca-folder-gone``: deleted since the CA was opened (``lab.reset_all()`` deletes the lab's working folders) or
        replaced by another folder. Nothing is read or written in its place."""
        try:
            now = os.stat(self.folder)
        except OSError:
            now = None
        held = os.fstat(self._fd) if self._fd is not None else now
        if now is None or (now.st_dev, now.st_ino) != (held.st_dev, held.st_ino):
            what = "was deleted" if now is None else "was replaced by another folder"
            raise LabError(f"This CA's folder {what} since it was opened (lab.reset_all() deletes the lab's working "
                           "folders): open or make the CA again (in a notebook, run its cell again)",
                           rule="ca-folder-gone", value=str(self.folder), chapter=guide.APPX_B)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        self.close()


@contextmanager
def locked(folder: Path, timeout: float = 30.0):
    """Hold the CA directory's lock for one update (a one-off :class:`DirectoryLock`)."""
    lock = DirectoryLock(folder, timeout)
    try:
        with lock.held():
            yield
    finally:
        lock.close()
