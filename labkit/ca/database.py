"""OpenSSL's CA database, exactly as ``openssl ca`` writes it, and a lock around every change.

``index.txt`` has one line per certificate, six TAB-separated fields: status (``V`` valid, ``R`` revoked, ``E``
expired), expiry time, revocation time with an optional ``,reason``, serial in upper-case hex, file name
(``unknown``) and the subject as ``/C=GB/O=Lab/CN=x``. ``serial`` and ``crlnumber`` hold the *next* number in hex.
Times are ``YYMMDDHHMMSSZ`` before 2050 and ``YYYYMMDDHHMMSSZ`` from 2050 on (RFC 5280's UTCTime rule).

OpenSSL itself has no locking; labkit takes an exclusive ``flock`` on ``.labkit.lock`` for every update and replaces
files atomically, so several labkit processes can issue into one directory.
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
from labkit.x509.text import oid_short_name

__all__ = ["IndexEntry", "openssl_time", "parse_openssl_time", "serial_hex", "read_index", "write_index",
           "append_index", "read_number", "write_number", "oneline", "locked", "DirectoryLock"]

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


def read_index(path: Path) -> list[IndexEntry]:
    if not path.exists():
        return []
    return [IndexEntry.parse(line, n) for n, line in enumerate(path.read_text().splitlines(), 1) if line.strip()]


def write_index(path: Path, entries: list[IndexEntry]) -> None:
    write_atomic(path, "".join(entry.line() + "\n" for entry in entries), fsync=False)


def append_index(path: Path, entries: list[IndexEntry]) -> None:
    """Add lines with a single ``write`` (a process killed around it leaves the old file or all the new lines)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, "".join(entry.line() + "\n" for entry in entries).encode())
    finally:
        os.close(fd)


def read_number(path: Path) -> int:
    """The hex number in a ``serial`` or ``crlnumber`` file."""
    try:
        text = path.read_text().strip()
        return int(text, 16)
    except FileNotFoundError:
        raise InputError("The CA directory has no such file", rule="ca-layout", value=str(path),
                         chapter=guide.APPX_B) from None
    except ValueError:
        raise InputError("Not a hex number", rule="serial-file", value=str(path), chapter=guide.APPX_B) from None


def write_number(path: Path, number: int) -> None:
    """Replace a ``serial`` or ``crlnumber`` file through ``NAME.new`` and a rename, as OpenSSL does; callers hold
    the lock, so the fixed temporary name is safe (and much cheaper than a random one)."""
    tmp = path.with_name(path.name + ".new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, (serial_hex(number) + "\n").encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)


class DirectoryLock:
    """The CA directory's exclusive lock (``flock`` on ``.labkit.lock``), re-entrant within one process.

    The lock file stays open between updates (opening it costs more than locking it), so each update is one
    ``flock`` and one unlock.
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
            self._fd = os.open(self.folder / ".labkit.lock", os.O_CREAT | os.O_RDWR, 0o644)
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
        self._depth = 1
        try:
            yield
        finally:
            self._depth = 0
            fcntl.flock(self._fd, fcntl.LOCK_UN)

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
