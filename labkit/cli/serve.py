"""``labkit serve crl|ocsp CA_DIR``: publish a CA's CRL or answer OCSP for it until SIGTERM or Ctrl-C.

The URL goes to standard output on one line (for scripts: ``url=$(labkit serve ocsp ca/issuing &)``), notes go to
standard error. Like the rest of the command line, the servers work on real time unless ``--at`` freezes it.
"""

from __future__ import annotations

import signal
import sys
import threading
import urllib.parse

from labkit import guide, lab
from labkit.ca import open_ca
from labkit.cli import HELP, read_passphrase
from labkit.errors import InputError
from labkit.revocation.servers import CrlServer, OcspServer
from labkit.x509.loading import load_file

__all__ = ["COMMANDS"]

_LOOPBACK = ("127.0.0.1", "localhost")


def add_serve(sub) -> None:
    serve = sub.add_parser("serve", help=HELP["serve"],
                           description="Run a CRL distribution point or an OCSP responder for a CA directory on "
                                       "127.0.0.1 until SIGTERM or Ctrl-C. Prints the URL on one line.")
    serve_sub = serve.add_subparsers(dest="serve_command", required=True, metavar="SERVICE")

    crl = serve_sub.add_parser("crl", help="serve the CRL the CA last published (PEM, DER, .zip, .gz)")
    crl.add_argument("dir", metavar="CA_DIR")
    crl.add_argument("--port", type=int, help="default: the port of the CA's CRL URL if it is on this machine, "
                                              "else a free port")
    crl.add_argument("--passphrase-file", metavar="FILE", help="the CA key's passphrase (to publish a first CRL)")
    crl.add_argument("--at", metavar="ISO8601", help="serve as of this frozen instant (default: real time)")
    crl.set_defaults(func=_serve_crl)

    ocsp = serve_sub.add_parser("ocsp", help="answer OCSP requests from the CA's index.txt (POST or GET)")
    ocsp.add_argument("dir", metavar="CA_DIR")
    ocsp.add_argument("--port", type=int, help="default: the port of the CA's OCSP URL if it is on this machine, "
                                               "else a free port")
    ocsp.add_argument("--responder-cert", metavar="FILE", help="a delegated responder's certificate (profile "
                                                               "ocsp-signing); default: sign with the CA key")
    ocsp.add_argument("--responder-key", metavar="FILE", help="the delegated responder's private key")
    ocsp.add_argument("--validity-hours", type=int, default=24, help="nextUpdate = thisUpdate + this (default 24)")
    ocsp.add_argument("--passphrase-file", metavar="FILE", help="the CA key's passphrase")
    ocsp.add_argument("--at", metavar="ISO8601", help="answer as of this frozen instant (default: real time)")
    ocsp.set_defaults(func=_serve_ocsp)


def _clock(args):
    if args.at:
        instant = lab.parse_instant(args.at)
        return lambda: instant
    return lab.now_real


def _port(args, url: str | None) -> int:
    if args.port is not None:
        return args.port
    parts = urllib.parse.urlsplit(url or "")
    return (parts.port or 0) if parts.hostname in _LOOPBACK else 0


def _open(args):
    return open_ca(args.dir, passphrase=read_passphrase(args.passphrase_file))


def _serve_crl(args) -> int:
    ca = _open(args)
    server = CrlServer(ca, port=_port(args, ca.config.crl_url), clock=_clock(args))
    return _run(server, f"CRL of '{ca.name}'", ca.config.crl_url)


def _serve_ocsp(args) -> int:
    if (args.responder_cert is None) != (args.responder_key is None):
        raise InputError("A delegated responder needs both --responder-cert and --responder-key",
                         rule="responder-pair", value=args.responder_cert or args.responder_key, chapter=guide.CH8_OCSP)
    ca = _open(args)
    responder = None
    if args.responder_cert:
        responder = (load_file(args.responder_cert, expect="certificate").obj,
                     load_file(args.responder_key, expect="private-key").obj)
    server = OcspServer(ca, port=_port(args, ca.config.ocsp_url), responder=responder, clock=_clock(args),
                        validity_hours=args.validity_hours)
    signer = responder[0].subject.rfc4514_string() if responder else "the CA key"
    return _run(server, f"OCSP for '{ca.name}', signed by {signer}", ca.config.ocsp_url)


def _run(server, what: str, configured: str | None) -> int:
    """Serve until SIGTERM or SIGINT, then stop cleanly; 0 on a clean stop."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        server.start()
        print(server.url, flush=True)
        note = f"labkit serve: {what} at {server.url} (SIGTERM or Ctrl-C stops)"
        if configured and configured != server.url:
            note += f"; note: the CA's certificates name {configured}"
        print(note, file=sys.stderr, flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


COMMANDS = {"serve": add_serve}
