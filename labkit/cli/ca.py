"""``labkit ca ...`` and ``labkit req new``: the CA on the command line (real time and fresh keys by default).

Every ``labkit ca`` subcommand takes ``--config FILE``, the configuration ``openssl ca -config`` uses; without it the
configuration is found in the CA folder (``openssl.cnf``, the guide's ``openssl_local.cfg``, or the folder's only
``*.cnf``/``*.cfg``), and its relative paths resolve as OpenSSL resolves them (:mod:`labkit.ca.config`). ``ca list``
also works from ``index.txt`` alone. ``ca check`` exits 0 when ``openssl ca`` can operate the folder, 1 when it cannot.
"""

from __future__ import annotations

import secrets
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from labkit import guide, lab
from labkit.ca.authority import init_ca, open_ca, read_database
from labkit.ca.database import serial_hex
from labkit.ca.policy import FIELDS, POLICIES, PROFILES
from labkit.cli import HELP, read_passphrase
from labkit.errors import InputError
from labkit.x509.certs import general_name
from labkit.x509.files import check_distinct, check_key_out, check_output, write_atomic, write_pair
from labkit.x509.loading import load_file
from labkit.x509.names import check_attribute, check_common_name, check_country, check_dns_name
from labkit.x509.reasons import REASONS

__all__ = ["COMMANDS"]


def _at(args):
    return lab.parse_instant(args.at) if getattr(args, "at", None) else lab.now_real()


def _key(args):
    if args.lab_key:
        return lab.fixture_key(args.lab_key)
    return lab.new_key("rsa", args.key_size)


_passphrase = read_passphrase


def _open(args, passphrase_file: str | None = None):
    return open_ca(args.dir, passphrase=_passphrase(passphrase_file), config=args.config)


def _config_option(cmd) -> None:
    cmd.add_argument("--config", metavar="FILE", help="the CA's configuration, as `openssl ca -config FILE` (default: "
                                                      "openssl.cnf, openssl_local.cfg or the only *.cnf/*.cfg in DIR)")


def add_ca(sub) -> None:
    ca = sub.add_parser("ca", help=HELP["ca"],
                        description="An OpenSSL-style certificate authority (guide appendices B-F).")
    ca_sub = ca.add_subparsers(dest="ca_command", required=True, metavar="ACTION")

    init = ca_sub.add_parser("init", help="create a root CA, or an issuing CA under --parent")
    init.add_argument("dir")
    _config_option(init)
    init.add_argument("--cn", required=True, help="the CA's common name")
    init.add_argument("--parent", metavar="DIR", help="the CA that signs this one (an issuing CA, path length 0)")
    init.add_argument("--key-size", type=int, default=2048, choices=(2048, 3072, 4096))
    init.add_argument("--days", type=int, default=3650)
    init.add_argument("--crl-url", metavar="URL", help="CRL distribution point put in the certificates it issues")
    init.add_argument("--ocsp-url", metavar="URL", help="OCSP responder put in the certificates it issues")
    init.add_argument("--policy", choices=[p.removeprefix("policy_") for p in POLICIES], default="anything")
    init.add_argument("--lab-key", metavar="NAME", help="use a named fixture key instead of a fresh one (lab only)")
    init.add_argument("--passphrase-file", metavar="FILE", help="encrypt the CA key with the passphrase in FILE")
    init.add_argument("--parent-passphrase-file", metavar="FILE")
    init.add_argument("--at", metavar="ISO8601", help="issue as of this instant (default: now)")
    init.set_defaults(func=_init)

    sign = ca_sub.add_parser("sign", help="sign a CSR under the CA's policy and a profile")
    sign.add_argument("dir")
    _config_option(sign)
    sign.add_argument("--csr", required=True)
    sign.add_argument("--profile", required=True, choices=list(PROFILES))
    sign.add_argument("--days", type=int)
    sign.add_argument("-o", "--out", metavar="OUT")
    sign.add_argument("--passphrase-file", metavar="FILE")
    sign.add_argument("--at", metavar="ISO8601")
    sign.set_defaults(func=_sign)

    revoke = ca_sub.add_parser("revoke", help="revoke a certificate by serial or file")
    revoke.add_argument("dir")
    _config_option(revoke)
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("--serial", metavar="HEX")
    which.add_argument("--cert", metavar="FILE")
    revoke.add_argument("--reason", default="unspecified", choices=list(REASONS))
    revoke.add_argument("--at", metavar="ISO8601")
    revoke.set_defaults(func=_revoke)

    crl = ca_sub.add_parser("crl", help="publish a CRL (and print it, or write it to -o)")
    crl.add_argument("dir")
    _config_option(crl)
    crl.add_argument("-o", "--out", metavar="OUT")
    crl.add_argument("--der", action="store_true", help="DER instead of PEM")
    crl.add_argument("--days", type=int, help="next update after this many days (default: the CA's setting)")
    crl.add_argument("--passphrase-file", metavar="FILE")
    crl.add_argument("--at", metavar="ISO8601")
    crl.set_defaults(func=_crl)

    listing = ca_sub.add_parser("list", help="the database as a table")
    listing.add_argument("dir")
    _config_option(listing)
    listing.set_defaults(func=_list)

    status = ca_sub.add_parser("status", help="the status of one serial, as `openssl ca -status`")
    status.add_argument("dir")
    _config_option(status)
    status.add_argument("serial")
    status.set_defaults(func=_status)

    check = ca_sub.add_parser("check", help="can openssl ca operate this folder? (--repair: what is safe, after a "
                                            "backup)")
    check.add_argument("dir")
    _config_option(check)
    check.add_argument("--repair", action="store_true",
                       help="repair what loses nothing (empty lines, a missing newline, a serial file behind the "
                            "database, a missing crlnumber or newcerts), after copying the files into a backup")
    check.add_argument("--passphrase-file", metavar="FILE", help="to check that an encrypted CA key matches")
    check.add_argument("--json", action="store_true")
    check.set_defaults(func=_check)



