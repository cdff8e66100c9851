"""``labkit decode``, ``labkit convert`` and ``labkit verify``: read a certificate as OpenSSL prints it (guide
appendix D), convert between PEM and DER and take PKCS#7 and PKCS#12 files apart (appendix C, chapter 7), and verify
a chain as ``openssl verify`` does. Real time unless ``--at`` gives an instant.

Every input is read by :mod:`labkit.x509.loading` (PEM, DER, bundles, PKCS#7, PKCS#12 with ``--password-file`` or a
prompt on a terminal). Notes about the input (DER, a PKCS#7 or PKCS#12 file, text outside the PEM blocks, and what
the Expressway would make of it) go to standard error, so standard output stays what OpenSSL would print.

``labkit verify`` exits as ``openssl verify`` does: 0 verified, 2 not verified; a file that cannot be read also
exits 2, with one line naming the rule (``openssl verify`` exits 1 then).
"""

from __future__ import annotations

import sys
from pathlib import Path

from labkit import lab
from labkit.cli import HELP, add_password_file, read_input
from labkit.x509.convert import FORMATS, convert_file

__all__ = ["COMMANDS"]


def add_decode(sub) -> None:
    dec = sub.add_parser("decode", help=HELP["decode"],
                         description="Print a certificate, CSR, CRL or key (PEM or DER, one or a bundle, PKCS#7, "
                                     "PKCS#12) the way `openssl x509|req|crl -text -noout` does (guide appendix D).")
    dec.add_argument("file")
    dec.add_argument("--fingerprint", action="store_true",
                     help="also print SHA-1 and SHA-256 fingerprints (as `openssl x509 -fingerprint`)")
    dec.add_argument("--table", action="store_true",
                     help="print the fields as a table, with the status now (expired CRLs say so)")
    dec.add_argument("--at", metavar="ISO8601", help="the instant for the status (default: real time now)")
    add_password_file(dec)
    dec.set_defaults(func=_decode)


def add_convert(sub) -> None:
    conv = sub.add_parser("convert", help=HELP["convert"],
                          description="Convert a certificate, CSR, CRL or key between PEM and DER (guide appendix C: "
                                      "the Expressway needs PEM), and take a PKCS#7 (.p7b) or PKCS#12 (.pfx) file "
                                      "apart: the certificate, its chain in order and, when asked, the key.")
    conv.add_argument("file")
    conv.add_argument("--to", required=True, choices=FORMATS, type=str.lower)
    conv.add_argument("-o", "--out", metavar="OUT", help="write here (atomically) instead of standard output; with "
                                                         "--chain-out, the end-entity certificate alone")
    conv.add_argument("--chain-out", metavar="FILE",
                      help="write the other certificates here (the CA chain for the trusted CA list, issuing CA "
                           "first)")
    conv.add_argument("--key-out", metavar="FILE",
                      help="write the private key here (unencrypted PKCS#8, mode 0600); a PKCS#12 file's key is "
                           "written nowhere else")
    add_password_file(conv)
    conv.set_defaults(func=_convert)


def add_verify(sub) -> None:
    ver = sub.add_parser("verify", help=HELP["verify"],
                         description="Verify CERT's chain to a root in --ca-file, as `openssl verify -CAfile` does "
                                     "(flags of the same names), and explain a failure in plain words with "
                                     "OpenSSL's error code. Exit 0: verified; 2: not verified (or unreadable "
                                     "input).")
    ver.add_argument("cert", metavar="CERT", help="the certificate (a bundle: its end-entity certificate, the others "
                                                  "offered as untrusted intermediates)")
    ver.add_argument("--ca-file", required=True, metavar="TRUSTED",
                     help="the trusted certificates (-CAfile): the path must end at a root in it")
    ver.add_argument("--untrusted", metavar="CHAIN", help="intermediate certificates to build the path (-untrusted)")
    ver.add_argument("--crl-file", metavar="CRL",
                     help="check CERT against its CA's CRL (-crl_check -CRLfile): revoked, expired CRL, no CRL")
    ver.add_argument("--at", metavar="ISO8601", help="verify at this instant (-attime; default: real time now)")
    ver.add_argument("--json", action="store_true", help="print a JSON document")
    add_password_file(ver)
    ver.set_defaults(func=_verify)


def _notes(raw: bytes, items) -> None:
    from labkit.expressway.upload import pem_notes

    for note in pem_notes(raw, items):
        print(f"note: {note}", file=sys.stderr)


def _decode(args) -> None:
    from labkit.x509.decode import fingerprint_line, table, text
    from labkit.x509.loading import describe

    raw, items, _ = read_input(args.file, args.password_file)
    _notes(raw, items)
    if items[0].container:
        print(f"# {describe(items)}")
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
    from labkit.x509.loading import outside_text

    raw, items, password = read_input(args.file, args.password_file)
    result = convert_file(args.file, args.to, args.out, chain_out=args.chain_out, key_out=args.key_out,
                          password=password)
    if any(item.kind == "private-key" and item.container == "PKCS#12" for item in items) and not args.key_out:
        print("note: the file also holds a private key, which was not written (--key-out FILE writes it, mode 0600)",
              file=sys.stderr)
    if outside_text(raw) is not None:
        print("note: text outside the PEM blocks was left out, as OpenSSL skips it", file=sys.stderr)
    if args.out is None:
        sys.stdout.buffer.write(result)
        sys.stdout.flush()


