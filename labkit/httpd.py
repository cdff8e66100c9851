"""A small HTTP server on 127.0.0.1 in a daemon thread: the one lifecycle the lab's servers share.

:class:`LabHTTPServer` is the server they are built on, made to hold under misuse: at most :data:`MAX_WORKERS`
requests are handled at once (more wait in a listen backlog of :data:`BACKLOG`), a connection that sends nothing for
:data:`READ_TIMEOUT` seconds is closed, a client that hangs up early costs one line in the bounded :class:`RequestLog`
(never a traceback on stderr), and only 127.0.0.1 is served.

The CRL distribution point and the OCSP responder (:mod:`labkit.revocation.servers`) and the ACME virtual host
(:mod:`labkit.acme`) subclass :class:`BackgroundServer` and say only how to build their ``http.server``.
"""

from __future__ import annotations

import collections
import http.server
import os
import socket
import threading

from labkit import guide, lab
from labkit.errors import LabError, LabkitError

__all__ = ["HOST", "BACKLOG", "MAX_WORKERS", "READ_TIMEOUT", "LOG_LINES", "RequestLog", "LabHTTPServer",
           "QuietHandler", "BackgroundServer", "free_port", "lab_port"]

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


def lab_port(wanted: int = 0) -> int:
    """``wanted``, or a free port when it is 0 or when ``$LABKIT_PORTS`` is ``free`` (set for every trainee on the
    classroom hub, so two trainees running the same notebook never ask for the same fixed port)."""
    return free_port() if not wanted or os.environ.get("LABKIT_PORTS") == "free" else wanted


def _check_port(port) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise LabError("A port is a whole number from 1 to 65535 (0: a free one)", rule="server-port", value=port,
                       chapter=guide.NB00_LAB)
    return port


class BackgroundServer:
    """Serve in a daemon thread on 127.0.0.1: ``start()`` (port 0 picks a free port; calling it again does nothing),
    ``stop()`` (closes the socket and joins the thread; calling it again does nothing), and ``with``."""

    thread_name = "labkit-http"

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
        return self

    def stop(self) -> None:
        server, thread, self._server, self._thread = self._server, self._thread, None, None
        lab.stopped(self)
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
