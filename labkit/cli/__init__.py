"""The ``labkit`` command line: decode, convert, doctor, run a CA, handshake, serve (guide chapters 2-8, appendices).

Exit codes: 0 success; 1 a finding (doctor, handshake); 2 bad input, with a one-line message on stderr that names
the rule, the value and the chapter (never a traceback). The command line works on real time unless ``--at`` gives
an instant, because administrators use it on real certificates; notebooks use the lab clock.

One module per command group: :mod:`.x509` (decode, convert), :mod:`.doctor`, :mod:`.ca` (ca, req), :mod:`.tls`
(handshake), :mod:`.serve`. Only the group of the command being run is imported, so ``labkit decode`` does not
pay for the CA, TLS or server code, and ``labkit --version`` imports none of it (``benchmarks/cli.py`` measures it).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from labkit import __version__
from labkit.errors import LabkitError

__all__ = ["COMMANDS", "HELP", "main", "parser"]

#: Every command, in the order ``labkit --help`` lists them, and the module that defines it.
COMMANDS = {"decode": "labkit.cli.x509", "convert": "labkit.cli.x509", "doctor": "labkit.cli.doctor",
            "ca": "labkit.cli.ca", "req": "labkit.cli.ca", "handshake": "labkit.cli.tls", "serve": "labkit.cli.serve"}

#: The one-line help of each command (shown by ``labkit --help`` without importing the command's module).
HELP = {
    "decode": "print a certificate, CSR, CRL or key like `openssl x509 -text -noout`",
    "convert": "convert between PEM and DER (like `openssl x509 -inform/-outform`)",
    "doctor": "check a certificate or CSR against the guide and explain every finding",
    "ca": "run an OpenSSL-style CA directory (openssl ca can operate it too)",
    "req": "make keys and CSRs for scripting",
    "handshake": "a traced TLS handshake against a real server (ladder, chain, verdict)",
    "serve": "serve a CA's CRL, or answer OCSP for it, on 127.0.0.1 (guide chapter 8)",
}


def parser(argv: list[str] | None = None, *, full: bool = False) -> argparse.ArgumentParser:
    """The argument parser. Only the command named in ``argv`` (or every command, with ``full=True``) gets its
    whole parser; the others are listed with their one-line help, which is all ``labkit --help`` shows."""
    top = argparse.ArgumentParser(
        prog="labkit", description="X.509 certificates as Cisco Expressway uses them: decode, convert, check.")
    top.add_argument("--version", action="version", version=f"labkit {__version__}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = next((arg for arg in (argv if argv is not None else sys.argv[1:]) if not arg.startswith("-")), None)
    for name, module in COMMANDS.items():
        if full or name == chosen:
            importlib.import_module(module).COMMANDS[name](sub)
        else:
            sub.add_parser(name, help=HELP[name])
    return top


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = parser(argv).parse_args(argv)
    try:
        status = args.func(args)
    except LabkitError as exc:
        print(f"labkit {args.command}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"labkit {args.command}: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2
    return status or 0


if __name__ == "__main__":
    sys.exit(main())
