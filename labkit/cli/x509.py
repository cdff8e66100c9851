"""``labkit decode`` and ``labkit convert``: read a certificate as OpenSSL prints it (guide appendix D), and convert
between PEM and DER (appendix C). Real time unless ``--at`` gives an instant."""

from __future__ import annotations

import sys

from labkit import lab
from labkit.cli import HELP
from labkit.x509.convert import FORMATS, convert_file
from labkit.x509.decode import fingerprint_line, table, text
from labkit.x509.loading import load_all, read_file

__all__ = ["COMMANDS"]


def add_decode(sub) -> None:
    dec = sub.add_parser("decode", help=HELP["decode"],
                         description="Print a certificate, CSR or CRL (PEM or DER, one or a bundle) the way "
                                     "`openssl x509|req|crl -text -noout` does (guide appendix D).")
    dec.add_argument("file")
    dec.add_argument("--fingerprint", action="store_true",
                     help="also print SHA-1 and SHA-256 fingerprints (as `openssl x509 -fingerprint`)")
    dec.add_argument("--table", action="store_true", help="print the fields as a table, with the status now")
    dec.add_argument("--at", metavar="ISO8601", help="the instant for the status (default: real time now)")
    dec.set_defaults(func=_decode)



def add_convert(sub) -> None:
    conv = sub.add_parser("convert", help=HELP["convert"],
                          description="Convert a certificate, CSR, CRL or key between PEM and DER "
                                      "(guide appendix C: the Expressway needs PEM).")
    conv.add_argument("file")
    conv.add_argument("--to", required=True, choices=FORMATS, type=str.lower)
    conv.add_argument("-o", "--out", metavar="OUT", help="write here (atomically) instead of standard output")
    conv.set_defaults(func=_convert)



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


def _convert(args) -> None:
    result = convert_file(args.file, args.to, args.out)
    if args.out is None:
        sys.stdout.buffer.write(result)
        sys.stdout.flush()


COMMANDS = {"decode": add_decode, "convert": add_convert}
