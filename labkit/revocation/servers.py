"""The HTTP side of revocation (guide chapter 8): a CRL distribution point and an OCSP responder for a lab CA.

Only transport lives here; what is served comes from :meth:`CertificateAuthority.crl` and
:func:`labkit.revocation.ocsp.respond`. Both servers listen on 127.0.0.1 only, in a daemon thread:

    with OcspServer(issuing) as responder:          # openssl ocsp -index index.txt -CA ca.pem -port N
        query(responder.url, leaf, issuing.certificate)
    with CrlServer(issuing) as cdp:                 # the crlDistributionPoints URL the certificates carry
        urllib.request.urlopen(cdp.url).read()

A CA whose URLs name a lab host (``http://ocsp.lab.example/``, ``http://crl.lab.example/issuing.crl``: no port,
as a public CA's) gets servers that answer for that name on a free port while they run (:func:`labkit.httpd.resolve`),
so every certificate it issues is the same on every run and no two labs ever ask for the same port.

Time is an input: ``clock`` is a callable returning "now" (default: the lab clock, read at each request). Pass
``clock=lab.now_real`` when a real tool such as ``openssl ocsp`` checks the answers against the machine's clock.
"""

from __future__ import annotations

import base64
import datetime as _dt
import gzip
import io
import urllib.parse
import zipfile
from collections.abc import Callable
from pathlib import PurePosixPath

from cryptography.hazmat.primitives import serialization
from cryptography.x509 import ocsp

from labkit import guide, lab
from labkit.ca import CertificateAuthority
from labkit.errors import InputError, LabError, LabkitError, PolicyError, WrongTypeError
from labkit.httpd import HOST, BackgroundServer, LabHTTPServer, QuietHandler, RequestLog, free_port, lab_host
from labkit.revocation.ocsp import MAX_MESSAGE, MEDIA_REQUEST, MEDIA_RESPONSE, check_responder, respond
from labkit.x509.loading import load_crl

__all__ = ["CrlServer", "OcspServer", "free_port", "down_url", "MAX_VALIDITY_HOURS"]

MAX_VALIDITY_HOURS = 8760  # an OCSP answer valid for a year at most

_HOST = HOST


def down_url(path: str = "/") -> str:
    """A URL on 127.0.0.1 where nothing listens: a responder that is down (connections are refused at once)."""
    return f"http://{_HOST}:{free_port()}{path}"


class _HTTPServer(LabHTTPServer):
    service: _Service


class _Handler(QuietHandler):
    server: _HTTPServer

    def send_body(self, status: int, content_type: str, body: bytes, *, head: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)


class _Service(BackgroundServer):
    """What both servers share beyond the lifecycle: a clock and a request log."""

    kind = "service"
    handler: type[_Handler] = _Handler

    def __init__(self, *, port: int = 0, clock: Callable[[], _dt.datetime] | None = None):
        super().__init__(port)
        self.thread_name = f"labkit-{self.kind}"
        self.clock = clock or lab.now
        self.log = RequestLog()  # one line per request ("POST / HTTP/1.0" 200 -), the last LOG_LINES kept

    def now(self) -> _dt.datetime:
        return lab.now(self.clock())

    @property
    def base_url(self) -> str:
        return f"http://{_HOST}:{self.port}"

    def _make_server(self, address):
        server = _HTTPServer(address, self.handler, log=self.log)
        server.service = self
        return server

    def _listen_error(self, exc: OSError) -> LabError:
        return LabError(f"Cannot listen on {_HOST}:{self._wanted}: {exc.strerror or exc}; stop what uses the port or "
                        "choose another", rule="server-port", value=self._wanted,
                        chapter=guide.CH8_OCSP if self.kind == "ocsp" else guide.CH8)

    def __repr__(self) -> str:
        state = f"serving {self.url}" if self.running else "stopped"
        return f"{type(self).__name__}({state})"

    @property
    def url(self) -> str:
        return self.base_url + "/"


# -- CRL distribution point ----------------------------------------------------------------------------------------

_CRL_FORMATS = {"der": "application/pkix-crl", "pem": "application/x-pem-file", "zip": "application/zip",
                "gz": "application/gzip"}