def add_req(sub) -> None:
    req = sub.add_parser("req", help=HELP["req"])
    req_sub = req.add_subparsers(dest="req_command", required=True, metavar="ACTION")
    new = req_sub.add_parser("new", help="a private key and a CSR (like `openssl req -new -newkey`)")
    new.add_argument("--cn", required=True)
    new.add_argument("--san", action="append", default=[], metavar="NAME", help="a DNS name or IP (repeatable)")
    new.add_argument("--subj", default="", help="other subject fields, OpenSSL style: /C=GB/O=Lab")
    new.add_argument("--key-size", type=int, default=2048, choices=(2048, 3072, 4096, 8192))
    new.add_argument("--digest", default="sha256", choices=("sha256", "sha384", "sha512"))
    new.add_argument("--lab-key", metavar="NAME", help="use a named fixture key instead of a fresh one (lab only)")
    new.add_argument("--key-out", required=True, metavar="FILE")
    new.add_argument("-o", "--out", required=True, metavar="CSR")
    new.set_defaults(func=_req_new)


def _init(args) -> None:
    parent = open_ca(args.parent, passphrase=_passphrase(args.parent_passphrase_file)) if args.parent else None
    # Fresh CAs start at a random 64-bit serial (like `openssl ca -create_serial`); lab CAs count from 1000.
    first = 0x1000 if args.lab_key else secrets.randbits(63) | (1 << 62)
    ca = init_ca(args.dir, args.cn, key=_key(args), parent=parent, days=args.days, at=_at(args),
                 crl_url=args.crl_url, ocsp_url=args.ocsp_url, policy=f"policy_{args.policy}",
                 passphrase=_passphrase(args.passphrase_file), first_serial=first, config=args.config)
    print(f"created CA '{ca.name}' in {ca.folder} (serial {serial_hex(ca.certificate.serial_number)})")


