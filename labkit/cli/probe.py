"""``labkit probe HOST[:PORT]``: check a live TLS service the way its peers see it
(:mod:`labkit.expressway.probe`).

Exit codes: 0 no problem; 1 at least one finding of severity error; 2 bad input, or the host cannot be reached
(a one-line message naming the host, the port and the cause).
"""

from __future__ import annotations

import json
import re

from labkit import guide, lab
from labkit.cli import HELP, add_name_options, name_options
from labkit.errors import InputError
from labkit.expressway.probe import ROLES, SERVICES, probe

__all__ = ["COMMANDS", "address"]

_ADDRESS = re.compile(r"^(?:\[(?P<v6>[0-9a-fA-F:.]+)\]|(?P<host>[^:\s\[\]]+))(?::(?P<port>\d{1,5}))?$")


def add_probe(sub) -> None:
    cmd = sub.add_parser("probe", help=HELP["probe"],
                         description="Connect to HOST[:PORT] with `openssl s_client` (STARTTLS for XMPP), read the "
                                     "chain as served and judge it: chain faults, verification against --ca, the "
                                     "name, doctor's findings on the served certificate, client-certificate "
                                     "request. Exit 0: no error; 1: problems; 2: bad input or unreachable.")
    cmd.add_argument("address", metavar="HOST[:PORT]")
    cmd.add_argument("--service", default="https", choices=tuple(SERVICES),
                     help="picks the default port and the protocol (xmpp-*: STARTTLS); default https")
    cmd.add_argument("--ca", metavar="FILE", help="the trusted CA list (PEM); default: this machine's CA store")
    cmd.add_argument("--servername", metavar="NAME", help="the name to ask for (SNI, XMPP domain) and check "
                                                          "(default: HOST)")
    cmd.add_argument("--role", default="expressway", choices=ROLES,
                     help="what the server is, for doctor's checks (peer: not an Expressway, doctor is skipped)")
    add_name_options(cmd)
    cmd.add_argument("--cert", metavar="FILE", help="client certificate (PEM, then its chain), for mutual TLS")
    cmd.add_argument("--key", metavar="FILE", help="the client certificate's private key (PEM)")
    cmd.add_argument("--expressway-version", metavar="X", help="the Expressway release (passed to doctor when it "
                                                               "takes one; accepted and otherwise ignored)")
    cmd.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                     help="bound on the whole probe (default 10)")
    cmd.add_argument("--at", metavar="ISO8601", help='"now" for validity checks (default: real time)')
    cmd.add_argument("--json", action="store_true", help="print a JSON document instead of text")
    cmd.set_defaults(func=run)


def address(text: str) -> tuple[str, int | None]:
    """HOST, HOST:PORT, [IPv6]:PORT or a bare IPv6 address -> (host, port or None)."""
    text = text.strip()
    if text.count(":") > 1 and not text.startswith("["):
        return text, None  # a bare IPv6 address
    match = _ADDRESS.match(text)
    port = int(match["port"]) if match and match["port"] else None
    if not match or (port is not None and not 0 < port < 65536):
        raise InputError("Give the server as HOST or HOST:PORT (for example expe.example.com:5061 or [::1]:443)",
                         rule="host-port", value=text, chapter=guide.CH2)
    return match["v6"] or match["host"], port


def run(args) -> int:
    host, port = address(args.address)
    result = probe(host, port, service=args.service, ca=args.ca, servername=args.servername, role=args.role,
                   **name_options(args), cert=args.cert, key=args.key, timeout=args.timeout,
                   at=lab.parse_instant(args.at) if args.at else lab.now_real(),
                   expressway_version=args.expressway_version)
    print(json.dumps(result.as_json(), indent=2) if args.json else result.text())
    return result.exit_code()


COMMANDS = {"probe": add_probe}