class _CrlHandler(_Handler):
    server: _HTTPServer

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _serve(self, *, head: bool) -> None:
        service: CrlServer = self.server.service  # type: ignore[assignment]
        fmt = service.routes.get(urllib.parse.urlsplit(self.path).path)
        if fmt is None:
            known = " ".join(sorted(service.routes))
            self.send_body(404, "text/plain; charset=utf-8", f"No CRL here; try {known}\n".encode(), head=head)
            return
        try:
            body = service.body(fmt)
        except Exception as exc:  # a broken CRL file: tell the client, keep serving
            self.log_error("cannot read the CRL: %s", exc)
            self.send_body(500, "text/plain; charset=utf-8", b"The CA's CRL cannot be read\n", head=head)
            return
        self.send_body(200, _CRL_FORMATS[fmt], body, head=head)


def _checked_ca(ca, what: str) -> CertificateAuthority:
    """``ca`` if it is a :class:`~labkit.ca.CertificateAuthority`, else WrongTypeError ``server-ca``."""
    if not isinstance(ca, CertificateAuthority):
        raise WrongTypeError(f"{what} serves a CA (labkit.ca.CertificateAuthority, e.g. open_ca(folder)), not "
                             f"{type(ca).__name__}", rule="server-ca", value=repr(ca)[:60], chapter=guide.CH8_OCSP)
    return ca


class CrlServer(_Service):
    """Serve the CRL ``ca`` last published (``crl/ca.crl.pem``), re-read at each request.

    Paths: the path of the CA's CRL URL (``ca.config.crl_url``; ``path`` overrides; default ``/ca.crl``) as DER, and
    beside it, with the same stem, ``.crl`` and ``.der`` (DER), ``.pem`` (PEM), ``.zip`` (a zip holding the PEM) and
    ``.gz`` (gzip of the DER). Anything else is 404. If the CA never published a CRL, :meth:`start` publishes one
    (``ca.crl(at=clock())``), which needs the CA key; publish again with ``ca.crl()`` or ``labkit ca crl`` and the
    next download has it.
    """

    kind = "crl"
    handler = _CrlHandler

    def __init__(self, ca, *, port: int = 0, path: str | None = None,
                 clock: Callable[[], _dt.datetime] | None = None):
        super().__init__(port=port, clock=clock)
        self.ca = _checked_ca(ca, "A CRL server")
        configured = path or (urllib.parse.urlsplit(ca.config.crl_url).path if ca.config.crl_url else "")
        configured = "/" + (configured or "/ca.crl").lstrip("/")
        suffix = PurePosixPath(configured).suffix
        stem = configured[: -len(suffix)] if suffix in (".crl", ".der", ".pem") else configured
        self.path = configured
        self.host_name = lab_host(ca.config.crl_url)
        self.routes: dict[str, str] = {configured: "der", stem + ".crl": "der", stem + ".der": "der",
                                       stem + ".pem": "pem", stem + ".zip": "zip", stem + ".gz": "gz"}
        self._stem_path, self._stem = stem, PurePosixPath(stem).name or "ca"

    @property
    def url(self) -> str:
        """The URL of the CRL in DER, as a crlDistributionPoints extension names it."""
        return self.base_url + self.path

    def url_for(self, suffix: str) -> str:
        """The URL of one variant: ``url_for(".pem")``, ``.der``, ``.crl``, ``.zip`` or ``.gz``."""
        path = self._stem_path + suffix
        if path not in self.routes:
            raise LabError("The CRL is served as .crl, .der, .pem, .zip or .gz", rule="crl-variant", value=suffix,
                           chapter=guide.CH8)
        return self.base_url + path

    def start(self):
        if not self.ca.config.crl.exists():
            self.ca.crl(at=self.now())
        return super().start()

    def body(self, fmt: str) -> bytes:
        """The current CRL as served in ``fmt`` (``der``, ``pem``, ``zip`` or ``gz``)."""
        crl = load_crl(self.ca.config.crl.read_bytes())
        der = crl.public_bytes(serialization.Encoding.DER)
        if fmt == "der":
            return der
        if fmt == "gz":
            return gzip.compress(der, mtime=0)  # mtime 0: the same bytes for the same CRL
        pem = crl.public_bytes(serialization.Encoding.PEM)
        if fmt == "pem":
            return pem
        buffer = io.BytesIO()
        stamp = crl.last_update_utc
        info = zipfile.ZipInfo(f"{self._stem}.pem", date_time=(max(stamp.year, 1980), *stamp.timetuple()[1:6]))
        info.compress_type = zipfile.ZIP_DEFLATED
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(info, pem)
        return buffer.getvalue()


# -- OCSP responder ------------------------------------------------------------------------------------------------

