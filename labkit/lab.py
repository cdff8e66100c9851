"""The deterministic lab: a lab clock, named fixture keys and counter serials.

Every notebook run gives byte-identical output because three sources of change are pinned:

* **time** comes from :data:`clock`, frozen at :data:`DEFAULT_INSTANT` (Monday 5 January 2026, 09:00 UTC) until
  someone calls :func:`use_real_time`;
* **keys** are named fixture keys shipped with the package (:func:`fixture_key`); a fresh random key is the explicit
  :func:`new_key`;
* **serial numbers** of certificates labkit issues come from a counter (:func:`next_serial`) starting at 0x1000,
  as OpenSSL's ``serial`` file would.

RSA PKCS#1 v1.5 signatures are deterministic for a fixed key and message, so with the three pinned, certificates,
fingerprints and PEM are identical on every run. :func:`reset` puts all three back.

The command line does the opposite by default (real time, fresh keys) because administrators use it on real
certificates; ``--at`` and ``--lab-key`` opt in to the lab.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as _dt
import os
import re
import shutil
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from labkit import guide
from labkit.errors import LabError

__all__ = [
    "DEFAULT_INSTANT",
    "FIRST_SERIAL",
    "LONG",
    "LONG_END",
    "FIXTURE_KEYS",
    "FixtureKeySpec",
    "LabClock",
    "clock",
    "now",
    "parse_instant",
    "now_real",
    "use_real_time",
    "use_lab_time",
    "fixture_key",
    "new_key",
    "next_serial",
    "workdir",
    "work_root",
    "reset",
    "reset_all",
    "ResetReport",
    "reset_plan",
    "ResetPlan",
    "started",
    "stopped",
    "on_reset_all",
]

UTC = _dt.timezone.utc
DEFAULT_INSTANT = _dt.datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)
FIRST_SERIAL = 0x1000
#: Where the lab's long-lived certificates end. Certificates that real tools check at the machine's clock (OpenSSL,
#: Python's ``ssl``, Pebble's clients) cannot use the frozen lab clock, so they are made valid from the lab instant
#: until the end of 2049: years away on any machine's clock, and still before 2050, from which X.509 dates are
#: written differently (RFC 5280 4.1.2.5) and doctor warns.
LONG_END = _dt.datetime(2049, 12, 31, 0, 0, 0, tzinfo=UTC)
#: Days from the lab instant to :data:`LONG_END` (the ``days=`` such certificates are issued with).
LONG = (LONG_END - DEFAULT_INSTANT).days
def parse_instant(text: str) -> _dt.datetime:
    """Parse an ISO 8601 instant (``2026-01-05T09:00:00Z``); a naive value is taken as UTC."""
    try:
        value = _dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise LabError(
            "Not an ISO 8601 instant; write it like 2026-01-05T09:00:00Z",
            rule="iso8601-instant",
            value=text,
            chapter=guide.NB00_CLOCK,
        ) from None
    return _as_utc(value)


def _as_utc(value: _dt.datetime) -> _dt.datetime:
    if not isinstance(value, _dt.datetime):
        raise LabError("An instant must be a datetime", rule="instant-type", value=value, chapter=guide.NB00_CLOCK)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _system_now() -> _dt.datetime:
    """The machine's clock (UTC): the only place labkit reads it."""
    return _dt.datetime.now(UTC)


class LabClock:
    """The lab's notion of "now": frozen at an instant by default, or following real time."""

    def __init__(self, instant: _dt.datetime = DEFAULT_INSTANT):
        self._instant: _dt.datetime | None = _as_utc(instant)

    @property
    def frozen(self) -> bool:
        return self._instant is not None

    def now(self) -> _dt.datetime:
        """The current lab instant (UTC, whole seconds: X.509 times have no fractions)."""
        if self._instant is None:
            return _system_now().replace(microsecond=0)
        return self._instant

    def set(self, instant: _dt.datetime | str) -> _dt.datetime:
        """Freeze the clock at ``instant`` (a datetime or an ISO 8601 string)."""
        value = parse_instant(instant) if isinstance(instant, str) else _as_utc(instant)
        self._instant = value.replace(microsecond=0)
        return self._instant

    def advance(self, **span: float) -> _dt.datetime:
        """Move a frozen clock forward (to see a certificate expire, a CRL go stale ...) by ``span``, in the keywords
        of ``datetime.timedelta``: ``weeks``, ``days``, ``hours``, ``minutes``, ``seconds``, ``milliseconds``,
        ``microseconds`` (a negative value moves it back). Returns the new instant (whole seconds). Raises LabError
        ``advance-frozen-clock-only`` on a clock that follows real time, ``clock-advance`` for another keyword or a
        value that is not a number."""
        try:
            delta = _dt.timedelta(**span)
        except (TypeError, OverflowError):
            raise LabError("Advance the clock with the keywords of datetime.timedelta and numbers: weeks, days, "
                           "hours, minutes, seconds (clock.advance(weeks=1))", rule="clock-advance",
                           value=", ".join(f"{k}={v!r}" for k, v in span.items()) or "nothing",
                           chapter=guide.NB00_CLOCK) from None
        if self._instant is None:
            raise LabError(
                "The clock follows real time; freeze it with use_lab_time() before advancing it",
                rule="advance-frozen-clock-only",
                value="real time",
                chapter=guide.NB00_CLOCK,
            )
        try:
            return self.set(self._instant + delta)
        except OverflowError:
            raise LabError("That moves the clock past the years a datetime can hold", rule="clock-advance",
                           value=str(delta), chapter=guide.NB00_CLOCK) from None

    def use_real_time(self) -> None:
        self._instant = None

    def __repr__(self) -> str:
        state = self._instant.isoformat() if self._instant else "real time"
        return f"LabClock({state})"


