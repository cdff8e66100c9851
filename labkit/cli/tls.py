"""``labkit handshake HOST:PORT``: a traced TLS client handshake against any real server.

Exit codes: 0 the handshake and verification succeeded; 1 they failed (the output says which side and why);
2 bad input (a file that cannot be read, a malformed HOST:PORT, nothing listening).
"""

from __future__ import annotations

import json
import re

from labkit import guide
from labkit.cli import HELP
from labkit.errors import InputError
from labkit.tls.connection import Endpoint, connect
from labkit.x509.loading import load_certificates, load_file, load_trusted, read_file

__all__ = ["COMMANDS"]

_ADDRESS = re.compile(r"^(?:\[(?P<v6>[0-9a-fA-F:.]+)\]|(?P<host>[^:\s]+)):(?P<port>\d{1,5})$")


def add_handshake(sub) -> None:
    cmd = sub.add_parser("handshake", help=HELP["handshake"],
                         description="Connect to HOST:PORT as a TLS client, show every handshake message, the "
                                     "peer's chain and whether verification succeeded, with an explanation.")
    cmd.add_argument("address", metavar="HOST:PORT")
    cmd.add_argument("--ca", metavar="FILE",
                     help="trusted CA certificates (PEM bundle or PKCS#7 file); default: the system's")
    cmd.add_argument("--cert", metavar="FILE", help="client certificate chain (PEM), for mutual TLS")
    cmd.add_argument("--key", metavar="FILE", help="the client certificate's private key (PEM)")
    cmd.add_argument("--servername", metavar="NAME", help="the name to ask for and check (default: HOST)")
    cmd.add_argument("--tls1.2", dest="tls12", action="store_true", help="at most TLS 1.2")
    cmd.add_argument("--json", action="store_true", help="print a JSON document instead of text")
    cmd.set_defaults(func=run)


def _address(text: str) -> tuple[str, int]:
    match = _ADDRESS.match(text.strip())
    port = int(match["port"]) if match else 0
    host = (match["v6"] or match["host"]) if match else ""
    too_long = len(host) > 253 or any(len(label) > 63 for label in host.split("."))
    if not match or not 0 < port < 65536 or too_long:
        raise InputError("Give the server as HOST:PORT (for example expe.example.com:5061 or [::1]:443); a host "
                         "name has at most 253 characters, 63 between dots", rule="host-port", value=text,
                         chapter=guide.CH2)
    return host, port


def run(args) -> int:
    host, port = _address(args.address)
    if bool(args.cert) != bool(args.key):
        raise InputError("--cert and --key go together", rule="cert-and-key", value=args.cert or args.key)
    chain = tuple(load_certificates(read_file(args.cert))) if args.cert else ()
    key = load_file(args.key, expect="private-key").obj if args.key else None
    if key is not None and key.public_key() != chain[0].public_key():
        raise InputError("--key is not the private key of the first certificate in --cert", rule="key-mismatch",
                         value=args.key, chapter=guide.CH7)
    trusted = tuple(item.obj for item in load_trusted(args.ca)) if args.ca else ()  # probe reads --ca the same way
    client = Endpoint(chain=chain, key=key, trusted=trusted, system_trust=not args.ca,
                      server_name=args.servername or host, tls="1.2" if args.tls12 else "any")
    trace = connect(host, port, client=client)
    outcome = trace.outcome
    if args.json:
        print(json.dumps({
            "ok": trace.ok, "version": trace.version, "cipher": trace.cipher,
            "messages": [{"direction": m.direction, "type": m.kind, "message": m.name, "version": m.version,
                          "bytes": m.size} for m in trace.messages],
            "verify_code": outcome.verify_code, "failed_side": outcome.failed_side, "alert": outcome.alert,
            "explanation": outcome.explanation}, indent=2))
    else:
        print(trace.ladder())
        print(f"version: {trace.version or '-'}   cipher: {trace.cipher or '-'}")
        for depth, cert in enumerate(trace.peer_chain):
            print(f"peer chain [{depth}]: {cert.subject.rfc4514_string()}  (issuer: {cert.issuer.rfc4514_string()})")
        if not trace.traced:
            print("(message trace unavailable in this Python: SSLContext._msg_callback is missing)")
    return 0 if trace.ok else 1


COMMANDS = {"handshake": add_handshake}