def _objects(path: str, kind: str, option: str, read=None) -> list:
    """The objects of ``kind`` in the file ``option`` names; a file with none (a CSR or key given as --ca-file, a
    certificate as --crl-file) is refused, WrongTypeError ``expect-KIND``, as openssl verify cannot load it.
    ``read``: a list that gets the file's objects (for the openssl command)."""
    items = read_input(path)[1]
    if read is not None:
        read.extend(items)
    found = [item.obj for item in items if item.kind == kind]
    if not found:
        from labkit import guide
        from labkit.errors import WrongTypeError
        from labkit.x509.loading import KINDS

        raise WrongTypeError(f"{option} takes {KINDS[kind]} file, but {path} holds {items[0].description}",
                             rule=f"expect-{kind}", value=path, chapter=guide.APPX_D)
    return found


def _verify(args) -> int:
    import json

    from labkit.x509.loading import chain_order
    from labkit.x509.verify import explain_verify_code, verify_chain

    raw, items, _ = read_input(args.cert, args.password_file)
    certs = chain_order([item.obj for item in items if item.kind == "certificate"])
    if not certs:
        from labkit import guide
        from labkit.errors import WrongTypeError

        raise WrongTypeError(f"verify checks a certificate, but {args.cert} holds {items[0].description}",
                             rule="expect-certificate", value=args.cert, chapter=guide.APPX_D)
    ca_items: list = []
    untrusted_items: list = []
    trusted = _objects(args.ca_file, "certificate", "--ca-file", ca_items)
    untrusted = _objects(args.untrusted, "certificate", "--untrusted", untrusted_items) if args.untrusted else []
    crl_items: list = []
    crls = _objects(args.crl_file, "crl", "--crl-file", crl_items) if args.crl_file else None
    at = lab.parse_instant(args.at) if args.at else lab.now_real()
    check = verify_chain(certs[0], trusted=trusted, intermediates=certs[1:] + untrusted, at=at,
                         purpose="expressway", crls=crls)
    command, first_not_leaf = _openssl_commands(args, items, ca_items, untrusted_items, crl_items,
                                                at if args.at else None)
    if args.json:
        print(json.dumps({
            "ok": check.ok, "code": check.code, "depth": check.depth, "rule": check.rule, "reason": check.reason,
            "meaning": explain_verify_code(check.code),
            "path": [cert.subject.rfc4514_string() for cert in check.path], "openssl": command}, indent=2))
    elif check.ok:
        print(f"{args.cert}: OK")
        print(f"  {check.reason}")
        print(f"  the same check: {command}")
    else:
        where = f"error {check.code} at {check.depth} depth lookup" if check.code is not None else "error"
        print(f"{args.cert}: verification failed: {where}")
        print(f"  {check.reason}")
        if check.code is not None:
            print(f"  OpenSSL's error {check.code}: {explain_verify_code(check.code)}")
        print(f"  the same check: {command}")
    if first_not_leaf and not args.json:
        print(f"  (openssl verify checks the first certificate of {args.cert}, which is not its end-entity "
              "certificate: put that one first for the same answer)", file=sys.stderr)
    return 0 if check.ok else 2


def _openssl_commands(args, items, ca_items, untrusted_items, crl_items, at) -> tuple[str, bool]:
    """The shell commands that ask ``openssl verify`` what labkit verify asked, and whether openssl would check
    another certificate than labkit (a bundle whose first certificate is not its end-entity one).

    ``openssl verify`` reads PEM certificates only (text around them is fine): a PKCS#7, PKCS#12 or DER input is
    first written as PEM (``FILE.pem`` in the current folder) by the ``openssl`` command that reads it
    (:func:`labkit.x509.convert.pem_command`), and the commands are joined with ``&&``. The other certificates of
    CERT (a bundle, a PKCS#7 file, a PKCS#12 file's CA certificates) go into ``-untrusted``, as labkit offered them."""
    import shlex

    from labkit.x509.convert import pem_command
    from labkit.x509.loading import chain_order
    from labkit.x509.verify import openssl_verify_args

    steps: list[list[str]] = []

    def readable(path, loaded, part="all", out=None):
        converted = pem_command(loaded, path, out or f"{Path(path).name}.pem", password_file=args.password_file,
                                part=part)
        if converted is None:
            return path
        steps.append(converted)
        return converted[-1]

    certs = [item for item in items if item.kind == "certificate"]
    pkcs12 = items[0].container == "PKCS#12"
    cert_file = readable(args.cert, items, part="certificate")
    untrusted = [readable(args.untrusted, untrusted_items)] if args.untrusted else []
    if len(certs) > 1:
        untrusted.insert(0, readable(args.cert, items, part="chain", out=f"{Path(args.cert).name}-chain.pem")
                         if pkcs12 else cert_file)
    crl_file = readable(args.crl_file, crl_items) if args.crl_file else None
    verify = openssl_verify_args(cert_file, ca_file=readable(args.ca_file, ca_items), crl_file=crl_file,
                                 untrusted_file=untrusted[0] if untrusted else None, at=at)
    for extra in untrusted[1:]:
        verify[-1:-1] = ["-untrusted", extra]
    first_not_leaf = not pkcs12 and len(certs) > 1 and chain_order([c.obj for c in certs])[0] is not certs[0].obj
    return " && ".join(shlex.join(step) for step in [*steps, ["openssl", *verify]]), first_not_leaf


COMMANDS = {"decode": add_decode, "convert": add_convert, "verify": add_verify}
