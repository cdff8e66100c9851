"""A small HTTP server on 127.0.0.1 in a daemon thread: the one lifecycle the lab's servers share.

:class:`LabHTTPServer` is the server they are built on, made to hold under misuse: at most :data:`MAX_WORKERS`
requests are handled at once (more wait in a listen backlog of :data:`BACKLOG`), a connection that sends nothing for
:data:`READ_TIMEOUT` seconds is closed, a client that hangs up early costs one line in the bounded :class:`RequestLog`
(never a traceback on stderr), and only 127.0.0.1 is served.

The CRL distribution point and the OCSP responder (:mod:`labkit.revocation.servers`) and the ACME virtual host
(:mod:`labkit.acme`) subclass :class:`BackgroundServer` and say only how to build their ``http.server``.

**Lab host names.** A lab server always listens on a free port, so two notebooks, two kernels or two trainees on one
machine never collide; the URLs the lab's certificates carry name no port at all. A server may answer for a host
name under :data:`LAB_DOMAIN` (``ocsp.lab.example``, ``crl.lab.example``): the lab's HTTP clients
(:func:`open_url`, used by the OCSP client and the CRL download) send a request for ``http://ocsp.lab.example/``
to the live server that answers for that name, on 127.0.0.1 and its free port, with the name in the ``Host``
header: what a DNS record and a port forward would do for a public CA's responder on port 80. The request is real
HTTP over TCP to the real server; only the address is looked up in the lab instead of DNS. ``.example`` never
resolves outside the lab (RFC 2606), so a name no running server answers for fails at once, saying so.
"""

from __future__ import annotations

import collections
import http.server
import ipaddress
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request

from labkit import guide, lab
from labkit.errors import LabError, LabkitError

__all__ = ["HOST", "BACKLOG", "MAX_WORKERS", "READ_TIMEOUT", "LOG_LINES", "RequestLog", "LabHTTPServer",
           "QuietHandler", "BackgroundServer", "free_port", "LAB_DOMAIN", "lab_host", "resolve", "open_url"]

HOST = "127.0.0.1"
BACKLOG = 64  # connections the kernel queues while every worker is busy
MAX_WORKERS = 64  # requests handled at the same time (threads: a silent client holds one until READ_TIMEOUT)
READ_TIMEOUT = 5.0  # seconds a connection may stay silent before it is closed
LOG_LINES = 1000  # request log lines kept (the oldest go first)
_POLL = 0.05  # seconds: how long stop() may wait for the serving loop to notice


class RequestLog(collections.deque):
    """The last :data:`LOG_LINES` lines a server logged, oldest first (a deque: ``append``, ``len``, iterate)."""

    def __init__(self, lines: int = LOG_LINES):
        super().__init__(maxlen=lines)


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """A request handler that logs to its server's :class:`RequestLog`, never to stderr, and gives up on a silent
    connection after :data:`READ_TIMEOUT` seconds."""

    server_version = "labkit"
    sys_version = ""

    @property
    def timeout(self) -> float:
        """Seconds a connection may stay silent (:data:`READ_TIMEOUT`, read when the connection is set up)."""
        return READ_TIMEOUT

    def log_message(self, format: str, *args) -> None:
        self.server.request_log.append(format % args)


class LabHTTPServer(http.server.ThreadingHTTPServer):
    """``ThreadingHTTPServer`` with bounded workers, a listen backlog of :data:`BACKLOG` and errors kept quiet: a
    client that disconnects early or stays silent is logged in one line, not shown as a traceback."""

    daemon_threads = True
    request_queue_size = BACKLOG

    def __init__(self, address, handler, *, log: RequestLog | None = None, workers: int | None = None):
        self.request_log = log if log is not None else RequestLog()
        self._workers = threading.BoundedSemaphore(workers or MAX_WORKERS)
        self._closing = threading.Event()
        super().__init__(address, handler)

    def process_request(self, request, client_address) -> None:
        while not self._workers.acquire(timeout=_POLL):  # every worker busy: wait, but notice a shutdown
            if self._closing.is_set():
                self.shutdown_request(request)
                return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._workers.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._workers.release()

    def handle_error(self, request, client_address) -> None:
        import sys

        error = sys.exc_info()[1]
        self.request_log.append(f"{client_address[0]}:{client_address[1]}: connection ended early "
                                f"({type(error).__name__}: {error})")

    def shutdown(self) -> None:
        self._closing.set()  # a serving loop waiting for a free worker gives up at once
        super().shutdown()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (to put in a URL before serving)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


