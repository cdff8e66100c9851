"""Run the real ``openssl`` command (and labkit's own command line) beside labkit's Python calls, so every step can
be checked with the tools admins use.

``openssl("x509", "-in", "server.pem", "-noout", "-fingerprint", "-sha256", cwd=folder)`` runs the command and
returns a :class:`Run` that prints as a terminal would (``$ openssl ...`` then its output).
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from labkit import guide, lab
from labkit.errors import LabError

__all__ = ["Run", "openssl", "labkit_command", "available", "attime"]

_TIMEOUT = 60


@dataclass(frozen=True)
class Run:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    program: str = "openssl"

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def command(self) -> str:
        return shlex.join((self.program, *self.args))

    def __str__(self) -> str:
        out = (self.stdout + self.stderr).rstrip("\n")
        return f"$ {self.command}\n{out}" if out else f"$ {self.command}"

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython shows it like a terminal
        printer.text(str(self))


def available() -> bool:
    return shutil.which("openssl") is not None


def openssl(*args: str, cwd: str | Path | None = None, input: bytes | None = None) -> Run:
    """Run ``openssl ARGS...`` (60 s at most) and capture its output."""
    exe = shutil.which("openssl")
    if exe is None:
        raise LabError("The openssl command is not installed: `apt-get install openssl` (or `make test`, which "
                       "installs it when run as root)", rule="openssl-installed", value="openssl",
                       chapter=guide.APPX_B)
    try:
        done = subprocess.run([exe, *map(str, args)], cwd=cwd, input=input, capture_output=True,
                              timeout=_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise LabError("openssl did not finish in time", rule="openssl-timeout", value=shlex.join(args)) from None
    return Run(tuple(map(str, args)), done.returncode, done.stdout.decode(errors="replace"),
               done.stderr.decode(errors="replace"))


def labkit_command(*args: str, cwd: str | Path | None = None) -> Run:
    """Run the ``labkit`` command line (with this Python, so it works from any kernel) and capture its output."""
    try:
        done = subprocess.run([sys.executable, "-m", "labkit", *map(str, args)], cwd=cwd, capture_output=True,
                              timeout=_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise LabError("labkit did not finish in time", rule="labkit-timeout", value=shlex.join(args)) from None
    return Run(tuple(map(str, args)), done.returncode, done.stdout.decode(errors="replace"),
               done.stderr.decode(errors="replace"), program="labkit")


def attime(at=None) -> str:
    """The lab instant as the seconds OpenSSL's ``-attime`` option takes (``openssl verify -attime N``)."""
    return str(int(lab.now(at).timestamp()))
