"""The ``labkit`` command line: decode and convert certificates (guide appendices C and D), run a CA (B-F).

Exit codes: 0 success; 2 bad input, with a one-line message on stderr (never a traceback).
The command line works on real time unless ``--at`` gives an instant, because administrators use it on real
certificates; notebooks use the lab clock.
"""

from __future__ import annotations

import argparse
import sys

from . import __version__, lab
from .convert import FORMATS, convert_file
from .decode import fingerprint_line, table, text
from .doctor import ROLES, doctor
from .errors import LabkitError
from .loading import load_all, read_file


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="labkit", description="X.509 certificates as Cisco Expressway uses them: decode, convert, check.")
    parser.add_argument("--version", action="version", version=f"labkit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    dec = sub.add_parser("decode", help="print a certificate, CSR, CRL or key like `openssl x509 -text -noout`",
                         description="Print a certificate, CSR or CRL (PEM or DER, one or a bundle) the way "
                                     "`openssl x509|req|crl -text -noout` does (guide appendix D).")
    dec.add_argument("file")
    dec.add_argument("--fingerprint", action="store_true",
                     help="also print SHA-1 and SHA-256 fingerprints (as `openssl x509 -fingerprint`)")
    dec.add_argument("--table", action="store_true", help="print the fields as a table, with the status now")
    dec.add_argument("--at", metavar="ISO8601", help="the instant for the status (default: real time now)")
    dec.set_defaults(func=_decode)

    conv = sub.add_parser("convert", help="convert between PEM and DER (like `openssl x509 -inform/-outform`)",
                          description="Convert a certificate, CSR, CRL or key between PEM and DER "
                                      "(guide appendix C: the Expressway needs PEM).")
    conv.add_argument("file")
    conv.add_argument("--to", required=True, choices=FORMATS, type=str.lower)
    conv.add_argument("-o", "--out", metavar="OUT", help="write here (atomically) instead of standard output")
    conv.set_defaults(func=_convert)

    doc = sub.add_parser("doctor", help="check a certificate or CSR against the guide and explain every finding",
                         description="Will this certificate or CSR work on an Expressway? Exit 0: no error; 1: at "
                                     "least one error; 2: the file cannot be read.")
    doc.add_argument("file")
    doc.add_argument("--role", default="expressway", choices=ROLES)
    doc.add_argument("--fqdn", help="this Expressway's FQDN (standalone: the CN must be it)")
    doc.add_argument("--cluster-fqdn", help="the cluster FQDN (the CN, and a SAN)")
    doc.add_argument("--peer-fqdn", help="this peer's FQDN in the cluster (a SAN)")
    doc.add_argument("--ucm-domain", action="append", default=[], metavar="D", help="Unified CM registration domain")
    doc.add_argument("--xmpp-domain", action="append", default=[], metavar="D", help="XMPP federation domain")
    doc.add_argument("--chat-alias", action="append", default=[], metavar="A", help="IM and Presence chat node alias")
    doc.add_argument("--phone-profile", action="append", default=[], metavar="P",
                     help="Unified CM phone security profile name")
    doc.add_argument("--at", metavar="ISO8601", help='"now" for the validity checks (default: real time)')
    doc.add_argument("--csr", metavar="REQUEST", help="the CSR the certificate was issued for: what the CA changed")
    doc.add_argument("--json", action="store_true", help='print {"findings": [...]}')
    doc.set_defaults(func=_doctor)

    from .ca.commands import add_commands
    from .probe_cli import add_command as add_probe
    from .revocation.commands import add_commands as add_serve
    from .tls_cli import add_command as add_handshake

    add_commands(sub)
    add_handshake(sub)
    add_probe(sub)
    add_serve(sub)
    return parser


def _decode(args) -> None:
    items = load_all(read_file(args.file))
    if args.table:
        import pandas as pd

        at = lab.parse_instant(args.at) if args.at else lab.now_real()
        with pd.option_context("display.max_colwidth", None, "display.width", 200):
            print(table(items, at=at).to_string(index=False, justify="left"))
    else:
        sys.stdout.write(text(items))
    if args.fingerprint:
        for item in items:
            if item.kind == "certificate":
                print(fingerprint_line(item.obj, "sha1"))
                print(fingerprint_line(item.obj, "sha256"))


def _doctor(args) -> int:
    import json

    report = doctor(read_file(args.file), role=args.role, fqdn=args.fqdn, cluster_fqdn=args.cluster_fqdn,
                    peer_fqdn=args.peer_fqdn, ucm_domains=args.ucm_domain, xmpp_domains=args.xmpp_domain,
                    chat_aliases=args.chat_alias, phone_profiles=args.phone_profile,
                    at=lab.parse_instant(args.at) if args.at else lab.now_real(),
                    csr=read_file(args.csr) if args.csr else None)
    print(json.dumps(report.as_json(), indent=2) if args.json else report.text())
    return 0 if report.ok else 1


def _convert(args) -> None:
    result = convert_file(args.file, args.to, args.out)
    if args.out is None:
        sys.stdout.buffer.write(result)
        sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
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