#: The DNS domain of the lab's host names (``.example`` is reserved by RFC 2606: it never resolves elsewhere).
LAB_DOMAIN = "lab.example"

_HOSTS: dict[str, BackgroundServer] = {}  # lab host name -> the server that last started for it (running or not)
_HOSTS_LOCK = threading.Lock()


def lab_host(url: str | None) -> str | None:
    """The host name of ``url`` if it is a lab host name (``ocsp.lab.example``; lower case), else None."""
    try:
        host = urllib.parse.urlsplit(url or "").hostname
    except ValueError:
        return None
    return host if host and host.endswith("." + LAB_DOMAIN) else None


def _answer_for(host: str, server: BackgroundServer) -> None:
    """``server`` now answers for ``host``; a lab server that answered for it before is stopped (one name, one
    server: a notebook run again makes its servers anew, and the old ones must not linger)."""
    with _HOSTS_LOCK:
        before = _HOSTS.get(host)
        _HOSTS[host] = server
    if before is not None and before is not server:
        before.stop()


def resolve(url: str) -> str:
    """The URL to connect to for ``url``: on a lab host name, the live server that answers for it
    (``http://ocsp.lab.example/x`` -> ``http://127.0.0.1:41234/x``); any other URL unchanged.

    Raises ``urllib.error.URLError`` (as a failed DNS lookup or a refused connection would) when no running lab
    server answers for the name: the clients report it as the service being unreachable, in their own words.
    """
    host = lab_host(url)
    if host is None:
        return url
    with _HOSTS_LOCK:
        server = _HOSTS.get(host)
    if server is None:
        raise urllib.error.URLError(f"no lab server answers for {host}: the notebook that uses it starts it")
    if not server.running:
        raise urllib.error.URLError(f"the lab's server for {host} is stopped")
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{HOST}:{server.port}"))


def _loopback(host: str | None) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def open_url(url: str | urllib.request.Request, *, timeout: float, context=None):
    """``urllib.request.urlopen`` for the lab's clients: a lab host name goes to its live server (:func:`resolve`,
    the name kept in the ``Host`` header), a loopback address goes direct (never through the environment's proxy),
    anything else as urllib would. Raises what ``urlopen`` raises."""
    request = url if isinstance(url, urllib.request.Request) else urllib.request.Request(url)
    original = request.full_url
    target = resolve(original)
    if target != original:
        request.full_url = target
        request.add_unredirected_header("Host", urllib.parse.urlsplit(original).netloc)
    handlers: list = [urllib.request.HTTPSHandler(context=context)] if context is not None else []
    if _loopback(urllib.parse.urlsplit(target).hostname):
        handlers.append(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener(*handlers).open(request, timeout=timeout)


def _check_port(port) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise LabError("A port is a whole number from 1 to 65535 (0: a free one)", rule="server-port", value=port,
                       chapter=guide.NB00_LAB)
    return port


class BackgroundServer:
    """Serve in a daemon thread on 127.0.0.1: ``start()`` (port 0 picks a free port; calling it again does nothing),
    ``stop()`` (closes the socket and joins the thread; calling it again does nothing), and ``with``."""

    thread_name = "labkit-http"
    #: The lab host name this server answers for while it runs (see :func:`resolve`), or None.
    host_name: str | None = None

    def __init__(self, port: int = 0):
        self._wanted = _check_port(port)
        self._port: int | None = None
        self._server: http.server.HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def _make_server(self, address: tuple[str, int]) -> http.server.HTTPServer:
        """Build the server (subclasses attach themselves to it for their handlers)."""
        raise NotImplementedError

    def _listen_error(self, exc: OSError) -> LabkitError:
        """The error to raise when the port cannot be bound."""
        raise NotImplementedError

    @property
    def port(self) -> int:
        return self._port if self._port is not None else self._wanted

    @port.setter
    def port(self, value: int) -> None:
        if self._server is not None:
            raise RuntimeError("stop the server before changing its port")
        self._wanted, self._port = _check_port(value), None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self):
        if self._server is not None:
            return self
        try:
            server = self._make_server((HOST, self._wanted))
        except OSError as exc:
            raise self._listen_error(exc) from None
        self._server, self._port = server, server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": _POLL},
                                        name=f"{self.thread_name}-{self._port}", daemon=True)
        self._thread.start()
        lab.started(self)
        if self.host_name:
            _answer_for(self.host_name, self)
        return self

    def stop(self) -> None:
        server, thread, self._server, self._thread = self._server, self._thread, None, None
        lab.stopped(self)  # a stopped server keeps its name: a request for it is told the server is stopped
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
