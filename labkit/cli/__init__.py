"""The ``labkit`` command line: decode, convert, doctor, run a CA, handshake, probe, serve (guide chapters 2-8,
appendices).

Exit codes: 0 success; 1 a finding (doctor, handshake, probe); 2 bad input, with a one-line message on stderr that
names the rule, the value and the chapter (never a traceback). The command line works on real time unless ``--at``
gives an instant, because administrators use it on real certificates; notebooks use the lab clock.

One module per command group: :mod:`.x509` (decode, convert, verify), :mod:`.doctor`, :mod:`.ca` (ca, req),
:mod:`.tls` (handshake), :mod:`.probe`, :mod:`.serve`. Only the group of the command being run is imported, so
``labkit decode`` does not pay for the CA, TLS or server code, and ``labkit --version`` imports none of it
(``benchmarks/cli.py`` measures it).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from labkit import __version__
from labkit.errors import LabkitError

__all__ = ["COMMANDS", "HELP", "main", "parser", "read_input", "add_password_file"]

#: Every command, in the order ``labkit --help`` lists them, and the module that defines it.
COMMANDS = {"decode": "labkit.cli.x509", "convert": "labkit.cli.x509", "verify": "labkit.cli.x509",
            "doctor": "labkit.cli.doctor", "ca": "labkit.cli.ca", "req": "labkit.cli.ca", "handshake": "labkit.cli.tls",
            "probe": "labkit.cli.probe", "serve": "labkit.cli.serve"}

#: The one-line help of each command (shown by ``labkit --help`` without importing the command's module).
HELP = {
    "decode": "print a certificate, CSR, CRL or key like `openssl x509 -text -noout`",
    "convert": "convert between PEM and DER, and take PKCS#7 and PKCS#12 files apart (like `openssl x509`, "
               "`pkcs7 -print_certs`, `pkcs12`)",
    "verify": "verify a certificate's chain like `openssl verify`, naming the real cause of a failure",
    "doctor": "check a certificate or CSR against the guide and explain every finding",
    "ca": "run an OpenSSL-style CA directory (openssl ca can operate it too)",
    "req": "make keys and CSRs for scripting",
    "handshake": "a traced TLS handshake against a real server (ladder, chain, verdict)",
    "probe": "check a live TLS service as its peers see it (chain, trust, names, doctor)",
    "serve": "serve a CA's CRL, or answer OCSP for it, on 127.0.0.1 (guide chapter 8)",
}


class _Parser(argparse.ArgumentParser):
    """argparse without abbreviated options: ``--password SECRET`` must be refused, not taken for
    ``--password-file SECRET`` (and the secret then shown as a missing file's name)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)


def add_password_file(cmd) -> None:
    """The ``--password-file`` option of every command that reads PKCS#12 files or encrypted keys."""
    cmd.add_argument("--password-file", metavar="FILE",
                     help="the password of a PKCS#12 file or encrypted key, read from FILE (first line); on a "
                          "terminal labkit asks for it instead. Never give a password on the command line")


def read_input(path: str, password_file: str | None = None, *, check_names: bool = True):
    """``(raw bytes, loaded objects, password)`` of the file at ``path``, read by
    :func:`labkit.x509.loading.load_all`.

    A PKCS#12 file or encrypted key takes its password from ``password_file`` (its first line); without one, labkit
    asks on the terminal (``getpass``, only when standard input is a terminal), or refuses naming
    ``--password-file``. A password is never taken from the command line, where other users and the shell history
    would see it.
    """
    import getpass

    from labkit.errors import PasswordError
    from labkit.x509.loading import load_all, read_file

    raw = read_file(path)
    password = (read_file(password_file).splitlines() or [b""])[0] if password_file else None
    try:
        return raw, load_all(raw, password=password, check_names=check_names), password
    except PasswordError as exc:
        if password is not None or not sys.stdin.isatty():
            how = "" if password is not None else ": give it with --password-file FILE (or run on a terminal)"
            raise PasswordError(exc.message + how, rule=exc.rule, value=exc.value, chapter=exc.chapter) from None
    password = getpass.getpass(f"Password for {path}: ").encode()
    return raw, load_all(raw, password=password, check_names=check_names), password


def parser(argv: list[str] | None = None, *, full: bool = False) -> argparse.ArgumentParser:
    """The argument parser. Only the command named in ``argv`` (or every command, with ``full=True``) gets its
    whole parser; the others are listed with their one-line help, which is all ``labkit --help`` shows."""
    top = _Parser(prog="labkit",
                  description="X.509 certificates as Cisco Expressway uses them: decode, convert, check.")
    top.add_argument("--version", action="version", version=f"labkit {__version__}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
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