def _sign(args) -> None:
    if args.out:
        check_output(args.out)  # before a serial is used up
        check_distinct([args.out], [args.csr])
    ca = _open(args, args.passphrase_file)
    ca.check_not_own_file(args.out)
    csr = load_file(args.csr, expect="csr").obj
    cert = ca.sign(csr, args.profile, days=args.days, at=_at(args))
    pem = cert.public_bytes(serialization.Encoding.PEM)
    if args.out:
        write_atomic(args.out, pem)
        print(f"issued serial {serial_hex(cert.serial_number)} to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(pem.decode())


def _revoke(args) -> None:
    ca = _open(args)
    target = load_file(args.cert, expect="certificate").obj if args.cert else args.serial
    entry = ca.revoke(target, args.reason, at=_at(args))
    print(f"revoked {entry.serial_hex} ({args.reason}): {entry.subject}")


def _crl(args) -> None:
    if args.out:
        check_output(args.out)  # before a CRL number is used up
    ca = _open(args, args.passphrase_file)
    ca.check_not_own_file(args.out)
    crl = ca.crl(at=_at(args), days=args.days)
    data = crl.public_bytes(serialization.Encoding.DER if args.der else serialization.Encoding.PEM)
    if args.out:
        write_atomic(args.out, data)
    elif args.der:
        sys.stdout.buffer.write(data)
    else:
        sys.stdout.write(data.decode())


def _list(args) -> None:
    entries = read_database(args.dir, config=args.config)
    print(f"{'status':<8} {'serial':<18} {'expires':<16} {'revoked':<26} subject")
    for e in entries:
        revoked = f"{e.revoked_at:%Y-%m-%d %H:%M}" + (f" {e.reason}" if e.reason else "") if e.revoked_at else "-"
        print(f"{e.status_word:<8} {e.serial_hex:<18} {e.expiry:%Y-%m-%d %H:%M} {revoked:<26} {e.subject}")


def _status(args) -> None:
    entry = _open(args).status(args.serial)
    print(f"{entry.serial_hex}={entry.status_word} ({entry.status})")


def _check(args) -> int:
    import json

    from labkit.ca.check import check_ca

    report = check_ca(args.dir, config=args.config, repair=args.repair, passphrase=_passphrase(args.passphrase_file),
                      at=_at(args))
    print(json.dumps(report.as_json(), indent=2) if args.json else report.text())
    return 0 if report.ok else 1


#: --subj fields: OpenSSL's short name -> (field, RFC 5280 upper bound of its length).
_SUBJ_FIELDS = {"C": ("countryName", 2), "ST": ("stateOrProvinceName", 128), "L": ("localityName", 128),
                "O": ("organizationName", 64), "OU": ("organizationalUnitName", 64),
                "emailAddress": ("emailAddress", 255), "DC": ("domainComponent", 63)}


def _subject(cn: str, subj: str) -> x509.Name:
    """The subject of ``req new``: --subj's /FIELD=value parts (each checked: rules ``subject-syntax``,
    ``country-code``, ``name-empty``, ``name-characters``, ``name-length``) and the CN last."""
    attributes = []
    for part in filter(None, subj.split("/")):
        name, sep, value = part.partition("=")
        if not sep or name not in _SUBJ_FIELDS or not value:
            raise InputError("--subj takes /FIELD=value parts with FIELD one of " + ", ".join(_SUBJ_FIELDS),
                             rule="subject-syntax", value=part, chapter=guide.CH3)
        field, limit = _SUBJ_FIELDS[name]
        if name == "C":
            check_country(value, "--subj C")
        else:
            check_attribute(value, f"--subj {name}", limit=limit)
        attributes.append(x509.NameAttribute(FIELDS[field], value))
    return x509.Name([*attributes, x509.NameAttribute(FIELDS["commonName"], cn)])


def _req_new(args) -> None:
    check_dns_name(check_common_name(args.cn, "--cn"), "--cn")
    for name in args.san:
        if not isinstance(general_name(name), x509.IPAddress):
            check_dns_name(name, "--san")
    check_output(args.key_out)
    check_key_out(args.key_out)
    check_output(args.out)
    key = lab.fixture_key(args.lab_key) if args.lab_key else lab.new_key("rsa", args.key_size)
    names = list(dict.fromkeys([args.cn, *args.san]))
    builder = (x509.CertificateSigningRequestBuilder().subject_name(_subject(args.cn, args.subj))
               .add_extension(x509.SubjectAlternativeName([general_name(n) for n in names]), critical=False))
    digest = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}[args.digest]()
    csr = builder.sign(key, digest)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    write_pair((args.key_out, key_pem, 0o600), (args.out, csr.public_bytes(serialization.Encoding.PEM), 0o644))
    print(f"wrote {args.key_out} (private key, mode 0600) and {args.out} (CSR for {args.cn})", file=sys.stderr)


COMMANDS = {"ca": add_ca, "req": add_req}
