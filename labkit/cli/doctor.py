"""``labkit doctor``: will this certificate or CSR work on an Expressway, and if not, why (guide chapters 2-4,
appendix A; ``--expressway-version`` X14.0, X15.4 or X15.5 for the clientAuth rule). Every finding names its rule,
severity, chapter and source. Exit 0: no error; 1: at least one error; 2: the file cannot be read.

A bundle (a chain, PKCS#7, PKCS#12 with ``--password-file`` or a prompt) has its end-entity certificate examined and
the other objects named."""

from __future__ import annotations

import sys

from labkit import lab
from labkit.cli import HELP, add_name_options, add_password_file, name_options, read_input
from labkit.expressway.doctor import doctor
from labkit.expressway.roles import ROLES
from labkit.expressway.versions import DEFAULT_VERSION, VERSIONS
from labkit.x509.loading import outside_text, read_file

__all__ = ["COMMANDS"]


def add_doctor(sub) -> None:
    doc = sub.add_parser("doctor", help=HELP["doctor"],
                         description="Will this certificate or CSR work on an Expressway? Exit 0: no error; 1: at "
                                     "least one error; 2: the file cannot be read.")
    doc.add_argument("file")
    doc.add_argument("--role", default="expressway", choices=ROLES)
    add_name_options(doc)
    doc.add_argument("--expressway-version", default=DEFAULT_VERSION, choices=VERSIONS,
                     help="the Expressway software release; it decides the clientAuth rule (default: "
                          f"{DEFAULT_VERSION}, the guide's)")
    doc.add_argument("--at", metavar="ISO8601", help='"now" for the validity checks (default: real time)')
    doc.add_argument("--csr", metavar="REQUEST", help="the CSR the certificate was issued for: what the CA changed")
    doc.add_argument("--json", action="store_true",
                     help='print {"findings": [...]} (with "examined" and "others" for a bundle)')
    add_password_file(doc)
    doc.set_defaults(func=_doctor)


def _doctor(args) -> int:
    import json

    raw, _, password = read_input(args.file, args.password_file, check_names=False)
    report = doctor(raw, password=password, role=args.role, **name_options(args),
                    at=lab.parse_instant(args.at) if args.at else lab.now_real(), version=args.expressway_version,
                    csr=read_file(args.csr) if args.csr else None)
    if not args.json and outside_text(raw) is not None:
        print("note: text outside the PEM blocks was skipped, as OpenSSL skips it (finding pem-extra-text)",
              file=sys.stderr)
    print(json.dumps(report.as_json(), indent=2) if args.json else report.text())
    return 0 if report.ok else 1


COMMANDS = {"doctor": add_doctor}