clock = LabClock()


def now(at: _dt.datetime | str | None = None) -> _dt.datetime:
    """``at`` if given (as UTC), else the lab clock's instant: the one place labkit asks for "now"."""
    if at is None:
        return clock.now()
    return parse_instant(at) if isinstance(at, str) else _as_utc(at)


def now_real() -> _dt.datetime:
    """The machine's real time (UTC, whole seconds), whatever the lab clock says: the command line's "now"."""
    return _system_now().replace(microsecond=0)


def use_real_time() -> None:
    """Switch the lab clock to the machine's real time (one call, undone by :func:`use_lab_time`)."""
    clock.use_real_time()


def use_lab_time(instant: _dt.datetime | str = DEFAULT_INSTANT) -> _dt.datetime:
    """Freeze the lab clock again, at the default instant unless told otherwise."""
    return clock.set(instant)


@dataclass(frozen=True)
class FixtureKeySpec:
    name: str
    kind: str  # "rsa" or "ec"
    size: int
    role: str


FIXTURE_KEYS: dict[str, FixtureKeySpec] = {
    spec.name: spec
    for spec in (
        FixtureKeySpec("root-ca", "rsa", 2048, "root certificate authority"),
        FixtureKeySpec("issuing-ca", "rsa", 2048, "issuing (signing) certificate authority"),
        FixtureKeySpec("rogue-ca", "rsa", 2048, "a CA nobody trusts, for failure labs"),
        FixtureKeySpec("ocsp-signer", "rsa", 2048, "delegated OCSP responder"),
        FixtureKeySpec("expc-1", "rsa", 2048, "Expressway-C peer 1"),
        FixtureKeySpec("expc-2", "rsa", 2048, "Expressway-C peer 2"),
        FixtureKeySpec("expc-3", "rsa", 2048, "Expressway-C peer 3"),
        FixtureKeySpec("expe-1", "rsa", 2048, "Expressway-E peer 1"),
        FixtureKeySpec("expe-2", "rsa", 2048, "Expressway-E peer 2"),
        FixtureKeySpec("ucm", "rsa", 2048, "Unified CM"),
        FixtureKeySpec("imp", "rsa", 2048, "IM and Presence Service"),
        FixtureKeySpec("trainee", "rsa", 2048, "the trainee's own key"),
        FixtureKeySpec("rsa-4096", "rsa", 4096, "a 4096-bit RSA key"),
        FixtureKeySpec("rsa-8192", "rsa", 8192, "an 8192-bit RSA key (appendix A)"),
        FixtureKeySpec("ec-p256", "ec", 256, "an EC P-256 key"),
    )
}


@cache
def _load_fixture(name: str):
    from importlib import resources  # imported here: the command line starts faster without it

    data = resources.files("labkit").joinpath("data", "keys", f"{name}.key.pem").read_bytes()
    # The shipped keys are known good: skip the RSA consistency check (seconds for an 8192-bit key).
    return serialization.load_pem_private_key(data, password=None, unsafe_skip_rsa_key_validation=True)


def fixture_key(name: str):
    """The named fixture key shipped with labkit (the same on every machine and every run).

    These keys are public teaching material: never use them for anything real.
    """
    if name not in FIXTURE_KEYS:
        raise LabError(
            f"No fixture key of that name; choose one of: {', '.join(FIXTURE_KEYS)}",
            rule="fixture-key-name",
            value=name,
            chapter=guide.NB00_CLOCK,
        )
    return _load_fixture(name)


def new_key(kind: str = "rsa", size: int = 2048):
    """A fresh random private key: ``("rsa", 2048|3072|4096|8192)`` or ``("ec", 256|384)``."""
    if kind == "rsa":
        if size not in (2048, 3072, 4096, 8192):
            raise LabError(
                "RSA key sizes in the lab are 2048, 3072, 4096 or 8192 bits (the guide recommends 2048 or 4096)",
                rule="rsa-key-size",
                value=size,
                chapter=guide.CH3,
            )
        return rsa.generate_private_key(public_exponent=65537, key_size=size)
    if kind == "ec":
        curves = {256: ec.SECP256R1(), 384: ec.SECP384R1()}
        if size not in curves:
            raise LabError("EC keys in the lab are P-256 or P-384", rule="ec-curve", value=size,
                           chapter=guide.NB00_CLOCK)
        return ec.generate_private_key(curves[size])
    raise LabError("Key type must be 'rsa' or 'ec'", rule="key-type", value=kind, chapter=guide.NB00_CLOCK)


