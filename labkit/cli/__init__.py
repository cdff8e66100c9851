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
import os
import sys

from labkit import __version__
from labkit.errors import LabkitError

__all__ = ["COMMANDS", "HELP", "main", "parser", "read_input", "read_passphrase", "add_password_file"]

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

    def error(self, message: str):
        """A usage mistake is a refusal like any other: one line naming the rule (``usage``), exit 2. Arguments
        argparse did not recognise are named when they are options and counted otherwise (``--password SECRET``
        must not print the secret)."""
        if message.startswith("unrecognized arguments: "):
            words = message.removeprefix("unrecognized arguments: ").split()
            options = [w.split("=", 1)[0] for w in words if w.startswith("-")]
            hidden = len(words) - len(options)
            message = "unrecognized arguments: " + " ".join(options) + (
                f" (and {hidden} more, not shown)" if hidden else "")
        _refusal(self.prog.removeprefix("labkit ").split()[0] if self.prog != "labkit" else "",
                 f"{message} (rule: usage; see `{self.prog} --help`)")
        self.exit(2)


def add_password_file(cmd) -> None:
    """The ``--password-file`` option of every command that reads PKCS#12 files or encrypted keys."""
    cmd.add_argument("--password-file", metavar="FILE",
                     help="the password of a PKCS#12 file or encrypted key, read from FILE (first line); on a "
                          "terminal labkit asks for it instead. Never give a password on the command line")


def add_name_options(cmd) -> None:
    """The names doctor is told to look for (``--fqdn`` ... ``--phone-profile``), for ``doctor`` and ``probe``;
    :func:`name_options` gives them back as doctor's keyword arguments."""
    cmd.add_argument("--fqdn", help="this Expressway's FQDN (standalone: the CN must be it)")
    cmd.add_argument("--cluster-fqdn", help="the cluster FQDN (the CN, and a SAN)")
    cmd.add_argument("--peer-fqdn", help="this peer's FQDN in the cluster (a SAN)")
    cmd.add_argument("--ucm-domain", action="append", default=[], metavar="D", help="Unified CM registration domain")
    cmd.add_argument("--xmpp-domain", action="append", default=[], metavar="D", help="XMPP federation domain")
    cmd.add_argument("--chat-alias", action="append", default=[], metavar="A", help="IM and Presence chat node alias")
    cmd.add_argument("--phone-profile", action="append", default=[], metavar="P",
                     help="Unified CM phone security profile name")


def name_options(args) -> dict:
    """The options of :func:`add_name_options` as doctor's keyword arguments (``fqdn`` ... ``phone_profiles``)."""
    return dict(fqdn=args.fqdn, cluster_fqdn=args.cluster_fqdn, peer_fqdn=args.peer_fqdn,
                ucm_domains=args.ucm_domain, xmpp_domains=args.xmpp_domain, chat_aliases=args.chat_alias,
                phone_profiles=args.phone_profile)


def read_passphrase(path: str | None) -> bytes | None:
    """The CA key's passphrase from the first line of ``path`` (as ``openssl -passin file:`` reads it), or None
    without a file. An empty one is refused (:class:`~labkit.errors.PolicyError` ``passphrase-empty``): the CA key
    would be stored unencrypted, or opened with a passphrase nobody meant. The file's bytes are never shown."""
    if path is None:
        return None
    from labkit.ca.authority import check_passphrase

    return check_passphrase(first_line(path))


def first_line(path: str) -> bytes:
    """The first line of the file at ``path`` as ``openssl -passin file:`` reads it: up to the first line feed, which
    is dropped. A carriage return before it (a Windows line end) stays part of the secret, as in OpenSSL, so a
    passphrase file means the same to both; labkit says so on standard error when it happens."""
    from labkit.x509.loading import read_file

    line = read_file(path).split(b"\n", 1)[0]
    if line.endswith(b"\r"):
        print(f"labkit: note: the first line of {path} ends with a carriage return (a Windows line end); like "
              "OpenSSL's -passin file:, labkit keeps it as part of the passphrase", file=sys.stderr)
    return line


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
    password = first_line(password_file) if password_file else None
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


CLOSED_PIPE = 128 + 13  # 141: the status a shell shows for a command ended by SIGPIPE (signal 13)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    A refusal (:class:`~labkit.errors.LabkitError`) is one line on standard error naming its rule, and exit 2; so is
    an operating-system error labkit did not foresee (rule ``os-error``, with the file). A reader that closes the
    pipe early (``labkit decode cert.pem | head -1``) ends the command quietly, as Python's documentation
    recommends for SIGPIPE (standard output is pointed at /dev/null so the flush at exit cannot fail again), with
    exit :data:`CLOSED_PIPE` (141, 128 + SIGPIPE, as a shell reports it: 1 would mean "a finding").
    """
    args = parser(argv).parse_args(argv)
    try:
        status = args.func(args)
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return CLOSED_PIPE
    except LabkitError as exc:
        _refusal(args.command, str(exc))
        return 2
    except OSError as exc:
        where = f"; value: {exc.filename}" if exc.filename else ""
        _refusal(args.command, f"{exc.strerror or exc} (rule: os-error{where})")
        return 2
    return status or 0


def _refusal(command: str, text: str) -> None:
    """One line on standard error, whatever the message holds."""
    print(f"labkit{' ' + command if command else ''}: {' '.join(text.splitlines())}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