class _OcspHandler(_Handler):
    server: _HTTPServer

    def do_POST(self) -> None:
        service: OcspServer = self.server.service  # type: ignore[assignment]
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_MESSAGE:
            self.close_connection = True
            self.send_body(200, MEDIA_RESPONSE, service.answer(b""))  # malformedRequest
            return
        body = self.rfile.read(length)
        if self.headers.get_content_type() != MEDIA_REQUEST:
            self.log_error("request Content-Type is %s, not %s", self.headers.get_content_type(), MEDIA_REQUEST)
        self.send_body(200, MEDIA_RESPONSE, service.answer(body))

    def do_GET(self) -> None:
        """RFC 6960 appendix A.1: ``GET {url}/{url-encoding of base-64 encoding of the DER request}``."""
        service: OcspServer = self.server.service  # type: ignore[assignment]
        path = urllib.parse.urlsplit(self.path).path
        prefix = service.path.rstrip("/") + "/"
        encoded = path[len(prefix):] if path.startswith(prefix) else path.lstrip("/")
        try:
            der = base64.b64decode(urllib.parse.unquote(encoded), validate=True)
        except ValueError:
            der = b""
        self.send_body(200, MEDIA_RESPONSE, service.answer(der))


class OcspServer(_Service):
    """An OCSP responder for ``ca``: POST (``application/ocsp-request``) at any path, or GET with the base64 request
    in the URL. Each request reads ``index.txt`` afresh, so a revocation shows in the next answer.

    ``responder`` is ``(certificate, key)`` of a delegated responder (checked here: issued by ``ca`` with the
    OCSPSigning EKU, and the key matches); None signs with the CA key. ``clock`` gives thisUpdate (default: the lab
    clock); answers are valid for ``validity_hours`` (1 to :data:`MAX_VALIDITY_HOURS`). A responder whose signing key
    cannot be used (a CA key that is missing, or locked by a passphrase that was not given or is wrong) refuses to
    start (rule ``ocsp-signing-key``), rather than answering ``internalError`` to every client.
    """

    kind = "ocsp"
    handler = _OcspHandler

    def __init__(self, ca, *, port: int = 0, responder: tuple | None = None,
                 clock: Callable[[], _dt.datetime] | None = None, validity_hours: int = 24):
        super().__init__(port=port, clock=clock)
        _checked_ca(ca, "An OCSP responder")
        if isinstance(validity_hours, bool) or not isinstance(validity_hours, int) \
                or not 1 <= validity_hours <= MAX_VALIDITY_HOURS:
            raise InputError(f"OCSP answers are valid for 1 to {MAX_VALIDITY_HOURS} hours (a year)",
                             rule="ocsp-validity-hours", value=validity_hours, chapter=guide.CH8_OCSP)
        if responder is not None:
            cert, key = responder
            check_responder(ca.certificate, cert, at=self.now())
            if key.public_key() != cert.public_key():
                raise PolicyError("The responder key does not belong to the responder certificate",
                                  rule="ocsp-responder-key", value=cert.subject.rfc4514_string(),
                                  chapter=guide.CH8_OCSP)
        self.ca, self.responder, self.validity_hours = ca, responder, validity_hours
        self.path = (urllib.parse.urlsplit(ca.config.ocsp_url).path if ca.config.ocsp_url else "") or "/"
        self.host_name = lab_host(ca.config.ocsp_url)

    def start(self):
        """Serve; first check that the signing key can be used (the delegated responder's was checked already)."""
        if self.responder is None and self._server is None:
            try:
                self.ca.private_key()
            except LabkitError as exc:
                raise PolicyError(f"The OCSP responder cannot sign with the CA key: {exc.message}",
                                  rule="ocsp-signing-key", value=str(self.ca.config.private_key),
                                  chapter=guide.CH8_OCSP) from None
        return super().start()

    @property
    def url(self) -> str:
        """The responder's URL, with the path of the CA's configured OCSP URL (as the AIA names it)."""
        return self.base_url + self.path

    def answer(self, request_der: bytes) -> bytes:
        """The DER response to one request, as of the server's clock now; ``internalError`` when the CA cannot
        answer (its database unreadable, its key locked ...), so the client gets an OCSP answer, not a dropped
        connection."""
        try:
            return respond(self.ca, request_der, responder=self.responder, at=self.now(),
                           validity_hours=self.validity_hours)
        except Exception as exc:
            self.log.append(f"internalError: {exc}")
            return ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.INTERNAL_ERROR).public_bytes(
                serialization.Encoding.DER)