class _SerialCounter:
    def __init__(self, first: int = FIRST_SERIAL):
        self.first = first
        self._next = first

    def take(self) -> int:
        value, self._next = self._next, self._next + 1
        return value

    def reset(self) -> None:
        self._next = self.first


_serials = _SerialCounter()


def next_serial() -> int:
    """The next certificate serial number of this lab session (0x1000, 0x1001, ...)."""
    return _serials.take()


def _work_root() -> Path:
    return Path(os.environ.get("LABKIT_WORKDIR") or Path.cwd() / "lab-work")


def work_root() -> Path:
    """The folder :func:`workdir` makes its folders in (``lab-work`` below the current folder, or
    ``$LABKIT_WORKDIR``), as an absolute path; it may not exist yet."""
    return _work_root().resolve()


def workdir(name: str, *, fresh: bool = False) -> Path:
    """A clean-named working folder for one notebook or exercise (``lab-work/NAME`` below the current folder,
    or below ``$LABKIT_WORKDIR``), created if missing; ``fresh=True`` empties it first, so a notebook that builds
    CA directories can run again from the top. Files the lab writes for OpenSSL to read go here."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", name):
        raise LabError("A working folder name is letters, digits, '.', '_' or '-' (at most 64)",
                       rule="workdir-name", value=name, chapter=guide.NB00_CLOCK)
    path = _work_root() / name
    if fresh:
        shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    return path


def reset(*, workdirs: bool = False) -> None:
    """Put the lab back as it starts: clock at the default instant, serial counter at 0x1000; with
    ``workdirs=True`` also delete every working folder made by :func:`workdir`."""
    clock.set(DEFAULT_INSTANT)
    _serials.reset()
    if workdirs:
        shutil.rmtree(_work_root(), ignore_errors=True)


# -- the instructor's reset: servers, session state, clock, serials and working folders in one call ---------------

_SERVICES: weakref.WeakSet = weakref.WeakSet()  # running things the lab started (HTTP servers, Pebble): have stop()
_FORGET: list[Callable[[], None]] = []  # session state other modules keep (exercise results)


def started(service) -> None:
    """Called by a lab server's ``start()``: :func:`reset_all` will stop it, and so will the end of the Python
    process (the kernel): a lab server lives as long as the kernel that started it, or until :func:`reset_all`."""
    _SERVICES.add(service)


@atexit.register
def _stop_services_at_exit() -> None:
    """The kernel ends: stop what the lab started (sockets closed, Pebble's processes ended and its folder removed)
    rather than leave it to the end of the process."""
    for service in list(_SERVICES):
        with contextlib.suppress(Exception):  # noqa: BLE001 - at exit, one server that fails to stop stops no other
            service.stop()


def stopped(service) -> None:
    """Called by a lab server's ``stop()``."""
    _SERVICES.discard(service)


def on_reset_all(forget: Callable[[], None]) -> Callable[[], None]:
    """Register a function that clears some session state when :func:`reset_all` runs."""
    _FORGET.append(forget)
    return forget


@dataclass(frozen=True)
class ResetReport:
    """What :func:`reset_all` did: servers stopped and working folders deleted."""

    stopped: tuple[str, ...]
    removed: tuple[str, ...]
    instant: _dt.datetime

    def __str__(self) -> str:
        return (f"lab reset: clock at {self.instant:%Y-%m-%d %H:%M} UTC, serials from {FIRST_SERIAL:#x}; "
                f"stopped {len(self.stopped)} server(s){': ' + ', '.join(self.stopped) if self.stopped else ''}; "
                f"deleted {len(self.removed)} working folder(s){': ' + ', '.join(self.removed) if self.removed else ''}"
                "; exercise results forgotten")


def reset_all() -> ResetReport:
    """Put the whole lab back as a class starts it: stop every server the lab started (CRL, OCSP, ACME host,
    Pebble), forget exercise results, clock and serial counter back, and delete every working folder."""
    names = []
    for service in list(_SERVICES):
        names.append(f"{type(service).__name__} on port {getattr(service, 'port', '?')}")
        service.stop()
        _SERVICES.discard(service)
    for forget in _FORGET:
        forget()
    root = _work_root()
    removed = tuple(sorted(p.name for p in root.iterdir() if p.is_dir())) if root.is_dir() else ()
    reset(workdirs=True)
    return ResetReport(tuple(sorted(names)), removed, DEFAULT_INSTANT)


@dataclass(frozen=True)
class ResetPlan:
    """What :func:`reset_all` would do now, without doing it (the clinic asks before it resets): the servers it
    would stop, the working folders it would delete and the folder they are in."""

    servers: tuple[str, ...]
    folders: tuple[str, ...]
    root: Path


def reset_plan() -> ResetPlan:
    """What :func:`reset_all` would stop and delete if it ran now; nothing is changed."""
    servers = tuple(sorted(f"{type(s).__name__} on port {getattr(s, 'port', '?')}" for s in list(_SERVICES)))
    root = _work_root()
    folders = tuple(sorted(p.name for p in root.iterdir() if p.is_dir())) if root.is_dir() else ()
    return ResetPlan(servers, folders, root)
